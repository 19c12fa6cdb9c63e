/*
 * Custom data recordings (memfault-formats.md 2.5.5, SDK memfault_custom_data_recording.c):
 * message type 4, event type 5, EventInfo {1: duration ms, 2: [MIME types], 3: reason,
 * 4: the data as one byte string}.
 */
#ifndef FLEET_CDR_H
#define FLEET_CDR_H

#include <stddef.h>
#include <stdint.h>

void cdr_send(uint32_t duration_ms, const char *mimetype, const char *reason,
              const char *data, size_t len);

#endif
