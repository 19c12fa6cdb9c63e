/*
 * Reboot tracking, as the SDK's memfault_reboot_tracking does it: the reason (an
 * eMemfaultRebootReason, memfault-formats.md 1.9) and the PC/LR are written to .noinit
 * just before the reset; the next boot turns them into a reboot event (2.5.2).
 * The same .noinit block keeps the device clock and the reliability counters.
 */
#ifndef FLEET_REBOOT_H
#define FLEET_REBOOT_H

#include <stdbool.h>
#include <stdint.h>

#define REBOOT_POWER_ON 0x0007u
#define REBOOT_FIRMWARE_UPDATE 0x0003u
#define REBOOT_ASSERT 0x8001u
#define REBOOT_FIRST_UNEXPECTED 0x8000u

struct reboot_state {
    uint32_t magic;
    uint32_t boot_count;
    uint32_t reason; /* of the reset that ended the previous boot */
    uint32_t pc;
    uint32_t lr;
    uint64_t clock_ms;      /* device time since FLEET_EPOCH */
    uint32_t operational_ms; /* not yet counted in operational_hours */
    uint32_t crashfree_ms;   /* not yet counted in operational_crashfree_hours */
    uint32_t active_sessions; /* bit per session index, for operational_crashes */
    uint32_t session_started_ms[4];
};

extern struct reboot_state g_reboot_state;

/* Called first at boot: starts the state on a power-on, counts the boot. */
void reboot_boot(void);
bool reboot_last_unexpected(void);
/* After the reboot event is sent: a reset nobody marks is then reported as Unknown. */
void reboot_reported(void);
void reboot_mark(uint32_t reason, uint32_t pc, uint32_t lr);
__attribute__((noreturn)) void reboot_now(void);
/* Reboot the way the SDK's memfault_reboot_tracking_mark_reset_imminent + reset do. */
__attribute__((noreturn)) void reboot_for(uint32_t reason);
/* The SDK's MEMFAULT_ASSERT: the caller's PC and LR, reason Assert, reboot. */
__attribute__((noreturn)) void fleet_assert_failed(uint32_t pc, uint32_t lr);

#define FLEET_GET_PC()                                                                     \
    ({                                                                                     \
        uint32_t pc_;                                                                      \
        __asm volatile("mov %0, pc" : "=r"(pc_));                                          \
        pc_;                                                                               \
    })
#define FLEET_GET_LR() ((uint32_t)(uintptr_t)__builtin_return_address(0))
#define FLEET_ASSERT(expr)                                                                 \
    do {                                                                                   \
        if (!(expr)) {                                                                     \
            fleet_assert_failed(FLEET_GET_PC(), FLEET_GET_LR());                           \
        }                                                                                  \
    } while (0)

#endif
