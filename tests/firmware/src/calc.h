#ifndef DRE_CALC_H
#define DRE_CALC_H

#include <stdint.h>

int32_t calc_percent(int32_t part, int32_t whole);
float calc_filter(float input, float *out);

#endif
