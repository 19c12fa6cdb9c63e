/*
 * The Kconfig choices of the Zephyr replica (tests/firmware/README.md, "RTOS variants").
 * Each changes a published structure the awareness reads: thread list, names and stack info
 * in struct k_thread; EXC_RETURN and s16-s31 in struct _thread_arch on the FPU build only.
 */
#ifndef ZEPHYR_AUTOCONF_H
#define ZEPHYR_AUTOCONF_H

#define CONFIG_MP_MAX_NUM_CPUS 1
#define CONFIG_THREAD_MONITOR 1
#define CONFIG_THREAD_NAME 1
#define CONFIG_THREAD_MAX_NAME_LEN 32
#define CONFIG_THREAD_STACK_INFO 1
#define CONFIG_INIT_STACKS 1
#define CONFIG_SYS_CLOCK_EXISTS 1
#define CONFIG_SYS_CLOCK_TICKS_PER_SEC 1000
#define CONFIG_TIMESLICING 1
#define CONFIG_SCHED_DUMB 1
#define CONFIG_NUM_PREEMPT_PRIORITIES 15
#define CONFIG_MAIN_THREAD_PRIORITY 5
#define CONFIG_ERRNO 1
#if defined(__ARM_FP)
#define CONFIG_FPU 1
#define CONFIG_FPU_SHARING 1
#define CONFIG_ARM_STORE_EXC_RETURN 1
#endif

#endif
