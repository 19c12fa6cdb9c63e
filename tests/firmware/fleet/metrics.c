#include "metrics.h"

#include <stdbool.h>

#include "events.h"
#include "expect.h"
#include "fleet.h"
#include "reboot.h"

/* The SDK's MEMFAULT_METRICS_KEY_DEFINE_WITH_RANGE / _WITH_SCALE_VALUE rows: min and
 * range (max - min) as 32-bit words, so a negative min is stored two's complement. */
#define FLEET_KEY(session, key_, kind, min_, max_, scale)                                  \
    {.key = {kMfltMetricsIndex_##session##__##key_},                                      \
     .type = kMemfaultMetricType_##kind,                                                  \
     .min = (uint32_t)(min_),                                                             \
     .range = (uint32_t)((max_) - (min_)),                                                \
     .session_key = kMfltMetricsSessionKey_##session,                                     \
     .scale_value = (scale)},
static const sMemfaultMetricKVPair s_memfault_heartbeat_keys[] = {
#include "metrics.def"
};
#undef FLEET_KEY

#define METRIC_COUNT (sizeof(s_memfault_heartbeat_keys) / sizeof(s_memfault_heartbeat_keys[0]))

#define FLEET_KEY(session, key, type, min, max, scale) #key,
static const char *const s_key_names[] = {
#include "metrics.def"
};
#undef FLEET_KEY

#define FLEET_SESSION(name) #name,
static const char *const s_session_names[] = {
#include "sessions.def"
};
#undef FLEET_SESSION

struct value {
    bool set;
    union {
        uint32_t u;
        int32_t i;
        const char *s;
    } v;
};

static struct value s_values[METRIC_COUNT];
static uint32_t s_session_start_ms[kMfltMetricsSessionKey_COUNT];

void metric_set_unsigned(eMfltMetricsIndex key, uint32_t value)
{
    s_values[key] = (struct value){.set = true, .v.u = value};
}

void metric_add(eMfltMetricsIndex key, uint32_t delta)
{
    metric_set_unsigned(key, (s_values[key].set ? s_values[key].v.u : 0u) + delta);
}

void metric_set_signed(eMfltMetricsIndex key, int32_t value)
{
    s_values[key] = (struct value){.set = true, .v.i = value};
}

void metric_set_string(eMfltMetricsIndex key, const char *value)
{
    s_values[key] = (struct value){.set = true, .v.s = value};
}

void metric_timer_add(eMfltMetricsIndex key, uint32_t ms)
{
    metric_add(key, ms);
}

/* 2.5.1: integers, text, or null for a value never set; a timer always has its ms. */
static void value_write(struct cbor *c, size_t key)
{
    const struct value *value = &s_values[key];
    const char *name = s_key_names[key];
    eMemfaultMetricType type = s_memfault_heartbeat_keys[key].type;

    if (type == kMemfaultMetricType_Timer) {
        cbor_uint(c, value->set ? value->v.u : 0u);
        expect_uint(name, value->set ? value->v.u : 0u);
    } else if (!value->set) {
        cbor_null(c);
        expect_null(name);
    } else if (type == kMemfaultMetricType_Unsigned) {
        cbor_uint(c, value->v.u);
        expect_uint(name, value->v.u);
    } else if (type == kMemfaultMetricType_Signed) {
        cbor_int(c, value->v.i);
        expect_int(name, value->v.i);
    } else {
        cbor_text(c, value->v.s);
        expect_str(name, value->v.s);
    }
}

/* One session's event: {2: session index, 1: [its values in key-table order]}. */
static void session_serialize(eMfltMetricsSessionIndex session)
{
    size_t count = 0;
    for (size_t key = 0; key < METRIC_COUNT; key++) {
        count += s_memfault_heartbeat_keys[key].session_key == session;
    }
    struct cbor *c = event_begin(FLEET_EVENT_HEARTBEAT);
    cbor_map(c, 2);
    cbor_uint(c, 2);
    cbor_uint(c, session);
    cbor_uint(c, 1);
    cbor_array(c, count);
    expect_begin("heartbeat");
    expect_envelope();
    expect_str("session", s_session_names[session]);
    expect_uint("session_index", session);
    expect_object("values");
    for (size_t key = 0; key < METRIC_COUNT; key++) {
        if (s_memfault_heartbeat_keys[key].session_key == session) {
            value_write(c, key);
            s_values[key].set = false;
        }
    }
    expect_close();
    expect_end();
    event_send(FLEET_MESSAGE_EVENT);
}

static eMfltMetricsIndex interval_key(eMfltMetricsSessionIndex session)
{
    return session == kMfltMetricsSessionKey_cli ? METRIC(cli, MemfaultSdkMetric_IntervalMs)
                                                 : METRIC(heartbeat, MemfaultSdkMetric_IntervalMs);
}

/*
 * After an unexpected reboot (the SDK's reboot tracking):
 * 1. the first heartbeat counts it in MemfaultSdkMetric_UnexpectedRebootCount;
 * 2. every session that was running when the device crashed is sent now, with its time
 *    up to the crash and operational_crashes = 1.
 */
void metrics_boot(void)
{
    uint32_t now = (uint32_t)g_reboot_state.clock_ms;

    if (reboot_last_unexpected()) {
        metric_set_unsigned(METRIC(heartbeat, MemfaultSdkMetric_UnexpectedRebootCount), 1);
    }
    for (unsigned session = 0; session < kMfltMetricsSessionKey_COUNT; session++) {
        if (!(g_reboot_state.active_sessions & (1u << session))) {
            continue;
        }
        metric_timer_add(interval_key(session), now - g_reboot_state.session_started_ms[session]);
        if (reboot_last_unexpected() && session == kMfltMetricsSessionKey_cli) {
            metric_set_unsigned(METRIC(cli, operational_crashes), 1);
        }
        session_serialize(session);
    }
    g_reboot_state.active_sessions = 0;
}

void metrics_session_start(eMfltMetricsSessionIndex session)
{
    s_session_start_ms[session] = fleet_uptime_ms();
    g_reboot_state.active_sessions |= 1u << session;
    g_reboot_state.session_started_ms[session] = (uint32_t)g_reboot_state.clock_ms;
}

void metrics_session_end(eMfltMetricsSessionIndex session)
{
    metric_timer_add(interval_key(session), fleet_uptime_ms() - s_session_start_ms[session]);
    metric_set_unsigned(METRIC(cli, operational_crashes), 0);
    g_reboot_state.active_sessions &= ~(1u << session);
    session_serialize(session);
}

/* Whole hours of operation (and of operation since the last crash) completed in this
 * interval; the remainder carries over, across reboots too (it is in .noinit). */
static uint32_t whole_hours(uint32_t *ms)
{
    uint32_t hours = *ms / FLEET_HOUR_MS;
    *ms -= hours * FLEET_HOUR_MS;
    return hours;
}

void metrics_heartbeat(void)
{
    static uint32_t s_interval_start_ms;
    uint32_t now = fleet_uptime_ms();

    metric_timer_add(METRIC(heartbeat, MemfaultSdkMetric_IntervalMs), now - s_interval_start_ms);
    metric_set_unsigned(METRIC(heartbeat, operational_hours),
                        whole_hours(&g_reboot_state.operational_ms));
    metric_set_unsigned(METRIC(heartbeat, operational_crashfree_hours),
                        whole_hours(&g_reboot_state.crashfree_ms));
    metric_set_unsigned(METRIC(heartbeat, uptime_s), now / 1000u);
    session_serialize(kMfltMetricsSessionKey_heartbeat);
    s_interval_start_ms = now;
}
