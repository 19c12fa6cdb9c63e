/*
 * User trace events (memfault-formats.md 2.5.3, SDK memfault_trace_event.c): the reason
 * from enum MfltTraceReasonUser (Unknown, the application's reasons, MemfaultCli_Test,
 * NumReasons, as trace_reason_user.h builds it), the PC of the call site and its LR,
 * optionally a status code or a compact log (key 9).
 */
#ifndef FLEET_TRACE_H
#define FLEET_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#include "log.h"
#include "reboot.h"

typedef enum MfltTraceReasonUser {
    kMfltTraceReasonUser_Unknown = 0,
#define FLEET_TRACE_REASON(name) kMfltTraceReasonUser_##name,
#include "trace_reasons.def"
#undef FLEET_TRACE_REASON
    kMfltTraceReasonUser_MemfaultCli_Test,
    kMfltTraceReasonUser_NumReasons,
} eMfltTraceReasonUser;

struct trace_event {
    eMfltTraceReasonUser reason;
    uint32_t pc;
    uint32_t lr;
    bool has_status;
    int32_t status;
    const struct compact_log *log;
    const char *function; /* for the EXPECT line only */
};

void trace_event_send(const struct trace_event *event);

#define FLEET_TRACE_EVENT(reason_)                                                         \
    trace_event_send(&(struct trace_event){.reason = kMfltTraceReasonUser_##reason_,      \
                                           .pc = FLEET_GET_PC(),                          \
                                           .lr = FLEET_GET_LR(),                          \
                                           .function = __func__})

#define FLEET_TRACE_EVENT_WITH_STATUS(reason_, status_)                                    \
    trace_event_send(&(struct trace_event){.reason = kMfltTraceReasonUser_##reason_,      \
                                           .pc = FLEET_GET_PC(),                          \
                                           .lr = FLEET_GET_LR(),                          \
                                           .has_status = true,                            \
                                           .status = (status_),                           \
                                           .function = __func__})

#define FLEET_TRACE_EVENT_WITH_LOG(reason_, fmt, ...)                                      \
    do {                                                                                   \
        FLEET_COMPACT_LOG_DECLARE(trace_log_, fmt, ##__VA_ARGS__);                         \
        trace_event_send(&(struct trace_event){.reason = kMfltTraceReasonUser_##reason_,  \
                                               .pc = FLEET_GET_PC(),                      \
                                               .lr = FLEET_GET_LR(),                      \
                                               .log = &trace_log_,                        \
                                               .function = __func__});                    \
    } while (0)

#endif
