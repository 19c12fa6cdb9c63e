"""Domain events: the one seam through which one app tells the others what happened.

An app that owns a change (crashes resolves an issue, health opens an incident,
releases halts a rollout) publishes an Event here, inside the transaction that made
the change; apps that react (alerts) subscribe in their AppConfig.ready(). Neither side
imports the other or reads the other's tables: everything a subscriber needs travels in
`data`, which must be JSON.

The event `key` names the occurrence: publishing the same key twice (a retried task,
two workers) is the same event, so subscribers can store it once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.dispatch import Signal


class EventType:
    """Every event type, by its name on the wire (Memfault's webhook names where they exist)."""

    ISSUE_CREATED = "issue.created"
    ISSUE_REGRESSED = "issue.regressed"
    ISSUE_REOPENED = "issue.reopened"
    ISSUE_RESOLVED = "issue.resolved"
    ISSUE_COMMENTED = "issue_comment.created"
    # A trace arrived for an issue; one event per issue and hour, for rules that count
    # devices ("over N devices in an hour").
    ISSUE_OCCURRED = "issue.occurred"
    # dre/health publishes one per stored batch of resolved heartbeats, after commit:
    # data = {"project_id", "heartbeats": [{"device_id", "serial", "ended", "values"}]}.
    HEALTH_HEARTBEATS_RECORDED = "health.heartbeats_recorded"
    # Reserved for dre/health (fleet health), which publishes them; nothing does yet.
    DEVICE_ALERT_TRIGGERED = "device_threshold_alert.triggered"
    DEVICE_ALERT_RESOLVED = "device_threshold_alert.resolved"
    FLEET_ALERT_TRIGGERED = "fleet_threshold_alert.triggered"
    # Reserved for dre/releases (rollouts), which publishes them; nothing does yet.
    ROLLOUT_HALTED = "rollout.halted"
    ROLLOUT_RESUMED = "rollout.resumed"
    ROLLOUT_WIDENED = "rollout.widened"

    ISSUE_TYPES = (
        ISSUE_CREATED,
        ISSUE_REGRESSED,
        ISSUE_REOPENED,
        ISSUE_RESOLVED,
        ISSUE_COMMENTED,
        ISSUE_OCCURRED,
    )
    ALL = (
        *ISSUE_TYPES,
        HEALTH_HEARTBEATS_RECORDED,
        DEVICE_ALERT_TRIGGERED,
        DEVICE_ALERT_RESOLVED,
        FLEET_ALERT_TRIGGERED,
        ROLLOUT_HALTED,
        ROLLOUT_RESUMED,
        ROLLOUT_WIDENED,
    )


@dataclass(frozen=True)
class Event:
    type: str
    project_id: int
    key: str
    data: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.type not in EventType.ALL:
            raise ValueError(f"unknown event type {self.type!r}")


domain_event = Signal()


def publish(event: Event) -> None:
    """Tell every subscriber, synchronously and in the caller's transaction: a subscriber
    that wants to do slow work queues it on commit, so a rolled-back change announces
    nothing."""
    domain_event.send(sender=Event, event=event)


def subscribe(receiver, uid: str) -> None:
    domain_event.connect(receiver, sender=Event, weak=False, dispatch_uid=uid)
