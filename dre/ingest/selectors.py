"""Reads of what devices sent, for other apps: they ask here instead of querying ingest's tables."""

from __future__ import annotations

from dre.fleet.models import Device
from dre.ingest.models import Event


def device_events(device: Device, kinds: list[str], *, limit: int = 100) -> list[Event]:
    """A device's newest events of these kinds (logs, trace events...), newest first."""
    return list(Event.objects.filter(device=device, kind__in=kinds).order_by("-received")[:limit])
