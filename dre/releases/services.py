"""Writes for releases, artifacts, deployments and update checks.

Every change to a deployment is one conditional UPDATE from the states it may
leave (healthchecks' claim pattern) plus a DeploymentLog row naming who did it,
in one transaction: two people pausing and pulling at once cannot both win.
"""

from __future__ import annotations

import hashlib

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from dre import blobs
from dre.accounts.models import Project
from dre.events import Event, EventType, publish
from dre.fleet import services as fleet_services
from dre.fleet.models import Cohort
from dre.fleet.services import hardware_version_get, software_version_get
from dre.fleet.versions import version_key
from dre.releases.models import (
    Artifact,
    CohortPolicy,
    Deployment,
    DeploymentLog,
    Release,
)

FIRMWARE_TYPES = ("standalone", "zchunk_header_swu", "zchunk_image")
LIVE = (Deployment.Status.ACTIVE, Deployment.Status.PAUSED, Deployment.Status.HALTED)


class ReleaseRejected(ValueError):
    """The request names an impossible release or deployment (HTTP 400)."""


class ReleaseConflict(Exception):
    """It exists already, or its state does not allow the change (HTTP 409)."""


# -- releases and artifacts -----------------------------------------------------


def release_get_or_create(
    project: Project,
    software_type: str,
    version: str,
    *,
    delta_from: str | None = None,
    **fields,
) -> Release:
    """The release of `version` (or the delta `delta_from` -> `version`), created with
    `fields` (revision, notes, min_version, must_pass_through, extra_info) if new."""
    _check_names(software_type=software_type, version=version, delta_from=delta_from)
    _check_fields(delta_from, version, fields)
    to = software_version_get(project, software_type, version)
    start = software_version_get(project, software_type, delta_from) if delta_from else None
    found = Release.objects.filter(version=to, delta_from=start).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return Release.objects.create(
                project=project,
                software_type=to.software_type,
                version=to,
                delta_from=start,
                **fields,
            )
    except IntegrityError:  # a concurrent upload of another artifact created it
        return Release.objects.get(version=to, delta_from=start)


def _check_names(**names: str | None) -> None:
    for label, value in names.items():
        if value is None:
            continue
        if not isinstance(value, str) or not value or not value.isprintable():
            raise ReleaseRejected(f"{label} must be printable text, not {value!r}")
        if len(value) > 128:
            raise ReleaseRejected(f"{label} is longer than 128 characters")


def _check_fields(delta_from: str | None, version: str, fields: dict) -> None:
    # memfault-formats.md 4.1: a delta goes up, and must-pass-through is a full-release flag.
    if delta_from is not None and version_key(delta_from) >= version_key(version):
        raise ReleaseRejected(f"a delta release goes up: {delta_from} -> {version} does not")
    if delta_from is not None and fields.get("must_pass_through"):
        raise ReleaseRejected("must-pass-through is a flag of full releases, not of deltas")
    extra = fields.get("extra_info")
    if extra is not None and not isinstance(extra, dict):
        raise ReleaseRejected("extra_info must be an object")
    if fields.get("min_version"):
        _check_names(min_version=fields["min_version"])


def artifact_add(
    release: Release,
    hardware_version: str,
    stored: blobs.StoredBlob,
    *,
    filename: str,
    firmware_type: str = "standalone",
    extra_info: dict | None = None,
) -> Artifact:
    """Attach a stored payload to a release; its SHA-256 is computed from the blob."""
    _check_names(hardware_version=hardware_version, filename=filename)
    if firmware_type not in FIRMWARE_TYPES:
        raise ReleaseRejected(f"firmware_type must be one of {', '.join(FIRMWARE_TYPES)}")
    if extra_info is not None and not isinstance(extra_info, dict):
        raise ReleaseRejected("extra_info must be an object")
    hardware = hardware_version_get(release.project, hardware_version)
    try:
        with transaction.atomic():
            return Artifact.objects.create(
                release=release,
                hardware_version=hardware,
                blob=stored.name,
                filename=filename,
                size=stored.size,
                md5=stored.md5,
                sha256=_sha256(stored.name),
                firmware_type=firmware_type,
                extra_info=extra_info or {},
            )
    except IntegrityError:
        raise ReleaseConflict(
            f"release {release} already has a {firmware_type} payload for {hardware_version}"
        ) from None


def _sha256(blob: str) -> str:
    digest = hashlib.sha256()
    with blobs.blob_open(blob) as handle:
        while data := handle.read(blobs.COPY_CHUNK):
            digest.update(data)
    return digest.hexdigest()


# -- cohorts --------------------------------------------------------------------


POLICY_FIELDS = (
    "allow_downgrades",
    "safety_enabled",
    "min_hours",
    "min_devices",
    "margin",
    "alpha",
    "auto_widen",
    "widen_after_hours",
)


