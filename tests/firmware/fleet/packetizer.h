/*
 * Getting data off the device as the SDK does (memfault-formats.md 2.1, 2.2): a message
 * (type byte + payload) is cut into chunks of at most FLEET_CHUNK_MAX bytes and each
 * chunk is exported on the console as `MC:<base64>:`, like memfault_data_export.
 */
#ifndef FLEET_PACKETIZER_H
#define FLEET_PACKETIZER_H

#include <stddef.h>
#include <stdint.h>

/* MEMFAULT_DATA_EXPORT_CHUNK_MAX_LEN, the SDK's default. */
#define FLEET_CHUNK_MAX 80u

enum fleet_message_type {
    FLEET_MESSAGE_COREDUMP = 1,
    FLEET_MESSAGE_EVENT = 2,
    FLEET_MESSAGE_LOG = 3,
    FLEET_MESSAGE_CDR = 4,
};

uint16_t crc16_xmodem(uint16_t crc, const uint8_t *data, size_t len);
void packetizer_send(enum fleet_message_type type, const uint8_t *payload, size_t len);

#endif
