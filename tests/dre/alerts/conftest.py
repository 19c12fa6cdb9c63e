"""Issues made the real way (a crash through the pipeline), rules and webhooks, and the
real servers they talk to (an HTTP receiver, an SMTP server)."""

import logging

import environ
import pytest
from aiosmtpd.controller import Controller

from dre.alerts.models import AlertRule, Webhook
from dre.alerts.services import notification_setting_set, rule_save
from dre.alerts.webhooks import new_secret
from dre.crashes.models import Coredump, Issue
from dre.crashes.services import coredump_ingest_bytes
from dre.fleet.services import device_seen
from tests.dre.alerts.receiver import Mailbox, free_port
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


@pytest.fixture
def hook(make_webhook, receiver):
    webhook = make_webhook(receiver.url)
    receiver.secret = webhook.secret
    return webhook


@pytest.fixture
def mailbox(settings):
    box = Mailbox()
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    # Configured the way an operator does it: EMAIL_URL, parsed as dre/settings.py does.
    for name, value in environ.Env.email_url_config(f"smtp://127.0.0.1:{controller.port}").items():
        setattr(settings, name, value)
    yield box
    controller.stop()


@pytest.fixture
def subscribed(project, alice, bob, charlie, victor):
    """Alice and Victor subscribe, Bob does not; Charlie subscribes but is not a member."""
    for user in (alice, victor, charlie):
        notification_setting_set(user, project, email=True)
    notification_setting_set(bob, project, email=False)
