#include "cbor.h"

#include <string.h>

enum {
    MAJOR_UINT = 0,
    MAJOR_NINT = 1,
    MAJOR_BYTES = 2,
    MAJOR_TEXT = 3,
    MAJOR_ARRAY = 4,
    MAJOR_MAP = 5,
    SIMPLE_NULL = 0xF6,
};

void cbor_init(struct cbor *c, uint8_t *buf, size_t cap)
{
    c->buf = buf;
    c->cap = cap;
    c->len = 0;
    c->overflow = false;
}

void cbor_raw(struct cbor *c, const void *data, size_t len)
{
    if (c->overflow || c->cap - c->len < len) {
        c->overflow = true;
        return;
    }
    memcpy(c->buf + c->len, data, len);
    c->len += len;
}

/* RFC 8949 3.1: the argument in the initial byte below 24, else in 1, 2, 4 or 8 bytes. */
static void head(struct cbor *c, uint8_t major, uint64_t value)
{
    uint8_t out[9];
    size_t width = value < 24 ? 0 : value <= 0xFF ? 1 : value <= 0xFFFF ? 2
                               : value <= 0xFFFFFFFFu ? 4 : 8;
    static const uint8_t info[9] = {0, 24, 25, 0, 26, 0, 0, 0, 27};

    out[0] = (uint8_t)((major << 5) | (width ? info[width] : (uint8_t)value));
    for (size_t i = 0; i < width; i++) {
        out[1 + i] = (uint8_t)(value >> (8 * (width - 1 - i)));
    }
    cbor_raw(c, out, 1 + width);
}

void cbor_uint(struct cbor *c, uint64_t value)
{
    head(c, MAJOR_UINT, value);
}

void cbor_int(struct cbor *c, int64_t value)
{
    if (value >= 0) {
        head(c, MAJOR_UINT, (uint64_t)value);
    } else {
        head(c, MAJOR_NINT, (uint64_t)(-1 - value));
    }
}

void cbor_text(struct cbor *c, const char *text)
{
    size_t len = strlen(text);
    head(c, MAJOR_TEXT, len);
    cbor_raw(c, text, len);
}

void cbor_bytes(struct cbor *c, const void *data, size_t len)
{
    head(c, MAJOR_BYTES, len);
    cbor_raw(c, data, len);
}

void cbor_null(struct cbor *c)
{
    uint8_t null = SIMPLE_NULL;
    cbor_raw(c, &null, 1);
}

void cbor_map(struct cbor *c, size_t pairs)
{
    head(c, MAJOR_MAP, pairs);
}

void cbor_array(struct cbor *c, size_t items)
{
    head(c, MAJOR_ARRAY, items);
}
