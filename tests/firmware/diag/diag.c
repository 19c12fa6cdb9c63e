/*
 * The "diag" variants: the test firmware (src/, except scenarios.c) plus four scenarios for
 * the trace page's analyses, linked with --wrap so that src/ and its 36 fixtures stay
 * byte-identical:
 *
 *   mpu_fault      eight MPU regions (subregions, TEX/C/B/S, AP and XN variety); main writes
 *                  to a privileged read-only region: MemManage DACCVIOL in region 6
 *   irq_pending    IRQ 3 and 5 enabled and pending behind BASEPRI, IRQ 7 pending but
 *                  disabled, then TIMER1 (IRQ 9) fires and faults in its handler
 *   deep_stack     main uses 96 % of its 2 KB stack (32-byte guard), then writes to NULL
 *   handler_fault  main writes to NULL; while the fault handler collects extra memory it
 *                  reads a no-access guard with memcpy: a second fault inside the first's
 *                  handler, escalated to HardFault; the dump keeps the first reason
 *   heap_fault     five allocations from two callers, two of them freed (heap.c: FreeRTOS
 *                  heap_4's structures, the SDK's heap statistics), then a NULL write
 *
 * __wrap_coredump_write adds what the SDK's arch regions add beyond the base firmware
 * (memfault-formats.md 1.5, 1.6): ICTR, DEMCR, the NVIC priorities and the MPU block.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "coredump.h"
#include "fault.h"
#include "heap.h"
#include "isr.h"
#include "scenarios.h"
#include "scheduler.h"
#include "uart.h"

/* ARMv7-M ARM B3.5.8 MPU_RASR, B3.5.9 MPU_RBAR. */
#define RBAR_VALID (1u << 4)
#define RASR_ENABLE (1u << 0)
#define RASR_SIZE(log2_bytes) (((log2_bytes) - 1u) << 1)
#define RASR_SRD(mask) ((uint32_t)(mask) << 8)
#define RASR_B (1u << 16)
#define RASR_C (1u << 17)
#define RASR_S (1u << 18)
#define RASR_TEX(tex) ((uint32_t)(tex) << 19)
#define RASR_AP(ap) ((uint32_t)(ap) << 24)
#define RASR_XN (1u << 28)
#define AP_NO_ACCESS 0u
#define AP_FULL_ACCESS 3u
#define AP_PRIV_RO 5u
#define AP_READ_ONLY 6u
#define MPU_TYPE_ADDRESS 0xE000ED90u
#define CTRL_ENABLE (1u << 0)
#define CTRL_PRIVDEFENA (1u << 2)
#define GUARD_LOG2 5u /* 32-byte guards, so a thread can reach 96 % of its stack */
#define MPU_REGIONS 8u

#define NVIC_ISPR0 REG32(0xE000E200)
#define IRQ_MASKED_A 3u
#define IRQ_MASKED_B 5u
#define IRQ_DISABLED 7u
#define MASKED_PRIORITY 0xC0u

#define DEEP_STACK_MARGIN 72u /* above the guard: room for the 32-byte exception frame */

#define BLOCK_MEMORY_REGION 1u
#define BLOCK_MPU 9u
#define FOOTER_SIZE 16u

enum diag_scenario {
    DIAG_MPU_FAULT = 1,
    DIAG_IRQ_PENDING = 2,
    DIAG_DEEP_STACK = 3,
    DIAG_HANDLER_FAULT = 4,
    DIAG_HEAP_FAULT = 5,
};

struct diag_config {
    uint32_t gain;
    uint32_t offset;
    uint32_t reserved[6];
};

volatile uint32_t g_scenario __attribute__((section(".noinit")));
/* Region 6 protects it: privileged read-only, the MPU region's minimum size and alignment. */
struct diag_config g_diag_config __attribute__((aligned(32))) = {.gain = 3u, .offset = 7u};
static volatile uint32_t *volatile s_null_record = (volatile uint32_t *)0x8u;
static uint32_t s_first_reason;
/* MPU_CTRL when the fault was taken: fault_handler_c disables the MPU before it writes
 * the dump (a stack overflow leaves the exception frame in a guard), and the MPU block
 * should say what governed the faulting access. */
static uint32_t s_mpu_ctrl_at_fault;
static uint32_t s_fault_depth;
static uint8_t s_extra_copy[32];

