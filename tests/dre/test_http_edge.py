"""The HTTP edge: every malformed request gets a 4xx with a JSON message, never a 500.

Each test sends what a broken device, script or client could send, with DEBUG off
(pytest-django's default) and a client that answers like the server instead of
re-raising, so a server error shows up as the 500 a caller would see.
"""

import base64
import hashlib
import json
import shutil
import socket
import subprocess
import time

import cbor2
import pytest
import redis
from django.test import Client

from dre.crashes.models import Coredump
from dre.fleet.models import Device
from dre.ingest import wire
from dre.ingest.models import DeviceMessage, Upload
from dre.symbols.models import SymbolFile
from tests.builders import block, memfault_coredump, registers_block
from tests.firmware_fixtures import coredump_path, elf_path

pytestmark = pytest.mark.django_db

MIB = 1024 * 1024


@pytest.fixture
def http(settings):
    """A client that reports a server error as the 500 response the caller gets."""
    assert not settings.DEBUG  # answers as production gives them
    return Client(raise_request_exception=False)


def assert_json_error(response, status: int, *words: str) -> str:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response.content[:300]
    body = response.json()
    message = body["error"]["message"] if "error" in body else json.dumps(body)
    for word in words:
        assert word in message, message
    return message


def large_coredump(size: int) -> bytes:
    """A valid v2 coredump of about `size` bytes: one large RAM region."""
    return memfault_coredump(
        registers_block(pc=0x100, lr=0x201, sp=0x20000100, msp=0x20000100),
        block(10, b"1.0.0"),
        block(11, b"main"),
        block(1, b"\xaa" * size, address=0x20000100),
    )


# -- chunks ----------------------------------------------------------------------


def post_chunks(http, key, body: bytes, content_type: str, serial: str = "dev-1"):
    return http.post(
        f"/api/v0/chunks/{serial}",
        body,
        content_type=content_type,
        headers={"Memfault-Project-Key": key},
    )


@pytest.mark.parametrize(
    "content_type",
    ["multipart/mixed", "multipart/mixed; boundary=", 'multipart/mixed; boundary=""'],
)
def test_it_refuses_multipart_chunks_without_a_boundary(http, project_key, content_type):
    response = post_chunks(http, project_key, b"--b\r\n\r\nabc\r\n--b--\r\n", content_type)

    assert_json_error(response, 400, "boundary")


def test_it_refuses_a_multipart_part_without_the_blank_line_after_its_headers(http, project_key):
    body = b"--b\r\nContent-Type: application/octet-stream\r\nabc\r\n--b--\r\n"

    response = post_chunks(http, project_key, body, "multipart/mixed; boundary=b")

    assert_json_error(response, 400, "multipart")


def test_it_refuses_a_multipart_part_whose_headers_are_not_text(http, project_key):
    body = b"--b\r\n\xff\xfe: x\r\n\r\nabc\r\n--b--\r\n"

    response = post_chunks(http, project_key, body, "multipart/mixed; boundary=b")

    assert_json_error(response, 400, "multipart")


def test_it_accepts_a_chunk_above_djangos_default_body_cap(http, project_key):
    message = wire.encode_message(wire.MessageType.COREDUMP, large_coredump(3 * MIB))
    (chunk,) = wire.encode_chunks(message)

    response = post_chunks(http, project_key, chunk, "application/octet-stream")

    assert response.status_code == 202, response.content[:300]
    assert Coredump.objects.get().size > 3 * MIB


def test_it_answers_413_naming_the_limit_for_a_body_over_the_chunk_limit(
    http, project_key, settings
):
    body = b"\0" * (settings.MAX_REQUEST_BYTES + 1)

    response = post_chunks(http, project_key, body, "application/octet-stream")

    assert_json_error(response, 413, str(settings.MAX_REQUEST_BYTES))


