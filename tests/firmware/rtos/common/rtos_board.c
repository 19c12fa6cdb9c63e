/*
 * Board glue shared by the FreeRTOS and Zephyr replicas. The rest comes from src/: the vector
 * table (startup.c), the fault shims and handler (fault_entry.c, fault.c), the Memfault
 * coredump writer (coredump.c, build_id.c) and the UART. fault.c's mpu_init serves the dre
 * scheduler's guard regions and is never called here (--gc-sections drops it).
 */
#include "rtos_board.h"

#include "board.h"

#define MPU_RBAR_VALID (1u << 4)
#define MPU_RASR_ENABLE (1u << 0)
#define MPU_RASR_SIZE_1K ((10u - 1u) << 1)
#define MPU_RASR_XN (1u << 28)
#define MPU_CTRL_ENABLE (1u << 0)
#define MPU_CTRL_PRIVDEFENA (1u << 2)
#define SCENARIO_IRQ_PRIORITY 0x80u /* above the kernel's interrupts, below the faults */

volatile uint32_t g_scenario __attribute__((section(".noinit")));
volatile uint32_t g_isr_fault_armed;

void Timer1_IRQHandler(void);

/* Region 0, no access: the first KB, so NULL and near-NULL accesses fault (see src/link.ld). */
void rtos_mpu_init(void)
{
    MPU_RBAR = 0x00000000u | MPU_RBAR_VALID | 0u;
    MPU_RASR = MPU_RASR_XN | MPU_RASR_SIZE_1K | MPU_RASR_ENABLE;
    MPU_CTRL = MPU_CTRL_ENABLE | MPU_CTRL_PRIVDEFENA;
    barrier_dsb_isb();
}

void rtos_pend_scenario_irq(void)
{
    NVIC_IPR_BYTE(BOARD_SCENARIO_IRQ) = SCENARIO_IRQ_PRIORITY;
    NVIC_ISER0 = 1u << BOARD_SCENARIO_IRQ;
    NVIC_STIR = BOARD_SCENARIO_IRQ;
    /* The interrupt is taken here. */
    barrier_dsb_isb();
}

void Timer1_IRQHandler(void)
{
    rtos_isr_hook();
}
