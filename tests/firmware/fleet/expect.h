/*
 * What the firmware meant to send, as one JSON object per line (`EXPECT {...}`) on the
 * console next to the chunks: the reference the tests compare dre's view with. It is
 * written from the firmware's own variables, never decoded back from the chunks.
 */
#ifndef FLEET_EXPECT_H
#define FLEET_EXPECT_H

#include <stdint.h>

void expect_begin(const char *kind);
void expect_end(void);
void expect_object(const char *name); /* nested object, closed by expect_close */
void expect_list(const char *name);   /* nested array, closed by expect_close */
void expect_close(void);
void expect_uint(const char *name, uint32_t value);
void expect_int(const char *name, int32_t value);
void expect_str(const char *name, const char *value);
void expect_null(const char *name);

#endif
