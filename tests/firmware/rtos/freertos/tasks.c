/*
 * The task scheduler of the FreeRTOS replica.
 *
 * The data is FreeRTOS's: the TCB (struct tskTaskControlBlock / TCB_t) with the members,
 * order and types of tasks.c for this configuration, and the kernel's variables with their
 * names, types and linkage (pxCurrentTCB global, the lists file-static). The code is ours and
 * much smaller, but it keeps every invariant a debugger relies on: a task's xStateListItem is
 * in exactly one of the ready, delayed, suspended or termination lists; a task blocked on an
 * event also has its xEventListItem in that event's list; a task readied while the scheduler
 * is suspended waits in xPendingReadyList through its xEventListItem; a switched-out task's
 * pxTopOfStack points at the registers the port saved (port.c).
 */
#include <string.h>

#include "FreeRTOS.h"
#include "list.h"
#include "task.h"

#define tskSTACK_FILL_BYTE (0xa5U)
#define taskNOT_WAITING_NOTIFICATION ((uint8_t)0)
#define taskWAITING_NOTIFICATION ((uint8_t)1)
#define taskNOTIFICATION_RECEIVED ((uint8_t)2)

/* The TCB, member for member as tasks.c declares it for this configuration. */
typedef struct tskTaskControlBlock {
    volatile StackType_t *pxTopOfStack; /* must stay first: the port's assembly uses +0 */
    ListItem_t xStateListItem;          /* ready, delayed, suspended or termination list */
    ListItem_t xEventListItem;          /* an event's wait list, or xPendingReadyList */
    UBaseType_t uxPriority;
    StackType_t *pxStack; /* lowest address of the stack */
    char pcTaskName[configMAX_TASK_NAME_LEN];
#if ((portSTACK_GROWTH > 0) || (configRECORD_STACK_HIGH_ADDRESS == 1))
    StackType_t *pxEndOfStack; /* highest valid address of the stack */
#endif
#if (configUSE_TRACE_FACILITY == 1)
    UBaseType_t uxTCBNumber;
    UBaseType_t uxTaskNumber;
#endif
#if (configUSE_MUTEXES == 1)
    UBaseType_t uxBasePriority;
    UBaseType_t uxMutexesHeld;
#endif
#if (configUSE_TASK_NOTIFICATIONS == 1)
    volatile uint32_t ulNotifiedValue[configTASK_NOTIFICATION_ARRAY_ENTRIES];
    volatile uint8_t ucNotifyState[configTASK_NOTIFICATION_ARRAY_ENTRIES];
#endif
} tskTCB;
typedef tskTCB TCB_t;

_Static_assert(sizeof(StaticTask_t) == sizeof(TCB_t), "StaticTask_t mirrors TCB_t");
_Static_assert(offsetof(TCB_t, pxTopOfStack) == 0, "the port reads pxTopOfStack at +0");

/* The kernel's variables, with tasks.c's names, types and linkage. */
TCB_t *volatile pxCurrentTCB = NULL;
static List_t pxReadyTasksLists[configMAX_PRIORITIES];
static List_t xDelayedTaskList1;
static List_t xDelayedTaskList2;
static List_t *volatile pxDelayedTaskList;
static List_t *volatile pxOverflowDelayedTaskList;
static List_t xPendingReadyList;
static List_t xTasksWaitingTermination;
static volatile UBaseType_t uxDeletedTasksWaitingCleanUp = (UBaseType_t)0U;
static List_t xSuspendedTaskList;
static volatile UBaseType_t uxCurrentNumberOfTasks = (UBaseType_t)0U;
static volatile TickType_t xTickCount = (TickType_t)0U;
static volatile UBaseType_t uxTopReadyPriority = tskIDLE_PRIORITY;
static volatile BaseType_t xSchedulerRunning = pdFALSE;
static volatile TickType_t xPendedTicks = (TickType_t)0U;
static volatile BaseType_t xYieldPending = pdFALSE;
static volatile BaseType_t xNumOfOverflows = (BaseType_t)0;
static UBaseType_t uxTaskNumber = (UBaseType_t)0U;
static volatile TickType_t xNextTaskUnblockTime = (TickType_t)0U;
static TaskHandle_t xIdleTaskHandle = NULL;
static volatile UBaseType_t uxSchedulerSuspended = (UBaseType_t)0U;
/* Kept for debuggers (OpenOCD reads it to size pxReadyTasksLists). */
const volatile UBaseType_t uxTopUsedPriority __attribute__((used)) = configMAX_PRIORITIES - 1U;

