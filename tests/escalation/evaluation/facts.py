"""Whistles and tasks written straight into the tables with the facts a test needs (hand-computed fixtures).

The rates read frozen facts (deadlines, on-time flags, closing times,
callbacks); these helpers write exactly those, so that each expected figure
can be worked out by hand. Lifecycle tests use the real services instead.
"""

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from whistle.models import Callback, Task, Whistle

SHANGHAI = ZoneInfo("Asia/Shanghai")
_numbers = itertools.count(1)


def at(text: str) -> datetime:
    """An aware Asia/Shanghai datetime from "YYYY-MM-DD HH:MM"."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def whistle(cast, *, street=None, category=None, created: str = "2026-03-02 09:00", **fields) -> Whistle:
    """A routed whistle of the cast raised at `created` (S01, old-compound environment unless told otherwise)."""
    street = street or cast.s01
    moment = at(created)
    defaults = {
        "title": "楼道堆物",
        "description": "3号楼楼道堆满杂物。",
        "category": category or cast.compound,
        "grade": "ordinary",
        "source": Whistle.Source.STREET,
        "street": street,
        "community": street.communities.first(),
        "reporter": cast.s01_staff,
        "status": Whistle.Status.ROUTED,
        "created_at": moment,
        "submitted_at": moment,
        "routed_at": moment,
        "updated_at": moment,
    }
    defaults.update(fields)
    return Whistle.objects.create(number=f"T-{next(_numbers):06d}", **defaults)


def task(
    whistle: Whistle,
    department,
    *,
    due: str,
    acknowledged: str | None = None,
    role: str = "lead",
    status: str | None = None,
    **fields,
) -> Task:
    """A task whose acknowledgement falls due at `due`, acknowledged at `acknowledged` (on time if by the due)."""
    due_at = at(due)
    values = {
        "role": role,
        "acknowledge_due_at": due_at,
        "acknowledge_warn_at": due_at - timedelta(minutes=20),
        "checkin_due_at": due_at + timedelta(days=1),
        "checkin_warn_at": due_at + timedelta(hours=20),
        "resolve_due_at": due_at + timedelta(days=7),
        "resolve_warn_at": due_at + timedelta(days=6),
        "created_at": due_at - timedelta(hours=2),
        "updated_at": due_at - timedelta(hours=2),
        "status": status or (Task.Status.ACKNOWLEDGED if acknowledged else Task.Status.PENDING),
    }
    if acknowledged:
        moment = at(acknowledged)
        values.update(acknowledged_at=moment, acknowledged_on_time=moment <= due_at)
    values.update(fields)
    return Task.objects.create(whistle=whistle, department=department, **values)


def close(whistle: Whistle, when: str) -> Whistle:
    """The street confirmed the whistle at `when`: closed, its tasks closed."""
    moment = at(when)
    Whistle.objects.filter(pk=whistle.pk).update(
        status=Whistle.Status.CLOSED, resolved_at=moment, closed_at=moment, updated_at=moment
    )
    for task in whistle.tasks.filter(status__in=Task.OPEN_STATUSES):
        Task.objects.filter(pk=task.pk).update(
            status=Task.Status.CLOSED, closed_at=moment, closed_on_time=moment <= task.resolve_due_at
        )
    whistle.refresh_from_db()
    return whistle


def callback(cast, whistle: Whistle, when: str, *, satisfaction: str = "satisfied", solved: bool = True) -> Callback:
    return Callback.objects.create(
        whistle=whistle,
        recorded_by=cast.hotline,
        satisfaction=satisfaction,
        solved=solved,
        created_at=at(when),
    )
