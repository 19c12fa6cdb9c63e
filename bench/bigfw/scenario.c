/*
 * The big benchmark firmware's stand-in for tests/firmware/src/scenarios.c: the test
 * firmware's main_thread calls scenario_run(g_scenario) once the other threads wait, and
 * here that always runs the generated chain (bigfw_run), which faults at its far end.
 */
#include "scenarios.h"

#include <stdint.h>

#include "bigfw.h"
#include "uart.h"

volatile uint32_t g_scenario __attribute__((section(".noinit")));

static volatile uint32_t s_bigfw_result;

void scenario_run(uint32_t id)
{
    (void)id;
    uart_puts("bigfw: running the chain\n");
    s_bigfw_result = bigfw_run();
    /* Keeps the call above from becoming a tail call, so scenario_run stays in the bt. */
    uart_puts("bigfw: returned without a fault\n");
}
