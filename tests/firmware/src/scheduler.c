/*
 * Scheduler state and policy. The register save/restore itself is in context_switch.S;
 * the save order it produces is documented in scheduler.h and the README.
 */
#include "scheduler.h"

#include <stddef.h>
#include <string.h>

#include "board.h"

#define SYSTICK_HZ 1000u
#define SYST_CSR_ENABLE_TICKINT_CORECLK 0x7u
#define INITIAL_XPSR 0x01000000u /* only the Thumb bit */
#define EXC_RETURN_THREAD_PSP 0xFFFFFFFDu
#define LOWEST_PRIORITY 0xFFu

struct dre_scheduler g_dre_scheduler = {
    .magic = DRE_SCHEDULER_MAGIC,
    .version = DRE_SCHEDULER_VERSION,
};

static volatile uint32_t s_ticks;
static uint32_t s_wake_tick[DRE_MAX_THREADS];

static inline void irq_disable(void)
{
    __asm volatile("cpsid i" ::: "memory");
}

static inline void irq_enable(void)
{
    __asm volatile("cpsie i" ::: "memory");
}

/*
 * Lay out a save area exactly like the one PendSV leaves behind, so the first switch to a
 * thread is an ordinary context restore. The hardware frame starts the thread in
 * thread_trampoline with r0 = arg and r1 = entry.
 */
static uint32_t *stack_build_initial_frame(uint32_t *top, dre_thread_entry entry, void *arg)
{
    uint32_t *sp = top;

    *--sp = INITIAL_XPSR;
    *--sp = (uint32_t)(uintptr_t)thread_trampoline; /* pc */
    *--sp = 0;                                      /* lr: the trampoline is outermost */
    *--sp = 0;                                      /* r12 */
    *--sp = 0;                                      /* r3 */
    *--sp = 0;                                      /* r2 */
    *--sp = (uint32_t)(uintptr_t)entry;             /* r1 */
    *--sp = (uint32_t)(uintptr_t)arg;               /* r0 */
#if DRE_HAS_FPU
    *--sp = EXC_RETURN_THREAD_PSP; /* basic frame: no FPU context yet */
#endif
    for (int reg = 11; reg >= 4; reg--) {
        *--sp = 0; /* r11 .. r4 */
    }
    return sp;
}

struct dre_thread *scheduler_create(const char *name, dre_thread_entry entry, void *arg,
                                    uint32_t *stack, uint32_t stack_size, uint32_t priority)
{
    struct dre_thread *thread = &g_dre_scheduler.threads[g_dre_scheduler.thread_count++];
    uint32_t *top = (uint32_t *)((uintptr_t)stack + stack_size);

    memset(stack, DRE_STACK_FILL_BYTE, stack_size);
    thread->name = name;
    thread->stack_base = stack;
    thread->stack_size = stack_size;
    thread->priority = priority;
    thread->saved_sp = stack_build_initial_frame(top, entry, arg);
    thread->state = DRE_THREAD_READY;
    return thread;
}

static uint32_t thread_index(const struct dre_thread *thread)
{
    return (uint32_t)(thread - g_dre_scheduler.threads);
}

static int thread_is_runnable(const struct dre_thread *thread)
{
    return thread->state == DRE_THREAD_READY || thread->state == DRE_THREAD_RUNNING;
}

/*
 * Highest priority runnable thread; among equals the first one after `current` in table
 * order (round robin). When nothing can run, the current thread keeps the CPU and idles
 * in its own wait loop.
 */
static struct dre_thread *scheduler_pick_next(struct dre_thread *current)
{
    uint32_t count = g_dre_scheduler.thread_count;
    uint32_t start = thread_index(current);
    struct dre_thread *best = NULL;

    for (uint32_t step = 1; step <= count; step++) {
        struct dre_thread *candidate = &g_dre_scheduler.threads[(start + step) % count];
        if (thread_is_runnable(candidate) &&
            (best == NULL || candidate->priority > best->priority)) {
            best = candidate;
        }
    }
    return best != NULL ? best : current;
}

