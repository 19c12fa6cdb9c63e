/* What the RTOS variants share besides src/: the scenario selector and the NULL guard. */
#ifndef RTOS_BOARD_H
#define RTOS_BOARD_H

#include <stdint.h>

/* Values of g_scenario for the RTOS variants; tests/firmware/capture.py keeps the same table. */
enum rtos_scenario_id {
    RTOS_SCENARIO_NONE = 0,
    RTOS_SCENARIO_TASK_FAULT = 1,
    RTOS_SCENARIO_ISR_FAULT = 2,
};

/* Written by the harness (GDB) before the firmware starts; .noinit keeps it over reset. */
extern volatile uint32_t g_scenario;

/* Set by the thread that pends the scenario interrupt: the ISR faults when it is true. */
extern volatile uint32_t g_isr_fault_armed;

void rtos_mpu_init(void);
void rtos_pend_scenario_irq(void);
void rtos_isr_hook(void);

#endif
