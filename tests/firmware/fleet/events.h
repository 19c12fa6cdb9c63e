/*
 * The CBOR event envelope (memfault-formats.md 2.4): integer keys in the SDK's order --
 * type, schema version, software type, software version, hardware version, the first 6
 * bytes of the build id, the capture time -- then key 4, the body, which the caller
 * writes. One event per message (no batching, the SDK's default).
 */
#ifndef FLEET_EVENTS_H
#define FLEET_EVENTS_H

#include <stdint.h>

#include "cbor.h"
#include "packetizer.h"

enum fleet_event_type {
    FLEET_EVENT_HEARTBEAT = 1,
    FLEET_EVENT_TRACE = 2,
    FLEET_EVENT_LOGS = 4,
    FLEET_EVENT_CDR = 5,
    FLEET_EVENT_LOGS_TIMESTAMPED = 6,
};

#define FLEET_BUILD_ID_SHORT_LEN 6u

struct cbor *event_begin(enum fleet_event_type type);
void event_send(enum fleet_message_type message_type);
const uint8_t *fleet_build_id(void); /* the 20-byte GNU build id */
void expect_envelope(void);          /* the envelope's fields in the current EXPECT line */

#endif
