"""Reads: which rules listen, who subscribed, what a webhook delivered."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from dre.accounts.models import Project
from dre.alerts.models import AlertRule, NotificationSetting, Webhook, WebhookDelivery


def rules_listening(project_id: int, event_type: str) -> list[AlertRule]:
    rules = AlertRule.objects.filter(project_id=project_id, enabled=True).prefetch_related(
        "software_types", "cohorts"
    )
    # The event list is JSON; filtering in Python keeps this the same on SQLite and Postgres.
    return [rule for rule in rules if event_type in rule.events]


def email_recipients(project: Project) -> QuerySet:
    """Active members of the project's organization who asked for its alerts by email."""
    return (
        get_user_model()
        .objects.filter(
            notification_settings__project=project,
            notification_settings__email=True,
            memberships__organization=project.organization_id,
            is_active=True,
        )
        .exclude(email="")
        .distinct()
    )


def notification_settings_of(user, projects) -> dict[int, NotificationSetting]:
    found = NotificationSetting.objects.filter(user=user, project__in=projects)
    return {setting.project_id: setting for setting in found}


def webhook_deliveries(webhook: Webhook, limit: int = 50) -> list[WebhookDelivery]:
    return list(
        WebhookDelivery.objects.filter(webhook=webhook)
        .prefetch_related("attempt_log")
        .order_by("-created", "-id")[:limit]
    )
