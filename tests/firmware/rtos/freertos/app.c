/*
 * The application of the FreeRTOS variant: nine tasks that end up in every state a debugger
 * must tell apart when "app" crashes (tests/firmware/README.md, "RTOS variants"):
 *
 *   app      prio 1  running: runs the scenario (crashes)
 *   worker   prio 1  ready: busy, preempted by the tick (time slicing with "app")
 *   IDLE     prio 0  ready
 *   rx       prio 2  ready, in xPendingReadyList: waited on s_rx_queue with a timeout and was
 *                    readied by "app" while the scheduler was suspended
 *   sensor   prio 3  blocked (delayed list); on the CM4F a float is live across the delay, so
 *                    it is switched out with an extended frame and s16-s31 saved
 *   comms    prio 3  blocked forever on a notification (xSuspendedTaskList, ucNotifyState)
 *   cmd      prio 2  blocked forever on s_cmd_queue (xSuspendedTaskList, xEventListItem)
 *   logger   prio 2  suspended (vTaskSuspend(NULL))
 *   oneshot  prio 4  deleted, not freed (xTasksWaitingTermination)
 */
#include "FreeRTOS.h"
#include "board.h"
#include "fault.h"
#include "rtos_board.h"
#include "task.h"
#include "uart.h"

#define APP_PRIORITY 1u
#define WORKER_PRIORITY 1u
#define RX_PRIORITY 2u
#define CMD_PRIORITY 2u
#define LOGGER_PRIORITY 2u
#define SENSOR_PRIORITY 3u
#define COMMS_PRIORITY 3u
#define ONESHOT_PRIORITY 4u

#define STACK_WORDS 128u
#define SENSOR_STACK_WORDS 192u
#define IDLE_STACK_WORDS 96u

/* Long enough that nothing wakes up while a scenario runs. */
#define SENSOR_PERIOD_TICKS 50000u
#define RX_TIMEOUT_TICKS 30000u
#define APP_SETTLE_TICKS 3u

#define TASK_MEMORY(name, words)         \
    static StackType_t name##_stack[words]; \
    static StaticTask_t name##_tcb

TASK_MEMORY(s_app, STACK_WORDS);
TASK_MEMORY(s_worker, STACK_WORDS);
TASK_MEMORY(s_rx, STACK_WORDS);
TASK_MEMORY(s_cmd, STACK_WORDS);
TASK_MEMORY(s_logger, STACK_WORDS);
TASK_MEMORY(s_sensor, SENSOR_STACK_WORDS);
TASK_MEMORY(s_comms, STACK_WORDS);
TASK_MEMORY(s_oneshot, STACK_WORDS);
TASK_MEMORY(s_idle, IDLE_STACK_WORDS);

/* A queue reduced to what blocking needs: the list of tasks waiting to receive. */
struct app_queue {
    List_t xTasksWaitingToReceive;
    volatile UBaseType_t uxMessagesWaiting;
};

struct sensor_state {
    float average;
    uint32_t samples;
};

struct storage_record {
    uint32_t sequence;
    uint32_t value;
};

static struct app_queue s_rx_queue;
static struct app_queue s_cmd_queue;
static struct sensor_state s_sensor;
static volatile uint32_t s_worker_checksum;
static volatile uint32_t s_boot_checks;
static volatile uint32_t s_rx_packets;
static volatile uint32_t s_commands;
static struct storage_record *volatile s_storage_slot; /* NULL: the scenarios' fault */

static void queue_init(struct app_queue *queue)
{
    vListInitialise(&queue->xTasksWaitingToReceive);
    queue->uxMessagesWaiting = 0;
}

static BaseType_t __attribute__((noinline)) queue_receive(struct app_queue *queue,
                                                          TickType_t ticks)
{
    BaseType_t received;

    taskENTER_CRITICAL();
    if (queue->uxMessagesWaiting == 0u) {
        vTaskPlaceOnEventList(&queue->xTasksWaitingToReceive, ticks);
        portYIELD_WITHIN_API(); /* taken when the critical section ends */
    }
    taskEXIT_CRITICAL();
    taskENTER_CRITICAL();
    received = queue->uxMessagesWaiting > 0u;
    if (received) {
        queue->uxMessagesWaiting--;
    }
    taskEXIT_CRITICAL();
    return received;
}

static void __attribute__((noinline)) queue_send(struct app_queue *queue)
{
    taskENTER_CRITICAL();
    queue->uxMessagesWaiting++;
    if (listLIST_IS_EMPTY(&queue->xTasksWaitingToReceive) == pdFALSE) {
        (void)xTaskRemoveFromEventList(&queue->xTasksWaitingToReceive);
    }
    taskEXIT_CRITICAL();
}

static uint32_t __attribute__((noinline)) selftest_run(uint32_t seed)
{
    return seed * 2654435761u;
}

static void oneshot_task(void *arg)
{
    (void)arg;
    s_boot_checks = selftest_run(7u);
    vTaskDelete(NULL);
}

static float __attribute__((noinline)) sensor_read_celsius(uint32_t channel)
{
    return 20.0f + (float)channel * 0.25f;
}

static void __attribute__((noinline)) sensor_wait_period(TickType_t ticks)
{
    vTaskDelay(ticks);
}

