#include "reboot.h"

#include "expect.h"
#include "fleet.h"

#define REBOOT_MAGIC 0x21544f42u /* "BOT!" */
#define SCB_AIRCR (*(volatile uint32_t *)0xE000ED0Cu)
#define AIRCR_SYSRESETREQ 0x05FA0004u /* VECTKEY + SYSRESETREQ, ARMv7-M B3.2.6 */

__attribute__((section(".noinit"))) struct reboot_state g_reboot_state;
static uint32_t s_uptime_ms;

void reboot_boot(void)
{
    if (g_reboot_state.magic != REBOOT_MAGIC) {
        /* Power-on: RAM holds nothing of ours yet. */
        g_reboot_state = (struct reboot_state){.magic = REBOOT_MAGIC, .reason = REBOOT_POWER_ON};
    }
    g_reboot_state.boot_count++;
}

bool reboot_last_unexpected(void)
{
    return g_reboot_state.reason >= REBOOT_FIRST_UNEXPECTED;
}

void reboot_reported(void)
{
    g_reboot_state.reason = 0;
    g_reboot_state.pc = 0;
    g_reboot_state.lr = 0;
}

void reboot_mark(uint32_t reason, uint32_t pc, uint32_t lr)
{
    g_reboot_state.reason = reason;
    g_reboot_state.pc = pc;
    g_reboot_state.lr = lr;
    expect_begin("reboot_marked");
    expect_uint("reason", reason);
    expect_uint("pc", pc);
    expect_uint("lr", lr);
    expect_end();
    if (reason >= REBOOT_FIRST_UNEXPECTED) {
        /* operational_crashfree_hours counts time since the last crash. */
        g_reboot_state.crashfree_ms = 0;
    }
}

void reboot_now(void)
{
    __asm volatile("dsb" ::: "memory");
    SCB_AIRCR = AIRCR_SYSRESETREQ;
    __asm volatile("dsb" ::: "memory");
    for (;;) {
    }
}

void reboot_for(uint32_t reason)
{
    reboot_mark(reason, 0, 0);
    reboot_now();
}

void fleet_assert_failed(uint32_t pc, uint32_t lr)
{
    reboot_mark(REBOOT_ASSERT, pc, lr);
    reboot_now();
}

uint32_t fleet_time_now(void)
{
    return FLEET_EPOCH + (uint32_t)(g_reboot_state.clock_ms / 1000u);
}

uint32_t fleet_uptime_ms(void)
{
    return s_uptime_ms;
}

void fleet_clock_advance(uint32_t ms)
{
    g_reboot_state.clock_ms += ms;
    g_reboot_state.operational_ms += ms;
    g_reboot_state.crashfree_ms += ms;
    s_uptime_ms += ms;
}