@pytest.mark.parametrize("serial", ["dev-1%0A", "dev-1%0D", "dev%201", "dev-1%09", "dev%00"])
def test_it_refuses_a_serial_with_whitespace_or_control_characters(http, project_key, serial):
    message = wire.encode_message(wire.MessageType.COREDUMP, large_coredump(16))

    response = post_chunks(
        http, project_key, wire.encode_chunks(message)[0], "application/octet-stream", serial
    )

    assert_json_error(response, 400, "device serial")
    assert not Device.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [{9: "1.0\0"}, {10: "ma\0in"}, {6: "\0"}, {4: {1: {"metric\0": 1}}}, {4: {1: {"m": "\0"}}}],
)
def test_it_keeps_an_event_with_a_nul_in_its_text_as_rejected(http, project_key, fields):
    event = {2: 1, 3: 1, 10: "main", 9: "1.0", 6: "hw", 4: {1: {"m": 1}}} | fields
    message = wire.encode_message(wire.MessageType.EVENT, cbor2.dumps(event))

    response = post_chunks(
        http, project_key, wire.encode_chunks(message)[0], "application/octet-stream"
    )

    assert response.status_code == 202, response.content[:300]
    rejected = DeviceMessage.objects.get()
    assert rejected.status == DeviceMessage.Status.REJECTED
    assert "NUL" in rejected.error
    assert bytes(rejected.raw) == message


# -- upload/coredump ---------------------------------------------------------------


def post_json(http, path: str, body, **headers):
    return http.post(path, body, content_type="application/json", headers=headers)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"file": "tok"}, ["file"]),
        ({"file": ["tok"]}, ["file"]),
        ({"file": 7}, ["file"]),
        ({"file": {"token": "x"}, "device_serial": 7}, ["device_serial"]),
        ({"file": {"token": "x"}, "device_serial": ["d"]}, ["device_serial"]),
        ({"file": {"token": "x"}, "device_serial": "d\n"}, ["device_serial"]),
        ({"file": {"token": 7}}, ["token"]),
    ],
)
def test_it_refuses_a_coredump_commit_with_fields_of_the_wrong_type(http, project_key, body, words):
    response = post_json(
        http, "/api/v0/upload/coredump", body, **{"Memfault-Project-Key": project_key}
    )

    assert_json_error(response, 400, *words)
    assert not Device.objects.exists()


def test_it_refuses_json_nested_100000_levels_deep(http, project_key):
    body = "[" * 100_000 + "]" * 100_000

    response = post_json(
        http, "/api/v0/upload/coredump", body, **{"Memfault-Project-Key": project_key}
    )

    assert_json_error(response, 400, "nested too deeply")


def test_it_refuses_a_json_body_that_is_not_json(http, project_key):
    response = post_json(
        http, "/api/v0/upload/coredump", b"{\xff", **{"Memfault-Project-Key": project_key}
    )

    assert_json_error(response, 400, "JSON")


def test_it_accepts_a_raw_coredump_above_djangos_default_body_cap(http, project_key):
    data = large_coredump(3 * MIB)

    response = http.post(
        "/api/v0/upload/coredump",
        data,
        content_type="application/octet-stream",
        headers={"Memfault-Project-Key": project_key},
    )

    assert response.status_code == 202, response.content[:300]
    assert Coredump.objects.get().size == len(data)


def test_it_answers_413_naming_the_limit_for_a_coredump_over_it(http, project_key, settings):
    response = http.post(
        "/api/v0/upload/coredump",
        b"\0" * (settings.MAX_COREDUMP_BYTES + 1),
        content_type="application/octet-stream",
        headers={"Memfault-Project-Key": project_key},
    )

    assert_json_error(response, 413, str(settings.MAX_COREDUMP_BYTES))


