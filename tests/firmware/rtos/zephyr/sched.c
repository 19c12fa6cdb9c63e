/*
 * The scheduler of the Zephyr replica: _kernel, the ready queue, wait queues, timeouts and
 * the thread state bits, kept the way Zephyr keeps them on a uniprocessor build. The running
 * thread stays in the run queue (_THREAD_QUEUED); a thread that blocks leaves it and gets
 * _THREAD_PENDING (on a wait queue, pended_on set) or _THREAD_SLEEPING, and a timeout when it
 * does not wait forever; _kernel.ready_q.cache names the thread z_arm_pendsv switches to.
 */
#include "board.h"
#include "kernel_structs.h"

#define CONTAINER_OF(ptr, type, field) ((type *)(((char *)(ptr)) - offsetof(type, field)))
#define SLICE_TICKS 1
/* BASEPRI while interrupts are locked: masks the kernel's interrupts, never the faults. */
#define _EXC_IRQ_DEFAULT_PRIO 0x20u

struct z_kernel _kernel;

static sys_dlist_t timeout_list;

unsigned int irq_lock(void)
{
    unsigned int key;

    __asm volatile("mrs %0, BASEPRI\n\t"
                   "msr BASEPRI_MAX, %1\n\t"
                   "isb"
                   : "=r"(key)
                   : "r"(_EXC_IRQ_DEFAULT_PRIO)
                   : "memory");
    return key;
}

void irq_unlock(unsigned int key)
{
    __asm volatile("msr BASEPRI, %0\n\t"
                   "isb" ::"r"(key)
                   : "memory");
}

static int is_preempt(const struct k_thread *thread)
{
    return thread->base.prio >= 0 && thread->base.sched_locked == 0u;
}

/* z_priq_dumb_add: before the first thread of lower priority, so FIFO among equals. */
static void priq_add(sys_dlist_t *queue, struct k_thread *thread)
{
    for (sys_dnode_t *node = sys_dlist_peek_head(queue); node != NULL;
         node = sys_dlist_peek_next(queue, node)) {
        struct k_thread *other = CONTAINER_OF(node, struct k_thread, base.qnode_dlist);
        if (thread->base.prio < other->base.prio) {
            sys_dlist_insert(node, &thread->base.qnode_dlist);
            return;
        }
    }
    sys_dlist_append(queue, &thread->base.qnode_dlist);
}

static void queue_thread(struct k_thread *thread)
{
    thread->base.thread_state |= _THREAD_QUEUED;
    priq_add(&_kernel.ready_q.runq, thread);
}

static void dequeue_thread(struct k_thread *thread)
{
    thread->base.thread_state &= (uint8_t)~_THREAD_QUEUED;
    sys_dlist_remove(&thread->base.qnode_dlist);
}

static struct k_thread *next_up(void)
{
    sys_dnode_t *head = sys_dlist_peek_head(&_kernel.ready_q.runq);

    return head != NULL ? CONTAINER_OF(head, struct k_thread, base.qnode_dlist)
                        : _kernel.cpus[0].idle_thread;
}

/* The running thread keeps the CPU unless a higher priority thread is ready. */
static void update_cache(int preempt_ok)
{
    struct k_thread *thread = next_up();
    struct k_thread *current = _current;

    if (!preempt_ok && (current->base.thread_state & _THREAD_QUEUED) != 0u &&
        thread->base.prio >= current->base.prio) {
        thread = current;
    }
    _kernel.ready_q.cache = thread;
}

static void z_add_timeout(struct _timeout *timeout, _timeout_func_t fn, int32_t ticks)
{
    timeout->fn = fn;
    timeout->dticks = ticks;
    sys_dlist_append(&timeout_list, &timeout->node);
}

static void z_abort_timeout(struct _timeout *timeout)
{
    if (sys_dnode_is_linked(&timeout->node)) {
        sys_dlist_remove(&timeout->node);
    }
}

void z_ready_thread(struct k_thread *thread)
{
    if ((thread->base.thread_state & (_THREAD_QUEUED | _THREAD_PENDING | _THREAD_SLEEPING |
                                      _THREAD_SUSPENDED | _THREAD_DEAD)) == 0u) {
        queue_thread(thread);
        update_cache(0);
    }
}

static void unpend_thread(struct k_thread *thread)
{
    sys_dlist_remove(&thread->base.qnode_dlist);
    thread->base.thread_state &= (uint8_t)~_THREAD_PENDING;
    thread->base.pended_on = NULL;
    z_abort_timeout(&thread->base.timeout);
}

