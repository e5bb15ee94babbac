"""Celery tasks of the monitoring app."""

from celery import shared_task

from monitoring.services import submissions_settle, worker_heartbeat

HEARTBEAT = "monitoring.heartbeat"


@shared_task(name=HEARTBEAT, bind=True, ignore_result=True, acks_late=False)
def heartbeat(self) -> None:
    """Sent by beat (CELERY_BEAT_SCHEDULE): its publication is beat's heartbeat, its run the worker's.

    Beat's heartbeat is stored when the message is published
    (monitoring.signals), so a stopped worker does not make beat look late.
    """
    worker_heartbeat(hostname=self.request.hostname)


@shared_task(name="monitoring.settle_submissions", ignore_result=True)
def settle_submissions() -> int:
    # Safe to run twice, and two at once: the mark's row is locked, each range counted once.
    return submissions_settle()