#define prvAddTaskToReadyList(pxTCB)                                                    \
    do {                                                                                \
        if ((pxTCB)->uxPriority > uxTopReadyPriority) {                                 \
            uxTopReadyPriority = (pxTCB)->uxPriority;                                   \
        }                                                                               \
        vListInsertEnd(&(pxReadyTasksLists[(pxTCB)->uxPriority]), &((pxTCB)->xStateListItem)); \
    } while (0)

static void prvInitialiseTaskLists(void)
{
    for (UBaseType_t uxPriority = 0; uxPriority < (UBaseType_t)configMAX_PRIORITIES;
         uxPriority++) {
        vListInitialise(&(pxReadyTasksLists[uxPriority]));
    }
    vListInitialise(&xDelayedTaskList1);
    vListInitialise(&xDelayedTaskList2);
    vListInitialise(&xPendingReadyList);
    vListInitialise(&xTasksWaitingTermination);
    vListInitialise(&xSuspendedTaskList);
    pxDelayedTaskList = &xDelayedTaskList1;
    pxOverflowDelayedTaskList = &xDelayedTaskList2;
}

static void prvResetNextTaskUnblockTime(void)
{
    if (listLIST_IS_EMPTY(pxDelayedTaskList) != pdFALSE) {
        xNextTaskUnblockTime = portMAX_DELAY;
    } else {
        xNextTaskUnblockTime = listGET_ITEM_VALUE_OF_HEAD_ENTRY(pxDelayedTaskList);
    }
}

static void prvInitialiseNewTask(TaskFunction_t pxTaskCode, const char *const pcName,
                                 const uint32_t ulStackDepth, void *const pvParameters,
                                 UBaseType_t uxPriority, TCB_t *pxNewTCB)
{
    StackType_t *pxTopOfStack;

    /* tskSET_NEW_STACKS_TO_KNOWN_VALUE: the high-water mark counts these bytes. */
    memset(pxNewTCB->pxStack, (int)tskSTACK_FILL_BYTE, ulStackDepth * sizeof(StackType_t));
    pxTopOfStack = &(pxNewTCB->pxStack[ulStackDepth - 1U]);
    pxTopOfStack = (StackType_t *)((uintptr_t)pxTopOfStack & ~(uintptr_t)portBYTE_ALIGNMENT_MASK);
#if (configRECORD_STACK_HIGH_ADDRESS == 1)
    pxNewTCB->pxEndOfStack = pxTopOfStack;
#endif
    strncpy(pxNewTCB->pcTaskName, pcName, configMAX_TASK_NAME_LEN - 1);
    pxNewTCB->pcTaskName[configMAX_TASK_NAME_LEN - 1] = '\0';
    if (uxPriority >= (UBaseType_t)configMAX_PRIORITIES) {
        uxPriority = (UBaseType_t)configMAX_PRIORITIES - 1U;
    }
    pxNewTCB->uxPriority = uxPriority;
    pxNewTCB->uxBasePriority = uxPriority;
    vListInitialiseItem(&(pxNewTCB->xStateListItem));
    vListInitialiseItem(&(pxNewTCB->xEventListItem));
    listSET_LIST_ITEM_OWNER(&(pxNewTCB->xStateListItem), pxNewTCB);
    /* Event lists are sorted by priority: the value is inverted so the highest comes first. */
    listSET_LIST_ITEM_VALUE(&(pxNewTCB->xEventListItem),
                            (TickType_t)configMAX_PRIORITIES - (TickType_t)uxPriority);
    listSET_LIST_ITEM_OWNER(&(pxNewTCB->xEventListItem), pxNewTCB);
    pxNewTCB->pxTopOfStack = pxPortInitialiseStack(pxTopOfStack, pxTaskCode, pvParameters);
}

