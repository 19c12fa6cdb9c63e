/*
 * Thread creation (kernel/thread.c, arch/arm/core/cortex_m/thread.c) and the common entry
 * point z_thread_entry (lib/os/thread_entry.c), as the replica needs them.
 */
#include <string.h>

#include "kernel_structs.h"

#define INITIAL_XPSR 0x01000000u /* only the Thumb bit */
#define DEFAULT_EXC_RETURN 0xFDu /* Thread mode, PSP, basic frame: the low byte */
#define STACK_FILL 0xaau         /* CONFIG_INIT_STACKS */

/* The exception frame a new thread starts from (arch/arm/include/cortex_m/exception.h). */
struct __basic_sf {
    uint32_t a1, a2, a3, a4; /* r0 .. r3 */
    uint32_t ip;             /* r12 */
    uint32_t lr;
    uint32_t pc;
    uint32_t xpsr;
};

int k_thread_name_set(k_tid_t thread, const char *str)
{
    strncpy(thread->name, str, CONFIG_THREAD_MAX_NAME_LEN - 1);
    thread->name[CONFIG_THREAD_MAX_NAME_LEN - 1] = '\0';
    return 0;
}

/* The first context of a thread: z_thread_entry(entry, p1, p2, p3) from a hardware frame at
 * the top of the stack. As in Zephyr, the frame's lr slot is not written (it keeps the
 * stack fill). */
static void arch_new_thread(struct k_thread *thread, k_thread_stack_t *stack, char *stack_ptr,
                            k_thread_entry_t entry, void *p1, void *p2, void *p3)
{
    struct __basic_sf *iframe = (struct __basic_sf *)(stack_ptr - sizeof(struct __basic_sf));

    (void)stack;
    iframe->pc = (uint32_t)(uintptr_t)z_thread_entry & 0xfffffffeu;
    iframe->a1 = (uint32_t)(uintptr_t)entry;
    iframe->a2 = (uint32_t)(uintptr_t)p1;
    iframe->a3 = (uint32_t)(uintptr_t)p2;
    iframe->a4 = (uint32_t)(uintptr_t)p3;
    iframe->xpsr = INITIAL_XPSR;
    thread->callee_saved.psp = (uint32_t)(uintptr_t)iframe;
    thread->arch.basepri = 0;
#if defined(CONFIG_ARM_STORE_EXC_RETURN)
    thread->arch.mode = 0;
    thread->arch.mode_exc_return = DEFAULT_EXC_RETURN;
#endif
}

k_tid_t k_thread_create(struct k_thread *new_thread, k_thread_stack_t *stack, size_t stack_size,
                        k_thread_entry_t entry, void *p1, void *p2, void *p3, int prio,
                        uint32_t options, k_timeout_t delay)
{
    char *stack_ptr = (char *)stack + stack_size;

    (void)delay;
    memset(stack, STACK_FILL, stack_size);
    new_thread->stack_info.start = (uintptr_t)stack;
    new_thread->stack_info.size = stack_size;
    new_thread->stack_info.delta = 0;
    new_thread->base.user_options = (uint8_t)options;
    new_thread->base.thread_state = 0;
    new_thread->base.prio = (int8_t)prio;
    new_thread->base.pended_on = NULL;
    sys_dnode_init(&new_thread->base.timeout.node);
    sys_dlist_init(&new_thread->join_queue.waitq);
    arch_new_thread(new_thread, stack, stack_ptr, entry, p1, p2, p3);
    new_thread->entry.pEntry = entry;
    new_thread->entry.parameter1 = p1;
    new_thread->entry.parameter2 = p2;
    new_thread->entry.parameter3 = p3;
    /* z_thread_monitor: the newest thread heads the list of all threads. */
    new_thread->next_thread = _kernel.threads;
    _kernel.threads = new_thread;
    z_ready_thread(new_thread);
    return new_thread;
}

/* A thread whose entry returned: dead, out of the list of all threads, never resumed. */
static void z_thread_abort_current(void)
{
    unsigned int key = irq_lock();
    struct k_thread **link = &_kernel.threads;

    while (*link != NULL && *link != _current) {
        link = &(*link)->next_thread;
    }
    if (*link != NULL) {
        *link = _current->next_thread;
    }
    _current->base.thread_state |= _THREAD_DEAD;
    _current->base.thread_state &= (uint8_t)~_THREAD_QUEUED;
    sys_dlist_remove(&_current->base.qnode_dlist);
    (void)arch_swap(key);
}

void z_thread_entry(k_thread_entry_t entry, void *p1, void *p2, void *p3)
{
    entry(p1, p2, p3);
    z_thread_abort_current();
    for (;;) {
    }
}