uint32_t __real_coredump_write(const struct coredump_crash *crash);
uint32_t __wrap_coredump_write(const struct coredump_crash *crash);
void __real_fault_handler_c(const struct fault_regs *regs, uint32_t reason)
    __attribute__((noreturn));
void __wrap_fault_handler_c(const struct fault_regs *regs, uint32_t reason)
    __attribute__((noreturn));
void __wrap_mpu_init(void);

static void mpu_region(uint32_t region, uint32_t base, uint32_t rasr)
{
    MPU_RBAR = base | RBAR_VALID | region;
    MPU_RASR = rasr | RASR_ENABLE;
}

/* Replaces mpu_init: more regions, smaller guards. Higher region numbers win on overlap. */
void __wrap_mpu_init(void)
{
    mpu_region(0u, 0x00000000u, RASR_XN | RASR_AP(AP_NO_ACCESS) | RASR_SIZE(10u));
    for (uint32_t i = 0; i < g_dre_scheduler.thread_count; i++) {
        uint32_t base = (uint32_t)(uintptr_t)g_dre_scheduler.threads[i].stack_base;
        mpu_region(1u + i, base, RASR_XN | RASR_AP(AP_NO_ACCESS) | RASR_SIZE(GUARD_LOG2));
    }
    /* Code: 64 KB read-only, write-through; subregion 0 (the first 8 KB) disabled so
     * region 0 and the default map decide there. */
    mpu_region(5u, 0x00000000u,
               RASR_AP(AP_READ_ONLY) | RASR_TEX(0u) | RASR_C | RASR_SRD(0x01u) | RASR_SIZE(16u));
    mpu_region(6u, (uint32_t)(uintptr_t)&g_diag_config,
               RASR_XN | RASR_AP(AP_PRIV_RO) | RASR_TEX(1u) | RASR_C | RASR_B | RASR_S |
                   RASR_SIZE(5u));
    mpu_region(7u, 0x40004000u,
               RASR_XN | RASR_AP(AP_FULL_ACCESS) | RASR_B | RASR_S | RASR_SIZE(12u));
    MPU_CTRL = CTRL_ENABLE | CTRL_PRIVDEFENA;
    barrier_dsb_isb();
}

static void __attribute__((noinline)) diag_config_apply(uint32_t gain)
{
    g_diag_config.gain = gain;
}

static void scenario_mpu_fault(void)
{
    diag_config_apply(5u);
}

static void set_basepri(uint32_t value)
{
    __asm volatile("msr basepri, %0" ::"r"(value) : "memory");
}

static void scenario_irq_pending(void)
{
    NVIC_IPR_BYTE(IRQ_MASKED_A) = MASKED_PRIORITY;
    NVIC_IPR_BYTE(IRQ_MASKED_B) = MASKED_PRIORITY;
    set_basepri(MASKED_PRIORITY);
    NVIC_ISER0 = (1u << IRQ_MASKED_A) | (1u << IRQ_MASKED_B);
    NVIC_ISPR0 = (1u << IRQ_MASKED_A) | (1u << IRQ_MASKED_B) | (1u << IRQ_DISABLED);
    isr_trigger();
}

static uint32_t read_sp(void)
{
    uint32_t value;
    __asm volatile("mov %0, sp" : "=r"(value));
    return value;
}

/* Takes the stack down to DEEP_STACK_MARGIN bytes above the base, then faults there. */
static void __attribute__((noinline)) deep_stack_leaf(uint32_t base)
{
    uint32_t room = read_sp() - (base + DEEP_STACK_MARGIN);
    volatile uint8_t scratch[room & ~7u];

    scratch[0] = 1u;
    *s_null_record = scratch[0];
}

static void scenario_deep_stack(void)
{
    deep_stack_leaf((uint32_t)(uintptr_t)g_dre_scheduler.threads[0].stack_base);
}

static void scenario_handler_fault(void)
{
    *s_null_record = 0x5A5Au;
}

/* Like an SDK port collecting one more region: here the guard below main's stack. */
static void __attribute__((noinline)) diag_coredump_save_extra(void)
{
    const void *guard = g_dre_scheduler.threads[0].stack_base;

    memcpy(s_extra_copy, guard, sizeof(s_extra_copy));
}

/* The first entry keeps its reason, like the SDK's memfault_fault_handler; a fault while
 * the handler runs enters here again and writes the dump with the first reason. */
