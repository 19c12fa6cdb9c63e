"""Fleet health: the metric registry, heartbeat intervals, reboots and daily rollups.

Every table carries `project` and every unique key starts with it, so the tables can be
distributed by project (Citus) without changing a query: see the README, "Fleet health".
Rows point at ingest's events by id only (`source_event_id`), never by foreign key.
"""

from django.db import models
from django.utils import timezone

from dre.accounts.models import Project
from dre.fleet.models import Cohort, Device, HardwareVersion, SoftwareVersion


class Metric(models.Model):
    """A metric key as devices report it, created the first time one is seen."""

    class Type(models.TextChoices):
        # kMemfaultMetricType_* (memfault-elf-metadata.md), plus gauge for named metrics
        # whose values are not counters (Memfault's test pattern sends those).
        UNSIGNED = "unsigned"
        SIGNED = "signed"
        TIMER = "timer"
        STRING = "string"
        GAUGE = "gauge"

    class Kind(models.TextChoices):
        # What the values are kept as: rolled up over time, the device's latest value
        # (an attribute: firmware flags, a modem's version string), or both.
        TIMESERIES = "timeseries"
        ATTRIBUTE = "attribute"
        BOTH = "both"

    project = models.ForeignKey(Project, models.CASCADE, related_name="metrics")
    key = models.CharField(max_length=128)
    display_name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    type = models.CharField(max_length=16, choices=Type.choices, default=Type.GAUGE)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.TIMESERIES)
    unit = models.CharField(max_length=32, blank=True)
    scale = models.FloatField(default=1.0, help_text="Devices send value x scale.")
    range_min = models.FloatField(null=True, blank=True, help_text="In display units.")
    range_max = models.FloatField(null=True, blank=True, help_text="In display units.")
    filter_out_of_range = models.BooleanField(
        default=False, help_text="Keep values outside the range out of rollups and attributes."
    )
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "key"], name="metric_key_per_project")
        ]

    def __str__(self):
        return self.key

    @property
    def is_timeseries(self) -> bool:
        return self.kind != self.Kind.ATTRIBUTE

    @property
    def is_attribute(self) -> bool:
        return self.kind != self.Kind.TIMESERIES

    def out_of_range(self, value) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        low, high = self.range_min, self.range_max
        return (low is not None and value < low) or (high is not None and value > high)


class HeartbeatInterval(models.Model):
    """One metrics session of one device: values by metric key, in display units.

    (project, device, session_index, ended) is the identity of an interval: a heartbeat
    re-sent after a flaky upload lands on the same row instead of counting twice.
    """

    class State(models.TextChoices):
        RESOLVED = "resolved"
        AWAITING_SYMBOLS = "awaiting_symbols"  # positional values, ELF not uploaded yet
        UNRESOLVED = "unresolved"  # the ELF does not describe these values; see `error`

    # No single-column indexes on the raw rows but the device's: each costs every insert
    # of the fleet's heartbeats, reads go through the (project, ...) indexes below, and
    # deleting a version or cohort is a rare admin step that may scan.
    # Only the device is a foreign key PostgreSQL checks: project, cohort and versions
    # are the device's at the time, copied by the code, and a check per row and key at
    # commit cost a worker's batch about 4 us of database CPU each (16 us a heartbeat).
    # Deleting any of them still cascades, protects or nulls through Django's collector;
    # what is given up is the database refusing a row whose cohort or version is
    # deleted in the same instant.
    project = models.ForeignKey(
        Project, models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    device = models.ForeignKey(Device, models.CASCADE, related_name="heartbeat_intervals")
    session_index = models.IntegerField(default=-1, help_text="-1: a named-map heartbeat.")
    session = models.CharField(max_length=128, default="heartbeat")
    started = models.DateTimeField()
    ended = models.DateTimeField()
    duration_ms = models.BigIntegerField(default=0)
    day = models.DateField(help_text="UTC day of `ended`; the day it is rolled up into.")
    software_version = models.ForeignKey(
        SoftwareVersion,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    hardware_version = models.ForeignKey(
        HardwareVersion,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    cohort = models.ForeignKey(
        Cohort, models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    build_id_prefix = models.CharField(max_length=40, blank=True)
    values = models.JSONField(default=dict)
    positional = models.JSONField(default=list, help_text="The values as sent, by position.")
    filtered = models.JSONField(
        default=dict, help_text="Values outside their metric's range, kept out of rollups."
    )
    state = models.CharField(max_length=24, choices=State.choices, default=State.RESOLVED)
    error = models.TextField(blank=True)
    source_event_id = models.BigIntegerField(null=True, blank=True)
    received = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "device", "session_index", "ended"],
                name="one_interval_per_device_session_end",
            )
        ]
        indexes = [
            models.Index(fields=["project", "day"]),
            models.Index(fields=["project", "device", "-ended"]),
            models.Index(fields=["project", "state"]),
        ]

    def __str__(self):
        return f"{self.session} of {self.device_id} ending {self.ended:%Y-%m-%d %H:%M}"


class DeviceMetricValue(models.Model):
    """The latest value of an attribute metric on one device (Metric.kind attribute/both).

    `time` is the end of the interval that carried it: a late heartbeat never overwrites a
    newer value.
    """

    project = models.ForeignKey(Project, models.CASCADE, related_name="+")
    device = models.ForeignKey(Device, models.CASCADE, related_name="metric_values")
    key = models.CharField(max_length=128)
    value = models.JSONField()
    time = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "device", "key"], name="one_latest_value_per_device_metric"
            )
        ]

    def __str__(self):
        return f"{self.key} of {self.device_id}"


