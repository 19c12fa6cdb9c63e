"""Reads: which release a device gets, and what the release pages show."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q

from dre.accounts.models import Project
from dre.fleet.models import Cohort, Device, HardwareVersion, SoftwareType
from dre.fleet.selectors import cohort_devices_on_version
from dre.fleet.versions import version_key
from dre.releases.choice import Candidate, choose
from dre.releases.models import Artifact, Deployment, Release, UpdateCheck
from dre.releases.services import cohort_allows_downgrades
from dre.releases.staging import is_staged


def release_list(project: Project) -> list[Release]:
    """Newest version first, as dre.fleet.versions orders them (not as text)."""
    releases = Release.objects.filter(project=project).select_related(
        "software_type", "version", "delta_from"
    )
    return sorted(releases, key=lambda r: (r.software_type.name, r.sort_key), reverse=True)


def release_find(project: Project, pk: int) -> Release | None:
    return (
        Release.objects.filter(project=project, pk=pk)
        .select_related("software_type", "version", "delta_from")
        .first()
    )


def release_find_by_version(
    project: Project, version: str, delta_from: str | None = None
) -> Release | None:
    """The release of a version string, as memfault-cli names it (no software type)."""
    releases = Release.objects.filter(project=project, version__version=version)
    if delta_from is None:
        releases = releases.filter(delta_from__isnull=True)
    else:
        releases = releases.filter(delta_from__version=delta_from)
    return releases.select_related("version", "delta_from").first()


def deployment_list(project: Project, **filters) -> list[Deployment]:
    return list(
        Deployment.objects.filter(project=project, **filters)
        .select_related("release__version", "release__delta_from", "cohort")
        .order_by("-created", "-pk")
    )


def update_for_device(
    device: Device,
    software_type: SoftwareType,
    hardware_version: HardwareVersion,
    current_version: str | None,
) -> Release | None:
    """The release the device should install next, or None (memfault-formats.md 4.2)."""
    offers = cohort_offers(device.cohort_id, software_type, hardware_version)
    return offers.choose(device.serial, current_version)


@dataclass(frozen=True)
class CohortOffers:
    """What a cohort's devices of one software type and hardware version may be
    offered: the same for all of them but for staging (by serial) and the choice (by
    current version), so `releases/latest` keeps it per process (device_cache.py)."""

    deployments: tuple[Deployment, ...]
    allow_downgrades: bool
    artifacts: dict  # release id -> the Artifact a device of this hardware downloads

    def choose(self, serial: str, current_version: str | None) -> Release | None:
        releases = {
            d.release_id: d.release
            for d in self.deployments
            if is_staged(str(d.salt), serial, d.rollout_percent)
        }
        candidates = [_candidate(r) for r in releases.values()]
        downgrades = self.allow_downgrades if current_version else False
        chosen = choose(candidates, current_version, allow_downgrades=downgrades)
        return releases[chosen.key] if chosen else None


def cohort_offers(
    cohort_id: int, software_type: SoftwareType, hardware_version: HardwareVersion
) -> CohortOffers:
    deployments = (
        Deployment.objects.filter(
            cohort_id=cohort_id,
            status=Deployment.Status.ACTIVE,
            release__software_type=software_type,
            release__artifacts__hardware_version=hardware_version,
        )
        .select_related("release__version", "release__delta_from")
        .distinct()
    )
    deployments = tuple(deployments)
    artifacts = {d.release_id: artifact_for(d.release, hardware_version) for d in deployments}
    return CohortOffers(deployments, cohort_allows_downgrades(cohort_id), artifacts)


def _candidate(release: Release) -> Candidate:
    return Candidate(
        key=release.pk,
        version=release.version.version,
        delta_from=release.delta_from.version if release.delta_from_id else None,
        must_pass_through=release.must_pass_through,
        min_version=release.min_version,
    )


def artifact_for(release: Release, hardware_version: HardwareVersion) -> Artifact | None:
    """The payload a device downloads: the standalone image, else the first uploaded."""
    artifacts = release.artifacts.filter(hardware_version=hardware_version).order_by("created")
    return artifacts.filter(firmware_type="standalone").first() or artifacts.first()


@dataclass(frozen=True)
class CohortRollout:
    deployment: Deployment
    asked: int  # devices of the cohort that asked for an update while it was deployed
    offered: int  # devices it was offered to
    on_version: int  # devices that report the release's version now


def release_rollouts(release: Release) -> list[CohortRollout]:
    """Per deployment: how many devices asked, were offered, and run the version."""
    rollouts = []
    for deployment in deployment_list(release.project, release=release):
        checks = UpdateCheck.objects.filter(
            cohort=deployment.cohort_id,
            software_type=release.software_type_id,
            at__gte=deployment.created,
        ).aggregate(
            asked=Count("device", distinct=True),
            offered=Count("device", distinct=True, filter=Q(release=release)),
        )
        on_version = cohort_devices_on_version(deployment.cohort, release.version)
        rollouts.append(CohortRollout(deployment, checks["asked"], checks["offered"], on_version))
    return rollouts


def release_offer_counts(project: Project) -> dict[int, dict]:
    """Per release id: distinct devices offered it, for the releases list."""
    rows = (
        UpdateCheck.objects.filter(project=project, release__isnull=False)
        .values("release")
        .annotate(offered=Count("device", distinct=True))
    )
    return {row["release"]: row for row in rows}


def cohort_live_releases(cohort: Cohort) -> list[Deployment]:
    deployments = deployment_list(cohort.project, cohort=cohort, status=Deployment.Status.ACTIVE)
    return sorted(deployments, key=lambda d: version_key(d.release.version.version))
