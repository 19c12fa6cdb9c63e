/*
 * One function per fault scenario; main_thread runs the one selected by g_scenario.
 * Pointers and divisors come from volatile objects so the compiler cannot see the fault
 * coming and replace it by a trap or fold it away.
 */
#include "scenarios.h"

#include <stddef.h>
#include <stdint.h>

#include "calc.h"
#include "fault.h"
#include "isr.h"
#include "storage.h"
#include "uart.h"

#define NEAR_NULL_COUNTER 0x20u /* inside the no-access MPU region at address 0 */
#define NEAR_NULL_OUTPUT 0x10u

typedef void (*command_handler)(uint32_t argument);

struct scenario {
    const char *name;
    void (*run)(void);
};

struct uart_config {
    uint32_t baud_rate;
    uint8_t data_bits;
    uint8_t stop_bits;
};

volatile uint32_t g_scenario __attribute__((section(".noinit")));

static volatile int32_t s_percent_part = 7;
static volatile int32_t s_percent_whole;
static volatile uint32_t s_patch_stage;
static volatile uint32_t s_reboot_delay;
static volatile uint32_t s_commands_run;
static volatile float s_filter_result;
static volatile uint32_t *volatile s_counter_ptr = (volatile uint32_t *)NEAR_NULL_COUNTER;
static float *volatile s_filter_output = (float *)NEAR_NULL_OUTPUT;
static volatile uint32_t s_parse_depth_limit = UINT32_MAX;
static volatile uint32_t s_parse_sink;
static const struct uart_config k_console_config = {.baud_rate = 230400, .data_bits = 8};

static void scenario_null_write(void)
{
    struct sensor_reading reading = {.sensor_id = 5, .raw = -42, .channel = 2};
    float scale = 1.5f;
    char label[12] = "null_write";
    int attempt = 3;

    reading.scale = scale * (float)attempt;
    uart_puts(label);
    uart_puts(": writing record\n");
    storage_save(&reading, &g_records_written);
}

static void scenario_div_zero(void)
{
    int32_t percent = calc_percent(s_percent_part, s_percent_whole);

    s_percent_part = percent;
}

static void __attribute__((noinline)) firmware_apply_patch(uint32_t stage)
{
    if (stage >= 2u) {
        __asm volatile("udf #1");
    }
    s_patch_stage = stage;
}

static void scenario_undef_instr(void)
{
    for (uint32_t stage = 0; stage < 4u; stage++) {
        firmware_apply_patch(stage);
    }
}

static void __attribute__((noinline)) command_reboot(uint32_t delay)
{
    s_reboot_delay = delay;
}

static command_handler volatile s_command_table[1] = {command_reboot};

static void __attribute__((noinline)) command_dispatch(uint32_t argument)
{
    /* A Thumb function address with bit 0 cleared: BLX to it sets EPSR.T = 0. */
    command_handler handler = (command_handler)((uintptr_t)s_command_table[0] & ~1u);

    handler(argument);
    s_commands_run++;
}

static void scenario_invstate(void)
{
    command_dispatch(250u);
}

static void scenario_irq_fault(void)
{
    isr_trigger();
}

static void __attribute__((noinline)) config_validate(const struct uart_config *config)
{
    DRE_ASSERT(config->data_bits == 8u);
    DRE_ASSERT(config->baud_rate <= 115200u);
}

static void scenario_assert(void)
{
    config_validate(&k_console_config);
}

static void scenario_fpu_fault(void)
{
    s_filter_result = calc_filter(2.0f, s_filter_output);
}

static void __attribute__((noinline)) counter_bump(volatile uint32_t *counter)
{
    *counter += 1u;
}

static void scenario_leaf_fault(void)
{
    counter_bump(s_counter_ptr);
}

static void __attribute__((noipa)) parse_consume(volatile uint8_t *scratch, uint32_t value)
{
    s_parse_sink = scratch[0] + value;
}

/* Not a tail call (the result is used after the call), so every level keeps a frame. */
static uint32_t __attribute__((noinline)) parse_nested(const uint8_t *input, uint32_t depth)
{
    volatile uint8_t scratch[16];
    uint32_t result;

    scratch[depth & 15u] = input[depth & 3u];
    if (depth >= s_parse_depth_limit) {
        return scratch[0];
    }
    result = parse_nested(input, depth + 1u);
    parse_consume(scratch, result);
    return result + 1u;
}

static void scenario_stack_overflow(void)
{
    static const uint8_t input[4] = {'{', '[', '(', '<'};

    s_parse_sink = parse_nested(input, 0);
}

static const struct scenario k_scenarios[SCENARIO_COUNT] = {
    [SCENARIO_NULL_WRITE] = {"null_write", scenario_null_write},
    [SCENARIO_DIV_ZERO] = {"div_zero", scenario_div_zero},
    [SCENARIO_UNDEF_INSTR] = {"undef_instr", scenario_undef_instr},
    [SCENARIO_INVSTATE] = {"invstate", scenario_invstate},
    [SCENARIO_IRQ_FAULT] = {"irq_fault", scenario_irq_fault},
    [SCENARIO_ASSERT] = {"assert", scenario_assert},
    [SCENARIO_FPU_FAULT] = {"fpu_fault", scenario_fpu_fault},
    [SCENARIO_LEAF_FAULT] = {"leaf_fault", scenario_leaf_fault},
    [SCENARIO_STACK_OVERFLOW] = {"stack_overflow", scenario_stack_overflow},
};

void scenario_run(uint32_t id)
{
    if (id == SCENARIO_NONE || id >= SCENARIO_COUNT) {
        uart_puts("main: no scenario selected\n");
        return;
    }
    uart_puts("scenario: ");
    uart_puts(k_scenarios[id].name);
    uart_puts("\n");
    k_scenarios[id].run();
    /* Keeps the call above from becoming a tail call, so scenario_run stays in the bt. */
    uart_puts("scenario: returned without a fault\n");
}
