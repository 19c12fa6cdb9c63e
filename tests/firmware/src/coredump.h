/*
 * Memfault coredump writer, format version 2 (SDK components/panics/src/memfault_coredump.c,
 * described in /work/shared/reference/memfault-formats.md section 1).
 */
#ifndef DRE_COREDUMP_H
#define DRE_COREDUMP_H

#include <stdint.h>

/* Register block payload, the SDK's sMfltCortexMRegs: 19 words, 76 bytes. */
struct coredump_crash {
    uint32_t r0_to_r3[4];
    uint32_t r4_to_r11[8];
    uint32_t r12;
    uint32_t sp;
    uint32_t lr;
    uint32_t pc;
    uint32_t psr;
    uint32_t msp;
    uint32_t psp;
    uint32_t trace_reason; /* not part of the register block */
};

#define COREDUMP_BUFFER_SIZE 32768u

extern uint8_t g_coredump_buffer[COREDUMP_BUFFER_SIZE];

/* Writes the whole coredump into g_coredump_buffer and returns its size in bytes. */
uint32_t coredump_write(const struct coredump_crash *crash);

#endif