/* A pend or a sleep timed out. */
static void z_thread_timeout(struct _timeout *timeout)
{
    struct k_thread *thread = CONTAINER_OF(timeout, struct k_thread, base.timeout);

    if ((thread->base.thread_state & _THREAD_PENDING) != 0u) {
        unpend_thread(thread);
        thread->arch.swap_return_value = (uint32_t)-EAGAIN;
    }
    thread->base.thread_state &= (uint8_t)~_THREAD_SLEEPING;
    z_ready_thread(thread);
}

static void unready_current(k_timeout_t timeout)
{
    dequeue_thread(_current);
    update_cache(1);
    if (!K_TIMEOUT_EQ(timeout, K_FOREVER)) {
        z_add_timeout(&_current->base.timeout, z_thread_timeout, timeout.ticks);
    }
}

int32_t k_sleep(k_timeout_t timeout)
{
    unsigned int key = irq_lock();

    _current->base.thread_state |= _THREAD_SLEEPING;
    unready_current(timeout);
    (void)arch_swap(key);
    return 0;
}

int32_t k_msleep(int32_t ms)
{
    return k_sleep(K_MSEC(ms));
}

void z_pend_curr_unlocked(_wait_q_t *wait_q, k_timeout_t timeout)
{
    unsigned int key = irq_lock();

    _current->base.thread_state |= _THREAD_PENDING;
    _current->base.pended_on = wait_q;
    dequeue_thread(_current);
    priq_add(&wait_q->waitq, _current);
    update_cache(1);
    if (!K_TIMEOUT_EQ(timeout, K_FOREVER)) {
        z_add_timeout(&_current->base.timeout, z_thread_timeout, timeout.ticks);
    }
    (void)arch_swap(key);
}

struct k_thread *z_unpend_first_thread(_wait_q_t *wait_q)
{
    sys_dnode_t *head = sys_dlist_peek_head(&wait_q->waitq);
    struct k_thread *thread;

    if (head == NULL) {
        return NULL;
    }
    thread = CONTAINER_OF(head, struct k_thread, base.qnode_dlist);
    unpend_thread(thread);
    return thread;
}

void z_reschedule_unlocked(void)
{
    unsigned int key = irq_lock();

    if (_kernel.ready_q.cache != _current) {
        (void)arch_swap(key);
    } else {
        irq_unlock(key);
    }
}

void k_thread_suspend(k_tid_t thread)
{
    unsigned int key = irq_lock();

    if ((thread->base.thread_state & _THREAD_QUEUED) != 0u) {
        dequeue_thread(thread);
    }
    thread->base.thread_state |= _THREAD_SUSPENDED;
    update_cache(thread == _current);
    if (thread == _current) {
        (void)arch_swap(key);
    } else {
        irq_unlock(key);
    }
}

void k_sched_lock(void)
{
    _current->base.sched_locked++;
}

k_tid_t k_current_get(void)
{
    return _current;
}

/* Round robin among threads of the running thread's priority. */
static void z_time_slice(void)
{
    struct k_thread *current = _current;

    if (!is_preempt(current) || (current->base.thread_state & _THREAD_QUEUED) == 0u) {
        return;
    }
    if (--_kernel.cpus[0].slice_ticks > 0) {
        return;
    }
    _kernel.cpus[0].slice_ticks = SLICE_TICKS;
    dequeue_thread(current);
    queue_thread(current);
    update_cache(1);
}

void sys_clock_announce(int32_t ticks)
{
    sys_dnode_t *node = sys_dlist_peek_head(&timeout_list);

    while (node != NULL) {
        struct _timeout *timeout = CONTAINER_OF(node, struct _timeout, node);
        node = sys_dlist_peek_next(&timeout_list, node);
        timeout->dticks -= ticks;
        if (timeout->dticks <= 0) {
            sys_dlist_remove(&timeout->node);
            timeout->fn(timeout);
        }
    }
    z_time_slice();
    if (_kernel.ready_q.cache != _current) {
        SCB_ICSR = SCB_ICSR_PENDSVSET;
    }
}

/* z_dummy_thread_init: until multithreading starts, _current is a dummy thread that is in
 * no list and is never resumed. */
void z_dummy_thread_init(struct k_thread *dummy)
{
    dummy->base.thread_state = _THREAD_DUMMY;
    dummy->base.prio = 0;
    _current = dummy;
}

/* Start multithreading: z_arm_pendsv saves the boot context into the dummy thread and
 * switches to _kernel.ready_q.cache. */
void z_sched_start(void)
{
    _kernel.cpus[0].slice_ticks = SLICE_TICKS;
    update_cache(1);
    (void)arch_swap(irq_lock());
    for (;;) {
    }
}

void sched_init(void);
void sched_init(void)
{
    sys_dlist_init(&_kernel.ready_q.runq);
    sys_dlist_init(&timeout_list);
}