def cohort_policy_set(cohort: Cohort, **fields) -> CohortPolicy:
    """Set some of a cohort's policy fields (POLICY_FIELDS); the others keep their values."""
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise ReleaseRejected(f"unknown policy fields: {', '.join(sorted(unknown))}")
    _check_rule(fields)
    policy, _ = CohortPolicy.objects.update_or_create(cohort=cohort, defaults=fields)
    return policy


def _check_rule(fields: dict) -> None:
    limits = {
        "min_hours": (0, 1e9),
        "min_devices": (1, 10**9),
        "margin": (0, 10),
        "alpha": (1e-6, 0.5),
        "widen_after_hours": (0, 24 * 365),
    }
    for name, (low, high) in limits.items():
        value = fields.get(name)
        if value is None:
            continue
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not low <= value <= high:
            raise ReleaseRejected(f"{name} must be a number from {low:g} to {high:g}: {value!r}")


def cohort_create(project: Project, slug: str, name: str = "") -> Cohort:
    return fleet_services.cohort_get_or_create(project, slug, name)


def cohort_devices_move(project: Project, serials: list[str], cohort: Cohort) -> int:
    """Move devices by serial: all of them, or none if one is unknown. Through here, so
    whatever caches the release choice learns that a cohort changed."""
    return fleet_services.devices_move_to_cohort(project, serials, cohort)


def cohort_devices_move_matching(project: Project, cohort: Cohort, **attributes) -> int:
    """Move every device matching all of `attributes` (hardware_version, software_version
    as (type, version), from_cohort) into `cohort`."""
    return fleet_services.devices_move_matching(project, cohort, **attributes)


def cohort_allows_downgrades(cohort_id: int) -> bool:
    return CohortPolicy.objects.filter(cohort_id=cohort_id, allow_downgrades=True).exists()


# -- deployments ----------------------------------------------------------------


def actor_label(actor) -> tuple:
    """(user or None, text) for the log: a person, a token, or a rule."""
    if actor is None:
        return None, "dre"
    if isinstance(actor, str):
        return None, actor
    user = actor if getattr(actor, "pk", None) else None
    token = getattr(actor, "api_token", None)
    if user is not None and token is not None:
        return user, f"{user.get_username()} (token {token.prefix}…)"
    return user, user.get_username() if user is not None else str(actor)


def _log(deployment: Deployment, action: str, actor, **details) -> DeploymentLog:
    user, label = actor_label(actor)
    return DeploymentLog.objects.create(
        deployment=deployment, action=action, user=user, actor=label, **details
    )


@transaction.atomic
def deployment_activate(
    release: Release, cohort: Cohort, *, percent: int = 100, actor=None
) -> Deployment:
    """Activate a release in a cohort: for all its devices (100 %) or a staged share.

    Activating it again where it is live widens the rollout to `percent`.
    """
    if cohort.project_id != release.project_id:
        raise ReleaseRejected("the cohort belongs to another project")
    _check_percent(percent)
    live = (
        Deployment.objects.select_for_update()
        .filter(release=release, cohort=cohort, status__in=LIVE)
        .first()
    )
    if live is not None:
        if percent != live.rollout_percent:
            return deployment_widen(live, percent, actor=actor)
        return live
    try:
        with transaction.atomic():
            deployment = Deployment.objects.create(
                project=release.project,
                release=release,
                cohort=cohort,
                type=Deployment.Type.NORMAL if percent == 100 else Deployment.Type.STAGED_ROLLOUT,
                rollout_percent=percent,
            )
    except IntegrityError:  # activated at the same moment by someone else
        raise ReleaseConflict(f"release {release} was just activated in {cohort}") from None
    _log(deployment, DeploymentLog.Action.ACTIVATED, actor, to_percent=percent)
    return deployment


def _check_percent(percent) -> None:
    if not isinstance(percent, int) or isinstance(percent, bool) or not 1 <= percent <= 100:
        raise ReleaseRejected(f"rollout_percent must be a whole number from 1 to 100: {percent!r}")


def _with_log(
    deployment, sources, action, actor, changes: dict, *, expect: dict | None = None, **details
) -> Deployment:
    """Move a deployment out of one of `sources` (and the state in `expect`) and log it,
    or refuse if someone else moved it first."""
    with transaction.atomic():
        moved = Deployment.objects.filter(
            pk=deployment.pk, status__in=sources, **(expect or {})
        ).update(**changes, updated=timezone.now())
        deployment.refresh_from_db()
        if moved != 1:
            raise ReleaseConflict(f"a deployment that is {deployment.status} cannot be {action}")
        entry = _log(deployment, action, actor, **details)
        _announce(deployment, entry)
    return deployment


# The log actions that tell the project something about its rollout (dre/events.py).
ANNOUNCED = {
    DeploymentLog.Action.HALTED: EventType.ROLLOUT_HALTED,
    DeploymentLog.Action.RESUMED: EventType.ROLLOUT_RESUMED,
    DeploymentLog.Action.OVERRIDDEN: EventType.ROLLOUT_RESUMED,
    DeploymentLog.Action.WIDENED: EventType.ROLLOUT_WIDENED,
}


