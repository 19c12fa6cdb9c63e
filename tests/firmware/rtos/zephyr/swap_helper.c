/*
 * Context switch of the Zephyr replica, in the order of Zephyr's Cortex-M z_arm_pendsv
 * (arch/arm/core/cortex_m/swap_helper.S), which the awareness relies on:
 *
 *   1. the low byte of EXC_RETURN to _current->arch.mode_exc_return (FPU build only,
 *      CONFIG_ARM_STORE_EXC_RETURN);
 *   2. r4-r11 and PSP to _current->callee_saved (v1-v8, psp); the hardware frame stays on
 *      the thread's stack at that PSP;
 *   3. s16-s31 to _current->arch.preempt_float when EXC_RETURN bit 4 is 0 (the thread had
 *      an FPU context; vstmia also completes a pending lazy stacking);
 *   4. _current = _kernel.ready_q.cache, then the same in reverse for it, BASEPRI from its
 *      arch.basepri.
 *
 * Naked C functions with inline assembly, for the reason given in src/fault_entry.c; the
 * offsets the assembly uses are checked against the structures below.
 */
#include "board.h"
#include "kernel_structs.h"

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

#define _kernel_offset_to_current 8
#define _thread_offset_to_callee_saved 40
#define _thread_offset_to_basepri 160
_Static_assert(offsetof(struct z_kernel, cpus[0].current) == _kernel_offset_to_current, "");
_Static_assert(offsetof(struct k_thread, callee_saved) == _thread_offset_to_callee_saved, "");
_Static_assert(offsetof(struct k_thread, arch.basepri) == _thread_offset_to_basepri, "");

#if defined(CONFIG_FPU_SHARING)
#define _kernel_offset_to_ready_q_cache 28
#define _thread_offset_to_preempt_float 168
#define _thread_offset_to_mode_exc_return 233
_Static_assert(offsetof(struct k_thread, arch.preempt_float) == _thread_offset_to_preempt_float,
               "");
_Static_assert(offsetof(struct k_thread, arch.mode_exc_return) ==
                   _thread_offset_to_mode_exc_return,
               "");
#define SAVE_EXC_RETURN "strb lr, [r2, #" STRINGIFY(_thread_offset_to_mode_exc_return) "]\n\t"
#define SAVE_FLOAT                                                     \
    "tst lr, #0x10\n\t"                                                \
    "bne 1f\n\t"                                                       \
    "add r0, r2, #" STRINGIFY(_thread_offset_to_preempt_float) "\n\t"  \
    "vstmia r0, {s16-s31}\n\t"                                         \
    "1:\n\t"
#define LOAD_EXC_RETURN "ldrsb lr, [r2, #" STRINGIFY(_thread_offset_to_mode_exc_return) "]\n\t"
#define LOAD_FLOAT                                                     \
    "tst lr, #0x10\n\t"                                                \
    "bne 2f\n\t"                                                       \
    "add r0, r2, #" STRINGIFY(_thread_offset_to_preempt_float) "\n\t"  \
    "vldmia r0, {s16-s31}\n\t"                                         \
    "2:\n\t"
#else
#define _kernel_offset_to_ready_q_cache 24
#define SAVE_EXC_RETURN ""
#define SAVE_FLOAT ""
#define LOAD_EXC_RETURN "mvn lr, #2\n\t" /* 0xFFFFFFFD: Thread mode, PSP, basic frame */
#define LOAD_FLOAT ""
#endif
_Static_assert(offsetof(struct z_kernel, ready_q.cache) == _kernel_offset_to_ready_q_cache, "");

void PendSV_Handler(void);
void SVC_Handler(void);
void SysTick_Handler(void);

void __attribute__((naked)) PendSV_Handler(void)
{
    __asm volatile("ldr r1, =_kernel\n\t"
                   "ldr r2, [r1, #" STRINGIFY(_kernel_offset_to_current) "]\n\t"
                   SAVE_EXC_RETURN
                   "add r0, r2, #" STRINGIFY(_thread_offset_to_callee_saved) "\n\t"
                   "mrs ip, PSP\n\t"
                   "stmia r0, {r4-r11, ip}\n\t"
                   SAVE_FLOAT
                   "ldr r2, [r1, #" STRINGIFY(_kernel_offset_to_ready_q_cache) "]\n\t"
                   "str r2, [r1, #" STRINGIFY(_kernel_offset_to_current) "]\n\t"
                   LOAD_EXC_RETURN
                   LOAD_FLOAT
                   "ldr r0, [r2, #" STRINGIFY(_thread_offset_to_basepri) "]\n\t"
                   "movs r3, #0\n\t"
                   "str r3, [r2, #" STRINGIFY(_thread_offset_to_basepri) "]\n\t"
                   "msr BASEPRI, r0\n\t"
                   "add r0, r2, #" STRINGIFY(_thread_offset_to_callee_saved) "\n\t"
                   "ldmia r0, {r4-r11, ip}\n\t"
                   "msr PSP, ip\n\t"
                   "isb\n\t"
                   "bx lr\n\t"
                   ".ltorg");
}

/*
 * Only ARCH_EXCEPT's svc #2 (k_oops) is used here. Zephyr's z_arm_svc hands its exception
 * frame to z_do_kernel_oops and the fatal error path; here it enters the fault path like the
 * fault shims of src/fault_entry.c, with the Memfault reason KernelPanic.
 */
void __attribute__((naked)) SVC_Handler(void)
{
    __asm volatile("mrs r0, psp\n\t"
                   "mrs r1, msp\n\t"
                   "ldr r2, =g_fault_sp_snapshot\n\t"
                   "stmia r2, {r0, r1}\n\t"
                   "movw r3, #0x8008\n\t"
                   "b fault_snapshot_taken\n\t"
                   ".ltorg");
}

void SysTick_Handler(void)
{
    sys_clock_announce(1);
}

/* The SysTick timer driver (drivers/timer/cortex_m_systick.c), one interrupt per tick; PendSV
 * and SysTick at the lowest priority. */
void sys_clock_driver_init(void)
{
    SCB_SHPR3 = (0xFFu << 24) | (0xFFu << 16);
    SYST_RVR = BOARD_CORE_CLOCK_HZ / CONFIG_SYS_CLOCK_TICKS_PER_SEC - 1u;
    SYST_CVR = 0;
    SYST_CSR = 0x7u; /* enable, interrupt, core clock */
}

/* The cooperative switch (arch/arm/core/cortex_m/swap.c): pend PendSV, unlock, and return
 * the value the thread was woken up with. A blocked thread's saved pc is in here. */
int arch_swap(unsigned int key)
{
    _current->arch.basepri = key;
    _current->arch.swap_return_value = (uint32_t)-EAGAIN;
    SCB_ICSR |= SCB_ICSR_PENDSVSET;
    irq_unlock(0);
    return (int)_current->arch.swap_return_value;
}