class Reboot(models.Model):
    """A reboot event: its eMemfaultRebootReason code, named and classified."""

    project = models.ForeignKey(Project, models.CASCADE, related_name="+")
    device = models.ForeignKey(Device, models.CASCADE, related_name="reboots")
    time = models.DateTimeField()
    time_known = models.BooleanField(default=True, help_text="False: the receive time.")
    day = models.DateField()
    reason = models.BigIntegerField(help_text="An eMemfaultRebootReason code.")
    reason_name = models.CharField(max_length=64)
    unexpected = models.BooleanField()
    pc = models.BigIntegerField(null=True, blank=True)
    lr = models.BigIntegerField(null=True, blank=True)
    coredump_saved = models.BooleanField(null=True)
    software_version = models.ForeignKey(
        SoftwareVersion, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    hardware_version = models.ForeignKey(
        HardwareVersion, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cohort = models.ForeignKey(Cohort, models.PROTECT, related_name="+")
    source_event_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "source_event_id"], name="one_reboot_per_event"
            )
        ]
        indexes = [
            models.Index(fields=["project", "day"]),
            models.Index(fields=["project", "device", "-time"]),
        ]

    def __str__(self):
        return f"{self.reason_name} on {self.device_id}"


class DirtyDay(models.Model):
    """A day whose rollups must be recomputed: new or late intervals arrived for it."""

    project = models.ForeignKey(Project, models.CASCADE, related_name="+")
    day = models.DateField()
    marked = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "day"], name="one_dirty_mark_per_day")
        ]

    def __str__(self):
        return f"{self.day} of project {self.project_id}"


class _Group(models.Model):
    """The split every rollup shares: day, software version, hardware version, cohort."""

    project = models.ForeignKey(Project, models.CASCADE, related_name="+")
    day = models.DateField()
    software_version = models.ForeignKey(
        SoftwareVersion, models.CASCADE, null=True, blank=True, related_name="+"
    )
    hardware_version = models.ForeignKey(
        HardwareVersion, models.CASCADE, null=True, blank=True, related_name="+"
    )
    cohort = models.ForeignKey(Cohort, models.CASCADE, related_name="+")

    class Meta:
        abstract = True


class MetricDailyRollup(_Group):
    """Numeric metric values of one day and group: enough for count, mean, min, max."""

    metric = models.CharField(max_length=128)
    count = models.BigIntegerField()
    total = models.FloatField()
    minimum = models.FloatField()
    maximum = models.FloatField()
    sketch = models.JSONField(
        default=dict, help_text="Value counts by logarithmic bucket (dre.health.sketch)."
    )

    class Meta:
        indexes = [models.Index(fields=["project", "metric", "day"])]

    def __str__(self):
        return f"{self.metric} on {self.day}"


class StabilityDailyRollup(_Group):
    """What the stability numbers of one day and group are computed from."""

    devices = models.IntegerField(default=0)
    crashed_devices = models.IntegerField(default=0)
    sessions = models.IntegerField(default=0)
    crashed_sessions = models.IntegerField(default=0)
    operational_hours = models.FloatField(default=0)
    crashfree_hours = models.FloatField(default=0)
    unexpected_reboots = models.IntegerField(default=0)
    expected_reboots = models.IntegerField(default=0)
    # Battery: SoC percentage points lost over hours spent discharging (battery_soc_pct_drop
    # over battery_discharge_duration_ms), from intervals that sent both.
    battery_soc_drop = models.FloatField(default=0)
    battery_discharge_hours = models.FloatField(default=0)
    battery_intervals = models.IntegerField(default=0)
    # Connectivity: connected time over the time the device expected to be connected.
    connected_hours = models.FloatField(default=0)
    connectivity_expected_hours = models.FloatField(default=0)

    class Meta:
        indexes = [models.Index(fields=["project", "day"])]

    def __str__(self):
        return f"stability on {self.day}"