def _announce(deployment: Deployment, entry: DeploymentLog) -> None:
    """Publish inside the transaction that logged the change: the log row's id makes the
    key, so a subscriber stores each change once."""
    kind = ANNOUNCED.get(entry.action)
    if kind is None:
        return
    release, cohort, project = deployment.release, deployment.cohort, deployment.project
    # The shape dre/events.py documents for rollout events (alerts filters on the ids
    # and links to the path).
    data = {
        "deployment": {
            "id": deployment.pk,
            "path": reverse(
                "release-detail", args=[project.organization.slug, project.slug, release.pk]
            ),
            "status": deployment.status,
            "rollout_percent": deployment.rollout_percent,
        },
        "release": {"id": release.pk, "name": str(release), "version": release.version.version},
        "cohort": {"id": cohort.pk, "slug": cohort.slug},
        "cohort_ids": [cohort.pk],
        "software_type_ids": [release.software_type_id],
        "action": entry.action,
        "actor": entry.actor,
        "reason": entry.reason,
        "evidence": entry.evidence,
        "at": entry.at.isoformat(),
        "project": {"organization": project.organization.slug, "slug": project.slug},
    }
    publish(Event(kind, deployment.project_id, f"deployment-log:{entry.pk}", data))


def deployment_pause(deployment: Deployment, *, actor=None, reason: str = "") -> Deployment:
    return _with_log(
        deployment, [Deployment.Status.ACTIVE], DeploymentLog.Action.PAUSED, actor,
        {"status": Deployment.Status.PAUSED}, reason=reason,
    )  # fmt: skip


def deployment_resume(
    deployment: Deployment, *, actor=None, reason: str = "", override: bool = False
) -> Deployment:
    """Resume a paused rollout, or one a rule halted, which needs a reason.

    After a halt the rule starts weighing evidence afresh from now on; with `override`
    it stands aside for good (no more automatic halts or widening of this deployment).
    """
    if (deployment.status == Deployment.Status.HALTED or override) and not reason.strip():
        raise ReleaseRejected("resuming a halted rollout, or overriding the rule, needs a reason")
    changes = {"status": Deployment.Status.ACTIVE}
    if deployment.status == Deployment.Status.HALTED:
        changes["watched_since"] = timezone.now()
    if override:
        changes["rule_overridden"] = True
    action = DeploymentLog.Action.OVERRIDDEN if override else DeploymentLog.Action.RESUMED
    sources = [Deployment.Status.PAUSED, Deployment.Status.HALTED]
    if override:
        sources.append(Deployment.Status.ACTIVE)  # stand the rule aside without a halt
    return _with_log(deployment, sources, action, actor, changes, reason=reason)


def deployment_widen(
    deployment: Deployment, percent: int, *, actor=None, reason: str = "", evidence=None
) -> Deployment:
    """Raise the share of staged devices; the devices staged so far stay staged.

    The update names the percentage it widens from, so two workers (or two people)
    widening the same step at once widen it once; the other gets ReleaseConflict."""
    _check_percent(percent)
    if percent <= deployment.rollout_percent:
        raise ReleaseRejected(
            f"a rollout only widens: {percent} % is not above {deployment.rollout_percent} %;"
            " pause or pull it instead"
        )
    kind = Deployment.Type.NORMAL if percent == 100 else Deployment.Type.STAGED_ROLLOUT
    return _with_log(
        deployment,
        LIVE,
        DeploymentLog.Action.WIDENED,
        actor,
        {"rollout_percent": percent, "type": kind},
        expect={"rollout_percent": deployment.rollout_percent},
        reason=reason,
        evidence=evidence or {},
        from_percent=deployment.rollout_percent,
        to_percent=percent,
    )


def deployment_pull(deployment: Deployment, *, actor=None, reason: str = "") -> Deployment:
    """Stop offering the release in this cohort for good (a new activation starts afresh)."""
    return _with_log(
        deployment, LIVE, DeploymentLog.Action.PULLED, actor,
        {"status": Deployment.Status.PULLED}, reason=reason,
    )  # fmt: skip


def deployment_halt(
    deployment: Deployment, *, reason: str, evidence: dict, actor=None
) -> Deployment:
    """Stop offering the release because the rollout rule found it worse (or a person
    did, naming themselves as `actor`): update_for_device offers only ACTIVE
    deployments, the log keeps the numbers, and `rollout.halted` tells the project.
    Only an active deployment halts, so two workers halting at once halt it once."""
    if not reason.strip():
        raise ReleaseRejected("a halt needs a reason")
    return _with_log(
        deployment,
        [Deployment.Status.ACTIVE],
        DeploymentLog.Action.HALTED,
        actor if actor is not None else RULE_ACTOR,
        {"status": Deployment.Status.HALTED},
        reason=reason,
        evidence=evidence,
    )


RULE_ACTOR = "rollout rule"