def test_it_refuses_a_raw_coredump_for_a_serial_with_a_newline(http, project_key):
    response = http.post(
        "/api/v0/upload/coredump?device_serial=d-1%0A",
        coredump_path().read_bytes(),
        content_type="application/octet-stream",
        headers={"Memfault-Project-Key": project_key},
    )

    assert_json_error(response, 400, "device serial")
    assert not Coredump.objects.exists()


@pytest.mark.parametrize("param", ["software_type=a%00b", "software_version=1%0A"])
def test_it_refuses_a_raw_coredump_whose_version_has_control_characters(http, project_key, param):
    response = http.post(
        f"/api/v0/upload/coredump?software_type=main&software_version=1&{param}",
        coredump_path().read_bytes(),
        content_type="application/octet-stream",
        headers={"Memfault-Project-Key": project_key},
    )

    assert_json_error(response, 400, "control characters")


@pytest.mark.parametrize("length", ["-1", "ten"])
def test_it_refuses_a_content_length_that_is_not_a_size(http, project_key, length):
    response = http.post(
        "/api/v0/chunks/dev-1",
        b"",
        content_type="application/octet-stream",
        headers={"Memfault-Project-Key": project_key},
        CONTENT_LENGTH=length,
    )

    assert_json_error(response, 400, "Content-Length")


def test_it_refuses_a_prepare_whose_size_or_kind_has_the_wrong_type(http, project_key):
    key = {"Memfault-Project-Key": project_key}

    assert_json_error(post_json(http, "/api/v0/upload", {"size": "10"}, **key), 400, "size")
    assert_json_error(post_json(http, "/api/v0/upload", {"kind": ["X"]}, **key), 400, "kind")
    negative = {"kind": "COREDUMP", "size": -(10**30)}
    assert_json_error(post_json(http, "/api/v0/upload", negative, **key), 400, "negative")


# -- symbols commit ------------------------------------------------------------------


SYMBOLS = "/api/v0/organizations/acme/projects/sensors"


@pytest.fixture
def prepared_elf(http, project, org_token):
    """An ELF PUT to a prepared upload, ready to commit: (token, md5)."""
    data = elf_path().read_bytes()
    prepared = post_json(
        http,
        f"{SYMBOLS}/upload",
        {"kind": "SYMBOL_FILE", "size": len(data)},
        Authorization=f"Bearer {org_token}",
    ).json()["data"]
    url = prepared["upload_url"].split("testserver", 1)[-1]
    assert http.put(url, data, content_type="application/octet-stream").status_code == 200
    return prepared["token"], hashlib.md5(data).hexdigest()


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"md5": 12345}, ["md5"]),
        ({"md5": ["abc"]}, ["md5"]),
        ({"software_version": "1.0.0"}, ["software_version"]),
        ({"software_version": {"version": 1, "software_type": "main"}}, ["version"]),
        ({"software_version": {"version": "1", "software_type": {}}}, ["software_type"]),
        ({"name": 3}, ["name"]),
        ({"software_version": {"version": "1\u0000", "software_type": "main"}}, ["control"]),
    ],
)
def test_a_bad_symbols_commit_is_refused_and_a_corrected_retry_registers_the_elf(
    http, org_token, prepared_elf, body, words
):
    token, md5 = prepared_elf
    auth = {"Authorization": f"Bearer {org_token}"}
    body = dict(body)
    file_fields = {k: body.pop(k) for k in ("md5", "name") if k in body}

    bad = post_json(
        http, f"{SYMBOLS}/symbols", {"file": {"token": token, **file_fields}, **body}, **auth
    )
    assert_json_error(bad, 400, *words)
    assert Upload.objects.get().state == Upload.State.UPLOADED

    retry = post_json(http, f"{SYMBOLS}/symbols", {"file": {"token": token, "md5": md5}}, **auth)
    assert retry.status_code == 200, retry.content
    assert SymbolFile.objects.get().build_id == retry.json()["data"]["build_id"]
    assert Upload.objects.get().state == Upload.State.COMMITTED


