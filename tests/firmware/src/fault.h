#ifndef DRE_FAULT_H
#define DRE_FAULT_H

#include <stdint.h>

/* Memfault trace reasons (SDK components/include/memfault/core/reboot_reason_types.h). */
#define TRACE_REASON_ASSERT 0x8001u
#define TRACE_REASON_NMI 0x8004u
#define TRACE_REASON_BUS_FAULT 0x9100u
#define TRACE_REASON_MEM_FAULT 0x9200u
#define TRACE_REASON_USAGE_FAULT 0x9300u
#define TRACE_REASON_HARD_FAULT 0x9400u

/* What fault_snapshot_taken pushes on MSP before it calls fault_handler_c. */
struct fault_regs {
    uint32_t *exception_frame; /* on MSP or PSP, chosen by EXC_RETURN bit 2 */
    uint32_t r4_to_r11[8];
    uint32_t exc_return;
};

/* Filled by dre_assert_failed; text is copied so it is part of the RAM in the coredump. */
struct dre_assert_info {
    const char *file;
    const char *expression;
    uint32_t line;
    uint32_t trace_reason;
    char file_text[32];
    char expression_text[64];
};

extern volatile uint32_t g_fault_sp_snapshot[2];
extern struct dre_assert_info g_dre_assert;

#define DRE_ASSERT(expr)                                       \
    do {                                                       \
        if (!(expr)) {                                         \
            dre_assert_failed(__FILE__, __LINE__, #expr);      \
        }                                                      \
    } while (0)

void dre_assert_failed(const char *file, uint32_t line, const char *expression)
    __attribute__((noreturn, noinline));

void fault_init(void);
void mpu_init(void);
void fault_handler_c(const struct fault_regs *regs, uint32_t reason) __attribute__((noreturn));
void coredump_saved(void);

#endif
