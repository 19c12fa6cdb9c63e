/*
 * The four threads. Apart from "main", which runs the selected scenario, each thread ends
 * up waiting a few calls deep (sleeping or blocked), so its saved context gives a backtrace
 * worth comparing. "sensor" keeps a float live across its sleep: on the M4F it is switched
 * out with an FPU-extended frame and s16-s31 in its save area.
 */
#include "app.h"

#include <stdint.h>

#include "scenarios.h"
#include "scheduler.h"
#include "uart.h"

#define PRIORITY_MAIN 1u
#define PRIORITY_SENSOR 2u
#define PRIORITY_COMMS 2u
#define PRIORITY_LOGGER 3u

/* Long enough that no sleeper wakes up while a scenario runs. */
#define LOGGER_FLUSH_TICKS 100000u
#define SENSOR_PERIOD_TICKS 50000u

#define COMMS_EVENT_RX (1u << 0)
#define MAIN_SETTLE_TICKS 2u

#define THREAD_STACK(name, bytes)                                                        \
    static uint32_t name[(bytes) / sizeof(uint32_t)]                                   \
        __attribute__((section(".thread_stacks"), aligned(DRE_STACK_GUARD_SIZE)))

THREAD_STACK(s_main_stack, 2048);
THREAD_STACK(s_sensor_stack, 1024);
THREAD_STACK(s_comms_stack, 1024);
THREAD_STACK(s_logger_stack, 1024);

struct log_buffer {
    const char *pending;
    uint32_t flushes;
};

struct sensor_state {
    float average;
    uint32_t samples;
};

struct comms_packet {
    uint8_t payload[16];
    uint32_t length;
};

static struct log_buffer s_log = {.pending = "logger: up\n"};
static struct sensor_state s_sensor;
static volatile uint32_t s_comms_events;

static void __attribute__((noinline)) log_wait_drain(struct log_buffer *log, uint32_t ticks)
{
    log->flushes++;
    scheduler_sleep(ticks);
}

static void __attribute__((noinline)) log_flush(struct log_buffer *log)
{
    if (log->pending != 0) {
        uart_puts(log->pending);
        log->pending = 0;
    }
    log_wait_drain(log, LOGGER_FLUSH_TICKS);
}

static void logger_thread(void *arg)
{
    struct log_buffer *log = arg;

    for (;;) {
        log_flush(log);
    }
}

static float __attribute__((noinline)) sensor_read_celsius(uint32_t channel)
{
    return 20.0f + (float)channel * 0.25f;
}

static void __attribute__((noinline)) sensor_wait_period(uint32_t ticks)
{
    scheduler_sleep(ticks);
}

static void sensor_thread(void *arg)
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

static uint32_t __attribute__((noinline)) comms_wait_event(uint32_t mask)
{
    while ((s_comms_events & mask) == 0u) {
        scheduler_block();
    }
    return s_comms_events & mask;
}

static uint32_t __attribute__((noinline)) comms_receive(struct comms_packet *packet)
{
    uint32_t events = comms_wait_event(COMMS_EVENT_RX);

    packet->length = events;
    return events;
}

static void comms_thread(void *arg)
{
    struct comms_packet packet = {.length = 0};

    (void)arg;
    for (;;) {
        comms_receive(&packet);
    }
}

/*
 * Lowest priority: runs once the others are waiting, so every scenario starts alike. The
 * short sleep lets SysTick wake it up and preempt the idle wait before the scenario runs.
 */
static void main_thread(void *arg)
{
    (void)arg;
    uart_puts("main: all threads waiting\n");
    scheduler_sleep(MAIN_SETTLE_TICKS);
    scenario_run(g_scenario);
    scheduler_block();
}

void app_create_threads(void)
{
    scheduler_create("main", main_thread, 0, s_main_stack, sizeof(s_main_stack),
                     PRIORITY_MAIN);
    scheduler_create("sensor", sensor_thread, &s_sensor, s_sensor_stack,
                     sizeof(s_sensor_stack), PRIORITY_SENSOR);
    scheduler_create("comms", comms_thread, 0, s_comms_stack, sizeof(s_comms_stack),
                     PRIORITY_COMMS);
    scheduler_create("logger", logger_thread, &s_log, s_logger_stack, sizeof(s_logger_stack),
                     PRIORITY_LOGGER);
}