def test_a_symbols_commit_whose_file_is_not_an_object_is_refused(http, org_token, prepared_elf):
    auth = {"Authorization": f"Bearer {org_token}"}

    response = post_json(http, f"{SYMBOLS}/symbols", {"file": prepared_elf[0]}, **auth)

    assert_json_error(response, 400, "file")


@pytest.mark.parametrize("credentials", [b"bob\0:pw", b"bob@x\0:pw", b"\xff:pw", b"nocolon"])
def test_basic_credentials_that_name_no_user_are_refused(http, project, credentials):
    header = "Basic " + base64.b64encode(credentials).decode()

    response = http.get(SYMBOLS, headers={"Authorization": header})

    assert_json_error(response, 403, "may not upload")


# -- the REST API --------------------------------------------------------------------


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def bob_token(acme, bob):
    from dre.accounts.services import api_token_create

    return api_token_create(organization=acme, user=bob)[1]


@pytest.mark.parametrize("issue", ["abc", "1.5", "-1", "\uff11", "99999999999999999999999999"])
def test_the_trace_list_refuses_an_issue_that_is_not_an_id(http, project, bob_token, issue):
    response = http.get(
        f"/api/v1/projects/{project.pk}/traces/", {"issue": issue}, headers=bearer(bob_token)
    )

    assert response.status_code in (200, 400), response.content[:300]
    if response.status_code == 400:
        assert "issue" in response.json()


def test_the_trace_list_answers_400_json_for_issue_abc(http, project, bob_token):
    response = http.get(
        f"/api/v1/projects/{project.pk}/traces/?issue=abc", headers=bearer(bob_token)
    )

    assert response.status_code == 400
    assert "not an issue id" in response.json()["issue"]


def test_a_session_can_upload_a_coredump_as_multipart_through_the_csrf_check(project, bob):
    http = Client(enforce_csrf_checks=True, raise_request_exception=False)
    http.force_login(bob)
    http.get("/login/")  # sets the CSRF cookie
    csrf = http.cookies["csrftoken"].value

    with open(coredump_path(), "rb") as core:
        response = http.post(
            f"/api/v1/projects/{project.pk}/coredumps/upload/?device_serial=d-1",
            {"file": core},
            headers={"X-CSRFToken": csrf},
        )

    assert response.status_code == 202, response.content[:300]
    assert Coredump.objects.get().size == coredump_path().stat().st_size


def test_the_rest_coredump_upload_answers_413_before_reading_the_body(
    http, project, bob_token, settings
):
    response = http.post(
        f"/api/v1/projects/{project.pk}/coredumps/upload/",
        b"\0" * (settings.MAX_COREDUMP_BYTES + 1),
        content_type="application/octet-stream",
        headers=bearer(bob_token),
    )

    assert response.status_code == 413
    assert str(settings.MAX_COREDUMP_BYTES) in response.json()["detail"]


def test_the_rest_coredump_upload_accepts_a_raw_body_above_djangos_default_cap(
    http, project, bob_token
):
    data = large_coredump(3 * MIB)

    response = http.post(
        f"/api/v1/projects/{project.pk}/coredumps/upload/",
        data,
        content_type="application/octet-stream",
        headers=bearer(bob_token),
    )

    assert response.status_code == 202, response.content[:300]


def test_the_rest_coredump_upload_refuses_a_serial_with_a_newline(http, project, bob_token):
    response = http.post(
        f"/api/v1/projects/{project.pk}/coredumps/upload/?device_serial=d%0A",
        coredump_path().read_bytes(),
        content_type="application/octet-stream",
        headers=bearer(bob_token),
    )

    assert response.status_code == 400
    assert "device serial" in response.json()["detail"]


def test_the_rest_coredump_upload_refuses_a_version_with_a_nul(http, project, bob_token):
    response = http.post(
        f"/api/v1/projects/{project.pk}/coredumps/upload/?software_type=a%00&software_version=1",
        coredump_path().read_bytes(),
        content_type="application/octet-stream",
        headers=bearer(bob_token),
    )

    assert response.status_code == 400
    assert "control characters" in response.json()["software_type"]


