/*
 * FreeRTOS.h of the replica: configuration, port types, projdefs and the "static" types an
 * application allocates (StaticTask_t has the size of the private TCB_t, checked in tasks.c,
 * as the kernel does).
 */
#ifndef INC_FREERTOS_H
#define INC_FREERTOS_H

#include <stddef.h>
#include <stdint.h>

#include "FreeRTOSConfig.h"
#include "portmacro.h"

/* projdefs.h */
typedef void (*TaskFunction_t)(void *);
#define pdFALSE ((BaseType_t)0)
#define pdTRUE ((BaseType_t)1)
#define pdPASS (pdTRUE)
#define pdFAIL (pdFALSE)

#define tskIDLE_PRIORITY ((UBaseType_t)0U)

/* The opaque twins of the kernel's private structures (FreeRTOS.h "xSTATIC_*"). */
typedef struct xSTATIC_LIST_ITEM {
    TickType_t xDummy2;
    void *pvDummy3[4];
} StaticListItem_t;

typedef struct xSTATIC_TCB {
    void *pxDummy1;
    StaticListItem_t xDummy3[2];
    UBaseType_t uxDummy5;
    void *pxDummy6;
    uint8_t ucDummy7[configMAX_TASK_NAME_LEN];
#if (configRECORD_STACK_HIGH_ADDRESS == 1)
    void *pxDummy8;
#endif
#if (configUSE_TRACE_FACILITY == 1)
    UBaseType_t uxDummy10[2];
#endif
#if (configUSE_MUTEXES == 1)
    UBaseType_t uxDummy12[2];
#endif
#if (configUSE_TASK_NOTIFICATIONS == 1)
    uint32_t ulDummy18[configTASK_NOTIFICATION_ARRAY_ENTRIES];
    uint8_t ucDummy19[configTASK_NOTIFICATION_ARRAY_ENTRIES];
#endif
} StaticTask_t;

#endif
