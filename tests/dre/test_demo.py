"""`manage.py demo`: what a newcomer sees after `bin/demo` is the real pipeline's work."""

from io import StringIO

import pytest
from django.core.management import call_command

from dre.crashes.models import Coredump, Issue, Trace
from tests.firmware_fixtures import FIXTURES

pytestmark = pytest.mark.django_db

FIXTURE_CRASHES = len(list(FIXTURES.glob("*an38*-O*/*/coredump.bin")))


def demo(url="http://127.0.0.1:8000") -> str:
    out = StringIO()
    call_command("demo", url=url, stdout=out)
    return out.getvalue()


def test_every_fixture_crash_arrives_through_chunks_and_is_symbolicated(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        printed = demo()

    assert f"({FIXTURE_CRASHES} coredumps sent)" in printed
    assert Coredump.objects.filter(source=Coredump.Source.CHUNKS).count() == FIXTURE_CRASHES
    assert Trace.objects.count() == FIXTURE_CRASHES
    assert {t.data["kernel"] for t in Trace.objects.all()} >= {"FreeRTOS", "Zephyr"}
    assert Issue.objects.exists()


def test_it_prints_where_to_open_and_how_to_log_in():
    printed = demo(url="http://dre.test:9000")

    assert "open      http://dre.test:9000/demo/firmware/issues/" in printed
    assert "log in    user 'demo', password 'demo'" in printed
    assert "Memfault-Project-Key: " in printed


def test_a_second_run_keeps_the_data_and_prints_a_new_project_key(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        first = demo()
    second = demo()

    assert "demo data already loaded" in second
    assert Coredump.objects.count() == FIXTURE_CRASHES
    (first_key,) = [line for line in first.splitlines() if "Project-Key" in line]
    assert first_key not in second
