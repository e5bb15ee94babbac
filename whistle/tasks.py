"""Celery tasks of the whistle app: thin adapters that take ids and call one service."""

from celery import shared_task
from django.db import DatabaseError

from whistle.services import whistles_requeue_stuck, whistles_route_waiting


@shared_task(
    name="whistle.route",
    acks_late=True,
    reject_on_worker_lost=True,
    # A locked SQLite file, a dropped PostgreSQL connection, a lost race on
    # the unique task constraint: try again later; routing is idempotent.
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=10,
)
def route_waiting_whistles() -> int:
    return whistles_route_waiting()


@shared_task(name="whistle.requeue_stuck", acks_late=True)
def requeue_stuck_whistles() -> int:
    return whistles_requeue_stuck()
