#ifndef DRE_SCENARIOS_H
#define DRE_SCENARIOS_H

#include <stdint.h>

/* Values of g_scenario; tests/firmware/capture.py keeps the same table. */
enum scenario_id {
    SCENARIO_NONE = 0,
    SCENARIO_NULL_WRITE = 1,
    SCENARIO_DIV_ZERO = 2,
    SCENARIO_UNDEF_INSTR = 3,
    SCENARIO_INVSTATE = 4,
    SCENARIO_IRQ_FAULT = 5,
    SCENARIO_ASSERT = 6,
    SCENARIO_FPU_FAULT = 7,
    SCENARIO_LEAF_FAULT = 8,
    SCENARIO_STACK_OVERFLOW = 9,
    SCENARIO_COUNT,
};

/* Written by the harness (GDB) before the firmware starts; .noinit keeps it over reset. */
extern volatile uint32_t g_scenario;

void scenario_run(uint32_t id);

#endif