void scheduler_switch_context(void)
{
    struct dre_thread *current = g_dre_scheduler.current;
    struct dre_thread *next = scheduler_pick_next(current);

    if (current->state == DRE_THREAD_RUNNING) {
        current->state = DRE_THREAD_READY;
    }
    if (next->state == DRE_THREAD_READY) {
        next->state = DRE_THREAD_RUNNING;
    }
    g_dre_scheduler.current = next;
}

static int scheduler_should_preempt(void)
{
    const struct dre_thread *current = g_dre_scheduler.current;

    for (uint32_t i = 0; i < g_dre_scheduler.thread_count; i++) {
        const struct dre_thread *thread = &g_dre_scheduler.threads[i];
        if (thread->state == DRE_THREAD_READY &&
            (current->state != DRE_THREAD_RUNNING || thread->priority >= current->priority)) {
            return 1;
        }
    }
    return 0;
}

static void scheduler_wake_sleepers(uint32_t now)
{
    for (uint32_t i = 0; i < g_dre_scheduler.thread_count; i++) {
        struct dre_thread *thread = &g_dre_scheduler.threads[i];
        if (thread->state == DRE_THREAD_SLEEPING && (int32_t)(now - s_wake_tick[i]) >= 0) {
            thread->state = DRE_THREAD_READY;
        }
    }
}

void scheduler_tick(void)
{
    s_ticks++;
    scheduler_wake_sleepers(s_ticks);
    if (scheduler_should_preempt()) {
        SCB_ICSR = SCB_ICSR_PENDSVSET;
    }
}

void SysTick_Handler(void)
{
    scheduler_tick();
}

uint32_t scheduler_ticks(void)
{
    return s_ticks;
}

void scheduler_yield(void)
{
    SCB_ICSR = SCB_ICSR_PENDSVSET;
    /* PendSV is taken here, so a switched-out thread's stacked PC is the next line. */
    barrier_dsb_isb();
}

/* Yield until `state` changes; wait for an interrupt whenever nothing else could run. */
static void scheduler_wait_while(struct dre_thread *self, uint32_t state)
{
    while (self->state == state) {
        scheduler_yield();
        if (self->state == state) {
            __asm volatile("wfi");
        }
    }
}

void scheduler_sleep(uint32_t ticks)
{
    struct dre_thread *self = g_dre_scheduler.current;

    irq_disable();
    s_wake_tick[thread_index(self)] = s_ticks + ticks;
    self->state = DRE_THREAD_SLEEPING;
    irq_enable();
    scheduler_wait_while(self, DRE_THREAD_SLEEPING);
}

void scheduler_block(void)
{
    struct dre_thread *self = g_dre_scheduler.current;

    self->state = DRE_THREAD_BLOCKED;
    scheduler_wait_while(self, DRE_THREAD_BLOCKED);
}

void scheduler_wake(struct dre_thread *thread)
{
    if (thread->state == DRE_THREAD_SLEEPING || thread->state == DRE_THREAD_BLOCKED) {
        thread->state = DRE_THREAD_READY;
        SCB_ICSR = SCB_ICSR_PENDSVSET;
    }
}

void scheduler_thread_exit(void)
{
    g_dre_scheduler.current->state = DRE_THREAD_EXITED;
    for (;;) {
        scheduler_yield();
    }
}

static struct dre_thread *scheduler_first_thread(void)
{
    struct dre_thread *first = &g_dre_scheduler.threads[0];

    for (uint32_t i = 1; i < g_dre_scheduler.thread_count; i++) {
        if (g_dre_scheduler.threads[i].priority > first->priority) {
            first = &g_dre_scheduler.threads[i];
        }
    }
    return first;
}

void scheduler_start(void)
{
    struct dre_thread *first = scheduler_first_thread();

    first->state = DRE_THREAD_RUNNING;
    g_dre_scheduler.current = first;
    /* PendSV and SysTick at the lowest priority so they never preempt a handler. */
    SCB_SHPR3 = (LOWEST_PRIORITY << 24) | (LOWEST_PRIORITY << 16);
    SYST_RVR = BOARD_CORE_CLOCK_HZ / SYSTICK_HZ - 1u;
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_ENABLE_TICKINT_CORECLK;
    /* SVC_Handler restores the first thread's save area and returns to it on PSP. */
    __asm volatile("svc #0" ::: "memory");
    for (;;) {
    }
}
