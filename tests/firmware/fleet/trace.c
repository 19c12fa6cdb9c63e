#include "trace.h"

#include "events.h"
#include "expect.h"

enum {
    KEY_PC = 2,
    KEY_LR = 3,
    KEY_USER_REASON = 6,
    KEY_STATUS = 7,
    KEY_COMPACT_LOG = 9,
};

static const char *const s_reason_names[] = {
    "Unknown",
#define FLEET_TRACE_REASON(name) #name,
#include "trace_reasons.def"
#undef FLEET_TRACE_REASON
    "MemfaultCli_Test",
};

static void trace_expect(const struct trace_event *event)
{
    expect_begin("trace");
    expect_envelope();
    expect_str("reason", s_reason_names[event->reason]);
    expect_uint("reason_index", event->reason);
    expect_uint("pc", event->pc);
    expect_uint("lr", event->lr);
    expect_str("function", event->function);
    if (event->has_status) {
        expect_int("status_code", event->status);
    }
    if (event->log) {
        log_compact_expect("log", event->log);
    }
    expect_end();
}

void trace_event_send(const struct trace_event *event)
{
    struct cbor *c = event_begin(FLEET_EVENT_TRACE);
    cbor_map(c, 3u + event->has_status + (event->log != NULL));
    cbor_uint(c, KEY_USER_REASON);
    cbor_uint(c, event->reason);
    cbor_uint(c, KEY_PC);
    cbor_uint(c, event->pc);
    cbor_uint(c, KEY_LR);
    cbor_uint(c, event->lr);
    if (event->has_status) {
        cbor_uint(c, KEY_STATUS);
        cbor_int(c, event->status);
    }
    if (event->log) {
        cbor_uint(c, KEY_COMPACT_LOG);
        log_compact_encode(c, event->log);
    }
    trace_expect(event);
    event_send(FLEET_MESSAGE_EVENT);
}
