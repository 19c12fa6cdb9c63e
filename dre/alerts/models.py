"""Alerts: rules that turn domain events (dre.events) into notifications, and the
targets notifications go to (webhooks, email to subscribed project members)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from dre.accounts.models import Project
from dre.events import EventType
from dre.fleet.models import Cohort, SoftwareType

EVENT_CHOICES = [(name, name) for name in EventType.NOTIFIABLE]


class AlertEvent(models.Model):
    """One published event, stored once per key, as alerts received it."""

    project = models.ForeignKey(Project, models.CASCADE, related_name="alert_events")
    type = models.CharField(max_length=64, choices=EVENT_CHOICES)
    key = models.CharField(max_length=200, unique=True)
    data = models.JSONField(default=dict)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(default=timezone.now)
    # Null until every listening rule has been evaluated for its latest data: the
    # sweeper re-queues events whose evaluation task was lost.
    evaluated = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["updated"],
                condition=models.Q(evaluated__isnull=True),
                name="alert_event_unevaluated",
            )
        ]

    def __str__(self):
        return f"{self.type} ({self.key})"


class Webhook(models.Model):
    """An HTTPS endpoint that receives notifications, signed with its own secret."""

    class Kind(models.TextChoices):
        GENERIC = "generic", "JSON, signed (HMAC-SHA256)"
        SLACK = "slack", "Slack incoming webhook"

    project = models.ForeignKey(Project, models.CASCADE, related_name="webhooks")
    name = models.CharField(max_length=200)
    url = models.URLField(max_length=2000)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.GENERIC)
    # Kept in clear: it signs every delivery, so dre needs it, not just a digest of it.
    secret = models.CharField(max_length=100)
    enabled = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.name


class AlertRule(models.Model):
    """When an event of one of `events` happens in the project and passes the filters,
    notify the rule's webhooks and, if `email`, the project members who subscribed."""

    project = models.ForeignKey(Project, models.CASCADE, related_name="alert_rules")
    name = models.CharField(max_length=200)
    events = models.JSONField(default=list, help_text="Event types this rule fires on.")
    min_devices_last_hour = models.PositiveIntegerField(
        default=0, help_text="Only issues seen on at least this many devices in the last hour."
    )
    software_types = models.ManyToManyField(SoftwareType, blank=True, related_name="+")
    cohorts = models.ManyToManyField(Cohort, blank=True, related_name="+")
    webhooks = models.ManyToManyField(Webhook, blank=True, related_name="rules")
    email = models.BooleanField(default=True, help_text="Email subscribed project members.")
    enabled = models.BooleanField(default=True)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.name


class Notification(models.Model):
    """A rule fired for an event. Unique per rule and event: the row is the claim, so two
    workers evaluating the same event notify once."""

    rule = models.ForeignKey(AlertRule, models.CASCADE, related_name="notifications")
    event = models.ForeignKey(AlertEvent, models.CASCADE, related_name="notifications")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "event"], name="notification_once_per_rule")
        ]

    def __str__(self):
        return f"{self.rule} on {self.event}"


class WebhookDelivery(models.Model):
    """One message to one webhook. Its body is fixed when created, so every retry sends
    the same bytes, signature and delivery id."""

    class State(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"  # gave up: out of retries, or the webhook was disabled

    webhook = models.ForeignKey(Webhook, models.CASCADE, related_name="deliveries")
    notification = models.ForeignKey(
        Notification, models.CASCADE, null=True, blank=True, related_name="deliveries"
    )
    delivery_id = models.UUIDField(default=uuid.uuid4, unique=True)
    event_type = models.CharField(max_length=64)
    body = models.TextField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now)
    # When the pending delivery is due; the sweeper re-queues it if that is long past
    # (its retry message was lost with a broker or worker).
    next_attempt = models.DateTimeField(default=timezone.now)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["webhook", "notification"], name="delivery_once_per_notification"
            )
        ]
        indexes = [
            models.Index(fields=["webhook", "-created"]),
            models.Index(fields=["state", "next_attempt"]),
        ]

    def __str__(self):
        return f"delivery {self.delivery_id} ({self.state})"


class DeliveryAttempt(models.Model):
    """One HTTP request of a delivery: the delivery log."""

    delivery = models.ForeignKey(WebhookDelivery, models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["number"]

    def __str__(self):
        return f"attempt {self.number} of {self.delivery_id}"


class NotificationSetting(models.Model):
    """A user's choice for one project: email me about its alerts, or not."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="notification_settings"
    )
    project = models.ForeignKey(Project, models.CASCADE, related_name="+")
    email = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "project"], name="one_setting_per_project")
        ]

    def __str__(self):
        return f"{self.user} on {self.project}"


class EmailDelivery(models.Model):
    """One notification email to one user; the row is claimed before sending."""

    class State(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"  # claimed by a worker; at most one sends it
        SENT = "sent"
        FAILED = "failed"

    notification = models.ForeignKey(Notification, models.CASCADE, related_name="emails")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    address = models.EmailField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now)
    # Last change of state: a row pending or sending long after it is the sweeper's.
    updated = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["notification", "user"], name="email_once_per_user")
        ]
        indexes = [models.Index(fields=["state", "updated"])]

    def __str__(self):
        return f"email to {self.address} ({self.state})"
