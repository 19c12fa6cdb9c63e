/*
 * The fleet firmware's life, four boots long. Each boot first reports why the previous
 * one ended, then runs the application; every event leaves the device as chunks on the
 * console. QEMU keeps RAM across the resets, so .noinit carries reboot tracking and the
 * clock from boot to boot, and semihosting ends the run after the fourth boot.
 *
 * 1. power-on: two hourly heartbeats, a CLI session, trace events (plain, with a status
 *    code, with compact logs), compact and preformatted logs; then a firmware update;
 * 2. one heartbeat, then a CLI session during which an assert fails;
 * 3. the crashed session (operational_crashes = 1), a heartbeat counting the unexpected
 *    reboot, then a division by zero (UsageFault);
 * 4. a heartbeat, a CLI session and a custom data recording (CSV); done.
 */
#include <stdint.h>

#include "app.h"
#include "events.h"
#include "expect.h"
#include "fleet.h"
#include "log.h"
#include "metrics.h"
#include "reboot.h"
#include "uart.h"

#define SCB_CCR (*(volatile uint32_t *)0xE000ED14u)
#define SCB_SHCSR (*(volatile uint32_t *)0xE000ED24u)
#define CCR_DIV_0_TRP (1u << 4)
#define SHCSR_FAULTS_ENABLED (7u << 16) /* MemManage, BusFault, UsageFault (B3.2.13) */

enum {
    KEY_REASON = 1,
    KEY_PC = 2,
    KEY_LR = 3,
    KEY_COREDUMP_SAVED = 5,
};

/* 2.5.2: reason always, PC and LR only when non-zero, CoredumpSaved always (no coredump
 * here: this firmware reports its crashes through reboot tracking only). */
static void reboot_event_send(void)
{
    const struct reboot_state *state = &g_reboot_state;
    struct cbor *c = event_begin(FLEET_EVENT_TRACE);
    cbor_map(c, 2u + (state->pc != 0) + (state->lr != 0));
    cbor_uint(c, KEY_REASON);
    cbor_uint(c, state->reason);
    if (state->pc) {
        cbor_uint(c, KEY_PC);
        cbor_uint(c, state->pc);
    }
    if (state->lr) {
        cbor_uint(c, KEY_LR);
        cbor_uint(c, state->lr);
    }
    cbor_uint(c, KEY_COREDUMP_SAVED);
    cbor_uint(c, 0);
    expect_begin("reboot");
    expect_envelope();
    expect_uint("reason", state->reason);
    expect_uint("pc", state->pc);
    expect_uint("lr", state->lr);
    expect_uint("boot", state->boot_count);
    expect_end();
    event_send(FLEET_MESSAGE_EVENT);
}

static void heartbeat(void)
{
    app_heartbeat_values();
    metrics_heartbeat();
}

static void boot_power_on(void)
{
    fleet_log_preformatted(FLEET_LOG_INFO, "%s %s on %s", FLEET_SOFTWARE_TYPE,
                           FLEET_SOFTWARE_VERSION, DRE_BOARD_NAME);
    app_run(20);
    app_cli_command("status", 2, 0);
    app_run(38);
    heartbeat();
    log_flush(false);
    app_run(60);
    heartbeat();
    fleet_log_preformatted(FLEET_LOG_WARNING, "installing update");
    log_flush(true);
    reboot_for(REBOOT_FIRMWARE_UPDATE);
}

static void boot_after_update(void)
{
    app_run(60);
    heartbeat();
    log_flush(false);
    app_run(10);
    metrics_session_start(kMfltMetricsSessionKey_cli);
    metric_set_string(METRIC(cli, cmd_name), "calibrate");
    app_run(10);
    config_apply(40);
}

static void boot_after_assert(void)
{
    app_run(60);
    heartbeat();
    log_flush(true);
    app_run(10);
    volatile uint32_t seconds = 0;
    calc_rate(12, seconds);
}

static void boot_after_fault(void)
{
    app_run(45);
    app_cli_command("upload", 5, 0);
    app_run(10);
    heartbeat();
    log_flush(false);
    app_record_temperatures();
}

static void semihosting_exit(void)
{
    /* SYS_EXIT (0x18) with ADP_Stopped_ApplicationExit: QEMU exits with status 0. */
    register uint32_t op __asm("r0") = 0x18;
    register uint32_t reason __asm("r1") = 0x20026;
    __asm volatile("bkpt 0xab" : : "r"(op), "r"(reason) : "memory");
}

int main(void)
{
    uart_init();
    SCB_CCR |= CCR_DIV_0_TRP;
    SCB_SHCSR |= SHCSR_FAULTS_ENABLED;
    reboot_boot();
    uart_puts("fleetfw: boot\n");
    reboot_event_send();
    metrics_boot();
    reboot_reported();
    FLEET_LOG_COMPACT(FLEET_LOG_INFO, "boot %lu", g_reboot_state.boot_count);
    switch (g_reboot_state.boot_count) {
    case 1:
        boot_power_on();
        break;
    case 2:
        boot_after_update();
        break;
    case 3:
        boot_after_assert();
        break;
    default:
        boot_after_fault();
        break;
    }
    uart_puts("fleetfw: done\n");
    semihosting_exit();
    return 0;
}
