/*
 * Fault configuration (fault exceptions, divide-by-zero trap, MPU guards) and the C half of
 * the fault handler, which turns the state saved by fault_entry.S into a coredump.
 */
#include "fault.h"

#include <stddef.h>
#include <string.h>

#include "board.h"
#include "coredump.h"
#include "scheduler.h"
#include "uart.h"

#define EXC_RETURN_SPSEL (1u << 2)    /* frame is on PSP */
#define EXC_RETURN_FTYPE (1u << 4)    /* 0 = extended (FPU) frame */
#define XPSR_STACK_ALIGN (1u << 9)    /* core skipped a word to 8-align the frame */
#define BASIC_FRAME_SIZE 0x20u
#define EXTENDED_FRAME_SIZE 0x68u
#define FRAME_XPSR_INDEX 7u

#define MPU_RBAR_VALID (1u << 4)
#define MPU_RASR_ENABLE (1u << 0)
#define MPU_RASR_SIZE(log2_bytes) (((log2_bytes) - 1u) << 1)
#define MPU_RASR_AP_NO_ACCESS (0u << 24)
#define MPU_RASR_XN (1u << 28)
#define MPU_CTRL_ENABLE (1u << 0)
#define MPU_CTRL_PRIVDEFENA (1u << 2)
#define NULL_GUARD_LOG2 10u /* 1 KB at address 0, see link.ld */

volatile uint32_t g_fault_sp_snapshot[2];
struct dre_assert_info g_dre_assert;

void fault_init(void)
{
    SCB_SHCSR |= SCB_SHCSR_MEMFAULTENA | SCB_SHCSR_BUSFAULTENA | SCB_SHCSR_USGFAULTENA;
    SCB_CCR |= SCB_CCR_DIV_0_TRP;
    barrier_dsb_isb();
}

static uint32_t log2_of(uint32_t power_of_two)
{
    return 31u - (uint32_t)__builtin_clz(power_of_two);
}

static void mpu_set_no_access(uint32_t region, uint32_t base, uint32_t log2_bytes)
{
    MPU_RBAR = base | MPU_RBAR_VALID | region;
    MPU_RASR = MPU_RASR_XN | MPU_RASR_AP_NO_ACCESS | MPU_RASR_SIZE(log2_bytes) |
               MPU_RASR_ENABLE;
}

/*
 * Region 0: the first KB (NULL and near-NULL pointers), region 1 + i: the guard at the
 * bottom of thread i's stack. PRIVDEFENA keeps the default map everywhere else.
 */
void mpu_init(void)
{
    mpu_set_no_access(0, 0x00000000u, NULL_GUARD_LOG2);
    for (uint32_t i = 0; i < g_dre_scheduler.thread_count; i++) {
        uint32_t base = (uint32_t)(uintptr_t)g_dre_scheduler.threads[i].stack_base;
        mpu_set_no_access(1u + i, base, log2_of(DRE_STACK_GUARD_SIZE));
    }
    MPU_CTRL = MPU_CTRL_ENABLE | MPU_CTRL_PRIVDEFENA;
    barrier_dsb_isb();
}

static void mpu_disable(void)
{
    MPU_CTRL = 0;
    barrier_dsb_isb();
}

static void copy_text(char *dst, size_t size, const char *src)
{
    strncpy(dst, src, size - 1u);
    dst[size - 1u] = '\0';
}

void dre_assert_failed(const char *file, uint32_t line, const char *expression)
{
    g_dre_assert.file = file;
    g_dre_assert.expression = expression;
    g_dre_assert.line = line;
    g_dre_assert.trace_reason = TRACE_REASON_ASSERT;
    copy_text(g_dre_assert.file_text, sizeof(g_dre_assert.file_text), file);
    copy_text(g_dre_assert.expression_text, sizeof(g_dre_assert.expression_text), expression);
    /* Same trap as the Memfault SDK's MEMFAULT_ASSERT: a UsageFault that writes the dump. */
    __asm volatile("udf #77");
    __builtin_unreachable();
}

static uint32_t read_msp(void)
{
    uint32_t value;
    __asm volatile("mrs %0, msp" : "=r"(value));
    return value;
}

static uint32_t read_psp(void)
{
    uint32_t value;
    __asm volatile("mrs %0, psp" : "=r"(value));
    return value;
}

/* SP of the interrupted code: ARMv7-M ARM B1.5.7, the frame plus the alignment word. */
static uint32_t sp_before_exception(const uint32_t *frame, uint32_t exc_return)
{
    uint32_t size = (exc_return & EXC_RETURN_FTYPE) ? BASIC_FRAME_SIZE : EXTENDED_FRAME_SIZE;
    uint32_t sp = (uint32_t)(uintptr_t)frame + size;

    if (frame[FRAME_XPSR_INDEX] & XPSR_STACK_ALIGN) {
        sp += 4u;
    }
    return sp;
}

/* Register block as the SDK's memfault_fault_handler fills sMfltCortexMRegs. */
static void crash_fill_registers(struct coredump_crash *crash, const struct fault_regs *regs)
{
    const uint32_t *frame = regs->exception_frame;
    uint32_t sp = sp_before_exception(frame, regs->exc_return);
    int psp_was_active = (regs->exc_return & EXC_RETURN_SPSEL) != 0;

    crash->r0_to_r3[0] = frame[0];
    crash->r0_to_r3[1] = frame[1];
    crash->r0_to_r3[2] = frame[2];
    crash->r0_to_r3[3] = frame[3];
    memcpy(crash->r4_to_r11, regs->r4_to_r11, sizeof(crash->r4_to_r11));
    crash->r12 = frame[4];
    crash->sp = sp;
    crash->lr = frame[5];
    crash->pc = frame[6];
    crash->psr = frame[7];
    crash->msp = psp_was_active ? read_msp() : sp;
    crash->psp = psp_was_active ? sp : read_psp();
}

void __attribute__((noinline)) coredump_saved(void)
{
    /* The harness stops here to read the finished coredump. */
    __asm volatile("" ::: "memory");
}

void fault_handler_c(const struct fault_regs *regs, uint32_t reason)
{
    struct coredump_crash crash;

    /* A stack overflow leaves the exception frame inside a no-access MPU guard. */
    mpu_disable();
    crash_fill_registers(&crash, regs);
    crash.trace_reason = g_dre_assert.trace_reason != 0 ? g_dre_assert.trace_reason : reason;
    uint32_t size = coredump_write(&crash);
    coredump_saved();
    uart_puts("fault: coredump saved, ");
    uart_put_hex(size);
    uart_puts(" bytes\n");
    for (;;) {
    }
}
