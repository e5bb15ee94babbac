"""Settings for the whistle-and-report platform.

Everything that differs between machines comes from environment variables
read through the typed helpers in config.env; the defaults are safe for a
single-machine demo (SQLite and a server-less Celery broker under var/).
README.md lists every variable.
"""

from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", True)

_DEV_SECRET_KEY = "insecure-development-key-only-valid-with-debug-on"
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET_KEY if DEBUG else None)
if not DEBUG and SECRET_KEY == _DEV_SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set to a secret value when DEBUG is off.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must name this site's host names when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "grids",
    "departments",
    "whistle",
    "escalation",
    "workbench",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "escalation.context_processors.calendar_warning",
                "whistle.context_processors.header",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

# Database ------------------------------------------------------------------

DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
try:
    _database = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("CONN_MAX_AGE", 600, minimum=0))
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL={DATABASE_URL!r} cannot be used: {exc}") from None
if _database["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; IMMEDIATE takes
    # the write lock at BEGIN so two writers queue up instead of failing
    # half-way through with "database is locked".
    _database["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # A file, not :memory:, so that a live Celery worker can share the test database.
    _database["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
    # The evaluation's covering indexes (INCLUDE) are PostgreSQL's; on SQLite they are plain indexes
    # on their key columns, which is all a development database needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
elif _database["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must be a sqlite:/// or postgres:// URL.")
_database["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Authentication --------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    "departments.backends.MembershipBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Object permissions never go to anonymous visitors: no "AnonymousUser" row.
ANONYMOUS_USER_NAME = None
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

# E-mail: notices to departments and streets. Printed to the log in development.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "whistle@localhost")

# Language and time ---------------------------------------------------------------

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# Static files --------------------------------------------------------------------

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Feedback attachments: outside MEDIA_ROOT, served only through an access-checked view.
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(Path(env_str("PRIVATE_MEDIA_ROOT", str(VAR_DIR / "private"))).resolve())},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# REST framework --------------------------------------------------------------------

REST_FRAMEWORK = {
    # Token first: DRF takes the WWW-Authenticate header of the first class, and
    # only with one does a request without credentials get 401 instead of 403.
    # Session authentication enforces CSRF, as browsers need.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON in and out (DESIGN.md, "API contract"): a form-encoded body is a 415.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "config.api.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Every error in one shape: {"code", "message", "fields"}.
    "EXCEPTION_HANDLER": "config.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Whistle and report API",
    "DESCRIPTION": "街乡吹哨，部门报到: raise whistles, route them to departments, follow them to the end.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the installed sidecar package: no CDN is reachable from government networks.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "status": name each set of choices after its model.
    "ENUM_NAME_OVERRIDES": {
        "WhistleStatusEnum": "whistle.models.Whistle.Status",
        "TaskStatusEnum": "whistle.models.Task.Status",
        "ExtensionStatusEnum": "whistle.models.Extension.Status",
        "MeetingStatusEnum": "whistle.models.JointMeeting.Status",
        "AttendanceStatusEnum": "whistle.models.MeetingAttendance.Status",
        "SupervisionOrderStatusEnum": "escalation.models.SupervisionOrder.Status",
    },
}

# Celery ------------------------------------------------------------------------

BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://localhost//")
_broker_scheme = urlsplit(CELERY_BROKER_URL).scheme
if _broker_scheme not in {"filesystem", "redis", "rediss", "amqp", "pyamqp"}:
    raise ImproperlyConfigured(f"CELERY_BROKER_URL={CELERY_BROKER_URL!r}: use filesystem://, redis:// or amqp://.")
if _broker_scheme == "filesystem":
    # kombu's file transport: producer and worker must read and write one folder.
    BROKER_DIR.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR),
        "data_folder_out": str(BROKER_DIR),
        "control_folder": str(BROKER_DIR / "control"),
        # The worker looks for new message files this often; kombu's default
        # of one second caps routing at about two whistles a second.
        "polling_interval": 0.05,
    }
    _default_results = f"file://{VAR_DIR / 'celery-results'}"
    (VAR_DIR / "celery-results").mkdir(parents=True, exist_ok=True)
else:
    # A publish to a broker that is down fails at once instead of retrying
    # for seconds: the whistle is already stored, and the re-enqueue job
    # sends it when the broker is back (nothing lost, no hanging request).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 1, "interval_start": 0, "socket_connect_timeout": 2}
    _default_results = CELERY_BROKER_URL if _broker_scheme.startswith("redis") else "rpc://"
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", _default_results)
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "whistle")
# Results are only kept for tasks that ask for them (the health ping).
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged after it ran, and given back if the worker dies
# under it: nothing accepted is lost to a killed worker.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery closes the database connection after every task unless told to
# reuse it; reusing makes small tasks about three times faster.
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000, minimum=0)

