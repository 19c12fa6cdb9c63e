/*
 * Configuration of the FreeRTOS replica (tests/firmware/README.md, "RTOS variants").
 * The option names are FreeRTOS's own; each one below changes a published structure
 * layout or a behaviour the awareness reads.
 */
#ifndef FREERTOS_CONFIG_H
#define FREERTOS_CONFIG_H

#include <stdint.h>

#define configUSE_PREEMPTION 1
#define configUSE_TIME_SLICING 1
#define configCPU_CLOCK_HZ 25000000u
#define configTICK_RATE_HZ 1000u
#define configMAX_PRIORITIES 5
#define configMAX_TASK_NAME_LEN 16
#define configUSE_16_BIT_TICKS 0
#define configUSE_MINI_LIST_ITEM 1
#define configUSE_MUTEXES 1
#define configUSE_TRACE_FACILITY 1
#define configUSE_TASK_NOTIFICATIONS 1
#define configTASK_NOTIFICATION_ARRAY_ENTRIES 1
/* Method 2 fills new stacks with tskSTACK_FILL_BYTE (0xA5) and checks their lowest 16 bytes. */
#define configCHECK_FOR_STACK_OVERFLOW 2
#define configSUPPORT_STATIC_ALLOCATION 1
#define configSUPPORT_DYNAMIC_ALLOCATION 0
/* The CM4F build keeps pxEndOfStack in the TCB, the CM3 build does not: the awareness then
 * takes a stack's size from the symbol of its static buffer. */
#if defined(__ARM_FP)
#define configRECORD_STACK_HIGH_ADDRESS 1
#else
#define configRECORD_STACK_HIGH_ADDRESS 0
#endif
#define INCLUDE_vTaskSuspend 1
#define INCLUDE_vTaskDelete 1
#define INCLUDE_vTaskDelay 1

/* Interrupt priorities as 8-bit NVIC values: the kernel's own at the lowest, critical sections
 * mask everything from 0x40 down (BASEPRI), the fault exceptions (0) stay enabled. */
#define configKERNEL_INTERRUPT_PRIORITY 0xFFu
#define configMAX_SYSCALL_INTERRUPT_PRIORITY 0x40u

/* The port's handlers under the names the vector table uses, as FreeRTOS applications do. */
#define xPortPendSVHandler PendSV_Handler
#define vPortSVCHandler SVC_Handler
#define xPortSysTickHandler SysTick_Handler

#endif
