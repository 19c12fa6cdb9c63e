/*
 * Memfault coredump, format version 2: a 12-byte header ("CORE", version, total size),
 * blocks with 12-byte headers (type, address, length), a 16-byte footer ("DUMP", flags).
 * Block order follows SDK 1.43 prv_write_coredump_sections (memfault-formats.md 1.2).
 */
#include "coredump.h"

#include <stddef.h>
#include <string.h>

#include "board.h"
#include "build_id.h"

#define COREDUMP_MAGIC 0x45524F43u /* "CORE" */
#define COREDUMP_VERSION 2u
#define FOOTER_MAGIC 0x504D5544u /* "DUMP" */
#define FOOTER_FLAG_TRUNCATED (1u << 0)
#define HEADER_SIZE 12u
#define BLOCK_HEADER_SIZE 12u
#define FOOTER_SIZE 16u
#define MACHINE_TYPE_CORTEX_M 40u /* ELF e_machine EM_ARM, subtype 0 */
#define NOTE_HEADER_SIZE 12u

#define SOFTWARE_VERSION "1.0.0"
#define SOFTWARE_TYPE "dre-testfw"

enum block_type {
    BLOCK_CURRENT_REGISTERS = 0,
    BLOCK_MEMORY_REGION = 1,
    BLOCK_HARDWARE_VERSION = 4,
    BLOCK_TRACE_REASON = 5,
    BLOCK_PADDING = 6,
    BLOCK_MACHINE_TYPE = 7,
    BLOCK_SOFTWARE_VERSION = 10,
    BLOCK_SOFTWARE_TYPE = 11,
    BLOCK_BUILD_ID = 12,
};

enum payload_access {
    ACCESS_BYTES,
    ACCESS_WORDS, /* memory-mapped registers: 32-bit reads only */
};

struct region {
    uint32_t address;
    uint32_t size;
};

struct writer {
    uint8_t *buffer;
    uint32_t limit; /* end of the space for blocks; the footer always fits after it */
    uint32_t offset;
    uint32_t flags;
};

__attribute__((section(".coredump_buffer"))) uint8_t g_coredump_buffer[COREDUMP_BUFFER_SIZE];

extern uint8_t __ram_dump_start[], __ram_dump_end[];

/* SDK arch regions (memfault_coredump_regions_armv7.c), plus the FPU state on the M4F. */
static const struct region k_arch_regions[] = {
    {0xE000ED24u, 28u}, /* SHCSR CFSR HFSR DFSR MMFAR BFAR AFSR */
    {0xE000ED18u, 12u}, /* SHPR1 SHPR2 SHPR3 */
    {0xE000ED04u, 8u},  /* ICSR VTOR */
    {0xE000E100u, 4u},  /* NVIC ISER0 */
    {0xE000E200u, 4u},  /* NVIC ISPR0 */
    {0xE000E300u, 4u},  /* NVIC IABR0 */
#if DRE_HAS_FPU
    {0xE000ED88u, 4u},  /* CPACR */
    {0xE000EF34u, 12u}, /* FPCCR FPCAR FPDSCR */
#endif
};

static void writer_put(struct writer *w, const void *data, uint32_t length)
{
    memcpy(&w->buffer[w->offset], data, length);
    w->offset += length;
}

static void writer_put_word(struct writer *w, uint32_t value)
{
    writer_put(w, &value, sizeof(value));
}

static void writer_put_words_from(struct writer *w, uint32_t address, uint32_t length)
{
    for (uint32_t i = 0; i < length; i += 4u) {
        writer_put_word(w, REG32(address + i));
    }
}

/* SDK semantics: a payload that does not fit is cut to whole words and ends the dump. */
static uint32_t writer_room_for(struct writer *w, uint32_t length)
{
    uint32_t space = w->limit - w->offset;

    if (space >= BLOCK_HEADER_SIZE + length) {
        return length;
    }
    w->flags |= FOOTER_FLAG_TRUNCATED;
    return space < BLOCK_HEADER_SIZE ? 0u : ((space - BLOCK_HEADER_SIZE) / 4u) * 4u;
}