static void prvAddNewTaskToReadyList(TCB_t *pxNewTCB)
{
    taskENTER_CRITICAL();
    uxCurrentNumberOfTasks++;
    if (pxCurrentTCB == NULL) {
        pxCurrentTCB = pxNewTCB;
        if (uxCurrentNumberOfTasks == (UBaseType_t)1) {
            prvInitialiseTaskLists();
        }
    } else if (xSchedulerRunning == pdFALSE && pxCurrentTCB->uxPriority <= pxNewTCB->uxPriority) {
        pxCurrentTCB = pxNewTCB;
    }
    uxTaskNumber++;
    pxNewTCB->uxTCBNumber = uxTaskNumber;
    prvAddTaskToReadyList(pxNewTCB);
    taskEXIT_CRITICAL();
    if (xSchedulerRunning != pdFALSE && pxCurrentTCB->uxPriority < pxNewTCB->uxPriority) {
        taskYIELD();
    }
}

TaskHandle_t xTaskCreateStatic(TaskFunction_t pxTaskCode, const char *const pcName,
                               const uint32_t ulStackDepth, void *const pvParameters,
                               UBaseType_t uxPriority, StackType_t *const puxStackBuffer,
                               StaticTask_t *const pxTaskBuffer)
{
    TCB_t *pxNewTCB = (TCB_t *)pxTaskBuffer;

    memset(pxNewTCB, 0, sizeof(TCB_t));
    pxNewTCB->pxStack = puxStackBuffer;
    prvInitialiseNewTask(pxTaskCode, pcName, ulStackDepth, pvParameters, uxPriority, pxNewTCB);
    prvAddNewTaskToReadyList(pxNewTCB);
    return pxNewTCB;
}

/* Move the running task from its ready list to a delayed list, or to xSuspendedTaskList
 * when it waits forever. */
static void prvAddCurrentTaskToDelayedList(TickType_t xTicksToWait,
                                           const BaseType_t xCanBlockIndefinitely)
{
    const TickType_t xConstTickCount = xTickCount;

    (void)uxListRemove(&(pxCurrentTCB->xStateListItem));
    if (xTicksToWait == portMAX_DELAY && xCanBlockIndefinitely != pdFALSE) {
        vListInsertEnd(&xSuspendedTaskList, &(pxCurrentTCB->xStateListItem));
        return;
    }
    const TickType_t xTimeToWake = xConstTickCount + xTicksToWait;
    listSET_LIST_ITEM_VALUE(&(pxCurrentTCB->xStateListItem), xTimeToWake);
    if (xTimeToWake < xConstTickCount) {
        vListInsert(pxOverflowDelayedTaskList, &(pxCurrentTCB->xStateListItem));
    } else {
        vListInsert(pxDelayedTaskList, &(pxCurrentTCB->xStateListItem));
        if (xTimeToWake < xNextTaskUnblockTime) {
            xNextTaskUnblockTime = xTimeToWake;
        }
    }
}

void vTaskDelay(const TickType_t xTicksToDelay)
{
    if (xTicksToDelay > (TickType_t)0U) {
        taskENTER_CRITICAL();
        prvAddCurrentTaskToDelayedList(xTicksToDelay, pdFALSE);
        taskEXIT_CRITICAL();
    }
    portYIELD_WITHIN_API();
}

void vTaskSuspend(TaskHandle_t xTaskToSuspend)
{
    TCB_t *pxTCB = (xTaskToSuspend == NULL) ? pxCurrentTCB : xTaskToSuspend;

    taskENTER_CRITICAL();
    (void)uxListRemove(&(pxTCB->xStateListItem));
    if (listLIST_ITEM_CONTAINER(&(pxTCB->xEventListItem)) != NULL) {
        (void)uxListRemove(&(pxTCB->xEventListItem));
    }
    vListInsertEnd(&xSuspendedTaskList, &(pxTCB->xStateListItem));
    for (int x = 0; x < configTASK_NOTIFICATION_ARRAY_ENTRIES; x++) {
        if (pxTCB->ucNotifyState[x] == taskWAITING_NOTIFICATION) {
            pxTCB->ucNotifyState[x] = taskNOT_WAITING_NOTIFICATION;
        }
    }
    taskEXIT_CRITICAL();
    if (pxTCB == pxCurrentTCB) {
        portYIELD_WITHIN_API();
    }
}

