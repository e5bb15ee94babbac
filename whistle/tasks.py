"""Celery tasks of the whistle app: thin adapters that take ids and call one service."""

from celery import shared_task
from django.db import DatabaseError

from whistle.services import whistles_requeue_stuck, whistles_route_waiting
from whistle.services.notify import notifications_email_due


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


@shared_task(
    name="whistle.email_notifications",
    acks_late=True,
    autoretry_for=(OSError,),  # the mail server is away: try again; a notice is due again until its mail went
    retry_backoff=True,
    max_retries=5,
)
def email_notifications() -> int:
    return notifications_email_due()
