"""Writes: save monitors, observe heartbeats, evaluate device and fleet thresholds,
open and resolve incidents, announce them through dre.events.

Concurrency, the way healthchecks does it: an evaluation holds a row lock (the device's
DeviceWatch, or the fleet Monitor row) for its whole transaction, so two workers
evaluating the same thing run one after the other and the second sees the first's
incident; the partial unique indexes on open incidents are the backstop.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from dre import events
from dre.health import selectors as health
from dre.monitors import aggregates
from dre.monitors.announce import incident_announce
from dre.monitors.models import DeviceWatch, Incident, IncidentEntry, Monitor, Observation
from dre.monitors.timeline import Point, Transition, replay

Kind = Monitor.Kind
CACHE_SECONDS = 300


class MonitorError(ValueError):
    """A monitor that cannot be saved as given."""


def _cache_key(project_id: int) -> str:
    return f"monitors:device:{project_id}"


# -- saving ---------------------------------------------------------------------------------


def monitor_save(monitor: Monitor) -> Monitor:
    _validate(monitor)
    monitor.save()  # post_save forgets the cached list (monitor_changed)
    return monitor


def monitor_delete(monitor: Monitor) -> None:
    monitor.delete()  # post_delete forgets the cached list, observations go with it


def monitor_changed(sender, instance: Monitor, **kwargs) -> None:
    """Saved or deleted by any path (the admin, a project's cascade): forget the cache."""
    _forget_device_monitors(instance.project_id)


def _forget_device_monitors(project_id: int) -> None:
    # Now, and again after commit: a heartbeat read between the two would cache the
    # monitors as they were before this transaction.
    cache.delete(_cache_key(project_id))
    transaction.on_commit(lambda: cache.delete(_cache_key(project_id)))


def _validate(monitor: Monitor) -> None:
    lateness = settings.MONITOR_LATENESS_SECONDS
    if not monitor.metric_key.strip():
        raise MonitorError("name the metric to watch")
    if monitor.kind not in Kind.values:
        raise MonitorError(f"unknown monitor kind {monitor.kind!r}")
    if max(monitor.start_delay_seconds, monitor.end_delay_seconds) > lateness:
        raise MonitorError(f"start and end delays are at most {lateness} seconds")
    if monitor.kind == Kind.FLEET and monitor.aggregate not in Monitor.Aggregate.values:
        raise MonitorError(f"unknown aggregate {monitor.aggregate!r}")
    if monitor.kind == Kind.FLEET and min(monitor.window_seconds, monitor.every_seconds) < 60:
        raise MonitorError("a fleet monitor's window and schedule are at least 60 seconds")
    for related in (monitor.cohort, monitor.software_version):
        if related is not None and _project_of(related) != monitor.project_id:
            raise MonitorError(f"{related} belongs to another project")


def _project_of(related) -> int:
    if hasattr(related, "project_id"):
        return related.project_id
    return related.software_type.project_id  # a SoftwareVersion


# -- device thresholds: observe every heartbeat -------------------------------------------


def device_monitors(project_id: int) -> list[dict]:
    """The project's enabled device monitors, cached: this runs in the device's request
    for every heartbeat, and most projects have none."""
    found = cache.get(_cache_key(project_id))
    if found is None:
        rows = Monitor.objects.filter(project_id=project_id, kind=Kind.DEVICE, enabled=True)
        fields = ("id", "metric_key", "operator", "threshold", "cohort_id", "software_version_id")
        found = list(rows.values(*fields))
        cache.set(_cache_key(project_id), found, CACHE_SECONDS)
    return found


def heartbeats_observe(project_id: int, intervals: list[dict]) -> int:
    """Store what each device monitor sees in these intervals, then evaluate each
    (monitor, device) after commit. The stored observation is the outbox: if the task
    is lost, the sweeper finds it unevaluated."""
    from dre.monitors.tasks import evaluate_device

    monitors = device_monitors(project_id)
    if not monitors:
        return 0
    observations = [
        observation
        for interval in intervals
        for monitor in monitors
        if (observation := _observation(monitor, interval)) is not None
    ]
    Observation.objects.bulk_create(observations, ignore_conflicts=True)
    for monitor_id, device_id in {(o.monitor_id, o.device_id) for o in observations}:
        evaluate_device.delay_on_commit(monitor_id, device_id)
    return len(observations)


def _observation(monitor: dict, interval: dict) -> Observation | None:
    value = interval.get("values", {}).get(monitor["metric_key"])
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    for field in ("cohort_id", "software_version_id"):
        if monitor[field] and monitor[field] != interval.get(field):
            return None
    probe = Monitor(operator=monitor["operator"], threshold=monitor["threshold"])
    return Observation(
        monitor_id=monitor["id"],
        device_id=interval["device_id"],
        ended=parse_datetime(interval["ended"]),
        started=parse_datetime(interval["started"]) if interval.get("started") else None,
        value=float(value),
        breaching=probe.breaches(float(value)),
    )


def device_evaluate(monitor_id: int, device_id: int) -> list[Transition]:
    """Replay the device's observations after the last transition and apply what changed."""
    monitor = Monitor.objects.select_related("project__organization").filter(pk=monitor_id).first()
    if monitor is None or not monitor.enabled:
        # Deleted or switched off since the heartbeat: nothing to say, nothing to sweep.
        pending = Observation.objects.filter(monitor_id=monitor_id, device_id=device_id)
        if monitor is None:
            pending.delete()
        else:
            pending.update(evaluated=True)
        return []
    with transaction.atomic():
        DeviceWatch.objects.select_for_update().get_or_create(
            monitor_id=monitor_id, device_id=device_id
        )
        latest = _latest_incident(monitor, device_id)
        open_incident = latest if latest and latest.state == Incident.State.ALERTING else None
        observations = Observation.objects.filter(monitor_id=monitor_id, device_id=device_id)
        points = _points_to_replay(observations, _last_transition(latest))
        transitions = replay(
            points,
            alerting=open_incident is not None,
            start_delay=timedelta(seconds=monitor.start_delay_seconds),
            end_delay=timedelta(seconds=monitor.end_delay_seconds),
        )
        for transition in transitions:
            open_incident = _apply(monitor, device_id, open_incident, transition)
        if open_incident is not None and points:
            Incident.objects.filter(pk=open_incident.pk).update(last_value=points[-1].value)
        # Late ones (before the floor) are kept but cannot rewrite a settled past.
        observations.filter(evaluated=False).update(evaluated=True)
    return transitions


def _open_incident(monitor: Monitor, device_id: int | None) -> Incident | None:
    return Incident.objects.filter(
        monitor=monitor, device_id=device_id, state=Incident.State.ALERTING
    ).first()


def _latest_incident(monitor: Monitor, device_id: int) -> Incident | None:
    # A device's incidents follow one another (one open at a time), so the latest one
    # says both whether one is open and when the last transition was.
    found = Incident.objects.filter(monitor=monitor, device_id=device_id)
    return found.order_by("-triggered", "-pk").first()


def _last_transition(incident: Incident | None) -> datetime:
    if incident is None:
        return datetime.min.replace(tzinfo=UTC)
    return incident.resolved or incident.triggered


# A bound on one replay; with the lateness window it is never reached by devices that
# send a heartbeat a minute or less often (1440 a day).
REPLAY_LIMIT = 2000


def _points_to_replay(observations, last_transition: datetime) -> list[Point]:
    """Observations that can still change the story: after the last transition (those
    are facts, already announced), and within the lateness window of the newest one."""
    rows = list(
        observations.filter(ended__gt=last_transition)
        .order_by("-ended")
        .values_list("ended", "value", "breaching", "started")[:REPLAY_LIMIT]
    )
    if not rows:
        return []
    floor = rows[0][0] - timedelta(seconds=settings.MONITOR_LATENESS_SECONDS)
    return [Point(*row) for row in reversed(rows) if row[0] > floor]


def _apply(monitor, device_id, open_incident, transition: Transition) -> Incident | None:
    if transition.kind == "triggered":
        t = transition
        return incident_open(monitor, device_id, t.started, t.time, t.value)
    incident_resolve(open_incident, transition.time, transition.value)
    return None


# -- incidents --------------------------------------------------------------------------------


def incident_open(monitor, device_id, started, when, value: float) -> Incident:
    incident = Incident.objects.create(
        monitor=monitor,
        project_id=monitor.project_id,
        device_id=device_id,
        started=started,
        triggered=when,
        value=value,
        last_value=value,
    )
    note = f"{monitor.describe()}: {value:g}"
    IncidentEntry.objects.create(
        incident=incident, kind="triggered", time=when, value=value, note=note
    )
    incident_announce(incident, "triggered")
    return incident


def incident_resolve(incident: Incident, when, value: float) -> None:
    incident.state, incident.resolved, incident.last_value = Incident.State.RESOLVED, when, value
    incident.save(update_fields=["state", "resolved", "last_value"])
    IncidentEntry.objects.create(
        incident=incident, kind="resolved", time=when, value=value, note=f"back to {value:g}"
    )
    incident_announce(incident, "resolved")


# -- fleet thresholds: on a schedule --------------------------------------------------------


def fleet_dispatch_due(now=None) -> int:
    """Queue the fleet monitors that are due. Claimed by moving next_evaluation with a
    conditional update, so two beats (or a beat and a sweep) queue a monitor once; if the
    queued task is lost, the monitor is simply due again one period later."""
    from dre.monitors.tasks import evaluate_fleet

    now = now or timezone.now()
    due = Monitor.objects.filter(kind=Kind.FLEET, enabled=True, next_evaluation__lte=now)
    queued = 0
    for pk, when, every in due.values_list("pk", "next_evaluation", "every_seconds")[:1000]:
        later = now + timedelta(seconds=every)
        if Monitor.objects.filter(pk=pk, next_evaluation=when).update(next_evaluation=later):
            evaluate_fleet.delay_on_commit(pk)
            queued += 1
    return queued


def fleet_evaluate(monitor_id: int, now=None) -> str:
    """Aggregate the metric over the last window and open, extend or resolve the
    monitor's incident. Returns what happened, for the task's result and the tests."""
    now = now or timezone.now()
    with transaction.atomic():
        monitor = (
            Monitor.objects.select_for_update(of=("self",))
            .select_related("project__organization")
            .filter(pk=monitor_id, enabled=True)
            .first()
        )
        if monitor is None:
            return "gone"  # deleted or switched off after it was queued
        values = health.metric_values(
            monitor.project_id,
            monitor.metric_key,
            since=now - timedelta(seconds=monitor.window_seconds),
            until=now,
            cohort_id=monitor.cohort_id,
            software_version_id=monitor.software_version_id,
        )
        result = aggregates.compute(monitor.aggregate, values, min_devices=monitor.min_devices)
        monitor.last_evaluated, monitor.last_value = now, result.value
        monitor.last_error = result.problem
        monitor.save(update_fields=["last_evaluated", "last_value", "last_error"])
        if result.value is None:
            return "no data"
        return _fleet_step(monitor, result.value, now)


def _fleet_step(monitor: Monitor, value: float, now) -> str:
    incident = _open_incident(monitor, None)
    breaching = monitor.breaches(value)
    if breaching and incident is None:
        incident_open(monitor, None, now, now, value)
        return "triggered"
    if not breaching and incident is not None:
        incident_resolve(incident, now, value)
        return "resolved"
    if incident is not None:
        Incident.objects.filter(pk=incident.pk).update(last_value=value)
        IncidentEntry.objects.create(incident=incident, kind="value", time=now, value=value)
        return "alerting"
    return "ok"


# -- the sweeper ---------------------------------------------------------------------------


def observations_requeue_stuck(now=None) -> int:
    """Re-queue evaluations whose task was lost: observations still unevaluated long
    after they arrived. Evaluating twice is harmless (the replay is idempotent)."""
    from dre.monitors.tasks import evaluate_device

    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.STUCK_AFTER_SECONDS)
    stuck = (
        Observation.objects.filter(evaluated=False, received__lt=cutoff)
        .values_list("monitor_id", "device_id")
        .distinct()[:1000]
    )
    pairs = list(stuck)
    for monitor_id, device_id in pairs:
        evaluate_device.delay_on_commit(monitor_id, device_id)
    return len(pairs)


def observations_prune(now=None) -> int:
    """Forget evaluated observations older than twice the lateness window: no replay
    reaches back that far."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=2 * settings.MONITOR_LATENESS_SECONDS)
    deleted, _ = Observation.objects.filter(evaluated=True, received__lt=cutoff).delete()
    return deleted


def heartbeat_event_received(event: events.Event) -> int:
    return heartbeats_observe(event.project_id, event.data.get("intervals", []))
