"""System checks for unsafe setting combinations. Ids are stable: dre.E001..."""

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.utils.module_loading import import_string

from dre.settings import DEV_SECRET_KEY


@register("dre")
def check_secret_key(app_configs, **kwargs):
    if settings.DEBUG or settings.SECRET_KEY != DEV_SECRET_KEY:
        return []
    return [
        Error(
            "SECRET_KEY is the development default while DEBUG is off.",
            hint="Set SECRET_KEY to a long random value, or DEBUG=true for local use.",
            id="dre.E001",
        )
    ]


@register("dre")
def check_eager_tasks_with_postgres(app_configs, **kwargs):
    """Tasks run in the web process when no broker is set: fine for a demo only."""
    engine = settings.DATABASES["default"]["ENGINE"]
    if settings.CELERY_BROKER_URL or settings.DEBUG or "postgresql" not in engine:
        return []
    return [
        Warning(
            "CELERY_BROKER_URL is not set, so symbolication runs inside web requests.",
            hint="Set CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0) and run a worker.",
            id="dre.W002",
        )
    ]


@register("dre")
def check_rate_limit_cache(app_configs, **kwargs):
    """Rate limits count in the cache; a per-process cache does not share counts."""
    backend = settings.CACHES["default"]["BACKEND"]
    if not settings.CELERY_BROKER_URL or "locmem" not in backend.lower():
        return []
    return [
        Warning(
            "Rate limits use a per-process cache while dre runs with several processes.",
            hint="Set CACHE_URL to a shared cache, e.g. redis://127.0.0.1:6379/1.",
            id="dre.W003",
        )
    ]


@register("dre")
def check_rate_limit_syntax(app_configs, **kwargs):
    from dre.ingest.ratelimit import parse_rate

    errors = []
    for name in ("DEVICE_RATE_LIMIT", "PROJECT_RATE_LIMIT"):
        try:
            parse_rate(getattr(settings, name))
        except ValueError as exc:
            errors.append(Error(f"{name}: {exc}", id="dre.E004"))
    return errors


@register("dre")
def check_blob_storage(app_configs, **kwargs):
    backend = settings.STORAGES["default"]["BACKEND"]
    try:
        import_string(backend)
    except ImportError as exc:
        return [
            Error(
                f"BLOB_STORAGE_BACKEND {backend!r} cannot be imported: {exc}",
                hint=(
                    "For S3-compatible storage install the s3 extra: pip install 'dre[s3]' "
                    "(from a checkout: pip install -e '.[s3]')."
                ),
                id="dre.E005",
            )
        ]
    return []


@register("dre")
def check_s3_bucket(app_configs, **kwargs):
    """Without a bucket the first coredump upload would fail, not the start."""
    storage = settings.STORAGES["default"]
    if storage["BACKEND"] != settings.S3_STORAGE_BACKEND:
        return []
    if storage.get("OPTIONS", {}).get("bucket_name"):
        return []
    return [
        Error(
            "BLOB_STORAGE_BACKEND is S3 but BLOB_S3_BUCKET is not set.",
            hint="Set BLOB_S3_BUCKET (and BLOB_S3_ENDPOINT_URL for a store other than AWS).",
            id="dre.E007",
        )
    ]


@register("dre")
def check_limits(app_configs, **kwargs):
    """A whole coredump may arrive as one chunk, so a request must be able to hold one."""
    if settings.MAX_REQUEST_BYTES >= settings.MAX_COREDUMP_BYTES:
        return []
    return [
        Error(
            "MAX_REQUEST_BYTES is smaller than MAX_COREDUMP_BYTES.",
            hint="Devices in multi-call mode send a whole coredump in one chunk request.",
            id="dre.E006",
        )
    ]
