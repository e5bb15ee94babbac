"""Notices to units and people: an inbox row in the caller's transaction, an e-mail once it commits.

A notice goes to a department (every member), a street (its dispatchers and
head) or one person. The inbox row is part of the change that caused it;
the e-mail is sent by a Celery job after the commit, and a notice is e-mailed
at most once: the job claims it with a conditional UPDATE first.
"""

import logging
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from departments.models import Membership
from whistle.models import Notification, Task, Whistle

logger = logging.getLogger(__name__)

VERB_LABELS = {
    "summoned": gettext_lazy("New task for your department"),
    "quick_summoned": gettext_lazy("Quick whistle: you are summoned to the site"),
    "awaiting_dispatch": gettext_lazy("A whistle waits for manual dispatch"),
    "returned": gettext_lazy("A department returned a task"),
    "extension_requested": gettext_lazy("A department asks for more time"),
    "extension_decided": gettext_lazy("Your extension request was decided"),
    "resolved": gettext_lazy("Every department has closed its task"),
    "reopened": gettext_lazy("A whistle was reopened"),
    "meeting_scheduled": gettext_lazy("A joint meeting was scheduled"),
    "meeting_cancelled": gettext_lazy("A joint meeting was cancelled"),
    "released": gettext_lazy("The dispatcher released your department's task"),
    "escalated": gettext_lazy("A citizen is dissatisfied again"),
}
# What is worth an e-mail besides the inbox (issue: new task, returned, extension decided,
# reopened, meeting scheduled, quick whistle).
EMAILED = frozenset(
    {
        "summoned",
        "quick_summoned",
        "returned",
        "extension_decided",
        "reopened",
        "meeting_scheduled",
        "meeting_cancelled",
    }
)
# Who of a street reads its notices by e-mail.
STREET_READERS = (Membership.Role.DISPATCHER, Membership.Role.STREET_HEAD)


def notify(
    *,
    whistle: Whistle,
    verb: str,
    now: datetime,
    departments: Iterable[int] = (),
    streets: Iterable[int] = (),
    recipients: Iterable[int] = (),
    task: Task | None = None,
) -> list[Notification]:
    """One notice about `whistle` to each department, street and user (ids); call inside the change's transaction."""
    rows = [Notification(department_id=pk, whistle=whistle, task=task, verb=verb, created_at=now) for pk in departments]
    rows += [Notification(street_id=pk, whistle=whistle, task=task, verb=verb, created_at=now) for pk in streets]
    rows += [Notification(recipient_id=pk, whistle=whistle, task=task, verb=verb, created_at=now) for pk in recipients]
    return notifications_store(rows)


def notifications_store(rows: list[Notification]) -> list[Notification]:
    """Store inbox rows (any whistles, any verbs) and queue the e-mail of those that deserve one."""
    if not rows:
        return rows
    Notification.objects.bulk_create(rows)
    mailed = [row.pk for row in rows if row.verb in EMAILED]
    if mailed:
        transaction.on_commit(lambda: _queue_email(mailed))
    return rows


def _queue_email(ids: list[int]) -> None:
    from whistle.tasks import email_notifications

    try:
        email_notifications.apply_async(args=[ids], retry=False)
    except Exception:  # noqa: BLE001 - the broker being down must not fail the change; the inbox has it
        logger.warning("broker unreachable: %d notices are in the inbox but not e-mailed", len(ids), exc_info=True)


def notifications_email(*, ids: list[int], now: datetime | None = None) -> int:
    """E-mail each notice of `ids` not e-mailed yet to its readers who have an address; how many mails went out."""
    now = now or timezone.now()
    sent = 0
    notices = Notification.objects.filter(pk__in=ids, emailed_at=None).select_related("whistle", "task__department")
    for notice in notices:
        # Claim before sending: of two jobs (a redelivered message) only one gets the row.
        if not Notification.objects.filter(pk=notice.pk, emailed_at=None).update(emailed_at=now):
            continue
        addresses = _addresses(notice)
        if not addresses:
            continue
        with translation.override(settings.LANGUAGE_CODE):
            subject, body = _message(notice)
        try:
            sent += send_mail(subject, body, None, addresses, fail_silently=False)
        except Exception:
            # Unclaim, so that the job's retry sends it.
            Notification.objects.filter(pk=notice.pk).update(emailed_at=None)
            raise
    return sent


def _addresses(notice: Notification) -> list[str]:
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    if notice.department_id:
        users = users.filter(membership__department_id=notice.department_id)
    elif notice.street_id:
        users = users.filter(membership__street_id=notice.street_id, membership__role__in=STREET_READERS)
    else:
        users = users.filter(pk=notice.recipient_id)
    return sorted(set(users.values_list("email", flat=True)))


def _message(notice: Notification) -> tuple[str, str]:
    whistle = notice.whistle
    label = str(VERB_LABELS.get(notice.verb, notice.verb))
    lines = [label, "", f"{whistle.number} {whistle.title}"]
    if notice.task_id:
        due = timezone.localtime(notice.task.resolve_due_at)
        lines.append(_("Department: %(department)s") % {"department": notice.task.department})
        lines.append(_("Resolve by: %(due)s") % {"due": f"{due:%Y-%m-%d %H:%M}"})
    if whistle.appointed_checkin_at and notice.verb == "quick_summoned":
        appointed = timezone.localtime(whistle.appointed_checkin_at)
        lines.append(_("Check in on site by: %(time)s") % {"time": f"{appointed:%Y-%m-%d %H:%M}"})
    lines += ["", settings.SITE_URL.rstrip("/") + reverse("whistle:detail", args=[whistle.number])]
    return f"[{_('Whistle and report')}] {label}: {whistle.number}", "\n".join(lines)


def notifications_mark_read(*, user, ids: list[int] | None = None, now: datetime | None = None) -> int:
    """Mark the user's unread notices read (those of `ids`, or all); how many. A unit's notice is read for all of it."""
    from whistle.selectors import notifications_visible

    unread = notifications_visible(user=user).filter(read_at=None)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    # A subquery, not the joined queryset: UPDATE cannot carry select_related joins.
    return Notification.objects.filter(pk__in=unread.values("pk")).update(read_at=now or timezone.now())
