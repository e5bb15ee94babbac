"""Nothing lost: whistles the broker never delivered are handed to routing again."""

import logging
from datetime import datetime, timedelta

from django.utils import timezone

from whistle.models import Whistle

logger = logging.getLogger(__name__)

STUCK_AFTER = timedelta(minutes=1)
BATCH = 1000


def whistles_requeue_stuck(*, now: datetime | None = None, older_than: timedelta = STUCK_AFTER) -> int:
    """Enqueue routing again for whistles left in `submitted`; returns how many were enqueued.

    Routing is idempotent, so a whistle whose first message is merely slow
    is routed once all the same. Stops at the first broker failure: the next
    run tries again.
    """
    from whistle.tasks import route_whistle

    now = now or timezone.now()
    ids = list(
        Whistle.objects.filter(status=Whistle.Status.SUBMITTED, submitted_at__lt=now - older_than)
        .order_by("submitted_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    sent = 0
    for whistle_id in ids:
        try:
            route_whistle.apply_async(args=[whistle_id], retry=False)
        except Exception:  # noqa: BLE001 - broker still down; try again next minute
            logger.warning(
                "re-enqueue stopped after %d of %d whistles: broker unreachable", sent, len(ids), exc_info=True
            )
            break
        sent += 1
    if ids:
        logger.info("re-enqueued %d whistles left in submitted", sent)
    return sent
