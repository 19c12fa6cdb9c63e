#include "events.h"

#include "build_id.h"
#include "expect.h"
#include "fleet.h"
#include "uart.h"

#define EVENT_MAX 768u
#define NOTE_HEADER 12u /* namesz, descsz, type (ELF gABI "Note Section") */

enum {
    KEY_CAPTURED = 1,
    KEY_TYPE = 2,
    KEY_SCHEMA = 3,
    KEY_INFO = 4,
    KEY_HARDWARE_VERSION = 6,
    KEY_SOFTWARE_VERSION = 9,
    KEY_SOFTWARE_TYPE = 10,
    KEY_BUILD_ID = 11,
};

static uint8_t s_event[EVENT_MAX];
static struct cbor s_cbor;

const uint8_t *fleet_build_id(void)
{
    const uint8_t *note = g_memfault_build_id.storage;
    uint32_t namesz = (uint32_t)note[0] | (uint32_t)note[1] << 8;
    return note + NOTE_HEADER + ((namesz + 3u) & ~3u);
}

struct cbor *event_begin(enum fleet_event_type type)
{
    struct cbor *c = &s_cbor;
    cbor_init(c, s_event, sizeof(s_event));
    cbor_map(c, 8);
    cbor_uint(c, KEY_TYPE);
    cbor_uint(c, type);
    cbor_uint(c, KEY_SCHEMA);
    cbor_uint(c, 1);
    cbor_uint(c, KEY_SOFTWARE_TYPE);
    cbor_text(c, FLEET_SOFTWARE_TYPE);
    cbor_uint(c, KEY_SOFTWARE_VERSION);
    cbor_text(c, FLEET_SOFTWARE_VERSION);
    cbor_uint(c, KEY_HARDWARE_VERSION);
    cbor_text(c, DRE_BOARD_NAME);
    cbor_uint(c, KEY_BUILD_ID);
    cbor_bytes(c, fleet_build_id(), FLEET_BUILD_ID_SHORT_LEN);
    cbor_uint(c, KEY_CAPTURED);
    cbor_uint(c, fleet_time_now());
    cbor_uint(c, KEY_INFO);
    return c;
}

void event_send(enum fleet_message_type message_type)
{
    if (s_cbor.overflow) {
        uart_puts("fleetfw: event too large, dropped\n");
        return;
    }
    packetizer_send(message_type, s_event, s_cbor.len);
}

void expect_envelope(void)
{
    expect_uint("time", fleet_time_now());
    expect_str("software_type", FLEET_SOFTWARE_TYPE);
    expect_str("software_version", FLEET_SOFTWARE_VERSION);
    expect_str("hardware_version", DRE_BOARD_NAME);
}
