#include "packetizer.h"

#include <string.h>

#include "uart.h"

/* Chunk header (2.2): CFG 0b001 (CRC at the end) in INIT chunks, MD bit 6, CONT bit 7. */
#define CHUNK_INIT 0x08u
#define CHUNK_MORE 0x40u
#define CHUNK_CONT 0x80u
#define CRC_SIZE 2u
#define MESSAGE_MAX 1024u

/* CRC-16/XMODEM: polynomial 0x1021, initial 0, no reflection, no final XOR. */
uint16_t crc16_xmodem(uint16_t crc, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)(data[i] << 8);
        for (int bit = 0; bit < 8; bit++) {
            crc = (crc & 0x8000u) ? (uint16_t)((crc << 1) ^ 0x1021u) : (uint16_t)(crc << 1);
        }
    }
    return crc;
}

/* LEB128, 7 bits per byte, low group first. */
static size_t varint(uint8_t *out, uint32_t value)
{
    size_t n = 0;
    do {
        uint8_t byte = value & 0x7Fu;
        value >>= 7;
        out[n++] = value ? (uint8_t)(byte | 0x80u) : byte;
    } while (value);
    return n;
}

static void export_chunk(const uint8_t *chunk, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char line[4 + (FLEET_CHUNK_MAX + 2) / 3 * 4 + 3];
    size_t n = 0;

    memcpy(line, "MC:", 3);
    n = 3;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t group = (uint32_t)chunk[i] << 16;
        group |= i + 1 < len ? (uint32_t)chunk[i + 1] << 8 : 0;
        group |= i + 2 < len ? chunk[i + 2] : 0;
        line[n++] = alphabet[(group >> 18) & 0x3F];
        line[n++] = alphabet[(group >> 12) & 0x3F];
        line[n++] = i + 1 < len ? alphabet[(group >> 6) & 0x3F] : '=';
        line[n++] = i + 2 < len ? alphabet[group & 0x3F] : '=';
    }
    line[n++] = ':';
    line[n++] = '\n';
    line[n] = '\0';
    uart_puts(line);
}

/*
 * One message in chunks (2.2):
 * 1. if message + CRC fit one chunk: INIT with MD = 0, `08 | message | crc`;
 * 2. else an INIT with MD = 1 and the total length, then continuations with their offset;
 * 3. the CRC is never split: when it does not fit after the last message bytes, that
 *    chunk keeps MD = 1 and a last continuation carries only the CRC.
 */
static void send_chunks(const uint8_t *message, size_t len)
{
    uint8_t chunk[FLEET_CHUNK_MAX];
    uint16_t crc = crc16_xmodem(0, message, len);
    uint8_t crc_bytes[CRC_SIZE] = {(uint8_t)crc, (uint8_t)(crc >> 8)};

    if (1 + len + CRC_SIZE <= FLEET_CHUNK_MAX) {
        chunk[0] = CHUNK_INIT;
        memcpy(chunk + 1, message, len);
        memcpy(chunk + 1 + len, crc_bytes, CRC_SIZE);
        export_chunk(chunk, 1 + len + CRC_SIZE);
        return;
    }
    chunk[0] = CHUNK_INIT | CHUNK_MORE;
    size_t head = 1 + varint(chunk + 1, (uint32_t)len);
    size_t offset = FLEET_CHUNK_MAX - head;
    memcpy(chunk + head, message, offset);
    export_chunk(chunk, FLEET_CHUNK_MAX);
    for (;;) {
        head = 1 + varint(chunk + 1, (uint32_t)offset);
        size_t room = FLEET_CHUNK_MAX - head;
        size_t body = len - offset < room ? len - offset : room;
        int last = room - body >= CRC_SIZE;
        chunk[0] = last ? CHUNK_CONT : CHUNK_CONT | CHUNK_MORE;
        memcpy(chunk + head, message + offset, body);
        if (last) {
            memcpy(chunk + head + body, crc_bytes, CRC_SIZE);
        }
        export_chunk(chunk, head + body + (last ? CRC_SIZE : 0));
        offset += body;
        if (last) {
            return;
        }
    }
}

/* 2.1: the type byte (no project key, no RLE: the SDK encodes only coredumps) first. */
void packetizer_send(enum fleet_message_type type, const uint8_t *payload, size_t len)
{
    static uint8_t message[MESSAGE_MAX];

    if (len + 1 > sizeof(message)) {
        uart_puts("fleetfw: message too large, dropped\n");
        return;
    }
    message[0] = (uint8_t)type;
    memcpy(message + 1, payload, len);
    send_chunks(message, len + 1);
}
