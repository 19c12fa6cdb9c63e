#include "cdr.h"

#include "events.h"
#include "expect.h"

enum {
    KEY_DURATION_MS = 1,
    KEY_MIMETYPES = 2,
    KEY_REASON = 3,
    KEY_DATA = 4,
};

void cdr_send(uint32_t duration_ms, const char *mimetype, const char *reason,
              const char *data, size_t len)
{
    struct cbor *c = event_begin(FLEET_EVENT_CDR);
    cbor_map(c, 4);
    cbor_uint(c, KEY_DURATION_MS);
    cbor_uint(c, duration_ms);
    cbor_uint(c, KEY_MIMETYPES);
    cbor_array(c, 1);
    cbor_text(c, mimetype);
    cbor_uint(c, KEY_REASON);
    cbor_text(c, reason);
    cbor_uint(c, KEY_DATA);
    cbor_bytes(c, data, len);
    expect_begin("cdr");
    expect_envelope();
    expect_uint("duration_ms", duration_ms);
    expect_list("mimetypes");
    expect_str(NULL, mimetype);
    expect_close();
    expect_str("reason", reason);
    expect_str("data", data); /* text data only: the EXPECT line is JSON */
    expect_end();
    event_send(FLEET_MESSAGE_CDR);
}