/* A task that deletes itself waits in xTasksWaitingTermination for the idle task to free it;
 * statically allocated TCBs and stacks keep their contents. This replica's idle task never
 * cleans up, so a deleted task stays there. */
void vTaskDelete(TaskHandle_t xTaskToDelete)
{
    TCB_t *pxTCB = (xTaskToDelete == NULL) ? pxCurrentTCB : xTaskToDelete;

    taskENTER_CRITICAL();
    (void)uxListRemove(&(pxTCB->xStateListItem));
    if (listLIST_ITEM_CONTAINER(&(pxTCB->xEventListItem)) != NULL) {
        (void)uxListRemove(&(pxTCB->xEventListItem));
    }
    uxTaskNumber++;
    if (pxTCB == pxCurrentTCB) {
        vListInsertEnd(&xTasksWaitingTermination, &(pxTCB->xStateListItem));
        ++uxDeletedTasksWaitingCleanUp;
    } else {
        --uxCurrentNumberOfTasks;
        prvResetNextTaskUnblockTime();
    }
    taskEXIT_CRITICAL();
    if (pxTCB == pxCurrentTCB) {
        portYIELD_WITHIN_API();
    }
}

void vTaskSuspendAll(void)
{
    ++uxSchedulerSuspended;
    __asm volatile("" ::: "memory");
}

BaseType_t xTaskResumeAll(void)
{
    BaseType_t xAlreadyYielded = pdFALSE;

    taskENTER_CRITICAL();
    --uxSchedulerSuspended;
    if (uxSchedulerSuspended == (UBaseType_t)0U) {
        while (listLIST_IS_EMPTY(&xPendingReadyList) == pdFALSE) {
            TCB_t *pxTCB = listGET_OWNER_OF_HEAD_ENTRY((&xPendingReadyList));
            (void)uxListRemove(&(pxTCB->xEventListItem));
            (void)uxListRemove(&(pxTCB->xStateListItem));
            prvAddTaskToReadyList(pxTCB);
            if (pxTCB->uxPriority > pxCurrentTCB->uxPriority) {
                xYieldPending = pdTRUE;
            }
        }
        prvResetNextTaskUnblockTime();
        if (xYieldPending != pdFALSE) {
            xAlreadyYielded = pdTRUE;
            taskYIELD();
        }
    }
    taskEXIT_CRITICAL();
    return xAlreadyYielded;
}

TaskHandle_t xTaskGetCurrentTaskHandle(void)
{
    return pxCurrentTCB;
}

/* The rules debuggers reproduce (cortex-m-unwinding.md 4.1). */
eTaskState eTaskGetState(TaskHandle_t xTask)
{
    const TCB_t *const pxTCB = xTask;
    const List_t *pxStateList = listLIST_ITEM_CONTAINER(&(pxTCB->xStateListItem));
    const List_t *pxEventList = listLIST_ITEM_CONTAINER(&(pxTCB->xEventListItem));

    if (pxTCB == pxCurrentTCB) {
        return eRunning;
    }
    if (pxEventList == &xPendingReadyList) {
        return eReady;
    }
    if (pxStateList == pxDelayedTaskList || pxStateList == pxOverflowDelayedTaskList) {
        return eBlocked;
    }
    if (pxStateList == &xSuspendedTaskList) {
        if (pxEventList != NULL || pxTCB->ucNotifyState[0] == taskWAITING_NOTIFICATION) {
            return eBlocked;
        }
        return eSuspended;
    }
    if (pxStateList == &xTasksWaitingTermination || pxStateList == NULL) {
        return eDeleted;
    }
    return eReady;
}

void vTaskPlaceOnEventList(List_t *const pxEventList, const TickType_t xTicksToWait)
{
    vListInsert(pxEventList, &(pxCurrentTCB->xEventListItem));
    prvAddCurrentTaskToDelayedList(xTicksToWait, pdTRUE);
}