static void writer_block(struct writer *w, enum block_type type, uint32_t address,
                         const void *payload, uint32_t length, enum payload_access access)
{
    if (payload == NULL || length == 0u || (w->flags & FOOTER_FLAG_TRUNCATED)) {
        return;
    }
    uint32_t fitting = writer_room_for(w, length);
    if (fitting == 0u) {
        return;
    }
    writer_put_word(w, (uint32_t)type); /* type in byte 0, three reserved zero bytes */
    writer_put_word(w, address);
    writer_put_word(w, fitting);
    if (access == ACCESS_WORDS) {
        writer_put_words_from(w, (uint32_t)(uintptr_t)payload, fitting);
    } else {
        writer_put(w, payload, fitting);
    }
}

static void writer_text_block(struct writer *w, enum block_type type, const char *text)
{
    writer_block(w, type, 0u, text, (uint32_t)strlen(text), ACCESS_BYTES);
}

static void writer_word_block(struct writer *w, enum block_type type, uint32_t value)
{
    writer_block(w, type, 0u, &value, sizeof(value), ACCESS_BYTES);
}

/* SDK prv_insert_padding_if_necessary: every region starts word aligned. */
static void writer_pad_to_word(struct writer *w)
{
    static const uint8_t zeros[3];
    uint32_t misalignment = w->offset % 4u;

    if (misalignment != 0u) {
        writer_block(w, BLOCK_PADDING, 0u, zeros, 4u - misalignment, ACCESS_BYTES);
    }
}

static void writer_region(struct writer *w, uint32_t address, uint32_t size)
{
    writer_pad_to_word(w);
    writer_block(w, BLOCK_MEMORY_REGION, address, (const void *)(uintptr_t)address, size,
                 ACCESS_WORDS);
}

/* The descriptor of the NT_GNU_BUILD_ID note: after the note header and the padded name. */
static const uint8_t *build_id_descriptor(void)
{
    const uint8_t *note = g_memfault_build_id.storage;
    uint32_t name_size;

    memcpy(&name_size, note, sizeof(name_size));
    return note + NOTE_HEADER_SIZE + ((name_size + 3u) & ~3u);
}

static void write_device_info(struct writer *w, const struct coredump_crash *crash)
{
    writer_block(w, BLOCK_CURRENT_REGISTERS, 0u, crash,
                 (uint32_t)offsetof(struct coredump_crash, trace_reason), ACCESS_BYTES);
    writer_block(w, BLOCK_BUILD_ID, 0u, build_id_descriptor(), g_memfault_build_id.len,
                 ACCESS_BYTES);
    writer_text_block(w, BLOCK_SOFTWARE_VERSION, SOFTWARE_VERSION);
    writer_text_block(w, BLOCK_SOFTWARE_TYPE, SOFTWARE_TYPE);
    writer_text_block(w, BLOCK_HARDWARE_VERSION, DRE_BOARD_NAME);
    writer_word_block(w, BLOCK_MACHINE_TYPE, MACHINE_TYPE_CORTEX_M);
    writer_word_block(w, BLOCK_TRACE_REASON, crash->trace_reason);
}

static void write_regions(struct writer *w)
{
    for (size_t i = 0; i < sizeof(k_arch_regions) / sizeof(k_arch_regions[0]); i++) {
        writer_region(w, k_arch_regions[i].address, k_arch_regions[i].size);
    }
    /* .data, .bss, all stacks, the scheduler descriptor and g_scenario (link.ld). */
    writer_region(w, (uint32_t)(uintptr_t)__ram_dump_start,
                  (uint32_t)(__ram_dump_end - __ram_dump_start));
}

uint32_t coredump_write(const struct coredump_crash *crash)
{
    struct writer w = {
        .buffer = g_coredump_buffer,
        .limit = COREDUMP_BUFFER_SIZE - FOOTER_SIZE,
        .offset = HEADER_SIZE,
    };

    write_device_info(&w, crash);
    write_regions(&w);
    writer_put_word(&w, FOOTER_MAGIC);
    writer_put_word(&w, w.flags);
    writer_put_word(&w, 0u);
    writer_put_word(&w, 0u);

    /* The header goes last, as in the SDK: a valid magic marks a complete dump. */
    uint32_t total_size = w.offset;
    w.offset = 0u;
    writer_put_word(&w, COREDUMP_MAGIC);
    writer_put_word(&w, COREDUMP_VERSION);
    writer_put_word(&w, total_size);
    return total_size;
}
