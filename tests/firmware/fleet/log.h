/*
 * Logs as the SDK keeps and sends them (memfault-formats.md 2.5.4,
 * memfault-elf-metadata.md "Compact logs"):
 * - FLEET_LOG_COMPACT puts `<nargs>;<file>;<line>;<format>` into the non-loaded `log_fmt`
 *   section and stores only [format id, args...] as CBOR, the id being the entry's offset
 *   in the section (the SDK's MEMFAULT_COMPACT_LOG_SAVE);
 * - fleet_log_preformatted stores the formatted text (memfault_log_save_preformatted).
 * log_flush sends what was stored as one log message (type 3), event type 4 or, with
 * each line's time, 6. The console also gets the rendered text, as `EXPECT` lines.
 */
#ifndef FLEET_LOG_H
#define FLEET_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cbor.h"

enum fleet_log_level { /* eMemfaultPlatformLogLevel */
    FLEET_LOG_DEBUG = 0,
    FLEET_LOG_INFO = 1,
    FLEET_LOG_WARNING = 2,
    FLEET_LOG_ERROR = 3,
};

#define FLEET_LOG_TEXT_MAX 96

struct log_arg {
    uint8_t kind; /* LOG_ARG_INT32, LOG_ARG_INT64, LOG_ARG_STRING */
    union {
        int32_t i;
        int64_t l;
        const char *s;
    } v;
};

enum { LOG_ARG_INT32 = 1, LOG_ARG_INT64, LOG_ARG_STRING };

/* Where a compact log was written, kept in flash only for the EXPECT lines. */
struct log_site {
    const char *format;
    const char *file;
    uint16_t line;
    uint8_t nargs;
};

struct compact_log {
    const struct log_site *site;
    uint32_t id;
    const struct log_arg *args;
    const char *text;
};

struct log_arg log_arg_int32(int32_t value);
struct log_arg log_arg_int64(int64_t value);
struct log_arg log_arg_string(const char *value);
uint32_t log_fmt_id(const char *entry);
/* [format id, arg, ...] as the SDK's memfault_vlog_compact_serialize writes it. */
void log_compact_encode(struct cbor *c, const struct compact_log *log);
void log_compact_expect(const char *name, const struct compact_log *log);

void log_compact(enum fleet_log_level level, const struct compact_log *log);
void fleet_log_preformatted(enum fleet_log_level level, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
void log_flush(bool timestamped);

/* Every argument is promoted like printf's: 32-bit integers (signed or not, the format
 * says how to show them), 64-bit integers and strings. */
#define FLEET_LOG_ARG(x)                                                                   \
    _Generic((x), char *: log_arg_string, const char *: log_arg_string,                   \
             long long: log_arg_int64, unsigned long long: log_arg_int64,                 \
             default: log_arg_int32)(x)

#define FLEET_STR_(x) #x
#define FLEET_STR(x) FLEET_STR_(x)
#define FLEET_CAT_(a, b) a##b
#define FLEET_CAT(a, b) FLEET_CAT_(a, b)
#define FLEET_NARGS(...) FLEET_NARGS_(_, ##__VA_ARGS__, 6, 5, 4, 3, 2, 1, 0)
#define FLEET_NARGS_(_0, _1, _2, _3, _4, _5, _6, n, ...) n
#define FLEET_LOG_ARGS_0()
#define FLEET_LOG_ARGS_1(a) , FLEET_LOG_ARG(a)
#define FLEET_LOG_ARGS_2(a, b) FLEET_LOG_ARGS_1(a) FLEET_LOG_ARGS_1(b)
#define FLEET_LOG_ARGS_3(a, b, c) FLEET_LOG_ARGS_2(a, b) FLEET_LOG_ARGS_1(c)
#define FLEET_LOG_ARGS_4(a, b, c, d) FLEET_LOG_ARGS_3(a, b, c) FLEET_LOG_ARGS_1(d)
#define FLEET_LOG_ARGS(...) FLEET_CAT(FLEET_LOG_ARGS_, FLEET_NARGS(__VA_ARGS__))(__VA_ARGS__)

/* Declares `name`, a struct compact_log for this call site, with its log_fmt entry. */
#define FLEET_COMPACT_LOG_DECLARE(name, fmt, ...)                                          \
    __attribute__((section("log_fmt"), used)) static const char name##_entry[] =          \
        FLEET_STR(FLEET_NARGS(__VA_ARGS__)) ";" __FILE__ ";" FLEET_STR(__LINE__) ";" fmt;  \
    static const struct log_site name##_site = {fmt, __FILE__, __LINE__,                  \
                                                FLEET_NARGS(__VA_ARGS__)};                \
    const struct log_arg name##_args[] = {{0} FLEET_LOG_ARGS(__VA_ARGS__)};                \
    char name##_text[FLEET_LOG_TEXT_MAX];                                                  \
    snprintf(name##_text, sizeof(name##_text), fmt, ##__VA_ARGS__);                        \
    const struct compact_log name = {&name##_site, log_fmt_id(name##_entry),              \
                                     &name##_args[1], name##_text}

#define FLEET_LOG_COMPACT(level, fmt, ...)                                                 \
    do {                                                                                   \
        FLEET_COMPACT_LOG_DECLARE(log_, fmt, ##__VA_ARGS__);                               \
        log_compact((level), &log_);                                                       \
    } while (0)

#endif
