"""Heartbeats taken from Celery's own signals (connected by MonitoringConfig.ready).

- Beat: when the heartbeat task is published (by beat, every
  MONITOR_HEARTBEAT_EVERY_S), the beat heartbeat is stored by the process
  that published it; a worker that is down does not make beat look late.
- Workers: after any task a worker ran, its host's heartbeat is stored, at
  most once every WORKER_EVERY seconds per process; a worker busy with a
  backlog of routing runs is alive even while the heartbeat task waits in
  the queue. Tasks run eagerly (tests, `apply()`) are no worker's.

A heartbeat that cannot be stored is logged; the task or the publication goes on.
"""

import logging
import time

from celery.signals import after_task_publish, task_postrun
from django.db import DatabaseError

from monitoring.models import Heartbeat
from monitoring.services import heartbeat_record
from monitoring.tasks import HEARTBEAT

logger = logging.getLogger(__name__)

WORKER_EVERY = 15.0
_last_worker_beat = {"at": float("-inf")}


def beat_published(sender=None, **kwargs) -> None:
    if sender != HEARTBEAT:
        return
    try:
        heartbeat_record(kind=Heartbeat.Kind.BEAT)
    except DatabaseError:
        logger.exception("monitoring: beat's heartbeat was not stored")


def worker_ran(sender=None, task=None, **kwargs) -> None:
    request = getattr(task, "request", None)
    if request is None or request.is_eager or request.called_directly or not request.hostname:
        return
    moment = time.monotonic()
    if moment - _last_worker_beat["at"] < WORKER_EVERY:
        return
    _last_worker_beat["at"] = moment
    try:
        heartbeat_record(kind=Heartbeat.Kind.WORKER, name=request.hostname)
    except DatabaseError:
        logger.exception("monitoring: the heartbeat of worker %s was not stored", request.hostname)


def connect() -> None:
    after_task_publish.connect(beat_published, dispatch_uid="monitoring.beat_published")
    task_postrun.connect(worker_ran, dispatch_uid="monitoring.worker_ran")
