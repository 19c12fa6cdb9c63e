/* Semaphores (kernel/sem.c): a count and a wait queue of pending threads. */
#include "kernel_structs.h"

int k_sem_init(struct k_sem *sem, unsigned int initial_count, unsigned int limit)
{
    sem->count = initial_count;
    sem->limit = limit;
    sys_dlist_init(&sem->wait_q.waitq);
    return 0;
}

int k_sem_take(struct k_sem *sem, k_timeout_t timeout)
{
    unsigned int key = irq_lock();

    if (sem->count > 0u) {
        sem->count--;
        irq_unlock(key);
        return 0;
    }
    irq_unlock(key);
    if (K_TIMEOUT_EQ(timeout, K_NO_WAIT)) {
        return -EBUSY;
    }
    z_pend_curr_unlocked(&sem->wait_q, timeout);
    return (int)_current->arch.swap_return_value;
}

void k_sem_give(struct k_sem *sem)
{
    unsigned int key = irq_lock();
    struct k_thread *thread = z_unpend_first_thread(&sem->wait_q);

    if (thread != NULL) {
        thread->arch.swap_return_value = 0;
        z_ready_thread(thread);
    } else if (sem->count < sem->limit) {
        sem->count++;
    }
    irq_unlock(key);
    z_reschedule_unlocked();
}
