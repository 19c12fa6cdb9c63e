/*
 * Vector table, reset and the fault handlers of the fleet firmware. A fault is recorded
 * like the SDK's reboot tracking does it (reason, the stacked PC and LR) and the core is
 * reset; the next boot reports it as a reboot event.
 */
#include <stdint.h>
#include <string.h>

#include "reboot.h"

extern uint32_t __msp_top[];
extern uint32_t __data_start[], __data_end[], __data_load[];
extern uint32_t __bss_start[], __bss_end[];

int main(void);
void Reset_Handler(void);
void Default_Handler(void);
void HardFault_Handler(void);
void MemManage_Handler(void);
void BusFault_Handler(void);
void UsageFault_Handler(void);
void fleet_fault_handler(const uint32_t *frame, uint32_t reason);

typedef void (*vector_fn)(void);

/* ARMv7-M ARM B1.5.3: word 0 is the initial MSP, then the exception handlers. */
__attribute__((section(".vectors"), used)) const vector_fn g_vector_table[16] = {
    (vector_fn)__msp_top,
    Reset_Handler,
    Default_Handler,
    HardFault_Handler,
    MemManage_Handler,
    BusFault_Handler,
    UsageFault_Handler,
    0, 0, 0, 0,
    Default_Handler,
    Default_Handler,
    0,
    Default_Handler,
    Default_Handler,
};

void Reset_Handler(void)
{
    memcpy(__data_start, __data_load, (uintptr_t)__data_end - (uintptr_t)__data_start);
    memset(__bss_start, 0, (uintptr_t)__bss_end - (uintptr_t)__bss_start);
    main();
    for (;;) {
    }
}

void Default_Handler(void)
{
    for (;;) {
    }
}

/* Pass the exception frame (MSP or PSP by EXC_RETURN bit 2) and the SDK's reason code
 * (memfault-formats.md 1.9) to the C handler without touching the stack first. */
#define FAULT_SHIM(name, reason)                                                          \
    __attribute__((naked)) void name(void)                                                \
    {                                                                                     \
        __asm volatile("tst lr, #4\n\t"                                                   \
                       "ite eq\n\t"                                                       \
                       "mrseq r0, msp\n\t"                                                \
                       "mrsne r0, psp\n\t"                                                \
                       "ldr r1, =" #reason "\n\t"                                         \
                       "b fleet_fault_handler\n\t");                                      \
    }

FAULT_SHIM(HardFault_Handler, 0x9400)
FAULT_SHIM(MemManage_Handler, 0x9200)
FAULT_SHIM(BusFault_Handler, 0x9100)
FAULT_SHIM(UsageFault_Handler, 0x9300)

/* The basic exception frame (B1.5.6): r0 r1 r2 r3 r12 lr pc xpsr. */
void fleet_fault_handler(const uint32_t *frame, uint32_t reason)
{
    reboot_mark(reason, frame[6], frame[5]);
    reboot_now();
}

/* newlib-nano's snprintf links in malloc; formatting into a caller's buffer never calls
 * it, so there is no heap: any allocation fails. */
void *_sbrk(int increment);
void *_sbrk(int increment)
{
    (void)increment;
    return (void *)-1;
}
