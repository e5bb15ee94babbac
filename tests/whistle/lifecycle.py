"""Bring a whistle of the cast to a stage of its life through the real services (street-side tests)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from tests.factories import submit_whistle
from whistle.models import Task, Whistle
from whistle.services import whistle_confirm, whistle_route
from whistle.services.tasks import task_check_in, task_close

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)


def routed(cast, user=None, **fields) -> Whistle:
    """An old-compound whistle of S01, routed to D13 (lead), D12 and E06 (co-operating)."""
    whistle = submit_whistle(user or cast.s01_staff, **fields).whistle
    whistle_route(whistle_id=whistle.pk)
    whistle.refresh_from_db()
    return whistle


def staff_of(cast, task: Task):
    return getattr(cast, f"{task.department.code.lower()}_staff")


def close_all(cast, whistle: Whistle) -> Whistle:
    """Every open task checked in and closed, the co-operating ones first: the whistle is resolved."""
    tasks = whistle.tasks.filter(status__in=Task.OPEN_STATUSES).select_related("department")
    for task in sorted(tasks, key=lambda t: t.role == "lead"):
        task_check_in(task=task, actor=staff_of(cast, task))
        task_close(task=task, actor=staff_of(cast, task), actions="已清理楼道", result="solved")
    whistle.refresh_from_db()
    assert whistle.status == Whistle.Status.RESOLVED
    return whistle


def resolved(cast, **fields) -> Whistle:
    return close_all(cast, routed(cast, **fields))


def closed(cast, **fields) -> Whistle:
    whistle = resolved(cast, **fields)
    whistle_confirm(whistle=whistle, actor=cast.s01_staff)
    whistle.refresh_from_db()
    return whistle


def snapshot(whistle: Whistle) -> dict:
    """Everything a refused action must leave as it was."""
    from whistle.models import Callback, Event, JointMeeting, MeetingAttendance, Notification, Rating

    whistle.refresh_from_db()
    return {
        "whistle": (whistle.status, whistle.reopens, whistle.closed_at, whistle.resolved_at, whistle.escalated_at),
        "tasks": list(whistle.tasks.order_by("pk").values_list("status", "resolve_due_at")),
        "events": Event.objects.filter(whistle=whistle).count(),
        "ratings": Rating.objects.filter(whistle=whistle).count(),
        "callbacks": Callback.objects.filter(whistle=whistle).count(),
        "meetings": list(JointMeeting.objects.filter(whistle=whistle).values_list("status", flat=True)),
        "attendance": list(
            MeetingAttendance.objects.filter(meeting__whistle=whistle).order_by("pk").values_list("status", flat=True)
        ),
        "notifications": Notification.objects.filter(whistle=whistle).count(),
    }
