/*
 * Reset and vector table. The fault handlers are assembly shims in fault_entry.S, the
 * scheduler's PendSV and SVC handlers are in context_switch.S.
 */
#include <stdint.h>
#include <string.h>

#include "board.h"

extern uint32_t __msp_top[];
extern uint32_t __data_start[], __data_end[], __data_load[];
extern uint32_t __bss_start[], __bss_end[];

int main(void);
void Reset_Handler(void);
void Default_Handler(void);
void NMI_Handler(void);
void HardFault_Handler(void);
void MemManage_Handler(void);
void BusFault_Handler(void);
void UsageFault_Handler(void);
void SVC_Handler(void);
void PendSV_Handler(void);
void SysTick_Handler(void);
void Timer1_IRQHandler(void);

typedef void (*vector_fn)(void);

/* ARMv7-M ARM B1.5.3: word 0 is the initial MSP, then the exception handlers. The AN385
 * and AN386 images have 32 external interrupts. */
__attribute__((section(".vectors"), used)) const vector_fn g_vector_table[16 + 32] = {
    (vector_fn)__msp_top,
    Reset_Handler,
    NMI_Handler,
    HardFault_Handler,
    MemManage_Handler,
    BusFault_Handler,
    UsageFault_Handler,
    0, 0, 0, 0,
    SVC_Handler,
    Default_Handler,
    0,
    PendSV_Handler,
    SysTick_Handler,
    [16 ... 16 + BOARD_SCENARIO_IRQ - 1] = Default_Handler,
    [16 + BOARD_SCENARIO_IRQ] = Timer1_IRQHandler,
    [16 + BOARD_SCENARIO_IRQ + 1 ... 16 + 31] = Default_Handler,
};

static void fpu_enable(void)
{
#if DRE_HAS_FPU
    /* CP10 and CP11 full access (B3.2.20). FPCCR keeps its reset value (ASPEN=1, LSPEN=1),
     * so threads that use the FPU get extended, lazily stacked exception frames. */
    SCB_CPACR |= 0xFu << 20;
    barrier_dsb_isb();
#endif
}

void Reset_Handler(void)
{
    memcpy(__data_start, __data_load, (uintptr_t)__data_end - (uintptr_t)__data_start);
    memset(__bss_start, 0, (uintptr_t)__bss_end - (uintptr_t)__bss_start);
    fpu_enable();
    main();
    for (;;) {
    }
}

void Default_Handler(void)
{
    for (;;) {
    }
}
