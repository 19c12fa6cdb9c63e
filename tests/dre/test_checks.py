"""System checks for unsafe settings, by their stable ids."""

from dre import checks


def ids(results):
    return [r.id for r in results]


def test_the_development_secret_key_is_an_error_without_debug(settings):
    settings.DEBUG = False
    settings.SECRET_KEY = checks.DEV_SECRET_KEY

    assert ids(checks.check_secret_key(None)) == ["dre.E001"]


def test_a_real_secret_key_passes(settings):
    settings.DEBUG = False
    settings.SECRET_KEY = "x" * 50

    assert checks.check_secret_key(None) == []


def test_postgres_without_a_broker_warns(settings):
    settings.DEBUG = False
    settings.CELERY_BROKER_URL = ""
    settings.DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql"}}

    assert ids(checks.check_eager_tasks_with_postgres(None)) == ["dre.W002"]


def test_a_per_process_cache_with_workers_warns(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

    assert ids(checks.check_rate_limit_cache(None)) == ["dre.W003"]


def test_a_malformed_rate_is_an_error(settings):
    settings.DEVICE_RATE_LIMIT = "lots"

    assert ids(checks.check_rate_limit_syntax(None)) == ["dre.E004"]


def test_an_unimportable_storage_backend_is_an_error(settings):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "storages.backends.s3.Nope"}}

    assert ids(checks.check_blob_storage(None)) == ["dre.E005"]


def test_a_request_limit_below_a_coredump_is_an_error(settings):
    settings.MAX_REQUEST_BYTES = 10
    settings.MAX_COREDUMP_BYTES = 100

    assert ids(checks.check_limits(None)) == ["dre.E006"]


def test_s3_storage_without_a_bucket_is_an_error(settings):
    s3 = {"BACKEND": settings.S3_STORAGE_BACKEND, "OPTIONS": {"bucket_name": ""}}
    settings.STORAGES = {**settings.STORAGES, "default": s3}

    assert ids(checks.check_s3_bucket(None)) == ["dre.E007"]


def test_the_missing_storage_hint_names_the_s3_extra(settings):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "storages.backends.s3.Nope"}}

    assert "pip install 'dre[s3]'" in checks.check_blob_storage(None)[0].hint
