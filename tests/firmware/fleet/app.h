#ifndef FLEET_APP_H
#define FLEET_APP_H

#include <stdint.h>

/* The simulated application: `minutes` of device time, minute by minute. */
void app_run(uint32_t minutes);
/* The hour's sensor, CPU, battery and connectivity figures into the heartbeat. */
void app_heartbeat_values(void);
void app_cli_command(const char *name, uint32_t minutes, int32_t exit_code);
/* The last hour's temperatures as CSV, sent as a custom data recording. */
void app_record_temperatures(void);
void config_apply(uint32_t gain);
uint32_t calc_rate(uint32_t events, uint32_t seconds);

#endif
