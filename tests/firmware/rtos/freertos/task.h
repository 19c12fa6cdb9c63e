/* The task API of the replica: FreeRTOS's names and signatures (include/task.h). */
#ifndef INC_TASK_H
#define INC_TASK_H

#include "FreeRTOS.h"
#include "list.h"

struct tskTaskControlBlock;
typedef struct tskTaskControlBlock *TaskHandle_t;

typedef enum {
    eRunning = 0,
    eReady,
    eBlocked,
    eSuspended,
    eDeleted,
    eInvalid
} eTaskState;

#define taskYIELD() portYIELD()
#define taskENTER_CRITICAL() portENTER_CRITICAL()
#define taskEXIT_CRITICAL() portEXIT_CRITICAL()

TaskHandle_t xTaskCreateStatic(TaskFunction_t pxTaskCode, const char *const pcName,
                               const uint32_t ulStackDepth, void *const pvParameters,
                               UBaseType_t uxPriority, StackType_t *const puxStackBuffer,
                               StaticTask_t *const pxTaskBuffer);
void vTaskStartScheduler(void) __attribute__((noreturn));
void vTaskDelay(const TickType_t xTicksToDelay);
void vTaskSuspend(TaskHandle_t xTaskToSuspend);
void vTaskDelete(TaskHandle_t xTaskToDelete);
void vTaskSuspendAll(void);
BaseType_t xTaskResumeAll(void);
TaskHandle_t xTaskGetCurrentTaskHandle(void);
eTaskState eTaskGetState(TaskHandle_t xTask);
uint32_t ulTaskNotifyTake(BaseType_t xClearCountOnExit, TickType_t xTicksToWait);
BaseType_t xTaskNotifyGive(TaskHandle_t xTaskToNotify);

/* Used by queues and the port. */
void vTaskPlaceOnEventList(List_t *const pxEventList, const TickType_t xTicksToWait);
BaseType_t xTaskRemoveFromEventList(const List_t *const pxEventList);
BaseType_t xTaskIncrementTick(void);
void vTaskSwitchContext(void);

/* Application hooks. */
void vApplicationGetIdleTaskMemory(StaticTask_t **ppxIdleTaskTCBBuffer,
                                   StackType_t **ppxIdleTaskStackBuffer,
                                   uint32_t *pulIdleTaskStackSize);
void vApplicationStackOverflowHook(TaskHandle_t xTask, char *pcTaskName);

/* The port (port.c). */
StackType_t *pxPortInitialiseStack(StackType_t *pxTopOfStack, TaskFunction_t pxCode,
                                   void *pvParameters);
BaseType_t xPortStartScheduler(void);

#endif
