/*
 * ARM Cortex-M thread context (include/zephyr/arch/arm/thread.h): what z_arm_pendsv saves in
 * struct k_thread. r4-r11 are v1-v8 in callee_saved, with the PSP after them; on the FPU build
 * the low byte of EXC_RETURN goes to mode_exc_return and s16-s31 to preempt_float.
 */
#ifndef ZEPHYR_ARCH_ARM_THREAD_H
#define ZEPHYR_ARCH_ARM_THREAD_H

#include <stdint.h>

#include "autoconf.h"

struct _callee_saved {
    uint32_t v1;  /* r4 */
    uint32_t v2;  /* r5 */
    uint32_t v3;  /* r6 */
    uint32_t v4;  /* r7 */
    uint32_t v5;  /* r8 */
    uint32_t v6;  /* r9 */
    uint32_t v7;  /* r10 */
    uint32_t v8;  /* r11 */
    uint32_t psp; /* r13 */
};
typedef struct _callee_saved _callee_saved_t;

#if defined(CONFIG_FPU) && defined(CONFIG_FPU_SHARING)
struct _preempt_float {
    float s16;
    float s17;
    float s18;
    float s19;
    float s20;
    float s21;
    float s22;
    float s23;
    float s24;
    float s25;
    float s26;
    float s27;
    float s28;
    float s29;
    float s30;
    float s31;
};
#endif

struct _thread_arch {
    /* interrupt locking key */
    uint32_t basepri;
    /* r0 in stack frame cannot be written to reliably */
    uint32_t swap_return_value;
#if defined(CONFIG_FPU) && defined(CONFIG_FPU_SHARING)
    struct _preempt_float preempt_float;
#endif
#if defined(CONFIG_ARM_STORE_EXC_RETURN)
    /* byte 0: mode bits (CONTROL.nPRIV, FPCA); byte 1: least significant byte of the
     * EXC_RETURN value the thread was switched out with */
    union {
        uint32_t mode;
        struct {
            uint8_t mode_bits;
            uint8_t mode_exc_return;
            uint16_t mode_reserved2;
        };
    };
#endif
};
typedef struct _thread_arch _thread_arch_t;

/* Per-CPU architecture specifics: none on Cortex-M. */
struct _cpu_arch {
};

#endif
