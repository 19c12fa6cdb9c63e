"""A project with N traces in PostgreSQL, built the fast way but shaped like real data.

1. The real part: the test firmware's ELFs and every fixture coredump go through the
   real services (symbol file ingest and indexing, coredump ingest, symbolicate, group),
   so symbol indexes, blobs and a few dozen real traces exist.
2. The bulk part: versions, hardware revisions, cohorts, thousands of devices and a few
   hundred issues, then N coredump and trace rows written with COPY. Each bulk row is a
   copy of one real trace (its data JSON, bytes and symbol file), so any trace page opens,
   with a device, versions and a receive time spread over 90 days. Issues get traces in
   a long-tailed distribution, like a real fleet's.
3. The rollups (IssueDay, IssueHour, IssueVersion, IssueHardware, IssueDevice) and issue counters
   are computed from what was written, as the pipeline would have counted them.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from dre import blobs
from dre.accounts.models import Role
from dre.accounts.services import membership_set, organization_create, project_create
from dre.crashes.models import Coredump, Issue, Trace
from dre.crashes.services import coredump_ingest_bytes
from dre.fleet.models import Cohort, Device, HardwareVersion, SoftwareType, SoftwareVersion
from dre.symbols.services import symbol_file_ingest
from tests.firmware_fixtures import BUILDS, FIXTURES, coredump_path, scenarios

PASSWORD = "bench"
VERSIONS = [f"1.{minor}.{patch}" for minor in range(6) for patch in range(4)]  # 24
HARDWARE = ["mps2-an385", "mps2-an386", "rev-c", "rev-d"]
COHORTS = ["default", "beta", "lab", "production", "field-test"]
DAYS = 90


@dataclass
class Dataset:
    project: object
    user: object
    traces: int
    issues: int
    devices: int
    biggest_issue: int = 0
    a_trace: int = 0
    a_device: object = None
    a_version: int = 0
    a_cohort: int = 0
    real: list = field(default_factory=list)


def build(traces: int, issues: int, devices: int, seed: int = 5) -> Dataset:
    rng = random.Random(seed)
    project, user = _project()
    real = _real_traces(project)
    fleet = _fleet(project, devices, rng)
    made = _issues(project, issues, real, rng)
    _bulk_traces(project, traces, made, real, fleet, rng)
    _rollups(project)
    # Settle the bulk load before timing: statistics, visibility map, dirty pages.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
        cursor.execute("CHECKPOINT")
    return _describe(project, user, traces, issues, devices, fleet, real)


def _project():
    from django.contrib.auth import get_user_model

    organization = organization_create(slug="acme", name="Acme")
    project = project_create(organization=organization, slug="sensors", name="Sensors")
    user = get_user_model().objects.create_user("alice", password=PASSWORD)
    membership_set(user=user, organization=organization, role=Role.ADMIN)
    return project, user


def _real_traces(project) -> list[Trace]:
    """Every fixture crash of every build, through the real pipeline (tasks in-process)."""
    for build_name in BUILDS:
        data = (FIXTURES / build_name / "firmware.elf").read_bytes()
        stored = blobs.blob_save_bytes(blobs.blob_name("symbols", project.pk, ".elf"), data)
        symbol_file_ingest(project, stored, name=f"{build_name}.elf")
        for scenario in scenarios(build_name):
            data = coredump_path(build_name, scenario).read_bytes()
            coredump_ingest_bytes(project, data, source=Coredump.Source.UPLOAD)
    return list(Trace.objects.filter(project=project).select_related("coredump", "issue"))


@dataclass
class Fleet:
    versions: list[SoftwareVersion]
    hardware: list[HardwareVersion]
    cohorts: list[Cohort]
    devices: list[Device]


def _fleet(project, count: int, rng: random.Random) -> Fleet:
    kind, _ = SoftwareType.objects.get_or_create(project=project, name="dre-testfw")
    versions = [
        SoftwareVersion.objects.get_or_create(software_type=kind, version=v)[0] for v in VERSIONS
    ]
    hardware = [HardwareVersion.objects.get_or_create(project=project, name=h)[0] for h in HARDWARE]
    cohorts = [
        Cohort.objects.get_or_create(project=project, slug=c, defaults={"name": c})[0]
        for c in COHORTS
    ]
    Device.objects.bulk_create(
        [
            Device(
                project=project,
                serial=f"SN{n:07d}",
                hardware_version=rng.choice(hardware),
                software_version=rng.choice(versions),
                cohort=rng.choice(cohorts),
            )
            for n in range(count)
        ],
        batch_size=2000,
    )
    devices = list(Device.objects.filter(project=project, serial__startswith="SN"))
    return Fleet(versions, hardware, cohorts, devices)


def _issues(project, count: int, real: list[Trace], rng: random.Random) -> list[tuple]:
    """(issue, template trace) pairs: each issue repeats one real crash's shape."""
    now = timezone.now()
    made = []
    for n in range(count):
        template = real[n % len(real)]
        issue = Issue(
            project=project,
            title=f"{template.title} (variant {n})"[:300],
            culprit=template.issue.culprit,
            first_seen=now,
            last_seen=now,
        )
        made.append((issue, template))
    Issue.objects.bulk_create([issue for issue, _ in made], batch_size=1000)
    states = [Issue.State.OPEN] * 6 + [Issue.State.RESOLVED] * 3 + [Issue.State.MUTED]
    for issue, _ in made:
        issue.state = rng.choice(states)
    Issue.objects.bulk_update([issue for issue, _ in made], ["state"], batch_size=1000)
    return made


