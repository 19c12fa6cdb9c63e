"""The real memfault-cli 1.12, unmodified, uploads OTA payloads and deploys releases
against a live dre server (memfault-formats.md 3.2, 3.3, 3.5)."""

import hashlib

import pytest

from dre import blobs
from dre.fleet.services import cohort_get_or_create, device_seen, devices_move_to_cohort
from dre.releases.models import Artifact, Deployment, DeploymentLog, Release
from dre.releases.services import deployment_activate, release_get_or_create
from tests.memfault_cli import memfault

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cli(live_server, org_token, project):
    def run(*args):
        return memfault(live_server, *args, org_token=org_token, org="acme", project="sensors")

    return run


@pytest.fixture
def payload(tmp_path):
    def write(size: int, name="firmware.bin"):
        path = tmp_path / name
        path.write_bytes(bytes((n * 7 + n // 251) % 256 for n in range(size)))
        return path

    return write


def upload(cli, path, *options):
    return cli("upload-ota-payload", "--hardware-version", "evt", "--software-type", "main",
               *options, str(path))  # fmt: skip


def test_it_takes_a_payload_in_one_put_when_parts_are_off(cli, payload, settings):
    settings.OTA_UPLOAD_PART_BYTES = 0
    path = payload(10_000)

    result = upload(cli, path, "--software-version", "1.1.0", "--notes", "Fixes", "--revision",
                    "abc", "--extra-metadata", "signed=yes")  # fmt: skip

    assert result.returncode == 0, result.stderr
    artifact = Artifact.objects.select_related("release").get()
    assert artifact.release.version.version == "1.1.0"
    assert (artifact.release.notes, artifact.release.revision) == ("Fixes", "abc")
    assert artifact.extra_info == {"signed": "yes"}
    assert artifact.filename == "firmware.bin"
    assert artifact.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_it_takes_a_large_payload_in_parts_and_joins_them_in_order(cli, payload, settings):
    settings.OTA_UPLOAD_PART_BYTES = 64 * 1024
    path = payload(300_000)  # five parts

    result = upload(cli, path, "--software-version", "2.0.0", "--must-pass-through")

    assert result.returncode == 0, result.stderr
    artifact = Artifact.objects.get()
    assert blobs.blob_read(artifact.blob) == path.read_bytes()
    assert artifact.md5 == hashlib.md5(path.read_bytes()).hexdigest()
    assert artifact.release.must_pass_through


def test_it_takes_a_delta_payload(cli, payload):
    result = upload(cli, payload(5000), "--delta-from", "1.0.0", "--delta-to", "1.1.0")

    assert result.returncode == 0, result.stderr
    release = Release.objects.get()
    assert str(release) == "1.0.0 → 1.1.0"


def test_a_second_payload_for_the_same_hardware_is_refused(cli, payload):
    assert upload(cli, payload(100), "--software-version", "1.0.0").returncode == 0

    again = upload(cli, payload(200), "--software-version", "1.0.0")

    # dre answers 409, which memfault-cli reports as "already uploaded" (3.2).
    assert again.returncode == 0, again.stderr
    assert Artifact.objects.count() == 1
    assert Artifact.objects.get().size == 100


def test_it_deploys_a_release_to_a_cohort_and_deactivates_it(cli, project):
    release_get_or_create(project, "main", "1.1.0")
    cohort_get_or_create(project, "beta")

    deployed = cli("deploy-release", "--release-version", "1.1.0", "--cohort", "beta")
    assert deployed.returncode == 0, deployed.stderr
    deployment = Deployment.objects.get()
    assert (deployment.type, deployment.rollout_percent) == ("normal", 100)
    assert deployment.log.get().actor.startswith("org token")

    pulled = cli("deploy-release", "--release-version", "1.1.0", "--cohort", "beta",
                 "--deactivate")  # fmt: skip
    assert pulled.returncode == 0, pulled.stderr
    deployment.refresh_from_db()
    assert deployment.status == Deployment.Status.PULLED


def test_it_deploys_a_staged_rollout_and_widens_it(cli, project):
    release_get_or_create(project, "main", "1.1.0")

    first = cli("deploy-release", "--release-version", "1.1.0", "--cohort", "default",
                "--rollout-percent", "5")  # fmt: skip
    widened = cli("deploy-release", "--release-version", "1.1.0", "--cohort", "default",
                  "--rollout-percent", "20")  # fmt: skip

    assert first.returncode == 0, first.stderr
    assert widened.returncode == 0, widened.stderr
    deployment = Deployment.objects.get()
    assert (deployment.type, deployment.rollout_percent) == ("staged_rollout", 20)
    assert [entry.action for entry in deployment.log.all()] == [
        DeploymentLog.Action.ACTIVATED,
        DeploymentLog.Action.WIDENED,
    ]


def test_it_deploys_and_deactivates_a_delta_release(cli, project):
    release_get_or_create(project, "main", "1.1.0", delta_from="1.0.0")

    deployed = cli("deploy-release", "--delta-from", "1.0.0", "--delta-to", "1.1.0",
                   "--cohort", "default")  # fmt: skip
    pulled = cli("deploy-release", "--delta-from", "1.0.0", "--delta-to", "1.1.0",
                 "--cohort", "default", "--deactivate")  # fmt: skip

    assert deployed.returncode == 0, deployed.stderr
    assert pulled.returncode == 0, pulled.stderr
    assert Deployment.objects.get().status == Deployment.Status.PULLED


def test_deploying_an_unknown_release_fails_clearly(cli, project):
    result = cli("deploy-release", "--release-version", "9.9.9", "--cohort", "default")

    assert result.returncode != 0
    assert "no release '9.9.9'" in result.stdout + result.stderr


def test_a_device_downloads_what_the_cli_uploaded(cli, payload, live_server, project_key, project):
    import requests

    path = payload(4096)
    assert upload(cli, path, "--software-version", "1.1.0").returncode == 0
    deployment_activate(Release.objects.get(), cohort_get_or_create(project, "default"))
    devices_move_to_cohort(project, [device_seen(project, "dev-1").serial],
                           cohort_get_or_create(project, "default"))  # fmt: skip

    asked = requests.get(
        f"{live_server.url}/api/v0/releases/latest/url?&device_serial=dev-1"
        "&hardware_version=evt&software_type=main&current_version=1.0.0",
        headers={"Memfault-Project-Key": project_key},
        timeout=10,
    )

    assert asked.status_code == 200, asked.text
    assert asked.headers["Content-Type"] == "text/plain; charset=utf-8"
    downloaded = requests.get(asked.text, timeout=10)
    assert downloaded.status_code == 200
    assert downloaded.content == path.read_bytes()
