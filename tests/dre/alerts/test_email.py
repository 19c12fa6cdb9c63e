"""Notification emails go through Django's SMTP backend to a real SMTP server
(aiosmtpd, in-process), to the project members who subscribed."""

import pytest

from dre import events
from dre.alerts.models import EmailDelivery
from dre.alerts.services import notification_setting_set
from dre.alerts.tasks import send_email

pytestmark = pytest.mark.django_db
T = events.EventType


def test_it_emails_the_members_who_subscribed(crash, make_rule, mailbox, subscribed):
    make_rule(T.ISSUE_CREATED)
    issue = crash()
    recipients = sorted(rcpt for rcpts, _ in mailbox.messages for rcpt in rcpts)
    assert recipients == ["alice@example.com", "victor@example.com"]
    message = mailbox.messages[0][1]
    assert message["Subject"] == f"[dre] New issue in acme/sensors: {issue.title}"
    assert f"/acme/sensors/issues/{issue.pk}/" in message.get_content()
    assert set(EmailDelivery.objects.values_list("state", flat=True)) == {"sent"}


def test_it_sends_no_email_for_a_rule_without_email(crash, make_rule, mailbox, subscribed):
    make_rule(T.ISSUE_CREATED, email=False)
    crash()
    assert mailbox.messages == []


def test_it_stops_emailing_someone_who_left_the_organization(
    crash, make_rule, mailbox, subscribed, acme, alice
):
    alice.memberships.all().delete()
    make_rule(T.ISSUE_CREATED)
    crash()
    assert [rcpts for rcpts, _ in mailbox.messages] == [["victor@example.com"]]


def test_it_retries_an_email_the_server_refused_and_sends_it_once(
    crash, make_rule, mailbox, alice, project
):
    notification_setting_set(alice, project, email=True)
    mailbox.refuse = 2
    make_rule(T.ISSUE_CREATED)
    crash()
    assert len(mailbox.messages) == 1
    sent = EmailDelivery.objects.get()
    assert (sent.state, sent.attempts) == ("sent", 3)
    assert send_email.apply(args=[sent.pk]).get() is False  # already sent: not again
    assert len(mailbox.messages) == 1


def test_it_gives_up_on_an_email_after_the_last_retry(crash, make_rule, mailbox, alice, project):
    notification_setting_set(alice, project, email=True)
    mailbox.refuse = 100
    make_rule(T.ISSUE_CREATED)
    crash()
    failed = EmailDelivery.objects.get()
    assert (failed.state, failed.attempts) == ("failed", send_email.max_retries + 1)
    assert "451" in failed.error
