/*
 * The kernel object (kernel/include/kernel_structs.h): struct z_kernel _kernel with its one
 * struct _cpu, the ready queue and the list of all threads, and the thread state bits.
 */
#ifndef ZEPHYR_KERNEL_STRUCTS_H
#define ZEPHYR_KERNEL_STRUCTS_H

#include "kernel.h"

/* thread_state bits (Zephyr 3.7: bit 2 is _THREAD_SLEEPING, earlier _THREAD_PRESTART) */
#define _THREAD_DUMMY (1u << 0)
#define _THREAD_PENDING (1u << 1)
#define _THREAD_SLEEPING (1u << 2)
#define _THREAD_DEAD (1u << 3)
#define _THREAD_SUSPENDED (1u << 4)
#define _THREAD_ABORTING (1u << 5)
#define _THREAD_SUSPENDING (1u << 6)
#define _THREAD_QUEUED (1u << 7)

struct _ready_q {
    /* always contains next thread to run: cannot be NULL */
    struct k_thread *cache;
#if defined(CONFIG_SCHED_DUMB)
    sys_dlist_t runq;
#endif
};
typedef struct _ready_q _ready_q_t;

struct _cpu {
    /* nested interrupt count */
    uint32_t nested;
    /* interrupt stack pointer base */
    char *irq_stack;
    /* currently scheduled thread */
    struct k_thread *current;
    /* one assigned idle thread per CPU */
    struct k_thread *idle_thread;
#ifdef CONFIG_TIMESLICING
    /* number of ticks remaining in current time slice */
    int slice_ticks;
#endif
    /* CPU ID */
    uint8_t id;
#if defined(CONFIG_FPU_SHARING)
    void *fp_ctx;
#endif
    /* Per CPU architecture specifics */
    struct _cpu_arch arch;
};
typedef struct _cpu _cpu_t;

struct z_kernel {
    struct _cpu cpus[CONFIG_MP_MAX_NUM_CPUS];
    /* ready queue: can be big, keep after small fields */
    struct _ready_q ready_q;
#if defined(CONFIG_THREAD_MONITOR)
    struct k_thread *threads; /* singly linked list of ALL threads */
#endif
};
typedef struct z_kernel _kernel_t;

extern struct z_kernel _kernel;

#define _current (_kernel.cpus[0].current)

/* The scheduler's internals, shared by sched.c, sem.c and thread.c. */
void z_ready_thread(struct k_thread *thread);
void z_pend_curr_unlocked(_wait_q_t *wait_q, k_timeout_t timeout);
struct k_thread *z_unpend_first_thread(_wait_q_t *wait_q);
void z_reschedule_unlocked(void);
void z_dummy_thread_init(struct k_thread *dummy);
void z_sched_start(void) __attribute__((noreturn));

#endif
