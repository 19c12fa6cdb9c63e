#include "expect.h"

#include <stdbool.h>

#include "uart.h"

#define MAX_DEPTH 4

static bool s_first[MAX_DEPTH];
static char s_closer[MAX_DEPTH];
static int s_depth;

static void put_u32(uint32_t value)
{
    char text[11];
    int n = sizeof(text) - 1;
    text[n] = '\0';
    do {
        text[--n] = (char)('0' + value % 10u);
        value /= 10u;
    } while (value);
    uart_puts(&text[n]);
}

/* The texts here are ASCII without control characters other than newlines. */
static void put_json_string(const char *text)
{
    char one[2] = {0, 0};
    uart_puts("\"");
    for (; *text; text++) {
        if (*text == '\n') {
            uart_puts("\\n");
            continue;
        }
        if (*text == '"' || *text == '\\') {
            uart_puts("\\");
        }
        one[0] = *text;
        uart_puts(one);
    }
    uart_puts("\"");
}

/* A separator, then the key when inside an object (name != NULL). */
static void key(const char *name)
{
    if (!s_first[s_depth]) {
        uart_puts(",");
    }
    s_first[s_depth] = false;
    if (name) {
        put_json_string(name);
        uart_puts(":");
    }
}

static void open(const char *name, char opener, char closer)
{
    char text[2] = {opener, 0};
    key(name);
    uart_puts(text);
    s_depth++;
    s_first[s_depth] = true;
    s_closer[s_depth] = closer;
}

void expect_begin(const char *kind)
{
    uart_puts("EXPECT {");
    s_depth = 0;
    s_first[0] = true;
    expect_str("kind", kind);
}

void expect_end(void)
{
    uart_puts("}\n");
}

void expect_object(const char *name)
{
    open(name, '{', '}');
}

void expect_list(const char *name)
{
    open(name, '[', ']');
}

void expect_close(void)
{
    char text[2] = {s_closer[s_depth], 0};
    uart_puts(text);
    s_depth--;
}

void expect_uint(const char *name, uint32_t value)
{
    key(name);
    put_u32(value);
}

void expect_int(const char *name, int32_t value)
{
    key(name);
    if (value < 0) {
        uart_puts("-");
        put_u32(0u - (uint32_t)value);
    } else {
        put_u32((uint32_t)value);
    }
}

void expect_str(const char *name, const char *value)
{
    key(name);
    put_json_string(value);
}

void expect_null(const char *name)
{
    key(name);
    uart_puts("null");
}
