/*
 * The application of the Zephyr variant: the kernel's main and idle threads plus five static
 * threads, each in a different state when "main" crashes (tests/firmware/README.md,
 * "RTOS variants"). Lower numbers are higher priorities.
 *
 *   main     prio 5   running: runs the scenario (crashes)
 *   worker   prio 5   ready (queued): busy, time-sliced with "main"
 *   idle     prio 15  ready (queued)
 *   sensor   prio 2   sleeping (k_msleep); on the FPU build a float is live across the sleep,
 *                     so s16-s31 are in arch.preempt_float and the frame is extended
 *   comms    prio 3   pending forever on s_comms_sem
 *   rx       prio 3   pending on s_rx_sem with a timeout
 *   logger   prio 4   suspended (k_thread_suspend of itself)
 *
 * The fault handler also writes Zephyr's own coredump in two layouts (debug_coredump.c).
 */
#include "board.h"
#include "fault.h"
#include "kernel_structs.h"
#include "rtos_board.h"
#include "uart.h"

/* g_scenario of the Zephyr replica only (rtos_board.h has the shared ones): k_oops(). */
#define RTOS_SCENARIO_OOPS 3u

#define SENSOR_PERIOD_MS 50000
#define RX_TIMEOUT_MS 30000
#define MAIN_SETTLE_MS 2

/* K_THREAD_DEFINE's objects: _k_thread_obj_<name> and _k_thread_stack_<name>. */
#define THREAD_DEFINE(name, stack_size)                                    \
    struct k_thread _k_thread_obj_##name;                                  \
    static K_THREAD_STACK_DEFINE(_k_thread_stack_##name, stack_size)

THREAD_DEFINE(worker, 512);
THREAD_DEFINE(sensor, 768);
THREAD_DEFINE(comms, 512);
THREAD_DEFINE(rx, 512);
THREAD_DEFINE(logger, 512);

struct sensor_state {
    float average;
    uint32_t samples;
};

struct storage_record {
    uint32_t sequence;
    uint32_t value;
};

static struct k_sem s_comms_sem;
static struct k_sem s_rx_sem;
static struct sensor_state s_sensor;
static volatile uint32_t s_worker_checksum;
static volatile uint32_t s_rx_packets;
static volatile uint32_t s_comms_events;
static struct storage_record *volatile s_storage_slot; /* NULL: the scenarios' fault */

static uint32_t __attribute__((noinline)) checksum_step(uint32_t sum, uint32_t word)
{
    return (sum << 5) + sum + word;
}

static void worker_thread(void *p1, void *p2, void *p3)
{
    (void)p1;
    (void)p2;
    (void)p3;
    uint32_t sum = 5381u;

    for (uint32_t word = 0;; word++) {
        sum = checksum_step(sum, word);
        s_worker_checksum = sum;
    }
}

static float __attribute__((noinline)) sensor_read_celsius(uint32_t channel)
{
    return 20.0f + (float)channel * 0.25f;
}

static void __attribute__((noinline)) sensor_wait_period(int32_t ms)
{
    k_msleep(ms);
}

static void sensor_thread(void *p1, void *p2, void *p3)
{
    struct sensor_state *state = p1;
    const float smoothing = 0.125f;
    float average = 0.0f;

    (void)p2;
    (void)p3;
    for (;;) {
        float sample = sensor_read_celsius(state->samples & 3u);
        average += (sample - average) * smoothing;
        sensor_wait_period(SENSOR_PERIOD_MS);
        state->average = average;
        state->samples++;
    }
}

static int __attribute__((noinline)) comms_wait_event(void)
{
    return k_sem_take(&s_comms_sem, K_FOREVER);
}

static void comms_thread(void *p1, void *p2, void *p3)
{
    (void)p1;
    (void)p2;
    (void)p3;
    for (;;) {
        if (comms_wait_event() == 0) {
            s_comms_events++;
        }
    }
}

static void __attribute__((noinline)) rx_poll(void)
{
    if (k_sem_take(&s_rx_sem, K_MSEC(RX_TIMEOUT_MS)) == 0) {
        s_rx_packets++;
    }
}

static void rx_thread(void *p1, void *p2, void *p3)
{
    (void)p1;
    (void)p2;
    (void)p3;
    for (;;) {
        rx_poll();
    }
}

static void __attribute__((noinline)) log_park(void)
{
    k_thread_suspend(k_current_get());
}

static void logger_thread(void *p1, void *p2, void *p3)
{
    (void)p1;
    (void)p2;
    (void)p3;
    uart_puts("logger: up\n");
    for (;;) {
        log_park();
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

/* The oops scenario: a check that gives up the way Zephyr code does, with k_oops(). */
static void __attribute__((noinline)) storage_check(const struct storage_record *slot)
{
    if (slot == NULL) {
        k_oops();
    }
}

static void __attribute__((noinline)) app_run_scenario(uint32_t scenario)
{
    if (scenario == RTOS_SCENARIO_ISR_FAULT) {
        g_isr_fault_armed = 1u;
        rtos_pend_scenario_irq();
    } else if (scenario == RTOS_SCENARIO_OOPS) {
        storage_check(s_storage_slot);
    } else {
        storage_commit(s_storage_slot, 42u);
    }
}

static void app_main(void)
{
    uart_puts("main: waiting for the others\n");
    k_msleep(MAIN_SETTLE_MS);
    app_run_scenario(g_scenario);
    k_thread_suspend(k_current_get());
}

#define STATIC_THREAD(name, entry, arg, prio)                                            \
    do {                                                                                  \
        k_thread_create(&_k_thread_obj_##name, _k_thread_stack_##name,                    \
                        K_THREAD_STACK_SIZEOF(_k_thread_stack_##name), entry, arg, NULL,  \
                        NULL, prio, 0, K_NO_WAIT);                                        \
        k_thread_name_set(&_k_thread_obj_##name, #name);                                  \
    } while (0)

void z_init_static_threads(void);
void z_init_static_threads(void)
{
    k_sem_init(&s_comms_sem, 0, 1);
    k_sem_init(&s_rx_sem, 0, 1);
    STATIC_THREAD(worker, worker_thread, NULL, 5);
    STATIC_THREAD(sensor, sensor_thread, &s_sensor, 2);
    STATIC_THREAD(comms, comms_thread, NULL, 3);
    STATIC_THREAD(rx, rx_thread, NULL, 3);
    STATIC_THREAD(logger, logger_thread, NULL, 4);
}

int main(void)
{
    uart_init();
    uart_puts("dre-testfw zephyr " DRE_BOARD_NAME "\n");
    fault_init();
    rtos_mpu_init();
    z_cstart(app_main);
}
