/*
 * null_write: storage_save looks up a record slot that is NULL and writes through it.
 * The store happens in two levels of static inline helpers, which -O2 inlines into
 * storage_write_record (an inline chain at the fault PC).
 */
#include "storage.h"

#include <stddef.h>

struct record {
    uint32_t header;
    uint32_t payload[4];
};

uint32_t g_records_written;

static struct record s_records[2];

/* Slot 1 is missing. Volatile, so the compiler cannot see the NULL and emit a trap. */
static struct record *volatile s_slot_table[4] = {&s_records[0], NULL, &s_records[1], NULL};

static volatile char s_last_tag[8];

static inline void record_word_store(uint32_t *word, uint32_t value)
{
    *word = value;
}

static inline void record_commit(struct record *record, uint32_t index, uint32_t value)
{
    record_word_store(&record->payload[index & 3u], value);
}

static void __attribute__((noinline)) storage_trace(const char *tag)
{
    for (size_t i = 0; i < sizeof(s_last_tag); i++) {
        s_last_tag[i] = tag[i];
    }
}

static void __attribute__((noinline))
storage_write_record(struct record *slot, const struct sensor_reading *reading,
                     enum record_kind kind)
{
    char tag[8] = "rec-";
    uint32_t word = ((uint32_t)(uint16_t)reading->raw << 8) | (uint32_t)kind;

    tag[4] = (char)('0' + reading->channel);
    storage_trace(tag);
    record_commit(slot, reading->channel, word);
    g_records_written++;
}

void storage_save(const struct sensor_reading *reading, uint32_t *counter)
{
    struct record *slot = s_slot_table[reading->sensor_id % 4u];
    enum record_kind kind = reading->raw < 0 ? RECORD_KIND_EVENT : RECORD_KIND_SAMPLE;

    storage_write_record(slot, reading, kind);
    (*counter)++;
}
