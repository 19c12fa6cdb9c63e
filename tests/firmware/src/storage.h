#ifndef DRE_STORAGE_H
#define DRE_STORAGE_H

#include <stdint.h>

enum record_kind {
    RECORD_KIND_NONE,
    RECORD_KIND_SAMPLE,
    RECORD_KIND_EVENT,
};

struct sensor_reading {
    uint32_t sensor_id;
    int16_t raw;
    uint8_t channel;
    float scale;
};

extern uint32_t g_records_written;

void storage_save(const struct sensor_reading *reading, uint32_t *counter);

#endif
