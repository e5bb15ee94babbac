"""Celery tasks of the escalation app: thin adapters that call one service."""

from celery import shared_task
from django.db import DatabaseError

from escalation.evaluation_tally import evaluation_tally_recent
from escalation.services import deadlines_sweep, open_tasks_tally


@shared_task(name="escalation.sweep", acks_late=True, autoretry_for=(DatabaseError,), max_retries=3)
def sweep_deadlines() -> int:
    # Safe to run twice, and two at once: each step fires once (escalation.services).
    return deadlines_sweep().total


@shared_task(name="escalation.tally_open_tasks", acks_late=True)
def tally_open_tasks() -> int:
    return open_tasks_tally()


@shared_task(name="escalation.tally_evaluation", acks_late=True)
def tally_evaluation() -> int:
    # Safe to run twice, and two at once: each month's count replaces the last in one transaction.
    return evaluation_tally_recent()
