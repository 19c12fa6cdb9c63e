/*
 * Zephyr's own coredump (CONFIG_DEBUG_COREDUMP, subsys/debug/coredump and
 * arch/arm/core/cortex_m/coredump.c), written next to the Memfault one in the two layouts
 * real Zephyr firmware produces (zephyr-coredumps-in-practice.md, cortex-m-unwinding.md 5.1):
 *
 *   g_zephyr_coredumps[0]  Zephyr 3.4: header version 1, arch block version 2 whose sp is
 *                          the exception frame's address (z_arm_coredump_fault_sp = esf),
 *                          r4-r11 zero (no CONFIG_EXTRA_EXCEPTION_INFO)
 *   g_zephyr_coredumps[1]  newer Zephyr: header version 2, arch block version 3 whose sp is
 *                          the SP before the exception, r4-r11 as the fault shim saved them
 *                          (CONFIG_EXTRA_EXCEPTION_INFO), callee_saved_valid 0 and
 *                          callee_saved_offset = offsetof(struct k_thread, callee_saved)
 *
 * Both hold one memory block, the linker RAM (CONFIG_DEBUG_COREDUMP_MEMORY_DUMP_LINKER_RAM):
 * the range the Memfault dump holds. The linker wraps fault_handler_c (Makefile), so the
 * fault path is src/fault.c's unchanged: these are written first, then it runs.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fault.h"
#include "kernel_structs.h"

#define ZEPHYR_COREDUMP_CAPACITY 12288u
#define TARGET_ARM_CORTEX_M 3u
#define POINTER_BITS_LOG2 5u /* 32-bit pointers */
#define ARCH_BLOCK_ID 'A'
#define MEMORY_BLOCK_ID 'M'
#define MEMORY_BLOCK_VERSION 1u
#define EXC_RETURN_SPSEL (1u << 2)
#define EXC_RETURN_FTYPE (1u << 4) /* 0 = extended (FPU) frame */
#define XPSR_STACK_ALIGN (1u << 9)
#define FRAME_XPSR_INDEX 7u

/* enum k_fatal_error_reason (Zephyr >= 3.3, cortex-m-unwinding.md 6.4). */
#define K_ERR_ARM_MEM_DATA_ACCESS 19u
#define K_ERR_CPU_EXCEPTION 0u
#define MEMFAULT_REASON_MEM_FAULT 0x9200u
#define MEMFAULT_REASON_KERNEL_PANIC 0x8008u

struct zephyr_coredump {
    uint32_t size; /* bytes used in `bytes` */
    uint8_t bytes[ZEPHYR_COREDUMP_CAPACITY];
};

enum zephyr_layout { LAYOUT_3_4 = 0, LAYOUT_ARCH_V3 = 1 };

__attribute__((section(".coredump_buffer"))) struct zephyr_coredump g_zephyr_coredumps[2];

extern uint8_t __ram_dump_start[], __ram_dump_end[];

void __real_fault_handler_c(const struct fault_regs *regs, uint32_t reason)
    __attribute__((noreturn));
void __wrap_fault_handler_c(const struct fault_regs *regs, uint32_t reason)
    __attribute__((noreturn));

static void put(struct zephyr_coredump *dump, const void *data, uint32_t size)
{
    if (dump->size + size <= ZEPHYR_COREDUMP_CAPACITY) {
        memcpy(&dump->bytes[dump->size], data, size);
    }
    dump->size += size;
}

static void put_u8(struct zephyr_coredump *dump, uint8_t value)
{
    put(dump, &value, 1u);
}

static void put_u16(struct zephyr_coredump *dump, uint16_t value)
{
    put(dump, &value, 2u); /* little-endian target, packed format */
}

static void put_u32(struct zephyr_coredump *dump, uint32_t value)
{
    put(dump, &value, 4u);
}

/* struct coredump_hdr_t: "ZE", header version, target code, pointer size, flags, reason. */
static void put_header(struct zephyr_coredump *dump, uint16_t version, uint32_t reason)
{
    put(dump, "ZE", 2u);
    put_u16(dump, version);
    put_u16(dump, TARGET_ARM_CORTEX_M);
    put_u8(dump, POINTER_BITS_LOG2);
    put_u8(dump, 0u);
    put_u32(dump, reason);
}

/* SP of the interrupted code: the frame, its FPU part, the alignment word (B1.5.7). */
static uint32_t sp_before_exception(const uint32_t *frame, uint32_t exc_return)
{
    uint32_t sp = (uint32_t)(uintptr_t)frame + ((exc_return & EXC_RETURN_FTYPE) ? 0x20u : 0x68u);

    return (frame[FRAME_XPSR_INDEX] & XPSR_STACK_ALIGN) ? sp + 4u : sp;
}

/* struct arm_arch_block: r0-r3, r12, lr, pc, xpsr from the frame, sp, r4-r11 (v2 on). */
static void put_arch_block(struct zephyr_coredump *dump, const struct fault_regs *regs,
                           enum zephyr_layout layout)
{
    const uint32_t *frame = regs->exception_frame;
    int v3 = layout == LAYOUT_ARCH_V3;

    put_u8(dump, ARCH_BLOCK_ID);
    put_u16(dump, v3 ? 3u : 2u);
    put_u16(dump, v3 ? 76u : 68u);
    for (uint32_t i = 0; i < 8u; i++) {
        put_u32(dump, frame[i]); /* the frame's own order */
    }
    put_u32(dump, v3 ? sp_before_exception(frame, regs->exc_return)
                     : (uint32_t)(uintptr_t)frame);
    for (uint32_t i = 0; i < 8u; i++) {
        put_u32(dump, v3 ? regs->r4_to_r11[i] : 0u);
    }
    if (v3) {
        put_u32(dump, 0u); /* callee_saved_valid */
        put_u32(dump, (uint32_t)offsetof(struct k_thread, callee_saved));
    }
}

static void put_memory_block(struct zephyr_coredump *dump, const uint8_t *start,
                             const uint8_t *end)
{
    put_u8(dump, MEMORY_BLOCK_ID);
    put_u16(dump, MEMORY_BLOCK_VERSION);
    put_u32(dump, (uint32_t)(uintptr_t)start);
    put_u32(dump, (uint32_t)(uintptr_t)end);
    put(dump, start, (uint32_t)(end - start));
}

static uint32_t zephyr_reason(uint32_t memfault_reason)
{
    if (memfault_reason == MEMFAULT_REASON_MEM_FAULT) {
        return K_ERR_ARM_MEM_DATA_ACCESS; /* the scenarios' faults are DACCVIOL */
    }
    if (memfault_reason == MEMFAULT_REASON_KERNEL_PANIC) {
        return K_ERR_KERNEL_OOPS;
    }
    return K_ERR_CPU_EXCEPTION;
}

static void zephyr_coredump_write(const struct fault_regs *regs, uint32_t reason,
                                  enum zephyr_layout layout)
{
    struct zephyr_coredump *dump = &g_zephyr_coredumps[layout];

    dump->size = 0;
    put_header(dump, layout == LAYOUT_ARCH_V3 ? 2u : 1u, zephyr_reason(reason));
    put_arch_block(dump, regs, layout);
    put_memory_block(dump, __ram_dump_start, __ram_dump_end);
}

void __wrap_fault_handler_c(const struct fault_regs *regs, uint32_t reason)
{
    zephyr_coredump_write(regs, reason, LAYOUT_3_4);
    zephyr_coredump_write(regs, reason, LAYOUT_ARCH_V3);
    __real_fault_handler_c(regs, reason);
}
