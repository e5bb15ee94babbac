"""Settings for the whistle-and-report platform.

Everything that differs between machines comes from environment variables
read through the typed helpers in config.env; the defaults are safe for a
single-machine demo (SQLite and a server-less Celery broker under var/).
README.md lists every variable.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_choice, env_float, env_int, env_list, env_rate, env_str
from config.security import proxy_ssl_header, tile_source

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", True)

_DEV_SECRET_KEY = "insecure-development-key-only-valid-with-debug-on"  # nosec B105 # refused below when DEBUG is off
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
    "axes",
    "csp",
    "grids",
    "departments",
    "whistle",
    "escalation",
    "workbench",
    "open311",
    "idempotency",
    "backup",
    "monitoring",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Above everything that reads the database: a lost database answers 503, not 500.
    "config.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: a key belongs to the signed-in user or the token's.
    "idempotency.middleware.IdempotencyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
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

SILENCED_SYSTEM_CHECKS: list[str] = []
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
    SILENCED_SYSTEM_CHECKS.append("models.W040")
elif _database["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must be a sqlite:/// or postgres:// URL.")
else:
    # A database host that does not answer at all fails a request in seconds (a 503), not at the
    # web server's time-out; a connect_timeout in DATABASE_URL's query string wins.
    _database.setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT_S", 5, minimum=1, maximum=300)
    )
_database["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Authentication --------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out sign-in before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "departments.backends.MembershipBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env_int("PASSWORD_MIN_LENGTH", 12, minimum=10, maximum=128)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Object permissions never go to anonymous visitors: no "AnonymousUser" row.
ANONYMOUS_USER_NAME = None
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

# Failed sign-ins (django-axes), on /accounts/login/ and the admin's: after AXES_FAILURE_LIMIT
# wrong passwords for one username from one address, that pair is refused for the cool-off
# time. API tokens never pass through authenticate(), so machine clients are not counted.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1, maximum=100)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1, maximum=7 * 24 * 60))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.security.lockout_response"
AXES_CLIENT_IP_CALLABLE = "config.security.client_ip"
# Failures and lockouts are still logged (as warnings); not the start-up banner of every process.
AXES_VERBOSE = False
# Reverse proxies in front of the site that append the client's address to X-Forwarded-For
# (0: the site is reached directly, and the peer's address is the client's).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0, maximum=10)

# Sessions, cookies and headers ---------------------------------------------------------

SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 60 * 60, minimum=300)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", False)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Pages send the token from the form or the page (hx-headers); no script reads the cookie.
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
# Secure cookies and HTTPS by default once DEBUG is off; each can be turned off for a site
# served over plain HTTP inside a closed network.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Probes inside the host or the cluster ask over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz(/|$)", r"^metrics$"]
# Behind a proxy that terminates TLS: the header it sets, e.g. HTTP_X_FORWARDED_PROTO,https.
SECURE_PROXY_SSL_HEADER = proxy_ssl_header(env_list("SECURE_PROXY_SSL_HEADER", []))
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 60 * 60, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if not SECURE_HSTS_PRELOAD:
    # Preloading is a request to the browser makers that takes months to undo: an operator's
    # choice (SECURE_HSTS_PRELOAD=true), not a default the deployment check should nag about.
    SILENCED_SYSTEM_CHECKS.append("security.W021")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content security policy (django-csp): scripts, styles and everything else from the site only;
# no inline script, style element or style attribute (tests/test_templates.py and
# tests/config/test_security.py keep the templates so).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # data: and blob: for the icons of Bootstrap's and Leaflet's style sheets and chart exports.
        # The tile server of MAP_TILE_URL is added below, where that is read.
        "img-src": [SELF, "data:", "blob:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

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
# No URL serves MEDIA_ROOT (nothing is uploaded to the default storage), nor the private folder.
MEDIA_ROOT = VAR_DIR / "media"
PRIVATE_MEDIA_ROOT = Path(env_str("PRIVATE_MEDIA_ROOT", str(VAR_DIR / "private"))).resolve()
for _public in (STATIC_ROOT, *STATICFILES_DIRS, MEDIA_ROOT):
    # whitenoise serves whatever lies under the static folders: attachments there would be public.
    if PRIVATE_MEDIA_ROOT.is_relative_to(Path(_public).resolve()):
        raise ImproperlyConfigured(f"PRIVATE_MEDIA_ROOT={PRIVATE_MEDIA_ROOT} must not lie inside {_public}.")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Feedback attachments: outside MEDIA_ROOT, served only through an access-checked view.
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(PRIVATE_MEDIA_ROOT)},
    },
    # With DEBUG off, file names carry a hash of their content, so whitenoise lets browsers keep
    # them for good (a new version has a new name); collectstatic must then run before the web
    # server starts (the Docker image runs it at build). With DEBUG on (development and the test
    # suite) plain names, so that pages render without a collectstatic.
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# REST framework --------------------------------------------------------------------

REST_FRAMEWORK = {
    # Token first: DRF takes the WWW-Authenticate header of the first class, and
    # only with one does a request without credentials get 401 instead of 403.
    # Session authentication enforces CSRF, as browsers need.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "config.authentication.MembershipTokenAuthentication",
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
    # Requests per machine token, per signed-in user and per address (API_RATE_* below).
    "DEFAULT_THROTTLE_CLASSES": ["config.throttling.ClientRateThrottle"],
}
# Rates as "<requests>/<second|minute|hour|day>" (0 turns a limit off); beyond
# them a 429 with Retry-After. The hotline's token carries the city's intake
# (about 70,000 cases a day, several a second in the peaks).
API_RATE_TOKEN = env_rate("API_RATE_TOKEN", "1200/minute")
API_RATE_USER = env_rate("API_RATE_USER", "600/minute")
API_RATE_ANON = env_rate("API_RATE_ANON", "120/minute")
# Idempotency-Key on API and Open311 POSTs: answers kept this long, a request
# still running after IDEMPOTENCY_LOCK_S is taken as abandoned (its process died).
IDEMPOTENCY_TTL_H = env_int("IDEMPOTENCY_TTL_H", 24, minimum=1)
IDEMPOTENCY_LOCK_S = env_int("IDEMPOTENCY_LOCK_S", 60, minimum=1)
SPECTACULAR_SETTINGS = {
    "TITLE": "Whistle and report API",
    "DESCRIPTION": "街乡吹哨，部门报到: raise whistles, route them to departments, follow them to the end.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # 429, 401 and, on POSTs, Idempotency-Key and its 409, on every operation (config.schema).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.schema.add_shared_answers",
    ],
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
        "DepartmentKindEnum": "departments.models.Department.Kind",
        "StreetKindEnum": "grids.models.Street.Kind",
        "AccountabilityKindEnum": "escalation.models.AccountabilityRecord.Kind",
    },
}

# Cache: the API's rate counters. Every web process must share it, so the
# default is a folder under VAR_DIR; production points CACHE_URL at Redis.
CACHE_URL = env_str("CACHE_URL", f"file://{VAR_DIR / 'cache'}")
_cache = urlsplit(CACHE_URL)
if _cache.scheme in {"redis", "rediss"}:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
elif _cache.scheme == "file":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": _cache.path}}
elif _cache.scheme == "locmem":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    raise ImproperlyConfigured(f"CACHE_URL={CACHE_URL!r}: use redis://, file:///PATH or locmem://.")

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
CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"] += tile_source(MAP_TILE_URL)

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

# plain for development; json writes one JSON object per line (time, level, logger, message and
# the fields passed as `extra`) for a log collector: monitoring.logs.
LOG_FORMAT = env_choice("LOG_FORMAT", "plain", ("plain", "json"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "monitoring.logs.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# Operations: /healthz and /metrics (monitoring.views) ---------------------------------

# Beat sends the heartbeat task this often; /healthz calls beat stale when its last heartbeat is
# older than HEALTHZ_BEAT_STALE_S, and the workers when none ran a task for HEALTHZ_WORKER_STALE_S.
MONITOR_HEARTBEAT_EVERY_S = env_int("MONITOR_HEARTBEAT_EVERY_S", 30, minimum=5, maximum=3600)
_stale_default = max(120, 4 * MONITOR_HEARTBEAT_EVERY_S)
HEALTHZ_BEAT_STALE_S = env_int("HEALTHZ_BEAT_STALE_S", _stale_default, minimum=MONITOR_HEARTBEAT_EVERY_S + 1)
HEALTHZ_WORKER_STALE_S = env_int("HEALTHZ_WORKER_STALE_S", _stale_default, minimum=MONITOR_HEARTBEAT_EVERY_S + 1)
# How long /healthz waits for the broker (connect and read) and for a PostgreSQL statement.
HEALTHZ_TIMEOUT_S = env_float("HEALTHZ_TIMEOUT_S", 2.0, minimum=0.1)
# /metrics: open to anyone on a private network (METRICS_PUBLIC), or to `Authorization: Bearer <METRICS_TOKEN>`.
METRICS_PUBLIC = env_bool("METRICS_PUBLIC", False)
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
if METRICS_TOKEN and len(METRICS_TOKEN) < 24:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 24 characters long (a random string).")

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
    # Answers kept for Idempotency-Keys past their time to live.
    "purge-idempotency-keys": {"task": "idempotency.purge", "schedule": 3600.0},
    # /healthz: beat's heartbeat when it is sent, the worker's when it runs (monitoring.tasks);
    # one that waited a whole period in the queue is dropped, the next one is on its way.
    "monitor-heartbeat": {
        "task": "monitoring.heartbeat",
        "schedule": float(MONITOR_HEARTBEAT_EVERY_S),
        "options": {"expires": float(MONITOR_HEARTBEAT_EVERY_S)},
    },
    # /metrics counts the whistles submitted since a mark; the count up to it is settled here.
    "monitor-settle-submissions": {"task": "monitoring.settle_submissions", "schedule": 300.0},
}
