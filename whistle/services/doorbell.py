"""Doorbells: call a background run once for a burst of changes (whistle.models.Doorbell)."""

from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from whistle.models import Doorbell

# A bell rung this long ago without its run starting: the message was lost; ring again.
STALE = timedelta(seconds=30)


def doorbell_ring(name: str, *, now: datetime | None = None) -> bool:
    """Ring the bell: True when the caller must send the run's message (the bell was silent or stale)."""
    now = now or timezone.now()
    silent = Q(rung_at=None) | Q(rung_at__lt=now - STALE)
    # One conditional UPDATE: of many ringing at once, exactly one finds it silent.
    return bool(Doorbell.objects.filter(silent, name=name).update(rung_at=now))


def doorbell_silence(name: str) -> None:
    """The run has started (or its message could not be sent): the next change rings again."""
    Doorbell.objects.filter(name=name).update(rung_at=None)


def doorbells_install() -> None:
    """Put back a bell deleted by hand: without its row every ring would fail, and no run be called."""
    for name in (Doorbell.ROUTING, Doorbell.MAIL):
        Doorbell.objects.get_or_create(name=name)