BaseType_t xTaskRemoveFromEventList(const List_t *const pxEventList)
{
    TCB_t *const pxUnblockedTCB = listGET_OWNER_OF_HEAD_ENTRY(pxEventList);

    (void)uxListRemove(&(pxUnblockedTCB->xEventListItem));
    if (uxSchedulerSuspended == (UBaseType_t)0U) {
        (void)uxListRemove(&(pxUnblockedTCB->xStateListItem));
        prvAddTaskToReadyList(pxUnblockedTCB);
    } else {
        /* The delayed and ready lists cannot be touched: xTaskResumeAll finishes the job. */
        vListInsertEnd(&xPendingReadyList, &(pxUnblockedTCB->xEventListItem));
    }
    if (pxUnblockedTCB->uxPriority > pxCurrentTCB->uxPriority) {
        xYieldPending = pdTRUE;
        return pdTRUE;
    }
    return pdFALSE;
}

uint32_t ulTaskNotifyTake(BaseType_t xClearCountOnExit, TickType_t xTicksToWait)
{
    uint32_t ulReturn;

    taskENTER_CRITICAL();
    if (pxCurrentTCB->ulNotifiedValue[0] == 0UL) {
        pxCurrentTCB->ucNotifyState[0] = taskWAITING_NOTIFICATION;
        if (xTicksToWait > (TickType_t)0) {
            prvAddCurrentTaskToDelayedList(xTicksToWait, pdTRUE);
            portYIELD_WITHIN_API(); /* taken when the critical section ends */
        }
    }
    taskEXIT_CRITICAL();
    taskENTER_CRITICAL();
    ulReturn = pxCurrentTCB->ulNotifiedValue[0];
    if (ulReturn != 0UL) {
        pxCurrentTCB->ulNotifiedValue[0] = xClearCountOnExit != pdFALSE ? 0UL : ulReturn - 1UL;
    }
    pxCurrentTCB->ucNotifyState[0] = taskNOT_WAITING_NOTIFICATION;
    taskEXIT_CRITICAL();
    return ulReturn;
}

BaseType_t xTaskNotifyGive(TaskHandle_t xTaskToNotify)
{
    TCB_t *const pxTCB = xTaskToNotify;
    BaseType_t xYield = pdFALSE;

    taskENTER_CRITICAL();
    const uint8_t ucOriginalNotifyState = pxTCB->ucNotifyState[0];
    pxTCB->ucNotifyState[0] = taskNOTIFICATION_RECEIVED;
    pxTCB->ulNotifiedValue[0]++;
    if (ucOriginalNotifyState == taskWAITING_NOTIFICATION) {
        (void)uxListRemove(&(pxTCB->xStateListItem));
        prvAddTaskToReadyList(pxTCB);
        xYield = pxTCB->uxPriority > pxCurrentTCB->uxPriority;
    }
    taskEXIT_CRITICAL();
    if (xYield != pdFALSE) {
        taskYIELD();
    }
    return pdPASS;
}

/* Ready every delayed task whose time has come; returns whether to switch context. */
static BaseType_t prvWakeDelayedTasks(const TickType_t xConstTickCount)
{
    BaseType_t xSwitchRequired = pdFALSE;

    for (;;) {
        if (listLIST_IS_EMPTY(pxDelayedTaskList) != pdFALSE) {
            xNextTaskUnblockTime = portMAX_DELAY;
            break;
        }
        TCB_t *pxTCB = listGET_OWNER_OF_HEAD_ENTRY(pxDelayedTaskList);
        const TickType_t xItemValue = listGET_LIST_ITEM_VALUE(&(pxTCB->xStateListItem));
        if (xConstTickCount < xItemValue) {
            xNextTaskUnblockTime = xItemValue;
            break;
        }
        (void)uxListRemove(&(pxTCB->xStateListItem));
        if (listLIST_ITEM_CONTAINER(&(pxTCB->xEventListItem)) != NULL) {
            (void)uxListRemove(&(pxTCB->xEventListItem));
        }
        prvAddTaskToReadyList(pxTCB);
        if (pxTCB->uxPriority > pxCurrentTCB->uxPriority) {
            xSwitchRequired = pdTRUE;
        }
    }
    return xSwitchRequired;
}

