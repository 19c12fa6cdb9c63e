"""The SDK's built-in heartbeat metrics that the stability numbers read (§2.5.1 and
memfault-elf-metadata.md), with the names and units shown for them."""

SDK_INTERVAL_MS = "MemfaultSdkMetric_IntervalMs"
UNEXPECTED_REBOOTS = "MemfaultSdkMetric_UnexpectedRebootCount"
OPERATIONAL_HOURS = "operational_hours"
OPERATIONAL_CRASHFREE_HOURS = "operational_crashfree_hours"
OPERATIONAL_CRASHES = "operational_crashes"  # a session's own crash count
BATTERY_SOC_DROP = "battery_soc_pct_drop"  # percentage points lost while discharging
BATTERY_DISCHARGE_MS = "battery_discharge_duration_ms"  # time spent discharging
CONNECTED_MS = "connectivity_connected_time_ms"
CONNECTIVITY_EXPECTED_MS = "connectivity_expected_time_ms"

BUILTIN_METRICS = {
    SDK_INTERVAL_MS: {"display_name": "Interval", "type": "timer", "unit": "ms"},
    UNEXPECTED_REBOOTS: {"display_name": "Unexpected reboots", "type": "unsigned"},
    OPERATIONAL_HOURS: {"display_name": "Operational hours", "type": "unsigned", "unit": "h"},
    OPERATIONAL_CRASHFREE_HOURS: {
        "display_name": "Crash-free hours",
        "type": "unsigned",
        "unit": "h",
    },
    OPERATIONAL_CRASHES: {"display_name": "Crashes", "type": "unsigned"},
    "battery_soc_pct": {"display_name": "Battery", "type": "unsigned", "unit": "%"},
    "connectivity_connected_time_ms": {
        "display_name": "Connected time",
        "type": "timer",
        "unit": "ms",
    },
    BATTERY_SOC_DROP: {"display_name": "Battery drop", "type": "unsigned", "unit": "%"},
    BATTERY_DISCHARGE_MS: {"display_name": "Discharge time", "type": "timer", "unit": "ms"},
    CONNECTIVITY_EXPECTED_MS: {
        "display_name": "Expected connected time",
        "type": "timer",
        "unit": "ms",
    },
    "uptime_s": {"display_name": "Uptime", "type": "unsigned", "unit": "s"},
}
