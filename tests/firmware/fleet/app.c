/*
 * A small sensor device, simulated minute by minute: it reads a sensor, talks to a
 * gateway over a link that sometimes drops, runs on a battery, and has a CLI. What it
 * does decides the metrics, trace events and logs; nothing is written to the wire here.
 */
#include "app.h"

#include <stdio.h>

#include "cdr.h"

#include "fleet.h"
#include "log.h"
#include "metrics.h"
#include "reboot.h"
#include "trace.h"

#define MINUTE_MS 60000u
#define SENSOR_BUSY_MS 45u
#define COMMS_BUSY_MS 4200u
#define BATTERY_MINUTES_PER_PCT 20u

static uint32_t s_busy_ms;
static uint32_t s_soc_drop_pct;
static uint32_t s_run_ms; /* since the last heartbeat */

static uint32_t minute_now(void)
{
    return (uint32_t)(g_reboot_state.clock_ms / MINUTE_MS);
}

static int32_t sensor_read_temperature(uint32_t minute)
{
    /* A cold start that warms up: -4 C at power-on, a degree more every 25 minutes. */
    return -4 + (int32_t)(minute / 25u);
}

static void sensor_poll(uint32_t minute)
{
    metric_add(METRIC(heartbeat, sensor_reads), 1);
    s_busy_ms += SENSOR_BUSY_MS;
    if (minute == 15) {
        FLEET_TRACE_EVENT(sensor_timeout);
    }
    metric_set_signed(METRIC(heartbeat, board_temperature_c), sensor_read_temperature(minute));
}

static void comms_receive(uint32_t minute)
{
    s_busy_ms += COMMS_BUSY_MS;
    if (minute == 40) {
        FLEET_TRACE_EVENT_WITH_STATUS(bad_packet, -5);
        metric_set_signed(METRIC(heartbeat, sensor_last_error), -5);
    }
    if (minute == 100) {
        uint32_t length = 517;
        FLEET_TRACE_EVENT_WITH_LOG(bad_packet, "packet of %lu bytes, crc 0x%04lx", length,
                                   (uint32_t)0xbeef);
    }
}

/* The link is down for minutes 50-52 and 230-233 of device time. */
static uint32_t link_connected_ms(uint32_t minute)
{
    int down = (minute >= 50 && minute < 53) || (minute >= 230 && minute < 234);
    if (minute == 53 || minute == 234) {
        FLEET_LOG_COMPACT(FLEET_LOG_WARNING, "link %s after %d min, rssi %ld dBm", "up",
                          minute == 53 ? 3 : 4, (int32_t)-71);
    }
    return down ? 0u : MINUTE_MS;
}

static void flash_write_block(uint32_t minute)
{
    if (minute == 75) {
        uint32_t block = 0xdeadbeef;
        FLEET_TRACE_EVENT_WITH_LOG(flash_retry, "block 0x%lx retry %d", block, 2);
        FLEET_LOG_COMPACT(FLEET_LOG_ERROR, "flash block 0x%lx: erase failed (%ld)", block,
                          (int32_t)-110);
    }
}

void app_run(uint32_t minutes)
{
    for (uint32_t i = 0; i < minutes; i++) {
        uint32_t minute = minute_now();
        sensor_poll(minute);
        comms_receive(minute);
        flash_write_block(minute);
        metric_timer_add(METRIC(heartbeat, connectivity_expected_time_ms), MINUTE_MS);
        metric_timer_add(METRIC(heartbeat, connectivity_connected_time_ms),
                         link_connected_ms(minute));
        metric_timer_add(METRIC(heartbeat, battery_discharge_duration_ms), MINUTE_MS);
        if (minute % BATTERY_MINUTES_PER_PCT == BATTERY_MINUTES_PER_PCT - 1) {
            s_soc_drop_pct++;
        }
        fleet_clock_advance(MINUTE_MS);
        s_run_ms += MINUTE_MS;
    }
}

/* Busy time over the interval, in hundredths of a percent (the key's scale is 100). */
void app_heartbeat_values(void)
{
    uint32_t soc = 100u - (uint32_t)(g_reboot_state.clock_ms / MINUTE_MS) / BATTERY_MINUTES_PER_PCT;

    metric_set_unsigned(METRIC(heartbeat, cpu_usage_pct),
                        (uint32_t)((uint64_t)s_busy_ms * 10000u / s_run_ms));
    metric_set_unsigned(METRIC(heartbeat, battery_soc_pct_drop), s_soc_drop_pct);
    metric_set_unsigned(METRIC(heartbeat, battery_soc_pct), soc);
    s_busy_ms = 0;
    s_soc_drop_pct = 0;
    s_run_ms = 0;
}

void app_cli_command(const char *name, uint32_t minutes, int32_t exit_code)
{
    metrics_session_start(kMfltMetricsSessionKey_cli);
    metric_set_string(METRIC(cli, cmd_name), name);
    fleet_log_preformatted(FLEET_LOG_INFO, "cli: %s", name);
    app_run(minutes);
    metric_set_signed(METRIC(cli, cmd_exit_code), exit_code);
    metrics_session_end(kMfltMetricsSessionKey_cli);
}

void app_record_temperatures(void)
{
    static char csv[256];
    uint32_t now = minute_now();
    int len = snprintf(csv, sizeof(csv), "minute,temperature_c\n");

    for (uint32_t minute = now - 60; minute < now; minute += 5) {
        len += snprintf(csv + len, sizeof(csv) - (size_t)len, "%lu,%ld\n", minute,
                        sensor_read_temperature(minute));
    }
    cdr_send(60u * MINUTE_MS, "text/csv", "temperature log", csv, (size_t)len);
}

/* The SDK's MEMFAULT_ASSERT in application code: a gain above 16 is a bug. */
__attribute__((noinline)) void config_apply(uint32_t gain)
{
    FLEET_LOG_COMPACT(FLEET_LOG_INFO, "applying gain %lu", gain);
    FLEET_ASSERT(gain <= 16u);
}

/* Divides by zero when no time passed: a UsageFault (DIVBYZERO, CCR.DIV_0_TRP set). */
__attribute__((noinline)) uint32_t calc_rate(uint32_t events, uint32_t seconds)
{
    return events / seconds;
}
