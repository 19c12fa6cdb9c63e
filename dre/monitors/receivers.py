"""Where monitors hears about heartbeats (subscribed in MonitorsConfig.ready)."""

from __future__ import annotations

from dre import events


def heartbeats_recorded(sender, event: events.Event, **kwargs) -> None:
    if event.type != events.EventType.HEALTH_HEARTBEATS_RECORDED:
        return
    from dre.monitors import services

    services.heartbeat_event_received(event)


def monitor_changed(sender, instance, **kwargs) -> None:
    from dre.monitors import services

    services.monitor_changed(sender, instance, **kwargs)
