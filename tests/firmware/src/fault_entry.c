/*
 * Fault handler shims (HardFault, MemManage, BusFault, UsageFault, NMI).
 *
 * 1. Each shim first records PSP and MSP in g_fault_sp_snapshot (word 0 = PSP, word 1 =
 *    MSP) without touching SP or LR, loads its Memfault reason code into r3 and branches to
 *    fault_snapshot_taken. The GDB harness stops there: QEMU's gdbstub does not report MSP
 *    and PSP, so the harness hands GDB these two values to unwind the exception frame.
 * 2. fault_snapshot_taken picks the stack the exception frame is on (EXC_RETURN bit 2),
 *    pushes it with r4-r11 and EXC_RETURN as struct fault_regs, and calls
 *    fault_handler_c(regs, reason), like the SDK's shim calls memfault_fault_handler.
 *
 * Naked C functions rather than a .S file: GNU as 2.40 describes .S functions in DWARF with
 * the Thumb bit in DW_AT_low_pc (GDB then names the wrong function) and puts hand-written
 * CFI in .eh_frame; here GCC writes the DWARF and our CFI directives join its .debug_frame.
 */
#include <stdint.h>

#include "fault.h"

#define STRINGIFY(x) #x
#define FAULT_SHIM(name, reason)                                                          \
    void __attribute__((naked)) name(void)                                                \
    {                                                                                     \
        __asm volatile("mrs r0, psp\n\t"                                                  \
                       "mrs r1, msp\n\t"                                                  \
                       "ldr r2, =g_fault_sp_snapshot\n\t"                                 \
                       "stmia r2, {r0, r1}\n\t"                                           \
                       "movw r3, #" STRINGIFY(reason) "\n\t"                              \
                       "b fault_snapshot_taken\n\t"                                       \
                       ".ltorg");                                                         \
    }

void fault_snapshot_taken(void);
void HardFault_Handler(void);
void MemManage_Handler(void);
void BusFault_Handler(void);
void UsageFault_Handler(void);
void NMI_Handler(void);

FAULT_SHIM(HardFault_Handler, 0x9400)
FAULT_SHIM(MemManage_Handler, 0x9200)
FAULT_SHIM(BusFault_Handler, 0x9100)
FAULT_SHIM(UsageFault_Handler, 0x9300)
FAULT_SHIM(NMI_Handler, 0x8004)

_Static_assert(sizeof(struct fault_regs) == 40, "fault_snapshot_taken pushes 10 words");

void __attribute__((naked)) fault_snapshot_taken(void)
{
    __asm volatile("tst lr, #4\n\t"
                   "ite eq\n\t"
                   "mrseq r2, msp\n\t"
                   "mrsne r2, psp\n\t"
                   "push {r2, r4-r11, lr}\n\t"
                   ".cfi_adjust_cfa_offset 40\n\t"
                   ".cfi_rel_offset r4, 4\n\t"
                   ".cfi_rel_offset r5, 8\n\t"
                   ".cfi_rel_offset r6, 12\n\t"
                   ".cfi_rel_offset r7, 16\n\t"
                   ".cfi_rel_offset r8, 20\n\t"
                   ".cfi_rel_offset r9, 24\n\t"
                   ".cfi_rel_offset r10, 28\n\t"
                   ".cfi_rel_offset r11, 32\n\t"
                   ".cfi_rel_offset lr, 36\n\t"
                   "mov r0, sp\n\t"
                   "mov r1, r3\n\t"
                   "bl fault_handler_c\n\t"
                   "b .");
}
