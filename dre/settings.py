"""Settings for dre, read only from the environment (see .env.example).

With nothing configured dre runs on SQLite, executes tasks in-process and
keeps blobs under var/, so a fresh clone needs no services. Setting
DATABASE_URL and CELERY_BROKER_URL moves it onto PostgreSQL and a real
Celery worker. Unsafe combinations are reported by the system checks in
dre/checks.py.
"""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
DEV_SECRET_KEY = "dre-insecure-development-key-do-not-use-in-production"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The URL devices and memfault-cli are told to use for one-time uploads.
# Empty means "the origin the request came in on".
PUBLIC_URL = env.str("PUBLIC_URL", default="").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "axes",
    "dre.accounts",
    "dre.fleet",
    "dre.symbols",
    "dre.crashes",
    "dre.ingest",
    "dre.health",
    "dre.diagnostics",
    "dre.releases",
    "dre.api",
    "dre.web",
    "dre.alerts",
    "dre.monitors",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into its answer
]

ROOT_URLCONF = "dre.urls"
# What devices ask is answered with only these (dre/device_handler.py says why): what
# applies to any request, not what serves a browser.
DEVICE_URLCONF = "dre.device_urls"
DEVICE_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]
WSGI_APPLICATION = "dre.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'dre.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://dre")}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))

# Blobs (raw coredumps, symbol files, indexes) go through Django's storage API.
# BLOB_STORAGE_BACKEND may name any storage class; S3 is configured below.
MEDIA_ROOT = env.path("BLOB_ROOT", default=str(VAR_DIR / "blobs"))
STORAGES = {
    "default": {
        "BACKEND": env.str(
            "BLOB_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"
        )
    },
    # Served by WhiteNoise from STATIC_ROOT (after collectstatic), gzip next to each file.
    # Not the manifest storage: it would make every page fail until collectstatic ran.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# -- Production: TLS behind a proxy, S3 blobs ----------------------------------
# HTTPS=true is the one switch for a site served over TLS: redirects to https and
# secure cookies. HSTS is separate because browsers remember it.
HTTPS = env.bool("HTTPS", default=False)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=HTTPS)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=HTTPS)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=HTTPS)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Only behind a proxy that sets (and never passes through) these headers: a
# client could otherwise claim https or another host.
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = env.bool("USE_X_FORWARDED_HOST", default=False)
# Under gunicorn set DATABASE_CONN_MAX_AGE (e.g. 60): a device request then reuses its
# thread's connection instead of opening one. A connection kept across requests is
# checked before reuse, so a restarted PostgreSQL costs one retry, not an error.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = DATABASES["default"]["CONN_MAX_AGE"] != 0
# Django binds values on the client, so none of its statements is prepared; group
# commit's INSERTs (dre.sql.ArrayInsert) bind on the server, and a connection prepares
# each after this many runs: planning one cost PostgreSQL more than inserting a group.
# Empty turns preparing off (PgBouncer before 1.21 in transaction mode needs that).
PREPARE_THRESHOLD = env.str("DATABASE_PREPARE_THRESHOLD", default="5")
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = (
        int(PREPARE_THRESHOLD) if PREPARE_THRESHOLD else None
    )

# The s3 extra (pip install 'dre[s3]'): BLOB_STORAGE_BACKEND=storages.backends.s3.S3Storage.
# Credentials come the way boto3 finds them (AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY, or an instance role), never from this file.
S3_STORAGE_BACKEND = "storages.backends.s3.S3Storage"
if STORAGES["default"]["BACKEND"] == S3_STORAGE_BACKEND:
    STORAGES["default"]["OPTIONS"] = {
        "bucket_name": env.str("BLOB_S3_BUCKET", default=""),
        "endpoint_url": env.str("BLOB_S3_ENDPOINT_URL", default="") or None,
        "region_name": env.str("BLOB_S3_REGION", default="") or None,
        "location": env.str("BLOB_S3_PREFIX", default=""),
        # Blobs are private: reads go through dre, never through a public URL.
        "default_acl": None,
        "querystring_auth": True,
    }

