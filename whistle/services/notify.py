"""Notices to units and people: an inbox row in the caller's transaction, an e-mail once it commits.

A notice goes to a department (every member), a street (its dispatchers and
head) or one person. The inbox row is part of the change that caused it; a
notice worth an e-mail is stored `mail_due`, and after the commit the mail
doorbell calls one mail run for a burst of them (whistle.services.doorbell),
so routing thousands of whistles does not queue thousands of mail jobs. A
notice is e-mailed at most once: the run claims it with a conditional UPDATE
before sending. The beat schedule calls a run every minute for leftovers.
"""

import logging
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from departments.models import Membership
from whistle.models import Doorbell, Notification, Task, Whistle
from whistle.services.doorbell import doorbell_ring, doorbell_silence

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
    "warning": gettext_lazy("A deadline of your task is near (yellow)"),
    "overdue": gettext_lazy("A task is overdue (red)"),
    "supervision_order": gettext_lazy("A supervision order was issued"),
    "accountability": gettext_lazy("An accountability record was made"),
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
MAIL_BATCH = 100
MAIL_DELAY_S = 5
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
    """Store inbox rows (any whistles, any verbs); those that deserve an e-mail call the mail run after commit."""
    if not rows:
        return rows
    for row in rows:
        row.mail_due = row.verb in EMAILED
    Notification.objects.bulk_create(rows)
    if any(row.mail_due for row in rows):
        transaction.on_commit(_call_mail_run)
    return rows


def _call_mail_run() -> None:
    from whistle.tasks import email_notifications

    if not doorbell_ring(Doorbell.MAIL):
        return  # a mail run is called for already: it takes these too
    try:
        # A few seconds late on purpose: the bell stays rung meanwhile, so one run takes a whole burst.
        email_notifications.apply_async(countdown=MAIL_DELAY_S, retry=False)
    except Exception:  # noqa: BLE001 - the broker being down must not fail the change; the inbox has it
        doorbell_silence(Doorbell.MAIL)
        logger.warning("broker unreachable: notices wait in the inbox for the next mail run", exc_info=True)


def notifications_email_due(*, batch: int = MAIL_BATCH, now: datetime | None = None) -> int:
    """E-mail every notice still due to its readers who have an address, oldest first; how many mails went out.

    Set-based, `batch` notices at a time: one statement claims them, one
    finds the addresses of all their readers.
    """
    doorbell_silence(Doorbell.MAIL)  # before the first look: notices stored after it ring again
    sent = 0
    while True:
        notices = _claim_due(batch=batch, now=now or timezone.now())
        sent += _email(notices)
        if len(notices) < batch:
            return sent


@transaction.atomic
def _claim_due(*, batch: int, now: datetime) -> list[Notification]:
    # Claimed (no longer due) before any mail goes out: of two runs at once each
    # skips the rows the other holds, and no notice is mailed twice.
    notices = list(
        Notification.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(mail_due=True)
        .select_related("whistle", "task__department")
        .order_by("created_at", "pk")[:batch]
    )
    Notification.objects.filter(pk__in=[n.pk for n in notices]).update(mail_due=False, emailed_at=now)
    return notices


def _email(notices: list[Notification]) -> int:
    readers = _readers(notices)
    sent = 0
    for position, notice in enumerate(notices):
        addresses = readers.get(_addressee(notice), [])
        if not addresses:
            continue
        with translation.override(settings.LANGUAGE_CODE):
            subject, body = _message(notice)
        try:
            sent += send_mail(subject, body, None, addresses, fail_silently=False)
        except Exception:
            # This one and the rest are due again, for the job's retry or the next run.
            unsent = [n.pk for n in notices[position:]]
            Notification.objects.filter(pk__in=unsent).update(mail_due=True, emailed_at=None)
            raise
    return sent


def _addressee(notice: Notification) -> tuple[str, int]:
    if notice.department_id:
        return ("department", notice.department_id)
    if notice.street_id:
        return ("street", notice.street_id)
    return ("user", notice.recipient_id)


def _readers(notices: list[Notification]) -> dict[tuple[str, int], list[str]]:
    """The addresses of every reader of these notices, by addressee, in one query."""
    if not notices:
        return {}
    departments = {n.department_id for n in notices if n.department_id}
    streets = {n.street_id for n in notices if n.street_id}
    people = {n.recipient_id for n in notices if n.recipient_id}
    users = (
        get_user_model()
        .objects.filter(is_active=True)
        .exclude(email="")
        .filter(
            Q(membership__department_id__in=departments)
            | Q(membership__street_id__in=streets, membership__role__in=STREET_READERS)
            | Q(pk__in=people)
        )
    )
    readers: dict[tuple[str, int], set[str]] = {}
    for pk, email, department_id, street_id, role in users.values_list(
        "pk", "email", "membership__department_id", "membership__street_id", "membership__role"
    ):
        if department_id in departments:
            readers.setdefault(("department", department_id), set()).add(email)
        if street_id in streets and role in STREET_READERS:
            readers.setdefault(("street", street_id), set()).add(email)
        if pk in people:
            readers.setdefault(("user", pk), set()).add(email)
    return {key: sorted(addresses) for key, addresses in readers.items()}


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
