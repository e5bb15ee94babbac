from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from idempotency.models import IdempotencyKey


def idempotency_keys_purge(*, now: datetime | None = None) -> int:
    """Delete the keys past their time to live; returns how many."""
    now = now or timezone.now()
    deleted, _ = IdempotencyKey.objects.filter(
        started_at__lt=now - timedelta(hours=settings.IDEMPOTENCY_TTL_H)
    ).delete()
    return deleted
