/*
 * Context switch (PendSV), first-thread start (SVC) and the thread entry trampoline.
 *
 * Save area of a switched-out thread, lowest address first (= thread->saved_sp), the same
 * order as FreeRTOS's ARM_CM3 and ARM_CM4F ports:
 *   r4 r5 r6 r7 r8 r9 r10 r11
 *   EXC_RETURN                      (FPU build only)
 *   s16 .. s31                      (FPU build, only when EXC_RETURN bit 4 == 0)
 *   hardware frame: r0 r1 r2 r3 r12 lr pc xPSR [s0 .. s15 fpscr reserved]
 *
 * Naked C functions for the same reason as in fault_entry.c.
 */
#include <stddef.h>

#include "board.h"
#include "scheduler.h"

/* The offsets the assembly below uses. */
_Static_assert(offsetof(struct dre_scheduler, current) == 0x0C, "SCHED_CURRENT");
_Static_assert(offsetof(struct dre_thread, saved_sp) == 0x04, "THREAD_SAVED_SP");

#if DRE_HAS_FPU
#define SAVE_CALLEE_REGISTERS                                                             \
    "tst lr, #0x10\n\t"                                                                   \
    "it eq\n\t"                                                                           \
    "vstmdbeq r0!, {s16-s31}\n\t" /* also completes a pending lazy stacking of s0-s15 */ \
    "stmdb r0!, {r4-r11, lr}\n\t"
#define RESTORE_CALLEE_REGISTERS                                                          \
    "ldmia r0!, {r4-r11, lr}\n\t"                                                         \
    "tst lr, #0x10\n\t"                                                                   \
    "it eq\n\t"                                                                           \
    "vldmiaeq r0!, {s16-s31}\n\t"
#define RESTORE_FIRST_THREAD "ldmia r0!, {r4-r11, lr}\n\t"
#else
#define SAVE_CALLEE_REGISTERS "stmdb r0!, {r4-r11}\n\t"
#define RESTORE_CALLEE_REGISTERS "ldmia r0!, {r4-r11}\n\t"
#define RESTORE_FIRST_THREAD                                                              \
    "ldmia r0!, {r4-r11}\n\t"                                                             \
    "ldr lr, =0xFFFFFFFD\n\t" /* Thread mode, PSP, basic frame */
#endif

void PendSV_Handler(void);
void SVC_Handler(void);

void __attribute__((naked)) PendSV_Handler(void)
{
    __asm volatile("mrs r0, psp\n\t"
                   "isb\n\t"
                   SAVE_CALLEE_REGISTERS
                   "ldr r3, =g_dre_scheduler\n\t"
                   "ldr r2, [r3, #0x0C]\n\t" /* current */
                   "str r0, [r2, #0x04]\n\t" /* current->saved_sp */
                   "push {r3, lr}\n\t"
                   ".cfi_adjust_cfa_offset 8\n\t"
                   ".cfi_rel_offset lr, 4\n\t"
                   "cpsid i\n\t"
                   "bl scheduler_switch_context\n\t"
                   "cpsie i\n\t"
                   "pop {r3, lr}\n\t"
                   ".cfi_adjust_cfa_offset -8\n\t"
                   ".cfi_restore lr\n\t"
                   "ldr r2, [r3, #0x0C]\n\t"
                   "ldr r0, [r2, #0x04]\n\t"
                   RESTORE_CALLEE_REGISTERS
                   "msr psp, r0\n\t"
                   "isb\n\t"
                   "bx lr\n\t"
                   ".ltorg");
}

/* Start the first thread: restore its save area and return to Thread mode on PSP. */
void __attribute__((naked)) SVC_Handler(void)
{
    __asm volatile("ldr r3, =g_dre_scheduler\n\t"
                   "ldr r2, [r3, #0x0C]\n\t"
                   "ldr r0, [r2, #0x04]\n\t"
                   RESTORE_FIRST_THREAD
                   "msr psp, r0\n\t"
                   /* Boot code never runs again: give the whole MSP stack to handlers. */
                   "ldr r1, =__msp_top\n\t"
                   "msr msp, r1\n\t"
                   "isb\n\t"
                   "bx lr\n\t"
                   ".ltorg");
}

/*
 * Every thread starts here with r0 = arg, r1 = entry. The return address column is
 * undefined, which tells unwinders (GDB, dre) that this is the outermost frame.
 */
void __attribute__((naked)) thread_trampoline(void)
{
    __asm volatile(".cfi_undefined lr\n\t"
                   "blx r1\n\t"
                   "bl scheduler_thread_exit");
}
