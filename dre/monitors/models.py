"""Metric monitors: thresholds on heartbeat metrics, and the incidents they open.

A *fleet* monitor aggregates a metric over the devices of a cohort and software version
during the last window, on a schedule; a *device* monitor compares every heartbeat of
every device to the threshold. Both open Incidents (alerting -> resolved) with a
timeline, and publish dre.events so alert rules deliver them.
"""

from __future__ import annotations

import operator

from django.db import models
from django.db.models import Q
from django.utils import timezone

from dre.accounts.models import Project
from dre.fleet.models import Cohort, Device, SoftwareVersion

OPERATORS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


class Monitor(models.Model):
    class Kind(models.TextChoices):
        FLEET = "fleet", "Fleet threshold (aggregate over a window, on a schedule)"
        DEVICE = "device", "Device threshold (every heartbeat, per device)"

    class Aggregate(models.TextChoices):
        AVG = "avg", "Average"
        MIN = "min", "Minimum"
        MAX = "max", "Maximum"
        SUM = "sum", "Sum"
        P95 = "p95", "95th percentile"

    project = models.ForeignKey(Project, models.CASCADE, related_name="monitors")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    metric_key = models.CharField(max_length=128)
    aggregate = models.CharField(
        max_length=16, choices=Aggregate.choices, default=Aggregate.AVG, blank=True
    )
    operator = models.CharField(max_length=2, choices=[(o, o) for o in OPERATORS])
    threshold = models.FloatField()
    cohort = models.ForeignKey(Cohort, models.CASCADE, null=True, blank=True, related_name="+")
    software_version = models.ForeignKey(
        SoftwareVersion, models.CASCADE, null=True, blank=True, related_name="+"
    )
    window_seconds = models.PositiveIntegerField(default=3600)
    every_seconds = models.PositiveIntegerField(default=300)
    # Device monitors: how long the condition must hold before an incident opens, and
    # how long it must stay clear before it resolves, in device time (interval ends).
    start_delay_seconds = models.PositiveIntegerField(default=0)
    end_delay_seconds = models.PositiveIntegerField(default=0)
    min_devices = models.PositiveIntegerField(
        default=1, help_text="Fleet: evaluate only with at least this many reporting devices."
    )
    enabled = models.BooleanField(default=True)
    next_evaluation = models.DateTimeField(default=timezone.now)
    last_evaluated = models.DateTimeField(null=True, blank=True)
    last_value = models.FloatField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["kind", "enabled", "next_evaluation"])]

    def __str__(self):
        return self.name

    def breaches(self, value: float) -> bool:
        return OPERATORS[self.operator](value, self.threshold)

    def describe(self) -> str:
        what = self.metric_key
        if self.kind == self.Kind.FLEET:
            what = f"{self.aggregate}({what}) over {self.window_seconds // 60} min"
        return f"{what} {self.operator} {self.threshold:g}"


class Incident(models.Model):
    """One time a monitor's condition held: for a fleet monitor, or one device."""

    class State(models.TextChoices):
        ALERTING = "alerting"
        RESOLVED = "resolved"

    monitor = models.ForeignKey(Monitor, models.CASCADE, related_name="incidents")
    project = models.ForeignKey(Project, models.CASCADE, related_name="+")
    device = models.ForeignKey(Device, models.CASCADE, null=True, blank=True, related_name="+")
    state = models.CharField(max_length=16, choices=State.choices, default=State.ALERTING)
    # When the condition started to hold, when the incident opened (after the start
    # delay) and when it resolved; device time for device monitors.
    started = models.DateTimeField()
    triggered = models.DateTimeField()
    resolved = models.DateTimeField(null=True, blank=True)
    value = models.FloatField(help_text="The value that opened it.")
    last_value = models.FloatField()
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # The claim: two workers evaluating one monitor open one incident at most.
            models.UniqueConstraint(
                fields=["monitor", "device"],
                condition=Q(state="alerting", device__isnull=False),
                name="one_open_incident_per_device",
            ),
            models.UniqueConstraint(
                fields=["monitor"],
                condition=Q(state="alerting", device__isnull=True),
                name="one_open_fleet_incident",
            ),
        ]
        indexes = [models.Index(fields=["project", "state", "-triggered"])]

    def __str__(self):
        return f"incident {self.pk} of {self.monitor_id} ({self.state})"


class IncidentEntry(models.Model):
    """The timeline: what happened to an incident, when, with which value."""

    class Kind(models.TextChoices):
        TRIGGERED = "triggered"
        VALUE = "value"  # a later evaluation while alerting
        RESOLVED = "resolved"

    incident = models.ForeignKey(Incident, models.CASCADE, related_name="timeline")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    time = models.DateTimeField()
    value = models.FloatField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["time", "id"]

    def __str__(self):
        return f"{self.kind} at {self.time}"


class Observation(models.Model):
    """One heartbeat value of one device, as a device monitor saw it.

    Stored before evaluation (the outbox: a sweeper re-queues the unevaluated ones) and
    kept for the lateness window, so an out-of-order heartbeat is placed where it
    belongs in the device's timeline rather than where it arrived.
    """

    # No database constraint: the device's request inserts observations for the monitors
    # it remembers (a cached list), and one deleted meanwhile must not fail that request
    # at commit. Django still deletes a monitor's observations with it; an orphan that
    # slips in is dropped by its evaluation.
    monitor = models.ForeignKey(
        Monitor, models.CASCADE, related_name="observations", db_constraint=False
    )
    device = models.ForeignKey(Device, models.CASCADE, related_name="+")
    ended = models.DateTimeField(help_text="The interval's end: device time.")
    started = models.DateTimeField(null=True, blank=True)
    value = models.FloatField()
    breaching = models.BooleanField()
    evaluated = models.BooleanField(default=False)
    received = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["monitor", "device", "ended"], name="one_observation_per_interval"
            )
        ]
        indexes = [
            models.Index(fields=["monitor", "device", "ended"]),
            models.Index(fields=["evaluated", "received"]),
        ]

    def __str__(self):
        return f"{self.device_id} {self.value} at {self.ended}"


class DeviceWatch(models.Model):
    """Per monitor and device: the row an evaluation locks, so two workers handling two
    heartbeats of one device replay its timeline one after the other."""

    monitor = models.ForeignKey(Monitor, models.CASCADE, related_name="+")
    device = models.ForeignKey(Device, models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["monitor", "device"], name="one_watch_per_device")
        ]

    def __str__(self):
        return f"{self.monitor_id}/{self.device_id}"
