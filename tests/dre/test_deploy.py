"""`manage.py check --deploy` on a production configuration: the README's TLS settings
leave nothing to warn about, and without them Django names what is missing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "a-production-secret-key-that-is-long-and-random-enough-8d2f61b0c3",
    "ALLOWED_HOSTS": "dre.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://dre.example.com",
    "DATABASE_URL": "postgres://dre@db.internal:5432/dre",
    "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
    "CACHE_URL": "redis://redis.internal:6379/1",
    "HTTPS": "true",
    "TRUST_X_FORWARDED_PROTO": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
}


def check_deploy(**overrides: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **PRODUCTION, **overrides}
    # The browser tests set it in this process (Playwright runs an event loop); a
    # deployment never has it, and check --deploy rightly warns (async.E001).
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_a_production_configuration_passes_check_deploy_without_a_warning():
    result = check_deploy()

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_without_https_check_deploy_names_the_missing_tls_settings():
    result = check_deploy(HTTPS="false", SECURE_HSTS_SECONDS="0")

    assert result.returncode != 0
    for missing in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert missing in result.stderr


def test_every_variable_the_settings_read_is_in_env_example():
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    read = set()
    for module in ("dre/settings.py", "dre/gunicorn_conf.py"):
        source = (ROOT / module).read_text()
        read |= set(
            re.findall(r"""(?:env\.\w+|environ\.get|_int)\(\s*["']([A-Z][A-Z0-9_]+)""", source)
        )

    assert read - listed == set()
    assert {"HTTPS", "BLOB_S3_BUCKET", "WEB_CONCURRENCY", "GUNICORN_TIMEOUT"} <= read
