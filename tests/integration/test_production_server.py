"""The production web process: gunicorn with dre/gunicorn_conf.py, as the README runs it,
behind a TLS-terminating proxy (the proxy's X-Forwarded-Proto header is sent by hand)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from dre.crashes.models import Coredump
from dre.crashes.services import coredump_bytes
from dre.ingest.models import Event, PendingChunks
from dre.ingest.pending import pending_chunks_apply
from tests.firmware_fixtures import coredump_path
from tests.integration.conftest import database_url

ROOT = Path(__file__).resolve().parents[2]
CHUNK = ROOT / "tests" / "fixtures" / "memfault-chunks" / "chunk_v2_single_chunk_msg.bin"
VIA_TLS_PROXY = {"X-Forwarded-Proto": "https"}

pytestmark = pytest.mark.django_db(transaction=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def production_env(django_db_setup, tmp_path_factory):
    files = tmp_path_factory.mktemp("production")
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "BLOB_ROOT": str(files / "blobs"),
        "STATIC_ROOT": str(files / "static"),
        "DEBUG": "false",
        "SECRET_KEY": "a-test-secret-key-that-is-long-and-random-enough-1f0c9e7a2b4d",
        "ALLOWED_HOSTS": "127.0.0.1",
        "HTTPS": "true",
        "TRUST_X_FORWARDED_PROTO": "true",
        "SECURE_HSTS_SECONDS": "3600",
        "WEB_CONCURRENCY": "2",
        "PORT": str(free_port()),
    }


@pytest.fixture(scope="module")
def gunicorn(production_env):
    """collectstatic, then gunicorn exactly as the README's deployment guide says. One
    server for the module: it opens a database connection per request, so it sees each
    test's data."""
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "collectstatic", "--noinput"], env=production_env, check=True,
                   capture_output=True, cwd=ROOT)  # fmt: skip
    log = Path(production_env["STATIC_ROOT"]).parent / "gunicorn.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:dre.gunicorn_conf", "dre.wsgi"],
            env=production_env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{production_env['PORT']}"
    try:
        _wait_until_serving(server, base, log)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
        print(log.read_text()[-5000:])


def _wait_until_serving(server, base: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log.read_text()[-3000:]}")
        try:
            requests.get(f"{base}/login/", headers=VIA_TLS_PROXY, timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer within a minute")


def test_it_serves_pages_over_the_proxy_with_hsts(gunicorn):
    response = requests.get(f"{gunicorn}/login/", headers=VIA_TLS_PROXY, timeout=10)

    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"] == "max-age=3600"
    assert "/static/web/dre.css" in response.text


def test_it_redirects_plain_http_to_https(gunicorn):
    response = requests.get(f"{gunicorn}/login/", allow_redirects=False, timeout=10)

    assert response.status_code == 301
    assert response.headers["Location"] == f"https://{gunicorn.removeprefix('http://')}/login/"


def test_it_serves_collected_static_files_compressed(gunicorn):
    source = ROOT / "dre" / "web" / "static" / "web" / "dre.css"

    plain = requests.get(
        f"{gunicorn}/static/web/dre.css",
        headers={**VIA_TLS_PROXY, "Accept-Encoding": "identity"},
        timeout=10,
    )
    gzipped = requests.get(
        f"{gunicorn}/static/web/dre.css",
        headers={**VIA_TLS_PROXY, "Accept-Encoding": "gzip"},
        timeout=10,
    )

    assert plain.status_code == 200
    assert plain.content == source.read_bytes()
    assert gzipped.headers["Content-Encoding"] == "gzip"
    assert gzipped.content == source.read_bytes()  # requests decompresses it


def test_a_device_uploads_a_raw_coredump_through_it(gunicorn, production_env, project_key):
    data = coredump_path().read_bytes()

    response = requests.post(
        f"{gunicorn}/api/v0/upload/coredump",
        data=data,
        headers={**VIA_TLS_PROXY, "Memfault-Project-Key": project_key},
        timeout=10,
    )

    assert response.status_code == 202, response.text
    assert response.headers["Strict-Transport-Security"] == "max-age=3600"
    coredump = Coredump.objects.get(pk=response.json()["data"]["id"])
    assert coredump.size == len(data)
    # Small and naming no device: its bytes are in its row, committed with it.
    assert coredump_bytes(coredump) == data


def test_it_redirects_a_device_on_plain_http_to_https(gunicorn, project_key):
    response = requests.post(
        f"{gunicorn}/api/v0/chunks/TESTSERIAL",
        data=CHUNK.read_bytes(),
        headers={"Memfault-Project-Key": project_key},
        allow_redirects=False,
        timeout=10,
    )

    assert response.status_code == 301
    assert response.headers["Location"].startswith("https://")


def test_a_device_posts_a_chunk_through_it(gunicorn, project_key):
    response = requests.post(
        f"{gunicorn}/api/v0/chunks/TESTSERIAL",
        data=CHUNK.read_bytes(),
        headers={
            **VIA_TLS_PROXY,
            "Memfault-Project-Key": project_key,
            "Content-Type": "application/octet-stream",
        },
        timeout=10,
    )

    assert response.status_code == 202, response.text
    # Committed before the answer, applied by a worker (chunks_apply; none runs here).
    pending = PendingChunks.objects.get()
    pending_chunks_apply([pending.pk])
    assert Event.objects.get().kind == Event.Kind.HEARTBEAT
