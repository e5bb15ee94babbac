"""The health checks behind /healthz and `manage.py healthz` (reads only).

- database: `SELECT 1` (on PostgreSQL under a statement timeout of
  HEALTHZ_TIMEOUT_S), then the heartbeat rows, in the same round.
- broker: a connection to the Celery broker through kombu with connect and
  socket timeouts of HEALTHZ_TIMEOUT_S and no retry, and the size of the
  default queue (for the file transport: its folder can be listed).
- beat: beat's heartbeat (stored when beat publishes the heartbeat task)
  is younger than HEALTHZ_BEAT_STALE_S.
- worker: some worker host ran a task within HEALTHZ_WORKER_STALE_S.

Each check answers {"ok": true|false, …}; a failed one says why in
"error". The error never carries the exception's text (it can name hosts
and users); the full error goes to the log.
"""

import logging
import time
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import InvalidInput
from monitoring.models import Heartbeat

logger = logging.getLogger(__name__)

CHECKS = ("database", "broker", "beat", "worker")
NEEDS_DATABASE = {"database", "beat", "worker"}


def parse_checks(values: list[str]) -> list[str]:
    """The checks named in `?checks=` (comma-separated, or repeated); all of them when none is named."""
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    unknown = sorted(set(names) - set(CHECKS))
    if unknown:
        raise InvalidInput(
            fields={
                "checks": [
                    _("Unknown check %(names)s: choose from %(choices)s.")
                    % {"names": ", ".join(name[:40] for name in unknown[:5]), "choices": ", ".join(CHECKS)}
                ]
            }
        )
    return names or list(CHECKS)


def health_report(*, checks: Iterable[str] = CHECKS, now: datetime | None = None) -> dict:
    """{"status": "ok" | "fail", "checks": {name: {"ok": …}}} for the checks named (in CHECKS' order)."""
    wanted = set(checks)
    results: dict[str, dict] = {}
    heartbeats = None
    if wanted & NEEDS_DATABASE:
        started = time.perf_counter()
        try:
            heartbeats = _heartbeats()
        except Exception as exc:  # noqa: BLE001 - whatever the database does, the answer is a 503, never a 500
            logger.warning("healthz: the database check failed: %r", exc)
            results["database"] = _failed(
                _("The database does not answer (%(error)s).") % {"error": type(exc).__name__}
            )
        else:
            results["database"] = {"ok": True}
        results["database"]["ms"] = _ms_since(started)
    if "broker" in wanted:
        results["broker"] = _broker()
    now = now or timezone.now()
    if "beat" in wanted:
        results["beat"] = _fresh(heartbeats, Heartbeat.Kind.BEAT, now=now, stale_after=settings.HEALTHZ_BEAT_STALE_S)
    if "worker" in wanted:
        results["worker"] = _fresh(
            heartbeats, Heartbeat.Kind.WORKER, now=now, stale_after=settings.HEALTHZ_WORKER_STALE_S
        )
    ordered = {name: results[name] for name in CHECKS if name in wanted}
    return {"status": "ok" if all(check["ok"] for check in ordered.values()) else "fail", "checks": ordered}


def _failed(error: str) -> dict:
    return {"ok": False, "error": error}


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _heartbeats() -> list[tuple[str, str, datetime]]:
    def read():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return list(Heartbeat.objects.values_list("kind", "name", "at"))

    if connection.vendor != "postgresql":
        # SQLite: a read in WAL mode never waits for a writer (and a transaction here would take the write lock).
        return read()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL statement_timeout = {int(settings.HEALTHZ_TIMEOUT_S * 1000)}")
        return read()


def _fresh(heartbeats, kind: str, *, now: datetime, stale_after: int) -> dict:
    """The youngest heartbeat of this kind, and whether it is younger than `stale_after` seconds."""
    if heartbeats is None:
        return _failed(_("Not checked: the database does not answer."))
    moments = [at for row_kind, _name, at in heartbeats if row_kind == kind]
    if not moments:
        return {**_failed(_("No heartbeat yet.")), "stale_after_s": stale_after}
    age = max(0.0, (now - max(moments)).total_seconds())
    result = {"ok": age <= stale_after, "age_s": round(age, 1), "stale_after_s": stale_after}
    if kind == Heartbeat.Kind.WORKER:
        result["workers"] = sum(1 for at in moments if (now - at).total_seconds() <= stale_after)
    if not result["ok"]:
        result["error"] = _("The last heartbeat is %(age)d s old; more than %(limit)d s is stale.") % {
            "age": age,
            "limit": stale_after,
        }
    return result


def _broker() -> dict:
    started = time.perf_counter()
    try:
        queue_depths()
    except Exception as exc:  # noqa: BLE001 - an unreachable broker is a failed check, never a 500
        logger.warning("healthz: the broker check failed: %r", exc)
        result = _failed(_("The broker does not answer (%(error)s).") % {"error": type(exc).__name__})
    else:
        result = {"ok": True}
    result["ms"] = _ms_since(started)
    return result


def celery_queues() -> list[str]:
    """The queues the platform's tasks go to: the default queue and any configured besides."""
    from config.celery import app

    names = {app.conf.task_default_queue}
    names.update(queue.name for queue in app.conf.task_queues or ())
    return sorted(names)


def queue_depths(timeout: float | None = None) -> dict[str, int]:
    """How many messages wait in each of the platform's queues; raises when the broker does not answer."""
    from config.celery import app

    timeout = settings.HEALTHZ_TIMEOUT_S if timeout is None else timeout
    options = {"socket_connect_timeout": timeout, "socket_timeout": timeout, "max_retries": 0}
    with app.connection_for_write(connect_timeout=timeout, transport_options=options) as broker:
        broker.ensure_connection(max_retries=0, timeout=timeout)
        channel = broker.default_channel
        # Redis keeps no key for an empty queue, so a passive declaration of one fails; with AMQP a
        # declaration that is not passive must repeat the queue's arguments, so only there it is passive.
        passive = broker.transport.driver_type == "amqp"
        return {name: channel.queue_declare(queue=name, passive=passive).message_count for name in celery_queues()}