void __wrap_fault_handler_c(const struct fault_regs *regs, uint32_t reason)
{
    s_fault_depth++;
    if (s_fault_depth == 1u) {
        s_first_reason = reason;
        s_mpu_ctrl_at_fault = MPU_CTRL;
        if (g_scenario == DIAG_HANDLER_FAULT) {
            diag_coredump_save_extra();
        }
    }
    __real_fault_handler_c(regs, s_first_reason);
}

static uint32_t put_word(uint32_t offset, uint32_t value)
{
    memcpy(&g_coredump_buffer[offset], &value, sizeof(value));
    return offset + 4u;
}

static uint32_t put_region(uint32_t offset, uint32_t address, uint32_t size)
{
    offset = put_word(offset, BLOCK_MEMORY_REGION);
    offset = put_word(offset, address);
    offset = put_word(offset, size);
    for (uint32_t i = 0; i < size; i += 4u) {
        offset = put_word(offset, REG32(address + i));
    }
    return offset;
}

/* memfault-formats.md 1.6: TYPE, CTRL, then RBAR/RASR of each region via RNR. */
static uint32_t put_mpu(uint32_t offset)
{
    offset = put_word(offset, BLOCK_MPU);
    offset = put_word(offset, 0u);
    offset = put_word(offset, 8u + 8u * MPU_REGIONS);
    offset = put_word(offset, REG32(MPU_TYPE_ADDRESS));
    offset = put_word(offset, s_mpu_ctrl_at_fault);
    for (uint32_t i = 0; i < MPU_REGIONS; i++) {
        MPU_RNR = i;
        offset = put_word(offset, MPU_RBAR);
        offset = put_word(offset, MPU_RASR);
    }
    return offset;
}

/* The base writer's dump, its footer moved behind four more blocks (block order is free). */
uint32_t __wrap_coredump_write(const struct coredump_crash *crash)
{
    uint32_t size = __real_coredump_write(crash);
    uint8_t footer[FOOTER_SIZE];
    uint32_t offset = size - FOOTER_SIZE;

    memcpy(footer, &g_coredump_buffer[offset], FOOTER_SIZE);
    offset = put_region(offset, 0xE000E004u, 4u);  /* ICTR */
    offset = put_region(offset, 0xE000EDFCu, 4u);  /* DEMCR */
    offset = put_region(offset, 0xE000E400u, 32u); /* NVIC IPR0-7 */
    offset = put_mpu(offset);
    memcpy(&g_coredump_buffer[offset], footer, FOOTER_SIZE);
    offset += FOOTER_SIZE;
    put_word(8u, offset);
    return offset;
}

struct packet {
    struct packet *next;
    uint32_t length;
};

static void *volatile s_heap_blocks[5];

static struct packet *__attribute__((noinline)) packet_alloc(uint32_t length)
{
    struct packet *packet = diag_malloc(sizeof(*packet) + length);

    packet->next = NULL;
    packet->length = length;
    return packet;
}

static uint8_t *__attribute__((noinline)) sample_buffer_alloc(uint32_t bytes)
{
    return diag_malloc(bytes);
}

static void scenario_heap_fault(void)
{
    s_heap_blocks[0] = packet_alloc(16u);
    s_heap_blocks[1] = sample_buffer_alloc(100u);
    s_heap_blocks[2] = packet_alloc(64u);
    s_heap_blocks[3] = sample_buffer_alloc(200u);
    s_heap_blocks[4] = packet_alloc(8u);
    diag_free(s_heap_blocks[1]);
    diag_free(s_heap_blocks[3]);
    struct packet *first = s_heap_blocks[0];
    first->next->length = 5u;
}

struct diag_entry {
    const char *name;
    void (*run)(void);
};

static const struct diag_entry k_diag[] = {
    [DIAG_MPU_FAULT] = {"mpu_fault", scenario_mpu_fault},
    [DIAG_IRQ_PENDING] = {"irq_pending", scenario_irq_pending},
    [DIAG_DEEP_STACK] = {"deep_stack", scenario_deep_stack},
    [DIAG_HANDLER_FAULT] = {"handler_fault", scenario_handler_fault},
    [DIAG_HEAP_FAULT] = {"heap_fault", scenario_heap_fault},
};

void scenario_run(uint32_t id)
{
    if (id == 0u || id >= sizeof(k_diag) / sizeof(k_diag[0])) {
        uart_puts("main: no scenario selected\n");
        return;
    }
    uart_puts("scenario: ");
    uart_puts(k_diag[id].name);
    uart_puts("\n");
    k_diag[id].run();
    uart_puts("scenario: returned without a fault\n");
}
