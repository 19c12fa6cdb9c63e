"""Where alerts hears about domain events (subscribed in AlertsConfig.ready)."""

from __future__ import annotations

from dre import events
from dre.alerts import services


def event_received(sender, event: events.Event, **kwargs) -> None:
    services.event_receive(event)
