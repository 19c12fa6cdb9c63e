#include "log.h"

#include <stdarg.h>
#include <string.h>

#include "events.h"
#include "expect.h"
#include "fleet.h"
#include "metrics.h"

#define LOG_CAPACITY 12
#define COMPACT_MAX 64
#define LOG_FMT_MAGIC 0x66474f4cu /* "LOGf", little-endian */

/* The first bytes of `log_fmt` (memfault-elf-metadata.md): magic "LOGf", version 1. */
struct log_fmt_header {
    uint32_t magic;
    uint32_t version;
};
__attribute__((section(".log_fmt_hdr"), used))
const struct log_fmt_header g_memfault_log_fmt_elf_section_hdr = {LOG_FMT_MAGIC, 1};

struct log_entry {
    uint8_t level;
    bool compact;
    uint8_t len; /* of the compact CBOR in data */
    uint32_t time;
    uint32_t format_id;
    uint8_t data[COMPACT_MAX];
    char text[FLEET_LOG_TEXT_MAX];
    const struct log_site *site;
};

static struct log_entry s_logs[LOG_CAPACITY];
static unsigned s_count;

struct log_arg log_arg_int32(int32_t value)
{
    return (struct log_arg){.kind = LOG_ARG_INT32, .v.i = value};
}

struct log_arg log_arg_int64(int64_t value)
{
    return (struct log_arg){.kind = LOG_ARG_INT64, .v.l = value};
}

struct log_arg log_arg_string(const char *value)
{
    return (struct log_arg){.kind = LOG_ARG_STRING, .v.s = value};
}

/* The entry's offset in `log_fmt`; the section is never loaded, only its addresses used. */
uint32_t log_fmt_id(const char *entry)
{
    return (uint32_t)((uintptr_t)entry - (uintptr_t)&g_memfault_log_fmt_elf_section_hdr);
}

/* 32-bit arguments go as signed CBOR integers whatever their C type (so 0xdeadbeef for a
 * %lx is -559038737 on the wire); the format says how to show them. */
void log_compact_encode(struct cbor *c, const struct compact_log *log)
{
    cbor_array(c, 1u + log->site->nargs);
    cbor_uint(c, log->id);
    for (unsigned i = 0; i < log->site->nargs; i++) {
        const struct log_arg *arg = &log->args[i];
        if (arg->kind == LOG_ARG_STRING) {
            cbor_text(c, arg->v.s);
        } else if (arg->kind == LOG_ARG_INT64) {
            cbor_int(c, arg->v.l);
        } else {
            cbor_int(c, arg->v.i);
        }
    }
}

void log_compact_expect(const char *name, const struct compact_log *log)
{
    expect_object(name);
    expect_uint("format_id", log->id);
    expect_str("format", log->site->format);
    expect_str("file", log->site->file);
    expect_uint("line", log->site->line);
    expect_uint("nargs", log->site->nargs);
    expect_str("text", log->text);
    expect_close();
}

static struct log_entry *log_slot(enum fleet_log_level level)
{
    metric_add(METRIC(heartbeat, MemfaultSDKMetric_log_recorded_lines), 1);
    if (s_count == LOG_CAPACITY) {
        metric_add(METRIC(heartbeat, MemfaultSDKMetric_log_dropped_lines), 1);
        return NULL;
    }
    struct log_entry *entry = &s_logs[s_count++];
    memset(entry, 0, sizeof(*entry));
    entry->level = (uint8_t)level;
    entry->time = fleet_time_now();
    return entry;
}

void log_compact(enum fleet_log_level level, const struct compact_log *log)
{
    struct log_entry *entry = log_slot(level);
    struct cbor c;
    if (entry == NULL) {
        return;
    }
    cbor_init(&c, entry->data, sizeof(entry->data));
    log_compact_encode(&c, log);
    entry->compact = true;
    entry->len = (uint8_t)c.len;
    entry->format_id = log->id;
    entry->site = log->site;
    strncpy(entry->text, log->text, sizeof(entry->text) - 1);
}

void fleet_log_preformatted(enum fleet_log_level level, const char *format, ...)
{
    struct log_entry *entry = log_slot(level);
    va_list args;
    if (entry == NULL) {
        return;
    }
    va_start(args, format);
    vsnprintf(entry->text, sizeof(entry->text), format, args);
    va_end(args);
}

static void line_expect(const struct log_entry *entry, bool timestamped)
{
    expect_object(NULL);
    if (timestamped) {
        expect_uint("time", entry->time);
    }
    expect_uint("level", entry->level);
    expect_str("kind", entry->compact ? "compact" : "preformatted");
    if (entry->compact) {
        expect_uint("format_id", entry->format_id);
        expect_str("format", entry->site->format);
        expect_str("file", entry->site->file);
        expect_uint("line", entry->site->line);
    }
    expect_str("text", entry->text);
    expect_close();
}

/* 2.5.4: [level, msg, ...] (type 4) or [time, level, msg, ...] (type 6); msg is text for
 * a preformatted line and a byte string holding the CBOR array for a compact one. */
void log_flush(bool timestamped)
{
    struct cbor *c = event_begin(timestamped ? FLEET_EVENT_LOGS_TIMESTAMPED : FLEET_EVENT_LOGS);
    cbor_array(c, s_count * (timestamped ? 3u : 2u));
    expect_begin("logs");
    expect_envelope();
    expect_list("lines");
    for (unsigned i = 0; i < s_count; i++) {
        const struct log_entry *entry = &s_logs[i];
        if (timestamped) {
            cbor_uint(c, entry->time);
        }
        cbor_uint(c, entry->level);
        if (entry->compact) {
            cbor_bytes(c, entry->data, entry->len);
        } else {
            cbor_text(c, entry->text);
        }
        line_expect(entry, timestamped);
    }
    expect_close();
    expect_end();
    event_send(FLEET_MESSAGE_LOG);
    s_count = 0;
}
