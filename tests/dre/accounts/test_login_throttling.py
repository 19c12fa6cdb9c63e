"""Password guessing is limited, on the login page and on memfault-cli's Basic
credentials alike (django-axes, counted per username and address)."""

import base64

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

PROJECT_URL = "/api/v0/organizations/acme/projects/sensors"


@pytest.fixture(autouse=True)
def _three_failures(settings):
    settings.AXES_FAILURE_LIMIT = 3


def log_in(client, password, username="bob", address="10.0.0.1"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def basic(client, password, login="bob", address="10.0.0.1"):
    credentials = base64.b64encode(f"{login}:{password}".encode()).decode()
    return client.get(
        PROJECT_URL, headers={"Authorization": f"Basic {credentials}"}, REMOTE_ADDR=address
    )


def test_the_login_page_locks_out_after_the_failure_limit_even_the_right_password(
    client, bob, project
):
    assert [log_in(client, "wrong").status_code for _ in range(2)] == [200, 200]
    locked = log_in(client, "wrong")

    assert locked.status_code == 429
    assert locked["Retry-After"] == "900"
    assert log_in(client, PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_lockout_holds_one_address_only(client, bob, project):
    for _ in range(3):
        log_in(client, "wrong")

    response = log_in(client, PASSWORD, address="10.0.0.2")

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(bob.pk)


def test_a_success_before_the_limit_starts_the_count_again(client, bob, project):
    log_in(client, "wrong")
    log_in(client, "wrong")
    assert log_in(client, PASSWORD).status_code == 302
    client.logout()

    assert log_in(client, "wrong").status_code == 200
    assert log_in(client, PASSWORD).status_code == 302


def test_basic_credentials_lock_out_with_a_json_answer(client, bob, project):
    assert basic(client, PASSWORD).status_code == 200
    assert [basic(client, "wrong").status_code for _ in range(2)] == [403, 403]

    locked = basic(client, "wrong")

    assert locked.status_code == 429
    assert locked.json()["error"]["type"] == "rate_limited"
    assert "try again in 15 minutes" in locked.json()["error"]["message"]
    assert basic(client, PASSWORD).status_code == 429


def test_basic_credentials_by_email_count_one_failure_per_guess(client, bob, project):
    assert [basic(client, "wrong", login="bob@example.com").status_code for _ in range(2)] == [
        403,
        403,
    ]
    assert basic(client, PASSWORD, login="bob@example.com").status_code == 200
