"""Operations endpoints: /healthz (health), /healthz/live (liveness) and /metrics (Prometheus).

/healthz — readiness of the whole platform, for monitoring and load balancers
    Checks the database, the broker, beat's heartbeat and the workers'
    heartbeat (monitoring.health). 200 when every check passes, 503 when one
    fails, naming it:

        {"status": "fail", "checks": {"database": {"ok": true, "ms": 0.4},
                                      "broker": {"ok": true, "ms": 2.1},
                                      "beat": {"ok": true, "age_s": 12.0, "stale_after_s": 120},
                                      "worker": {"ok": false, "age_s": 400.0, "stale_after_s": 120,
                                                 "workers": 0, "error": "…"}}}

    `?checks=database,broker` runs only the checks named (one parameter,
    comma-separated, or the parameter repeated); an unknown name is a 400 in
    the API's error shape. Each part has a short timeout (HEALTHZ_TIMEOUT_S,
    2 s: the broker's connect and socket timeouts, PostgreSQL's statement
    timeout), so a dead part makes the answer a quick 503, never a hang; a
    database that is down is a 503 too. For the time PostgreSQL may take to
    accept a connection at all, give DATABASE_URL a `?connect_timeout=3`.

    Container health checks ask only about what restarting that container
    could fix: the web container `/healthz?checks=database` (a late beat or
    a stopped worker must not mark the web server unhealthy), beat
    `manage.py healthz --checks beat`, a worker `celery inspect ping`.

/healthz/live — liveness: 200 whenever the process answers; it checks nothing else.

    Both are open to anyone (they show no data: no host names, no exception
    texts, only which part fails and why in general terms) and never cached.

/metrics — Prometheus text format (monitoring.metrics lists the metrics)
    Every figure is read from the database (and the broker) at scrape time,
    so every web host reports the same. Protected by one of:

    - METRICS_TOKEN: scrapers send `Authorization: Bearer <token>`
      (Prometheus: `authorization: {credentials: <token>}`); or
    - METRICS_PUBLIC=true: open to anyone, for a private network where only
      Prometheus reaches the web hosts.

    With neither, /metrics answers 401 to everyone.

Settings (environment): MONITOR_HEARTBEAT_EVERY_S (30: how often beat sends
the heartbeat task), HEALTHZ_BEAT_STALE_S and HEALTHZ_WORKER_STALE_S (120
each, above the heartbeat period), HEALTHZ_TIMEOUT_S (2), METRICS_TOKEN (at
least 24 characters), METRICS_PUBLIC (false), and LOG_FORMAT (plain, or json
for one JSON object per line: monitoring.logs).
"""

import hmac
import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4

from config.errors import ApplicationError, InvalidInput
from monitoring.health import health_report, parse_checks
from monitoring.metrics import exposition

logger = logging.getLogger(__name__)


class NotAuthenticated(ApplicationError):
    status = 401
    code = "not_authenticated"
    default_message = gettext_lazy("Send the metrics token: Authorization: Bearer <token>.")


class Unavailable(ApplicationError):
    status = 503
    code = "unavailable"
    default_message = gettext_lazy("The database does not answer; try again later.")


def _error(error: ApplicationError, **headers) -> JsonResponse:
    return JsonResponse(error.as_dict(), status=error.status, headers=headers)


@never_cache
@require_safe
def healthz(request):
    try:
        checks = parse_checks(request.GET.getlist("checks"))
    except InvalidInput as error:
        return _error(error)
    report = health_report(checks=checks)
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


@never_cache
@require_safe
def healthz_live(request):
    return JsonResponse({"status": "ok", "checks": {}})


def metrics_allowed(request) -> bool:
    if settings.METRICS_PUBLIC:
        return True
    token = settings.METRICS_TOKEN
    scheme, _space, given = request.headers.get("Authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


@never_cache
@require_safe
def metrics(request):
    if not metrics_allowed(request):
        return _error(NotAuthenticated(), **{"WWW-Authenticate": 'Bearer realm="metrics"'})
    try:
        body = exposition()
    except DatabaseError as exc:
        logger.warning("metrics: the database does not answer: %r", exc)
        return _error(Unavailable())
    return HttpResponse(body, content_type=CONTENT_TYPE_PLAIN_0_0_4)
