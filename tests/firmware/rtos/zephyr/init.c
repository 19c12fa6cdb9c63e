/*
 * Kernel start (kernel/init.c): the main and idle threads, then multithreading from a dummy
 * thread. The application's static threads (K_THREAD_DEFINE) are created before it starts.
 */
#include "kernel_structs.h"

#define CONFIG_MAIN_STACK_SIZE 1024
#define CONFIG_IDLE_STACK_SIZE 320
#define IDLE_PRIO CONFIG_NUM_PREEMPT_PRIORITIES

void sched_init(void);
void z_init_static_threads(void);

struct k_thread z_main_thread;
struct k_thread z_idle_threads[CONFIG_MP_MAX_NUM_CPUS];
static struct k_thread _thread_dummy;
static K_THREAD_STACK_DEFINE(z_main_stack, CONFIG_MAIN_STACK_SIZE);
static K_THREAD_STACK_DEFINE(z_idle_stacks_0, CONFIG_IDLE_STACK_SIZE);

static void idle(void *unused1, void *unused2, void *unused3)
{
    (void)unused1;
    (void)unused2;
    (void)unused3;
    for (;;) {
        __asm volatile("wfi");
    }
}

/* The main thread's entry: runs the application's main function. */
static void bg_thread_main(void *main_entry, void *unused2, void *unused3)
{
    (void)unused2;
    (void)unused3;
    ((void (*)(void))main_entry)();
}

void z_cstart(void (*main_entry)(void))
{
    sched_init();
    z_dummy_thread_init(&_thread_dummy);
    k_thread_create(&z_main_thread, z_main_stack, K_THREAD_STACK_SIZEOF(z_main_stack),
                    bg_thread_main, (void *)main_entry, NULL, NULL, CONFIG_MAIN_THREAD_PRIORITY,
                    0, K_NO_WAIT);
    k_thread_name_set(&z_main_thread, "main");
    k_thread_create(&z_idle_threads[0], z_idle_stacks_0, K_THREAD_STACK_SIZEOF(z_idle_stacks_0),
                    idle, NULL, NULL, NULL, IDLE_PRIO, 0, K_NO_WAIT);
    k_thread_name_set(&z_idle_threads[0], "idle");
    _kernel.cpus[0].idle_thread = &z_idle_threads[0];
    _kernel.cpus[0].id = 0;
    z_init_static_threads();
    sys_clock_driver_init();
    z_sched_start();
}