# Celery: no broker configured means tasks run in-process right after the
# transaction that queued them commits.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_IGNORE_RESULT = True
# How a dead worker's work comes back (README "When workers die"): messages are
# acknowledged after the task ran (acks_late); a pool process that dies hands its
# message back at once (reject_on_worker_lost); a whole worker that dies leaves its
# messages unacknowledged in Redis, which restores them after the visibility
# timeout. Rows carry leases (dre/leases.py), so a copy delivered while the first
# worker is still alive does nothing.
PROCESSING_LEASE_SECONDS = env.int("PROCESSING_LEASE_SECONDS", default=60)
MAX_PROCESSING_ATTEMPTS = env.int("MAX_PROCESSING_ATTEMPTS", default=3)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": PROCESSING_LEASE_SECONDS,
    "unacked_restore_interval": max(PROCESSING_LEASE_SECONDS // 6, 1),
    "unacked_restore_throttle": 1,
    # A broker that is down must not hold a request: publishing fails fast and
    # the sweeper publishes later (the row's `queued` is the outbox).
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
CELERY_BEAT_SCHEDULE = {
    "sweep-stuck-coredumps": {
        "task": "dre.crashes.tasks.sweep_stuck_coredumps",
        "schedule": env.int("SWEEP_INTERVAL_SECONDS", default=30),
    },
    "sweep-pending-chunks": {
        "task": "dre.ingest.tasks.sweep_pending_chunks",
        "schedule": env.int("SWEEP_INTERVAL_SECONDS", default=30),
    },
    "rollup-dirty-days": {
        "task": "dre.health.tasks.rollup_dirty_days",
        "schedule": env.int("ROLLUP_INTERVAL_SECONDS", default=60),
    },
    "maintain-heartbeat-partitions": {
        "task": "dre.health.tasks.maintain_partitions",
        "schedule": env.int("PARTITION_INTERVAL_SECONDS", default=3600),
    },
    "sweep-waiting-diagnostics": {
        "task": "dre.diagnostics.tasks.sweep_waiting_diagnostics",
        "schedule": env.int("SWEEP_INTERVAL_SECONDS", default=300),
    },
    "sweep-stuck-deliveries": {
        "task": "dre.alerts.tasks.sweep_stuck_deliveries",
        "schedule": env.int("SWEEP_INTERVAL_SECONDS", default=120),
    },
    # Rollout safety (README "Rollout safety"): halt or widen staged rollouts.
    "evaluate-rollouts": {
        "task": "dre.releases.tasks.evaluate_rollouts",
        "schedule": env.int("ROLLOUT_EVALUATION_SECONDS", default=300),
    },
    "dispatch-fleet-monitors": {
        "task": "dre.monitors.tasks.dispatch_fleet_monitors",
        "schedule": env.int("MONITOR_DISPATCH_SECONDS", default=30),
    },
    "sweep-monitors": {
        "task": "dre.monitors.tasks.sweep_monitors",
        "schedule": env.int("SWEEP_INTERVAL_SECONDS", default=120),
    },
}

# Limits on what devices and CI may send.
MAX_REQUEST_BYTES = env.int("MAX_REQUEST_BYTES", default=8 * 1024 * 1024)
MAX_COREDUMP_BYTES = env.int("MAX_COREDUMP_BYTES", default=4 * 1024 * 1024)
MAX_SYMBOL_FILE_BYTES = env.int("MAX_SYMBOL_FILE_BYTES", default=1024 * 1024 * 1024)
DEVICE_RATE_LIMIT = env.str("DEVICE_RATE_LIMIT", default="120/m")
PROJECT_RATE_LIMIT = env.str("PROJECT_RATE_LIMIT", default="12000/m")
# How many processes (web workers on every host) may count the same device or
# project at once: a process decides a request without asking Redis only while the
# limit would hold even if this many did the same (dre/ingest/ratelimit.py).
RATE_LIMIT_SHARERS = env.int("RATE_LIMIT_SHARERS", default=8)
UPLOAD_URL_TTL_SECONDS = env.int("UPLOAD_URL_TTL_SECONDS", default=3600)
# OTA payloads (releases). memfault-cli PUTs a payload in parts of about
# OTA_UPLOAD_PART_BYTES when this is above 0, in one PUT otherwise.
MAX_OTA_PAYLOAD_BYTES = env.int("MAX_OTA_PAYLOAD_BYTES", default=512 * 1024 * 1024)
OTA_UPLOAD_PART_BYTES = env.int("OTA_UPLOAD_PART_BYTES", default=16 * 1024 * 1024)
# Download URLs handed to devices expire, like Memfault's (memfault-formats.md 4.3: 6 hours).
OTA_DOWNLOAD_URL_TTL_SECONDS = env.int("OTA_DOWNLOAD_URL_TTL_SECONDS", default=6 * 3600)

# Password guessing, on /login/ and on memfault-cli's Basic credentials (django-axes):
# a username is locked out from one address after LOGIN_FAILURE_LIMIT failures in a
# row, for LOGIN_COOLOFF_MINUTES. Counting per username and address together means a
# stranger cannot lock a colleague out, and one office behind NAT does not lock itself.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "dre.accounts.lockout.lockout_response"

# A message handed to the broker that no worker started within this long is
# published again (the broker lost it, e.g. a restart without persistence).
STUCK_AFTER_SECONDS = env.int("STUCK_AFTER_SECONDS", default=900)
# The same bytes from the same device within this window are one coredump.
DEDUP_WINDOW_SECONDS = env.int("DEDUP_WINDOW_SECONDS", default=3600)
# RLE payloads are stored as sent and expanded by the worker; these bound how many
# expanded bytes one chunk request, and one device in one UTC day, may claim.
MAX_EXPANDED_BYTES_PER_REQUEST = env.int("MAX_EXPANDED_BYTES_PER_REQUEST", default=16 * 1024 * 1024)
MAX_EXPANDED_BYTES_PER_DEVICE_DAY = env.int(
    "MAX_EXPANDED_BYTES_PER_DEVICE_DAY", default=64 * 1024 * 1024
)
SYMBOL_INDEX_CACHE_SIZE = env.int("SYMBOL_INDEX_CACHE_SIZE", default=16)

# Alerts. Email goes through any SMTP server named by EMAIL_URL (django-environ's forms:
# smtp+tls://user:pass@host:587 for STARTTLS, smtp+ssl://...:465 for TLS from the start,
# smtp://host:25 plain); empty prints mail on the console.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT_SECONDS", default=20)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="dre <dre@localhost>")
WEBHOOK_TIMEOUT_SECONDS = env.int("WEBHOOK_TIMEOUT_SECONDS", default=10)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=6)
WEBHOOK_RETRY_BASE_SECONDS = env.int("WEBHOOK_RETRY_BASE_SECONDS", default=30)
WEBHOOK_DISABLE_AFTER_FAILURES = env.int("WEBHOOK_DISABLE_AFTER_FAILURES", default=15)
# Device thresholds place a heartbeat that arrives out of order where it belongs in the
# device's timeline if it is at most this much older than the newest one; delays are
# capped by it too.
MONITOR_LATENESS_SECONDS = env.int("MONITOR_LATENESS_SECONDS", default=86400)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "dre.accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "dre.api.edge.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "dre API",
    "DESCRIPTION": "Uploads and reads of devices, symbol files, coredumps, traces and issues.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Choice sets that share a field name with another app's get their own names.
    "ENUM_NAME_OVERRIDES": {
        "MonitorKindEnum": "dre.monitors.models.Monitor.Kind",
        "WebhookKindEnum": "dre.alerts.models.Webhook.Kind",
        "IncidentStateEnum": "dre.monitors.models.Incident.State",
        "WebhookDeliveryStateEnum": "dre.alerts.models.WebhookDelivery.State",
        "DiagnosticsStateEnum": "dre.diagnostics.models.State",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# Days of raw heartbeat intervals kept (PostgreSQL drops whole daily partitions); the
# daily rollups stay. 0 keeps everything.
HEALTH_INTERVAL_RETENTION_DAYS = env.int("HEALTH_INTERVAL_RETENTION_DAYS", default=0)