static void sensor_task(void *arg)
{
    struct sensor_state *state = arg;
    const float smoothing = 0.125f;
    float average = 0.0f;

    for (;;) {
        float sample = sensor_read_celsius(state->samples & 3u);
        average += (sample - average) * smoothing;
        sensor_wait_period(SENSOR_PERIOD_TICKS);
        state->average = average;
        state->samples++;
    }
}

static uint32_t __attribute__((noinline)) comms_wait_event(void)
{
    return ulTaskNotifyTake(pdTRUE, portMAX_DELAY);
}

static void comms_task(void *arg)
{
    (void)arg;
    for (;;) {
        (void)comms_wait_event();
    }
}

static void __attribute__((noinline)) rx_poll(void)
{
    if (queue_receive(&s_rx_queue, RX_TIMEOUT_TICKS) != pdFALSE) {
        s_rx_packets++;
    }
}

static void rx_task(void *arg)
{
    (void)arg;
    for (;;) {
        rx_poll();
    }
}

static void __attribute__((noinline)) cmd_next(void)
{
    if (queue_receive(&s_cmd_queue, portMAX_DELAY) != pdFALSE) {
        s_commands++;
    }
}

static void cmd_task(void *arg)
{
    (void)arg;
    for (;;) {
        cmd_next();
    }
}

static void __attribute__((noinline)) log_park(void)
{
    vTaskSuspend(NULL);
}

static void logger_task(void *arg)
{
    (void)arg;
    uart_puts("logger: up\n");
    for (;;) {
        log_park();
    }
}

static uint32_t __attribute__((noinline)) checksum_step(uint32_t sum, uint32_t word)
{
    return (sum << 5) + sum + word;
}

static void worker_task(void *arg)
{
    (void)arg;
    uint32_t sum = 5381u;

    for (uint32_t word = 0;; word++) {
        sum = checksum_step(sum, word);
        s_worker_checksum = sum;
    }
}

/* The scenarios' fault: a store through the NULL slot, inside the MPU's no-access region. */
static void __attribute__((noinline)) storage_commit(struct storage_record *slot, uint32_t value)
{
    slot->sequence++;
    slot->value = value;
}

void rtos_isr_hook(void)
{
    if (g_isr_fault_armed) {
        storage_commit(s_storage_slot, 0xD1u);
    }
}

/* task_fault: crash with the scheduler suspended, after readying "rx" (xPendingReadyList). */
static void __attribute__((noinline)) app_publish_and_commit(uint32_t value)
{
    vTaskSuspendAll();
    queue_send(&s_rx_queue);
    storage_commit(s_storage_slot, value);
    (void)xTaskResumeAll();
}

static void __attribute__((noinline)) app_run_scenario(uint32_t scenario)
{
    if (scenario == RTOS_SCENARIO_ISR_FAULT) {
        g_isr_fault_armed = 1u;
        rtos_pend_scenario_irq();
    } else {
        app_publish_and_commit(42u);
    }
}

static void app_task(void *arg)
{
    (void)arg;
    uart_puts("app: waiting for the others\n");
    vTaskDelay(APP_SETTLE_TICKS);
    app_run_scenario(g_scenario);
    vTaskSuspend(NULL);
}

void vApplicationGetIdleTaskMemory(StaticTask_t **ppxIdleTaskTCBBuffer,
                                   StackType_t **ppxIdleTaskStackBuffer,
                                   uint32_t *pulIdleTaskStackSize)
{
    *ppxIdleTaskTCBBuffer = &s_idle_tcb;
    *ppxIdleTaskStackBuffer = s_idle_stack;
    *pulIdleTaskStackSize = IDLE_STACK_WORDS;
}

void vApplicationStackOverflowHook(TaskHandle_t xTask, char *pcTaskName)
{
    (void)xTask;
    (void)pcTaskName;
    DRE_ASSERT(0);
}

#define CREATE(task, name, words, arg, priority) \
    xTaskCreateStatic(task, #name, words, arg, priority, s_##name##_stack, &s_##name##_tcb)

static void app_create_tasks(void)
{
    queue_init(&s_rx_queue);
    queue_init(&s_cmd_queue);
    CREATE(app_task, app, STACK_WORDS, NULL, APP_PRIORITY);
    CREATE(worker_task, worker, STACK_WORDS, NULL, WORKER_PRIORITY);
    CREATE(rx_task, rx, STACK_WORDS, NULL, RX_PRIORITY);
    CREATE(cmd_task, cmd, STACK_WORDS, NULL, CMD_PRIORITY);
    CREATE(logger_task, logger, STACK_WORDS, NULL, LOGGER_PRIORITY);
    CREATE(sensor_task, sensor, SENSOR_STACK_WORDS, &s_sensor, SENSOR_PRIORITY);
    CREATE(comms_task, comms, STACK_WORDS, NULL, COMMS_PRIORITY);
    CREATE(oneshot_task, oneshot, STACK_WORDS, NULL, ONESHOT_PRIORITY);
}

int main(void)
{
    uart_init();
    uart_puts("dre-testfw freertos " DRE_BOARD_NAME "\n");
    fault_init();
    app_create_tasks();
    rtos_mpu_init();
    vTaskStartScheduler();
}
