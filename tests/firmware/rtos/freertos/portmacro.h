/*
 * Port types and macros, as FreeRTOS's GCC ARM_CM3 and ARM_CM4F ports define them: one
 * source here, the FPU parts selected by the compiler's __ARM_FP like the two ports differ.
 */
#ifndef PORTMACRO_H
#define PORTMACRO_H

#include <stdint.h>

#define portSTACK_TYPE uint32_t
#define portBASE_TYPE long

typedef portSTACK_TYPE StackType_t;
typedef long BaseType_t;
typedef unsigned long UBaseType_t;
typedef uint32_t TickType_t;

#define portMAX_DELAY (TickType_t)0xffffffffUL
#define portSTACK_GROWTH (-1)
#define portBYTE_ALIGNMENT 8
#define portBYTE_ALIGNMENT_MASK 0x0007

#define portNVIC_INT_CTRL_REG (*((volatile uint32_t *)0xe000ed04))
#define portNVIC_PENDSVSET_BIT (1UL << 28UL)

#define portYIELD()                                        \
    do {                                                   \
        portNVIC_INT_CTRL_REG = portNVIC_PENDSVSET_BIT;    \
        __asm volatile("dsb" ::: "memory");                \
        __asm volatile("isb");                             \
    } while (0)
#define portYIELD_WITHIN_API portYIELD
#define portEND_SWITCHING_ISR(x) \
    do {                         \
        if ((x) != 0) {          \
            portYIELD();         \
        }                        \
    } while (0)

void vPortEnterCritical(void);
void vPortExitCritical(void);
#define portENTER_CRITICAL() vPortEnterCritical()
#define portEXIT_CRITICAL() vPortExitCritical()

#endif
