/*
 * The CBOR the SDK writes (memfault-formats.md 2.4; RFC 8949): definite-length maps and
 * arrays, unsigned and negative integers in their shortest form, text and byte strings,
 * null. Written into a caller's buffer; `overflow` is set instead of writing past it.
 */
#ifndef FLEET_CBOR_H
#define FLEET_CBOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cbor {
    uint8_t *buf;
    size_t cap;
    size_t len;
    bool overflow;
};

void cbor_init(struct cbor *c, uint8_t *buf, size_t cap);
void cbor_uint(struct cbor *c, uint64_t value);
void cbor_int(struct cbor *c, int64_t value);
void cbor_text(struct cbor *c, const char *text);
void cbor_bytes(struct cbor *c, const void *data, size_t len);
void cbor_null(struct cbor *c);
void cbor_map(struct cbor *c, size_t pairs);
void cbor_array(struct cbor *c, size_t items);
void cbor_raw(struct cbor *c, const void *data, size_t len);

#endif
