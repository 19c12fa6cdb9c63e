/*
 * A tiny preemptive scheduler: threads run in Thread mode on PSP, handlers on MSP.
 * PendSV switches context (SysTick tick and explicit yields pend it).
 *
 * g_dre_scheduler is the documented descriptor that debuggers and dre's RTOS awareness
 * read (tests/firmware/README.md, "Scheduler descriptor"). Its layout is versioned: change
 * DRE_SCHEDULER_VERSION when a field moves.
 */
#ifndef DRE_SCHEDULER_H
#define DRE_SCHEDULER_H

#include <stdint.h>

#define DRE_SCHEDULER_MAGIC 0x53455244u /* bytes "DRES" in memory */
#define DRE_SCHEDULER_VERSION 1u
#define DRE_MAX_THREADS 4u

/* Bottom of every thread stack: a no-access MPU region of this size (power of two), and
 * the byte every stack is filled with at creation (for high-water marks). */
#define DRE_STACK_GUARD_SIZE 128u
#define DRE_STACK_FILL_BYTE 0xA5u

enum dre_thread_state {
    DRE_THREAD_UNUSED = 0,
    DRE_THREAD_READY = 1,
    DRE_THREAD_RUNNING = 2,
    DRE_THREAD_SLEEPING = 3,
    DRE_THREAD_BLOCKED = 4,
    DRE_THREAD_EXITED = 5,
};

/* All fields are 32 bits wide so the layout does not depend on enum size rules. */
struct dre_thread {
    const char *name;    /* +0x00 NUL-terminated */
    uint32_t *saved_sp;  /* +0x04 save area of a switched-out thread (stale while running) */
    uint32_t *stack_base; /* +0x08 lowest address of the stack, guard region included */
    uint32_t stack_size; /* +0x0C bytes */
    uint32_t state;      /* +0x10 enum dre_thread_state */
    uint32_t priority;   /* +0x14 larger runs first */
};

struct dre_scheduler {
    uint32_t magic;             /* +0x00 DRE_SCHEDULER_MAGIC */
    uint32_t version;           /* +0x04 DRE_SCHEDULER_VERSION */
    uint32_t thread_count;      /* +0x08 valid entries in threads[] */
    struct dre_thread *current; /* +0x0C the thread that runs (or last ran) */
    struct dre_thread threads[DRE_MAX_THREADS]; /* +0x10, 0x18 bytes each */
};

typedef void (*dre_thread_entry)(void *arg);

extern struct dre_scheduler g_dre_scheduler;

struct dre_thread *scheduler_create(const char *name, dre_thread_entry entry, void *arg,
                                    uint32_t *stack, uint32_t stack_size, uint32_t priority);
void scheduler_start(void) __attribute__((noreturn));
void scheduler_yield(void);
void scheduler_sleep(uint32_t ticks);
void scheduler_block(void);
void scheduler_wake(struct dre_thread *thread);
uint32_t scheduler_ticks(void);

/* Called from the handlers in context_switch.S and startup code only. */
void scheduler_tick(void);
void scheduler_switch_context(void);
void scheduler_thread_exit(void) __attribute__((noreturn));
void thread_trampoline(void);

#endif