BaseType_t xTaskIncrementTick(void)
{
    BaseType_t xSwitchRequired = pdFALSE;

    if (uxSchedulerSuspended != (UBaseType_t)0U) {
        ++xPendedTicks;
        return pdFALSE;
    }
    const TickType_t xConstTickCount = xTickCount + (TickType_t)1;
    xTickCount = xConstTickCount;
    if (xConstTickCount == (TickType_t)0U) {
        List_t *pxTemp = pxDelayedTaskList;
        pxDelayedTaskList = pxOverflowDelayedTaskList;
        pxOverflowDelayedTaskList = pxTemp;
        xNumOfOverflows++;
        prvResetNextTaskUnblockTime();
    }
    if (xConstTickCount >= xNextTaskUnblockTime) {
        xSwitchRequired = prvWakeDelayedTasks(xConstTickCount);
    }
    /* Time slicing among tasks of the running task's priority. */
    if (listCURRENT_LIST_LENGTH(&(pxReadyTasksLists[pxCurrentTCB->uxPriority])) > 1U) {
        xSwitchRequired = pdTRUE;
    }
    if (xYieldPending != pdFALSE) {
        xSwitchRequired = pdTRUE;
    }
    return xSwitchRequired;
}

/* configCHECK_FOR_STACK_OVERFLOW 2 (stack_macros.h): the lowest 16 bytes must be intact. */
static void prvCheckForStackOverflow(void)
{
    static const uint8_t ucExpected[16] = {
        tskSTACK_FILL_BYTE, tskSTACK_FILL_BYTE, tskSTACK_FILL_BYTE, tskSTACK_FILL_BYTE,
        tskSTACK_FILL_BYTE, tskSTACK_FILL_BYTE, tskSTACK_FILL_BYTE, tskSTACK_FILL_BYTE,
        tskSTACK_FILL_BYTE, tskSTACK_FILL_BYTE, tskSTACK_FILL_BYTE, tskSTACK_FILL_BYTE,
        tskSTACK_FILL_BYTE, tskSTACK_FILL_BYTE, tskSTACK_FILL_BYTE, tskSTACK_FILL_BYTE,
    };

    if (pxCurrentTCB->pxTopOfStack <= pxCurrentTCB->pxStack ||
        memcmp(pxCurrentTCB->pxStack, ucExpected, sizeof(ucExpected)) != 0) {
        vApplicationStackOverflowHook(pxCurrentTCB, pxCurrentTCB->pcTaskName);
    }
}

void vTaskSwitchContext(void)
{
    if (uxSchedulerSuspended != (UBaseType_t)0U) {
        xYieldPending = pdTRUE;
        return;
    }
    xYieldPending = pdFALSE;
    prvCheckForStackOverflow();
    /* taskSELECT_HIGHEST_PRIORITY_TASK, the generic (not port-optimised) method. */
    UBaseType_t uxTopPriority = uxTopReadyPriority;
    while (listLIST_IS_EMPTY(&(pxReadyTasksLists[uxTopPriority])) != pdFALSE) {
        --uxTopPriority;
    }
    listGET_OWNER_OF_NEXT_ENTRY(pxCurrentTCB, &(pxReadyTasksLists[uxTopPriority]));
    uxTopReadyPriority = uxTopPriority;
}

static void prvIdleTask(void *pvParameters)
{
    (void)pvParameters;
    for (;;) {
        /* Deleted tasks are left in xTasksWaitingTermination (see vTaskDelete). */
        __asm volatile("wfi");
    }
}

void vTaskStartScheduler(void)
{
    StaticTask_t *pxIdleTaskTCBBuffer = NULL;
    StackType_t *pxIdleTaskStackBuffer = NULL;
    uint32_t ulIdleTaskStackSize;

    vApplicationGetIdleTaskMemory(&pxIdleTaskTCBBuffer, &pxIdleTaskStackBuffer,
                                  &ulIdleTaskStackSize);
    xIdleTaskHandle = xTaskCreateStatic(prvIdleTask, "IDLE", ulIdleTaskStackSize, NULL,
                                        tskIDLE_PRIORITY, pxIdleTaskStackBuffer,
                                        pxIdleTaskTCBBuffer);
    __asm volatile("cpsid i" ::: "memory");
    xNextTaskUnblockTime = portMAX_DELAY;
    xSchedulerRunning = pdTRUE;
    xTickCount = (TickType_t)0U;
    (void)xPortStartScheduler();
    for (;;) {
    }
}
