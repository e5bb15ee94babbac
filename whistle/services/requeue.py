"""Nothing lost: whistles whose routing message never arrived are handed to routing again."""

import logging
from datetime import datetime, timedelta

from django.utils import timezone

from whistle.models import Whistle
from whistle.services.doorbell import doorbells_install

logger = logging.getLogger(__name__)

STUCK_AFTER = timedelta(minutes=1)


def whistles_requeue_stuck(*, now: datetime | None = None, older_than: timedelta = STUCK_AFTER) -> int:
    """Call a routing run when whistles have waited in `submitted` too long; returns how many waited.

    Runs whatever the doorbell says: its message may be the one that was
    lost. Routing is idempotent, so a whistle whose message is merely slow
    is routed once all the same. A broker still down: 0, and the next run
    tries again.
    """
    from whistle.tasks import route_waiting_whistles

    now = now or timezone.now()
    stuck = Whistle.objects.filter(status=Whistle.Status.SUBMITTED, submitted_at__lt=now - older_than).count()
    if not stuck:
        return 0
    doorbells_install()
    try:
        route_waiting_whistles.apply_async(retry=False)
    except Exception:  # noqa: BLE001 - broker still down; try again next minute
        logger.warning("%d whistles wait in submitted and the broker is unreachable", stuck, exc_info=True)
        return 0
    logger.info("called a routing run for %d whistles left in submitted", stuck)
    return stuck
