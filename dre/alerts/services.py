"""Writes: store events, evaluate rules, claim notifications, fan out to targets.

1. A domain event arrives (in the publisher's transaction) and is stored once per key,
   if some enabled rule of the project listens to its type.
2. After commit, a task evaluates it against each listening rule; a rule that matches
   claims its Notification with a conditional insert (unique per rule and event), so
   two workers evaluating the same event at once notify once.
3. The claiming worker creates one delivery per webhook and one email per subscriber,
   each sent by its own task after commit.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from dre import events
from dre.accounts.models import Project
from dre.alerts import selectors
from dre.alerts.models import AlertEvent, AlertRule, EmailDelivery, Notification, Webhook
from dre.alerts.webhooks import delivery_create


class AlertError(ValueError):
    """A rule or webhook that cannot be saved as given."""


def event_receive(event: events.Event) -> AlertEvent | None:
    if event.type not in events.EventType.NOTIFIABLE:
        return None  # heartbeats and the like: for other apps, never a notification
    if not selectors.rules_listening(event.project_id, event.type):
        return None
    stored, _ = AlertEvent.objects.update_or_create(
        key=event.key,
        defaults={"data": event.data, "updated": timezone.now(), "evaluated": None},
        create_defaults={"project_id": event.project_id, "type": event.type, "data": event.data},
    )
    from dre.alerts.tasks import evaluate_event

    evaluate_event.delay_on_commit(stored.pk)
    return stored


def event_evaluate(event_id: int) -> list[Notification]:
    """Notify every listening rule the event passes; returns the notifications this call
    claimed (none for rules another worker, or an earlier run, already notified)."""
    event = AlertEvent.objects.get(pk=event_id)
    claimed = []
    for rule in selectors.rules_listening(event.project_id, event.type):
        if rule_matches(rule, event.data) and (notification := _claim(rule, event)):
            claimed.append(notification)
    # Only the data this run saw: a newer version of the event queued its own run.
    AlertEvent.objects.filter(pk=event.pk, updated=event.updated).update(evaluated=timezone.now())
    return claimed


def events_requeue_stuck(now=None) -> int:
    """Re-queue events whose evaluation task was lost (a worker died, the broker was
    down at commit). Evaluating again is safe: notifications are claimed once per rule.
    Claimed by moving `updated`, so two sweeps queue an event once."""
    from dre.alerts.tasks import evaluate_event

    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.STUCK_AFTER_SECONDS)
    stuck = AlertEvent.objects.filter(evaluated__isnull=True, updated__lt=cutoff)
    requeued = 0
    for pk, updated in stuck.values_list("pk", "updated")[:1000]:
        if AlertEvent.objects.filter(pk=pk, updated=updated).update(updated=now):
            evaluate_event.delay_on_commit(pk)
            requeued += 1
    return requeued


def rule_matches(rule: AlertRule, data: dict) -> bool:
    """The rule's filters, each off when empty: devices in the last hour (issues only: a
    rollout or a metric alert has no such count), software types, cohorts (the issue was
    seen on one of them; the rollout's or the monitor's)."""
    devices = data.get("devices_last_hour", 0)
    if rule.min_devices_last_hour and "issue" in data and devices < rule.min_devices_last_hour:
        return False
    software_types = {t.pk for t in rule.software_types.all()}
    if software_types and not software_types & set(data.get("software_type_ids", [])):
        return False
    cohorts = {c.pk for c in rule.cohorts.all()}
    return not (cohorts and not cohorts & set(data.get("cohort_ids", [])))


def _claim(rule: AlertRule, event: AlertEvent) -> Notification | None:
    # The insert is the claim: a second worker's insert waits on the unique index until
    # the first commits, then fails, and that worker moves on without notifying.
    try:
        with transaction.atomic():
            notification = Notification.objects.create(rule=rule, event=event)
            _fan_out(notification)
    except IntegrityError:
        return None
    return notification


def _fan_out(notification: Notification) -> None:
    from dre.alerts.tasks import send_email

    rule = notification.rule
    for webhook in rule.webhooks.filter(enabled=True):
        delivery_create(webhook, notification)
    if not rule.email:
        return
    project = Project.objects.get(pk=rule.project_id)
    for user in selectors.email_recipients(project):
        email = EmailDelivery.objects.create(
            notification=notification, user=user, address=user.email
        )
        send_email.delay_on_commit(email.pk)


# -- rules and settings, as edited on the pages ---------------------------------------------


def rule_save(rule: AlertRule, *, software_types=(), cohorts=(), webhooks=()) -> AlertRule:
    unknown = set(rule.events) - set(events.EventType.NOTIFIABLE)
    if not rule.events or unknown:
        raise AlertError(f"choose the events to alert on (unknown: {sorted(unknown)})")
    for related in (*software_types, *cohorts, *webhooks):
        if related.project_id != rule.project_id:
            raise AlertError(f"{related} belongs to another project")
    with transaction.atomic():
        rule.save()
        rule.software_types.set(software_types)
        rule.cohorts.set(cohorts)
        rule.webhooks.set(webhooks)
    return rule


def notification_setting_set(user, project: Project, *, email: bool) -> None:
    from dre.alerts.models import NotificationSetting

    NotificationSetting.objects.update_or_create(
        user=user, project=project, defaults={"email": email}
    )


def webhook_enable(webhook: Webhook) -> None:
    webhook.enabled, webhook.consecutive_failures = True, 0
    webhook.disabled_at, webhook.disabled_reason = None, ""
    webhook.save(
        update_fields=["enabled", "consecutive_failures", "disabled_at", "disabled_reason"]
    )
