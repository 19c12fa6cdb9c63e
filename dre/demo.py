"""Demo data: a project filled with real crashes from the test firmware.

The coredumps go through the same chunk path a device uses, and the ELFs
through the same symbol-file path CI uses, so the demo shows the pipeline
as it is, not a copy of its results.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model

from dre import blobs
from dre.accounts.models import Organization, Project, ProjectKey, Role
from dre.accounts.services import (
    api_token_create,
    membership_set,
    organization_create,
    project_create,
    project_key_create,
    secret_revoke,
)
from dre.ingest import wire
from dre.ingest.services import chunks_ingest
from dre.symbols.services import SymbolFileDuplicate, symbol_file_ingest

FIXTURES = settings.BASE_DIR / "tests" / "fixtures"
DEMO_USER, DEMO_PASSWORD = "demo", "demo"
DEMO_SERIALS = [f"demo-{n:04d}" for n in range(1, 8)]
CHUNK_SIZE = 512


@dataclass
class DemoInfo:
    project: Project
    username: str
    password: str
    project_key: str
    org_token: str
    coredumps: int


def demo_load() -> DemoInfo:
    project = _demo_project()
    project_key = _fresh_project_key(project)
    _, org_token = api_token_create(organization=project.organization, name="demo")
    count = 0
    if not project.coredumps.exists():
        _upload_symbol_files(project)
        count = _send_coredumps(project)
    return DemoInfo(project, DEMO_USER, DEMO_PASSWORD, project_key, org_token, count)


def _demo_project() -> Project:
    organization = Organization.objects.filter(slug="demo").first() or organization_create(
        slug="demo", name="Demo"
    )
    user = get_user_model().objects.filter(username=DEMO_USER).first()
    if user is None:
        user = get_user_model().objects.create_user(DEMO_USER, password=DEMO_PASSWORD)
    membership_set(user=user, organization=organization, role=Role.ADMIN)
    project = Project.objects.filter(organization=organization, slug="firmware").first()
    return project or project_create(organization=organization, slug="firmware", name="Firmware")


def _fresh_project_key(project: Project) -> str:
    """Each run prints a new key: the old one's secret was only ever shown once."""
    for key in ProjectKey.objects.active().filter(project=project, name="demo"):
        secret_revoke(key)
    return project_key_create(project=project, name="demo")[1]


def fixture_builds() -> list[Path]:
    """The test firmware's builds: its own scheduler, FreeRTOS and Zephyr look-alikes."""
    return sorted(p for p in FIXTURES.glob("*an38*-O*") if (p / "firmware.elf").exists())


def _upload_symbol_files(project: Project) -> None:
    for build in fixture_builds():
        data = (build / "firmware.elf").read_bytes()
        stored = blobs.blob_save_bytes(blobs.blob_name("symbols", project.pk, ".elf"), data)
        try:
            symbol_file_ingest(
                project,
                stored,
                name=f"{build.name}.elf",
                software_type="dre-testfw",
                software_version=f"1.0.0+{build.name}",
            )
        except SymbolFileDuplicate:
            blobs.blob_delete(stored.name)


def _send_coredumps(project: Project) -> int:
    serials = itertools.cycle(DEMO_SERIALS)
    sent = 0
    for build in fixture_builds():
        for coredump in sorted(build.glob("*/coredump.bin")):
            message = wire.encode_message(
                wire.MessageType.COREDUMP, coredump.read_bytes(), rle=True
            )
            chunks_ingest(
                project, next(serials), wire.encode_chunks(message, chunk_size=CHUNK_SIZE)
            )
            sent += 1
    return sent
