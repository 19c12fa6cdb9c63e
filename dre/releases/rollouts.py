"""Rollout safety, applied: gather a staged rollout's evidence from fleet health, decide
(dre.releases.safety), and halt or widen through dre.releases.services.

Comparable devices and period (README, "Rollout safety"):
- same cohort, and only the hardware versions the release has payloads for (no other
  device is ever offered it);
- same days: both arms are measured on the days since the rollout started (or since a
  person resumed it), so a bad week for the whole fleet shows on both sides;
- the staged devices are a hash-random share of the cohort, so the two arms differ
  only by the release, as in a randomized trial. The old arm is the version the rest
  of the cohort runs: the lower version with the most operational hours in the period.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.utils import timezone

from dre.fleet.models import SoftwareVersion
from dre.fleet.versions import version_key
from dre.health.selectors import Stability, stability_by
from dre.releases import services
from dre.releases.models import CohortPolicy, Deployment, DeploymentLog
from dre.releases.safety import Day, Decision, Rule, decide

STAGED = Deployment.Type.STAGED_ROLLOUT
RULE_FIELDS = ("min_hours", "min_devices", "margin", "alpha", "auto_widen", "widen_after_hours")


@dataclass
class RolloutEvidence:
    """What the rule saw, per day for both arms, for the decision and the release page."""

    since: date
    new_version: SoftwareVersion
    old_version: SoftwareVersion | None
    new_days: dict = field(default_factory=dict)  # day -> Stability
    old_days: dict = field(default_factory=dict)
    new_total: Stability | None = None
    old_total: Stability | None = None

    def strata(self) -> list[Day]:
        return [
            Day(
                new_hours=self.new_days[day].crash_free_hours.sample,
                new_reboots=self.new_days[day].unexpected_reboots,
                old_hours=self.old_days[day].crash_free_hours.sample,
                old_reboots=self.old_days[day].unexpected_reboots,
            )
            for day in sorted(self.new_days.keys() & self.old_days.keys())
        ]

    def new_devices(self) -> int:
        """Devices on the new release on its busiest day (rollups keep no device sets
        across days, so this is a lower bound of the distinct devices)."""
        return max((s.crash_free_devices.sample for s in self.new_days.values()), default=0)


def cohort_rule(cohort_id: int) -> tuple[Rule, bool]:
    """The cohort's rule and whether it is on (a cohort without a policy: defaults, on)."""
    policy = CohortPolicy.objects.filter(cohort_id=cohort_id).first()
    if policy is None:
        return Rule(), True
    return Rule(**{name: getattr(policy, name) for name in RULE_FIELDS}), policy.safety_enabled


def rollout_evidence(deployment: Deployment) -> RolloutEvidence:
    release = deployment.release
    since = (deployment.watched_since or deployment.created).date()
    hardware = list(release.artifacts.values_list("hardware_version_id", flat=True).distinct())
    scope = {"since": since, "cohort": deployment.cohort_id, "hardware_version__in": hardware}
    by_version = stability_by(release.project, "software_version", **scope)
    evidence = RolloutEvidence(since, release.version, _replaced(release, by_version))
    totals = {s.group: s for s in by_version}
    evidence.new_total = totals.get(release.version_id)
    evidence.new_days = _per_day(release.project, release.version_id, scope)
    if evidence.old_version is not None:
        evidence.old_total = totals.get(evidence.old_version.pk)
        evidence.old_days = _per_day(release.project, evidence.old_version.pk, scope)
    return evidence


def _per_day(project, version_id: int, scope: dict) -> dict:
    rows = stability_by(project, "day", software_version=version_id, **scope)
    return {s.group: s for s in rows}