@pytest.mark.parametrize("path", ["devices/", "devices/99999999999999999999/", "traces/"])
def test_ids_beyond_the_database_range_are_not_found(http, bob_token, path):
    response = http.get(f"/api/v1/projects/99999999999999999999/{path}", headers=bearer(bob_token))

    assert response.status_code == 404


def test_the_schema_documents_the_bearer_scheme(http, bob_token):
    response = http.get("/api/v1/schema/?format=json", headers=bearer(bob_token))

    schemes = response.json()["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["bearerAuth"]["description"],
    }


# -- a sweep: no request shape reaches a 500 ----------------------------------------


SWEEP_BODIES = [
    b"",
    b"\xff\x00not anything",
    b"[]",
    b'{"file": {"token": null, "md5": {}}, "software_version": [], "device_serial": ""}',
    b"--x\r\nContent-Type: text/plain\r\n\r\nabc\r\n--x--\r\n",
]
SWEEP_TYPES = [
    "application/octet-stream",
    "application/json",
    "multipart/mixed; boundary=x",
    "multipart/form-data; boundary=x",
    "multipart/form-data",
    "text/plain; charset=bogus",
]


def sweep_paths(project) -> list[str]:
    v1 = f"/api/v1/projects/{project.pk}"
    return [
        "/api/v0/chunks/dev-1",
        "/api/v0/upload/coredump?device_serial=dev-1&software_type=a&software_version=1",
        "/api/v0/upload",
        "/api/v0/uploads/not-a-token",
        SYMBOLS,
        f"{SYMBOLS}/upload",
        f"{SYMBOLS}/coredumps",
        f"{SYMBOLS}/symbols",
        f"{SYMBOLS}/symbols-by-gnu-build-id/abc",
        f"{v1}/symbol-files/upload/",
        f"{v1}/coredumps/upload/?device_serial=dev-1",
        f"{v1}/traces/?issue=1&cursor=%00",
        f"{v1}/issues/?cursor=bogus",
        f"{v1}/devices/1/",
    ]


def test_no_method_body_or_content_type_reaches_a_500(http, project, project_key, org_token):
    """Every endpoint, every method, bodies and content types of the wrong kind."""
    headers = {"Memfault-Project-Key": project_key, "Authorization": f"Bearer {org_token}"}
    failures = []
    for path in sweep_paths(project):
        for method in ("GET", "POST", "PUT"):
            for body in SWEEP_BODIES:
                for content_type in SWEEP_TYPES:
                    response = http.generic(
                        method, path, body, content_type=content_type, headers=headers
                    )
                    if response.status_code >= 500:
                        failures.append((method, path, content_type, body[:20]))
    assert failures == []


# -- a cache outage ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def own_redis(settings):
    """A redis-server of this test's own, as the cache; the test may kill it."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.05)
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    }
    yield process
    process.kill()
    process.wait()


def test_chunks_are_accepted_while_the_rate_limiters_cache_is_down(
    http, project_key, own_redis, caplog
):
    message = wire.encode_message(wire.MessageType.COREDUMP, large_coredump(16))
    (chunk,) = wire.encode_chunks(message)
    assert post_chunks(http, project_key, chunk, "application/octet-stream").status_code == 202

    own_redis.kill()
    own_redis.wait()
    response = post_chunks(http, project_key, chunk, "application/octet-stream", "dev-2")

    assert response.status_code == 202, response.content[:300]
    assert Coredump.objects.count() == 2
    # A request the limiter let through blind meets the outage in its flusher thread,
    # within FLUSH_SECONDS of the answer.
    deadline = time.monotonic() + 5
    while "the cache is unreachable" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.01)
    assert "the cache is unreachable" in caplog.text
