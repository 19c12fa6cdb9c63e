/*
 * div_zero and fpu_fault chains. calc_percent ends in a tail call (`b calc_ratio` at -O2),
 * so its frame is gone when calc_ratio divides by zero. calc_filter keeps `baseline` in a
 * callee-saved float register (s16 on the M4F at -O2) across the faulting call.
 */
#include "calc.h"

int32_t __attribute__((noinline)) calc_ratio(int32_t numerator, int32_t denominator)
{
    return numerator / denominator;
}

int32_t __attribute__((noinline)) calc_percent(int32_t part, int32_t whole)
{
    return calc_ratio(part * 100, whole);
}

float __attribute__((noinline)) calc_apply_gain(float value, float gain, float *out)
{
    float scaled = value * gain + 0.5f;

    *out = scaled;
    return scaled * scaled;
}

float __attribute__((noinline)) calc_filter(float input, float *out)
{
    float baseline = input * 1.25f;
    float gained = calc_apply_gain(baseline, 3.0f, out);

    return baseline + gained;
}
