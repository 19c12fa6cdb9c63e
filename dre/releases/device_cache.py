"""What `releases/latest` reads, kept per process for the current release generation.

A device's question depends on rows that change rarely (hardware versions, software
types and the versions devices report, the deployments of a cohort with their
releases and artifacts, the cohort's downgrade policy, the device's cohort) and on
its serial (staging) and current version. Every change of those rows bumps the
project's "releases" generation (dre/generations.py) once committed: release,
artifact, deployment and cohort policy saves (signals below, which the deployment
log of every pause, resume, widen, pull and halt also fires), and device moves
between cohorts (dre.fleet.services). A request reads the generation (one cache
round trip) and uses what this process kept for it; anything kept under another
generation, or for longer than MAX_AGE_SECONDS (a bump that could not reach the
cache), is read again.

Only what exists is kept: an unknown hardware version or device is looked up again
next time, so a new one is found at once.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from django.db.models.signals import post_delete, post_save

from dre.fleet.models import Cohort, Device
from dre.fleet.selectors import hardware_version_find, software_type_find
from dre.fleet.services import software_version_get
from dre.generations import RELEASES, generation_bump, generation_get
from dre.releases.models import Artifact, CohortPolicy, Deployment, DeploymentLog, Release

GENERATION = RELEASES
MAX_AGE_SECONDS = 300
# Devices kept per project at most (serial -> ids, a few hundred bytes each).
MAX_DEVICES = 100_000


@dataclass
class Snapshot:
    """What one process read for one project in one generation."""

    generation: int
    born: float = field(default_factory=time.monotonic)
    hardware: dict = field(default_factory=dict)
    software_types: dict = field(default_factory=dict)
    software_versions: dict = field(default_factory=dict)  # (type id, version) -> row
    devices: dict = field(default_factory=dict)
    offers: dict = field(default_factory=dict)  # (cohort, type, hardware) -> Offers

    def fresh(self, generation: int) -> bool:
        return generation == self.generation and time.monotonic() - self.born < MAX_AGE_SECONDS


_snapshots: dict[int, Snapshot] = {}
_lock = threading.Lock()


def snapshot_for(project_id: int) -> Snapshot | None:
    """This process's snapshot of the project's current generation; None when the
    generation cannot be read (the cache is down): then nothing kept is trusted."""
    generation = generation_get(GENERATION, project_id)
    if generation is None:
        return None
    with _lock:
        snapshot = _snapshots.get(project_id)
        if snapshot is None or not snapshot.fresh(generation):
            snapshot = _snapshots[project_id] = Snapshot(generation)
        return snapshot


def kept(table: dict, key, load):
    """`table[key]`, loaded once by `load()`; a None answer is not kept."""
    found = table.get(key)
    if found is None:
        found = load()
        if found is not None:
            if len(table) >= MAX_DEVICES:
                table.clear()
            table[key] = found
    return found


def hardware_version(snapshot: Snapshot | None, project, name: str):
    if snapshot is None:
        return hardware_version_find(project, name)
    return kept(snapshot.hardware, name, lambda: hardware_version_find(project, name))


def software_type(snapshot: Snapshot | None, project, name: str):
    if snapshot is None:
        return software_type_find(project, name)
    return kept(snapshot.software_types, name, lambda: software_type_find(project, name))


def software_version(snapshot: Snapshot | None, project, software_type, version: str | None):
    """The SoftwareVersion a device reports, found or created (None for no version)."""
    if snapshot is None or not version:
        return software_version_get(project, software_type.name, version)
    key = (software_type.pk, version)
    return kept(
        snapshot.software_versions,
        key,
        lambda: software_version_get(project, software_type.name, version),
    )


def releases_changed(project_id: int) -> None:
    generation_bump(GENERATION, project_id)


def snapshots_clear() -> None:
    with _lock:
        _snapshots.clear()


def _on_change(sender, instance, **kwargs) -> None:
    project_id = getattr(instance, "project_id", None)
    if project_id is None and isinstance(instance, CohortPolicy | DeploymentLog | Artifact):
        project_id = _project_of(instance)
    if project_id is not None:
        releases_changed(project_id)


def _project_of(instance) -> int | None:
    for name in ("cohort", "deployment", "release"):
        related = getattr(instance, name, None)
        if related is not None and getattr(related, "project_id", None) is not None:
            return related.project_id
    return None


for _model in (Release, Artifact, Deployment, DeploymentLog, CohortPolicy):
    post_save.connect(_on_change, sender=_model, dispatch_uid=f"releases-changed-{_model}")
    post_delete.connect(_on_change, sender=_model, dispatch_uid=f"releases-deleted-{_model}")
# A deleted device or cohort must not be answered for (nor recorded against) from
# what a process kept.
for _model in (Device, Cohort):
    post_delete.connect(_on_change, sender=_model, dispatch_uid=f"releases-deleted-{_model}")


def offers(snapshot: Snapshot | None, cohort_id: int, software_type, hardware):
    """The cohort's CohortOffers for this software type and hardware version."""
    from dre.releases.selectors import cohort_offers

    if snapshot is None:
        return cohort_offers(cohort_id, software_type, hardware)
    key = (cohort_id, software_type.pk, hardware.pk)
    return kept(snapshot.offers, key, lambda: cohort_offers(cohort_id, software_type, hardware))


# A device's last_seen (and the versions it reports) is written at most this often
# by one process's update checks, unless the versions it reports change.
SEEN_EVERY_SECONDS = 60


@dataclass(frozen=True)
class KnownDevice:
    """What a device's answer needs of its row (it exists, its cohort), and what this
    process last wrote to it (when, which versions)."""

    id: int
    cohort_id: int
    project_id: int
    serial: str
    versions: tuple = (None, None)  # hardware, software version ids last written
    marked: float = 0.0  # time.monotonic() of that write

    def needs_mark(self, versions: tuple) -> bool:
        stale = time.monotonic() - self.marked >= SEEN_EVERY_SECONDS
        return stale or versions != self.versions


def known_device(snapshot: Snapshot | None, project_id: int, serial: str) -> KnownDevice | None:
    return snapshot.devices.get(serial) if snapshot is not None else None


def device_keep(snapshot: Snapshot | None, device, versions: tuple) -> KnownDevice:
    """Remember the device as marked seen now with `versions`."""
    known = KnownDevice(
        device.id if isinstance(device, KnownDevice) else device.pk,
        device.cohort_id,
        device.project_id,
        device.serial,
        versions,
        time.monotonic(),
    )
    if snapshot is not None:
        if len(snapshot.devices) >= MAX_DEVICES:
            snapshot.devices.clear()
        snapshot.devices[device.serial] = known
    return known