def _replaced(release, by_version: list[Stability]) -> SoftwareVersion | None:
    """The version the rest of the cohort runs: below the release, most hours."""
    hours = {s.group: s.crash_free_hours.sample for s in by_version if s.group is not None}
    versions = SoftwareVersion.objects.filter(
        pk__in=list(hours), software_type_id=release.software_type_id
    )
    below = [v for v in versions if version_key(v.version) < version_key(release.version.version)]
    return max(below, key=lambda v: (hours[v.pk], version_key(v.version)), default=None)


def rollout_decision(deployment: Deployment) -> tuple[Decision, RolloutEvidence]:
    """What the rule would do now, without doing it (the release page shows this)."""
    rule, enabled = cohort_rule(deployment.cohort_id)
    evidence = rollout_evidence(deployment)
    if evidence.old_version is None:
        waiting = "no devices of this cohort report an older version to compare with"
        return Decision("wait", waiting, {"rule": rule.__dict__}), evidence
    decision = decide(
        rule,
        evidence.strata(),
        new_devices=evidence.new_devices(),
        percent=deployment.rollout_percent,
        hours_at_step=_hours_at_step(deployment),
    )
    decision.evidence.update(
        new_version=evidence.new_version.version,
        old_version=evidence.old_version.version,
        since=evidence.since.isoformat(),
    )
    stood_aside = _stood_aside(deployment, enabled)
    if stood_aside:
        return Decision("wait", f"{stood_aside}; it would {decision.action}: "
                        f"{decision.reason}", decision.evidence), evidence  # fmt: skip
    return decision, evidence


def _stood_aside(deployment: Deployment, enabled: bool) -> str:
    if deployment.type != STAGED:
        return "a deployment to all devices: the rule watches staged rollouts only"
    if not enabled:
        return "the rule is off for this cohort"
    return "a person overrode it" if deployment.rule_overridden else ""


def _hours_at_step(deployment: Deployment) -> float:
    changes = (DeploymentLog.Action.ACTIVATED, DeploymentLog.Action.WIDENED,
               DeploymentLog.Action.RESUMED, DeploymentLog.Action.OVERRIDDEN)  # fmt: skip
    last = deployment.log.filter(action__in=changes).order_by("-at").first()
    start = last.at if last else deployment.created
    return (timezone.now() - start).total_seconds() / 3600


def rollout_evaluate(deployment_id: int) -> Decision | None:
    """Evaluate one staged rollout and act on the decision. Idempotent under concurrency:
    the row is locked (a second worker skips it), and halting or widening is a
    conditional UPDATE, so one evaluation changes it at most once."""
    with transaction.atomic():
        deployment = (
            Deployment.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=deployment_id, status=Deployment.Status.ACTIVE, type=STAGED)
            .select_related("release__version", "release__project", "cohort")
            .first()
        )
        if deployment is None:  # another worker holds it, or it is no longer staged
            return None
        decision, _ = rollout_decision(deployment)
        _act(deployment, decision)
    return decision


def _act(deployment: Deployment, decision: Decision) -> None:
    try:
        if decision.action == "halt":
            services.deployment_halt(deployment, reason=decision.reason,
                                     evidence=decision.evidence)  # fmt: skip
        elif decision.action == "widen":
            services.deployment_widen(
                deployment,
                decision.evidence["to_percent"],
                actor=services.RULE_ACTOR,
                reason=decision.reason,
                evidence=decision.evidence,
            )
    except services.ReleaseConflict:  # someone changed it meanwhile: their change stands
        pass


def staged_rollouts_to_evaluate() -> list[int]:
    return list(
        Deployment.objects.filter(
            status=Deployment.Status.ACTIVE,
            type=Deployment.Type.STAGED_ROLLOUT,
            rule_overridden=False,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def rollouts_evaluate() -> dict[str, int]:
    """Every active staged rollout, once: counts of what the rule did."""
    counts = {"halt": 0, "widen": 0, "wait": 0, "skipped": 0}
    for deployment_id in staged_rollouts_to_evaluate():
        decision = rollout_evaluate(deployment_id)
        counts[decision.action if decision else "skipped"] += 1
    return counts
