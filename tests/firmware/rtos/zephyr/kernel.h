/*
 * The kernel objects and API of the Zephyr replica, with Zephyr's type, member and function
 * names: struct k_thread and struct _thread_base (include/zephyr/kernel/thread.h), struct
 * _timeout and _wait_q_t (kernel_structs.h / sys_clock.h), struct k_sem, and the calls the
 * application uses. Members follow Zephyr 3.7's order for the Kconfig in autoconf.h.
 */
#ifndef ZEPHYR_KERNEL_H
#define ZEPHYR_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "arch_thread.h"
#include "autoconf.h"
#include "sys_dlist.h"

typedef struct {
    sys_dlist_t waitq;
} _wait_q_t;

struct _timeout;
typedef void (*_timeout_func_t)(struct _timeout *t);

struct _timeout {
    sys_dnode_t node;
    _timeout_func_t fn;
    int32_t dticks; /* ticks until it expires, relative to the previous timeout */
};

struct rbnode {
    struct rbnode *children[2];
};

struct _thread_base {
    /* this thread's entry in a ready/wait queue */
    union {
        sys_dnode_t qnode_dlist;
        struct rbnode qnode_rb;
    };
    /* wait queue on which the thread is pended */
    _wait_q_t *pended_on;
    /* user facing 'thread options' */
    uint8_t user_options;
    /* thread state (_THREAD_* bits, kernel_structs.h) */
    uint8_t thread_state;
    /* scheduler lock count and thread priority */
    union {
        struct {
            int8_t prio;
            uint8_t sched_locked;
        };
        uint16_t preempt;
    };
    uint32_t order_key;
    /* data returned by APIs */
    void *swap_data;
#ifdef CONFIG_SYS_CLOCK_EXISTS
    /* this thread's entry in a timeout queue */
    struct _timeout timeout;
#endif
};
typedef struct _thread_base _thread_base_t;

typedef void (*k_thread_entry_t)(void *p1, void *p2, void *p3);

struct __thread_entry {
    k_thread_entry_t pEntry;
    void *parameter1;
    void *parameter2;
    void *parameter3;
};

struct _thread_stack_info {
    /* Stack start - Represents the start address of the thread-writable stack area. */
    uintptr_t start;
    /* Thread writable stack buffer size. */
    size_t size;
    /* Adjustment value to the size member, removing any storage used for TLS or random
     * stack base offsets. */
    size_t delta;
};
typedef struct _thread_stack_info _thread_stack_info_t;

struct k_heap;

struct k_thread {
    struct _thread_base base;
    /* defined by the architecture, but all archs need these */
    struct _callee_saved callee_saved;
    /* static thread init data */
    void *init_data;
    /* threads waiting in k_thread_join() */
    _wait_q_t join_queue;
#if defined(CONFIG_THREAD_MONITOR)
    /* thread entry and parameters description */
    struct __thread_entry entry;
    /* next item in list of all threads */
    struct k_thread *next_thread;
#endif
#if defined(CONFIG_THREAD_NAME)
    char name[CONFIG_THREAD_MAX_NAME_LEN];
#endif
#if defined(CONFIG_ERRNO)
    int errno_var;
#endif
#if defined(CONFIG_THREAD_STACK_INFO)
    struct _thread_stack_info stack_info;
#endif
    /* resource pool */
    struct k_heap *resource_pool;
    /* arch-specifics: must always be at the end */
    struct _thread_arch arch;
};
typedef struct k_thread _thread_t;
typedef struct k_thread *k_tid_t;

/* K_THREAD_STACK_DEFINE: the stack is an array of this element type. */
struct z_thread_stack_element {
    char data;
};
typedef struct z_thread_stack_element k_thread_stack_t;

#define ARCH_STACK_PTR_ALIGN 8
#define K_THREAD_STACK_DEFINE(sym, size) \
    struct z_thread_stack_element __attribute__((aligned(ARCH_STACK_PTR_ALIGN))) sym[size]
#define K_THREAD_STACK_SIZEOF(sym) sizeof(sym)

typedef struct {
    int32_t ticks;
} k_timeout_t;

#define K_TICKS_FOREVER ((int32_t)-1)
#define K_FOREVER ((k_timeout_t){.ticks = K_TICKS_FOREVER})
#define K_NO_WAIT ((k_timeout_t){.ticks = 0})
#define K_MSEC(ms) ((k_timeout_t){.ticks = (int32_t)(ms)})
#define K_TIMEOUT_EQ(a, b) ((a).ticks == (b).ticks)

struct k_sem {
    _wait_q_t wait_q;
    unsigned int count;
    unsigned int limit;
};

/*
 * k_oops() as Zephyr's ARMv7-M ARCH_EXCEPT (arch/arm/include/cortex_m/error.h): unmask
 * BASEPRI, reason in r0, svc #2 (_SVC_CALL_RUNTIME_EXCEPT); the SVC handler enters the fatal
 * error path with the SVC's exception frame, as k_panic() and a failed __ASSERT do. Like
 * Zephyr's, nothing after the svc is marked unreachable, so the stacked pc stays inside the
 * caller.
 */
#define K_ERR_KERNEL_OOPS 3
#define _SVC_CALL_RUNTIME_EXCEPT 2
#define k_oops()                                                                          \
    do {                                                                                  \
        __asm volatile("eors r0, r0\n\t"                                                  \
                       "msr BASEPRI, r0\n\t"                                              \
                       "movs r0, %[reason]\n\t"                                           \
                       "svc %[id]\n\t"                                                    \
                       :                                                                  \
                       : [reason] "i"(K_ERR_KERNEL_OOPS), [id] "i"(_SVC_CALL_RUNTIME_EXCEPT) \
                       : "r0", "memory");                                                 \
    } while (0)

#define EAGAIN 11
#define EBUSY 16

k_tid_t k_thread_create(struct k_thread *new_thread, k_thread_stack_t *stack, size_t stack_size,
                        k_thread_entry_t entry, void *p1, void *p2, void *p3, int prio,
                        uint32_t options, k_timeout_t delay);
int k_thread_name_set(k_tid_t thread, const char *str);
k_tid_t k_current_get(void);
int32_t k_sleep(k_timeout_t timeout);
int32_t k_msleep(int32_t ms);
void k_thread_suspend(k_tid_t thread);
void k_yield(void);
int k_sem_init(struct k_sem *sem, unsigned int initial_count, unsigned int limit);
int k_sem_take(struct k_sem *sem, k_timeout_t timeout);
void k_sem_give(struct k_sem *sem);
unsigned int irq_lock(void);
void irq_unlock(unsigned int key);
void k_sched_lock(void);

/* Kernel internals the port and the start-up code use. */
void z_thread_entry(k_thread_entry_t entry, void *p1, void *p2, void *p3)
    __attribute__((noreturn));
void z_cstart(void (*main_entry)(void)) __attribute__((noreturn));
void sys_clock_announce(int32_t ticks);
void sys_clock_driver_init(void);
int arch_swap(unsigned int key);

#endif
