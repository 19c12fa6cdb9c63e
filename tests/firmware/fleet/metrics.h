/*
 * Heartbeat and session metrics laid out in the ELF exactly as the SDK lays them out
 * (memfault-elf-metadata.md, "Heartbeat and session metrics"; SDK ids_impl.h):
 * enum MfltMetricSessionIndex, enum MfltMetricsIndex and the .rodata table
 * s_memfault_heartbeat_keys of sMemfaultMetricKVPair. The serializer reads the table,
 * as the SDK's does, so the table is what decides the wire layout.
 */
#ifndef FLEET_METRICS_H
#define FLEET_METRICS_H

#include <stdint.h>

typedef enum MfltMetricSessionIndex {
#define FLEET_SESSION(name) kMfltMetricsSessionKey_##name,
#include "sessions.def"
#undef FLEET_SESSION
    kMfltMetricsSessionKey_COUNT
} eMfltMetricsSessionIndex;

typedef enum MfltMetricsIndex {
#define FLEET_KEY(session, key, type, min, max, scale) kMfltMetricsIndex_##session##__##key,
#include "metrics.def"
#undef FLEET_KEY
} eMfltMetricsIndex;

typedef enum {
    kMemfaultMetricType_Unsigned = 0,
    kMemfaultMetricType_Signed,
    kMemfaultMetricType_Timer,
    kMemfaultMetricType_String,
    kMemfaultMetricType_NumTypes
} eMemfaultMetricType;

typedef struct {
    int _impl;
} MemfaultMetricId;

typedef struct {
    MemfaultMetricId key;
    eMemfaultMetricType type;
    uint32_t min;
    uint32_t range;
    eMfltMetricsSessionIndex session_key;
    uint32_t scale_value;
} sMemfaultMetricKVPair;

#define METRIC(session, key) kMfltMetricsIndex_##session##__##key

void metric_set_unsigned(eMfltMetricsIndex key, uint32_t value);
void metric_add(eMfltMetricsIndex key, uint32_t delta);
void metric_set_signed(eMfltMetricsIndex key, int32_t value);
void metric_set_string(eMfltMetricsIndex key, const char *value);
void metric_timer_add(eMfltMetricsIndex key, uint32_t ms);

void metrics_boot(void);
void metrics_session_start(eMfltMetricsSessionIndex session);
void metrics_session_end(eMfltMetricsSessionIndex session);
/* End of a heartbeat interval: the SDK's reliability and uptime values, then serialize. */
void metrics_heartbeat(void);

#endif
