/*
 * What the fleet firmware says about itself in every event (memfault-formats.md 2.4) and
 * its clock. Time is simulated: one heartbeat interval is an hour of device time, but
 * QEMU runs it in microseconds, so a capture is fast and byte-for-byte repeatable. The
 * clock lives in .noinit and keeps running across reboots, like an RTC.
 */
#ifndef FLEET_H
#define FLEET_H

#include <stdint.h>

#define FLEET_SOFTWARE_TYPE "dre-fleetfw"
#define FLEET_SOFTWARE_VERSION "2.4.0"
#ifndef DRE_BOARD_NAME
#error "DRE_BOARD_NAME must be set by the Makefile"
#endif

/* 2026-11-30T00:00:00Z, the device clock at the first power-on. */
#define FLEET_EPOCH 1795996800u
#define FLEET_HOUR_MS 3600000u

uint32_t fleet_time_now(void);            /* Unix seconds */
uint32_t fleet_uptime_ms(void);           /* since this boot */
void fleet_clock_advance(uint32_t ms);    /* device time passes */

#endif
