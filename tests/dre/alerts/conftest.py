"""Issues made the real way (a crash through the pipeline), rules and webhooks."""

import pytest

from dre.alerts.models import AlertRule, Webhook
from dre.alerts.services import rule_save
from dre.alerts.webhooks import new_secret
from dre.crashes.models import Coredump, Issue
from dre.crashes.services import coredump_ingest_bytes
from dre.fleet.services import device_seen
from tests.firmware_fixtures import coredump_path


@pytest.fixture
def crash(project, symbol_file, run_on_commit, settings):
    """Send the null_write crash from a device, as reported by a given version (rewritten
    in place). Each call is a new crash, even with the same bytes from the same device
    (no re-send window)."""
    settings.DEDUP_WINDOW_SECONDS = 0

    def send(version="1.0.0", serial="unit-1", scenario="null_write"):
        data = coredump_path(scenario=scenario).read_bytes()
        coredump = run_on_commit(
            coredump_ingest_bytes,
            project,
            data.replace(b"1.0.0", version.encode()),
            source=Coredump.Source.UPLOAD,
            device=device_seen(project, serial),
        )
        return Issue.objects.get(pk=coredump.trace.issue_id)

    return send


@pytest.fixture
def make_rule(project):
    def make(*event_types, **fields):
        filters = {
            k: fields.pop(k) for k in ("software_types", "cohorts", "webhooks") if k in fields
        }
        rule = AlertRule(project=project, name=fields.pop("name", "everything"), **fields)
        rule.events = list(event_types)
        return rule_save(rule, **filters)

    return make


@pytest.fixture
def make_webhook(project):
    def make(url, kind=Webhook.Kind.GENERIC, **fields):
        return Webhook.objects.create(
            project=project,
            name=fields.pop("name", "receiver"),
            url=url,
            kind=kind,
            secret=new_secret(),
            **fields,
        )

    return make
