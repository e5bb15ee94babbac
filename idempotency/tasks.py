from celery import shared_task

from idempotency.services import idempotency_keys_purge


@shared_task(name="idempotency.purge")
def purge():
    """Forget the answers kept for Idempotency-Keys older than IDEMPOTENCY_TTL_H."""
    return idempotency_keys_purge()
