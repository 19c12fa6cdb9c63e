"""Reads: which release a device gets, and what the release pages show."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from dre.accounts.models import Project
from dre.fleet.models import Cohort, Device, HardwareVersion, SoftwareType
from dre.fleet.selectors import cohort_devices_on_version, cohort_list, version_device_counts
from dre.fleet.versions import version_key
from dre.health.selectors import stability_by
from dre.releases.choice import Candidate, choose
from dre.releases.formats import release_json_body, release_json_parts
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


# Answers one CohortOffers keeps at most (devices may report any current version).
MAX_ANSWERS = 10_000
_UNKNOWN = object()


@dataclass(frozen=True)
class CohortOffers:
    """What a cohort's devices of one software type and hardware version may be
    offered: the same for all of them but for staging (by serial) and the choice (by
    current version), so `releases/latest` keeps it per process (device_cache.py),
    with the answers it gave and the release JSON it rendered."""

    deployments: tuple[Deployment, ...]
    allow_downgrades: bool
    artifacts: dict  # release id -> the Artifact a device of this hardware downloads
    answers: dict = field(default_factory=dict, compare=False)  # see choose
    bodies: dict = field(default_factory=dict, compare=False)  # release id -> JSON parts

    def choose(self, serial: str, current_version: str | None) -> Release | None:
        """The release for this device. The choice depends on the serial only through
        which deployments stage it, so it is kept per (staged releases, current
        version): a device costs a hash per staged deployment, not a choice."""
        staged = tuple(
            d.release_id
            for d in self.deployments
            if is_staged(str(d.salt), serial, d.rollout_percent)
        )
        key = (staged, current_version)
        found = self.answers.get(key, _UNKNOWN)
        if found is _UNKNOWN:
            found = self._choose(staged, current_version)
            if len(self.answers) >= MAX_ANSWERS:
                self.answers.clear()
            self.answers[key] = found
        return found

    def _choose(self, staged: tuple[int, ...], current_version: str | None) -> Release | None:
        releases = {d.release_id: d.release for d in self.deployments if d.release_id in staged}
        candidates = [_candidate(r) for r in releases.values()]
        downgrades = self.allow_downgrades if current_version else False
        chosen = choose(candidates, current_version, allow_downgrades=downgrades)
        return releases[chosen.key] if chosen else None

    def release_body(self, release: Release, url: str) -> bytes:
        """The release JSON of `releases/latest` with its download URL."""
        parts = self.bodies.get(release.pk)
        if parts is None:
            parts = self.bodies[release.pk] = release_json_parts(
                release, self.artifacts[release.pk]
            )
        return release_json_body(parts, url)


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


# -- adoption and the version matrix -------------------------------------------------


def release_adoption(deployment: Deployment) -> list[dict]:
    """Per day since the deployment: devices of its cohort that asked for an update,
    were offered this release, and reported its version (heartbeat or event, from
    fleet health's rollups)."""
    release = deployment.release
    checks = (
        UpdateCheck.objects.filter(
            cohort=deployment.cohort_id,
            software_type=release.software_type_id,
            at__gte=deployment.created,
        )
        .annotate(day=TruncDate("at"))
        .values("day")
        .annotate(
            asked=Count("device", distinct=True),
            offered=Count("device", distinct=True, filter=Q(release=release)),
        )
    )
    days: dict = {row["day"]: {"asked": row["asked"], "offered": row["offered"]} for row in checks}
    reported = stability_by(
        release.project,
        "day",
        since=deployment.created.date(),
        cohort=deployment.cohort_id,
        software_version=release.version_id,
    )
    for stability in reported:
        days.setdefault(stability.group, {})["reported"] = int(stability.crash_free_devices.sample)
    return [
        {"day": day.isoformat(), "asked": 0, "offered": 0, "reported": 0, **counts}
        for day, counts in sorted(days.items())
    ]


@dataclass(frozen=True)
class NextVersion:
    """What devices of one cohort on one version are offered next."""

    devices: int
    staged: Release | None  # offered to the staged share of the devices
    staged_percent: int | None
    otherwise: Release | None  # offered to the others (or all, when nothing is staged)


def version_matrix(project: Project, hardware_version: HardwareVersion | None = None) -> dict:
    """For each current version (rows) and cohort (columns): the release its devices
    would be offered next, by the same choice rules as releases/latest."""
    cohorts = cohort_list(project)
    live = _active_by_cohort(project, hardware_version)
    rows: dict = {}
    for count in version_device_counts(project, hardware_version):
        key = (count["software_version__software_type__name"], count["software_version__version"])
        row = rows.setdefault(key, {})
        deployments = [
            d
            for d in live.get(count["cohort"], [])
            if d.release.software_type_id == count["software_version__software_type"]
        ]
        row[count["cohort"]] = _next_version(count["n"], key[1], deployments, count["cohort"])
    ordered = sorted(rows.items(), key=lambda item: (item[0][0], version_key(item[0][1])))
    return {"cohorts": cohorts, "rows": ordered}


def _active_by_cohort(project: Project, hardware_version) -> dict[int, list[Deployment]]:
    deployments = Deployment.objects.filter(project=project, status=Deployment.Status.ACTIVE)
    if hardware_version is not None:
        deployments = deployments.filter(release__artifacts__hardware_version=hardware_version)
    by_cohort: dict[int, list[Deployment]] = {}
    related = deployments.select_related("release__version", "release__delta_from")
    for deployment in related.distinct():
        by_cohort.setdefault(deployment.cohort_id, []).append(deployment)
    return by_cohort


def _next_version(devices: int, current: str, deployments: list, cohort_id: int) -> NextVersion:
    downgrades = cohort_allows_downgrades(cohort_id)
    releases = {d.release_id: d for d in deployments}
    everything = choose([_candidate(d.release) for d in deployments], current,
                        allow_downgrades=downgrades)  # fmt: skip
    unstaged = [_candidate(d.release) for d in deployments if d.rollout_percent >= 100]
    otherwise = choose(unstaged, current, allow_downgrades=downgrades)
    other_release = releases[otherwise.key].release if otherwise else None
    if everything is None or releases[everything.key].rollout_percent >= 100:
        return NextVersion(devices, None, None, other_release)
    staged = releases[everything.key]
    return NextVersion(devices, staged.release, staged.rollout_percent, other_release)