# Geography -------------------------------------------------------------------------

# Two grids of one district may overlap by this many square metres (digitising
# slivers along shared edges); anything larger is rejected.
GRID_OVERLAP_TOLERANCE_M2 = env_float("GRID_OVERLAP_TOLERANCE_M2", 10.0, minimum=0.0)
# The map's tile layer, e.g. https://tiles.example.gov.cn/{z}/{x}/{y}.png; empty draws the
# grid outlines on a plain background (government networks are often offline).
MAP_TILE_URL = env_str("MAP_TILE_URL", "")

# Intake shows open whistles of the same category this near and this recent as possible duplicates.
WHISTLE_DUPLICATE_RADIUS_M = env_int("WHISTLE_DUPLICATE_RADIUS_M", 100, minimum=1, maximum=100_000)
WHISTLE_DUPLICATE_DAYS = env_int("WHISTLE_DUPLICATE_DAYS", 30, minimum=1, maximum=3650)

# Feedback attachments (photos and PDF): the largest file accepted, and how many one feedback form may carry.
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024, minimum=1)
ATTACHMENT_MAX_FILES = env_int("ATTACHMENT_MAX_FILES", 10, minimum=1, maximum=100)
# A department checking in to a joint meeting this many minutes after its start is still
# present; later it is recorded as late.
# The overdue dashboard's counts come from a tally beat renews every minute; a page finding it
# older than this counts again itself.
DASHBOARD_TALLY_MAX_AGE_S = env_int("DASHBOARD_TALLY_MAX_AGE_S", 180, minimum=0)
# The evaluation tally (escalation.evaluation_tally): a month counted longer ago is counted again when read;
# beat counts the current and the previous month every EVALUATION_TALLY_EVERY_S.
EVALUATION_TALLY_MAX_AGE_S = env_int("EVALUATION_TALLY_MAX_AGE_S", 900, minimum=0)
EVALUATION_TALLY_EVERY_S = env_int("EVALUATION_TALLY_EVERY_S", 300, minimum=10)
MEETING_LATE_GRACE_MINUTES = env_int("MEETING_LATE_GRACE_MINUTES", 15, minimum=0, maximum=240)

# Logging ---------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# Periodic jobs (Celery beat) ---------------------------------------------------------

CELERY_BEAT_SCHEDULE = {
    # Nothing lost: whistles whose routing message never arrived (broker down
    # at submit time) are handed to routing again.
    "requeue-stuck-whistles": {"task": "whistle.requeue_stuck", "schedule": 60.0},
    # Notices whose mail run was never called (broker down, message lost) are e-mailed.
    "email-due-notices": {"task": "whistle.email_notifications", "schedule": 60.0},
    # Warnings, overdues, supervision orders and accountability records as deadlines pass.
    "sweep-deadlines": {"task": "escalation.sweep", "schedule": 60.0},
    # The overdue dashboard's counts (escalation.models.OpenTaskTally).
    "tally-open-tasks": {"task": "escalation.tally_open_tasks", "schedule": 60.0},
    # The three rates' counts of the current and the previous month (escalation.models.EvaluationTally).
    "tally-evaluation": {"task": "escalation.tally_evaluation", "schedule": float(EVALUATION_TALLY_EVERY_S)},
}