def _next_ids(table: str, count: int) -> int:
    """Reserve `count` ids of `table`'s sequence; the first one."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
            "(SELECT COALESCE(MAX(id), 0) FROM " + table + ") + %s)",
            [table, count],
        )
        last = cursor.fetchone()[0]
    return last - count + 1


def _bulk_traces(project, count, made, real, fleet, rng) -> None:
    weights = [1 / (rank + 1) ** 1.1 for rank in range(len(made))]  # a long tail
    chosen = rng.choices(range(len(made)), weights=weights, k=count)
    data_json = {t.pk: json.dumps(t.data) for t in real}
    grouping_json = {t.pk: json.dumps(t.grouping) for t in real}
    first_coredump, first_trace = (
        _next_ids("crashes_coredump", count),
        _next_ids("crashes_trace", count),
    )
    now = timezone.now()
    coredumps, traces = [], []
    for n, which in enumerate(chosen):
        issue, template = made[which]
        device = rng.choice(fleet.devices)
        received = now - timedelta(seconds=rng.randrange(DAYS * 86400))
        source = template.coredump
        coredumps.append(
            (first_coredump + n, project.pk, device.pk, rng.choice(fleet.versions).pk,
             device.hardware_version_id, source.symbol_file_id, source.blob, source.size,
             source.md5, "upload", source.format, source.build_id, source.trace_reason,
             received, "grouped", received, 1, "", "", "", source.encoding, source.raw)
        )  # fmt: skip
        traces.append(
            (first_trace + n, first_coredump + n, project.pk, issue.pk, issue.title,
             data_json[template.pk], hashlib.sha256(str(issue.pk).encode()).hexdigest(),
             grouping_json[template.pk], received)
        )  # fmt: skip
    _copy(
        "crashes_coredump",
        "id, project_id, device_id, software_version_id, hardware_version_id, symbol_file_id, "
        "blob, size, md5, source, format, build_id, trace_reason, received, state, "
        "state_changed, attempts, error, traceback, content_hash, encoding, raw",
        coredumps,
    )
    _copy(
        "crashes_trace",
        "id, coredump_id, project_id, issue_id, title, data, fingerprint, grouping, created",
        traces,
    )


def _copy(table: str, columns: str, rows: list[tuple]) -> None:
    with transaction.atomic():
        raw = connection.connection
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


ROLLUP_SQL = [
    # 1. per issue and day, version, hardware, device, as trace_group counts them
    """INSERT INTO crashes_issueday (issue_id, day, trace_count)
       SELECT t.issue_id, (c.received AT TIME ZONE 'UTC')::date, count(*)
       FROM crashes_trace t JOIN crashes_coredump c ON c.id = t.coredump_id
       WHERE t.project_id = %(project)s GROUP BY 1, 2 ON CONFLICT DO NOTHING""",
    """INSERT INTO crashes_issuehour (issue_id, hour, trace_count)
       SELECT t.issue_id, floor(extract(epoch FROM c.received) / 3600)::int, count(*)
       FROM crashes_trace t JOIN crashes_coredump c ON c.id = t.coredump_id
       WHERE t.project_id = %(project)s GROUP BY 1, 2 ON CONFLICT DO NOTHING""",
    """INSERT INTO crashes_issueversion (issue_id, software_version_id, trace_count)
       SELECT t.issue_id, c.software_version_id, count(*)
       FROM crashes_trace t JOIN crashes_coredump c ON c.id = t.coredump_id
       WHERE t.project_id = %(project)s AND c.software_version_id IS NOT NULL
       GROUP BY 1, 2 ON CONFLICT DO NOTHING""",
    """INSERT INTO crashes_issuehardware (issue_id, hardware_version_id, trace_count)
       SELECT t.issue_id, c.hardware_version_id, count(*)
       FROM crashes_trace t JOIN crashes_coredump c ON c.id = t.coredump_id
       WHERE t.project_id = %(project)s AND c.hardware_version_id IS NOT NULL
       GROUP BY 1, 2 ON CONFLICT DO NOTHING""",
    """INSERT INTO crashes_issuedevice (issue_id, device_id, trace_count, last_seen)
       SELECT t.issue_id, c.device_id, count(*), max(c.received)
       FROM crashes_trace t JOIN crashes_coredump c ON c.id = t.coredump_id
       WHERE t.project_id = %(project)s AND c.device_id IS NOT NULL
       GROUP BY 1, 2 ON CONFLICT DO NOTHING""",
    # 2. the issue's own counters
    """UPDATE crashes_issue i SET trace_count = s.traces, first_seen = s.first,
              last_seen = s.last
       FROM (SELECT t.issue_id, count(*) AS traces, min(c.received) AS first,
                    max(c.received) AS last
             FROM crashes_trace t JOIN crashes_coredump c ON c.id = t.coredump_id
             WHERE t.project_id = %(project)s GROUP BY 1) s
       WHERE i.id = s.issue_id""",
    """UPDATE crashes_issue i SET device_count = s.devices
       FROM (SELECT issue_id, count(*) AS devices FROM crashes_issuedevice GROUP BY 1) s
       WHERE i.id = s.issue_id""",
]


def _rollups(project) -> None:
    """Recount everything from the rows, replacing what the real pipeline counted."""
    with transaction.atomic(), connection.cursor() as cursor:
        for table in ("issueday", "issuehour", "issueversion", "issuehardware", "issuedevice"):
            cursor.execute(
                f"DELETE FROM crashes_{table} WHERE issue_id IN "
                "(SELECT id FROM crashes_issue WHERE project_id = %s)",
                [project.pk],
            )
        for statement in ROLLUP_SQL:
            cursor.execute(statement, {"project": project.pk})


def _describe(project, user, traces, issues, devices, fleet, real) -> Dataset:
    biggest = Issue.objects.filter(project=project).order_by("-trace_count").first()
    trace = Trace.objects.filter(issue=biggest).order_by("-created").first()
    busiest = Counter(
        Trace.objects.filter(issue=biggest).values_list("coredump__device", flat=True)[:2000]
    ).most_common(1)[0][0]
    by_version = defaultdict(int)
    for version_id in Coredump.objects.filter(project=project).values_list(
        "software_version", flat=True
    )[:5000]:
        by_version[version_id] += 1
    return Dataset(
        project=project,
        user=user,
        traces=Trace.objects.filter(project=project).count(),
        issues=Issue.objects.filter(project=project).count(),
        devices=Device.objects.filter(project=project).count(),
        biggest_issue=biggest.pk,
        a_trace=trace.pk,
        a_device=Device.objects.get(pk=busiest),
        a_version=max(by_version, key=by_version.get),
        a_cohort=fleet.cohorts[-1].pk,
        real=real,
    )
