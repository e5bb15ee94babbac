"""The department side of a whistle: report in on a task, and the street's decisions about it.

One service per use case (acknowledge, check in, progress note, extension
request and decision, return, close with feedback, release, grant). Each
takes the task's row lock before it reads the task's state, so two people
acting on one task at once end in one consistent result: the second waits,
then finds the state changed and gets a Conflict. Services that change the
whistle too (return, close, release) lock the whistle first and the task
second, the same order as manual dispatch, so they never deadlock each other.
"""

import math
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm

from config.errors import Conflict, InvalidInput, NotAllowed, text_input
from departments.models import Department, Membership, Responsibility
from escalation.policy import DeadlineError, warning_ratio
from whistle.models import DESCRIPTION_MAX_LENGTH, Attachment, Extension, Feedback, Task, Whistle
from whistle.permissions import membership_of, require_task_actor
from whistle.services.notify import notify
from whistle.services.transitions import event_record, task_next_step, task_transition, whistle_transition
from whistle.task_permissions import is_dispatcher_of, is_lead_head, require_extension_decider

T = Task.Status
LEAD = Responsibility.Role.LEAD
# An extension may reach this far ahead of its request, no further: a typo of a year is not an extension.
EXTENSION_MAX_AHEAD = timedelta(days=366)


# Locks -------------------------------------------------------------------------------------


def _locked_task(task_id: int) -> Task:
    # FOR UPDATE of the task row only (not the whistle joined for display):
    # whoever changes the task waits here, then reads its current state.
    return Task.objects.select_for_update(of=("self",)).select_related("whistle__street", "department").get(pk=task_id)


def _locked_whistle_and_task(task_id: int) -> Task:
    """The task with its whistle, both locked: whistle first, as manual dispatch locks it."""
    whistle_id = Task.objects.filter(pk=task_id).values_list("whistle_id", flat=True).get()
    whistle = Whistle.objects.select_for_update(of=("self",)).select_related("street").get(pk=whistle_id)
    task = _locked_task(task_id)
    task.whistle = whistle
    return task


# Input -------------------------------------------------------------------------------------


def _text(value, name: str, errors: dict, *, required: str | None = None, max_length=DESCRIPTION_MAX_LENGTH) -> str:
    return text_input(value, name, errors, required=required or "", max_length=max_length)


def _raise(errors: dict) -> None:
    if errors:
        raise InvalidInput(fields=errors)


def _on_time(now: datetime, due: datetime) -> bool:
    return now <= due


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


# Acknowledge, check in, progress -----------------------------------------------------------


@transaction.atomic
def task_acknowledge(*, task: Task, actor, now: datetime | None = None) -> Task:
    """签收: the department takes the task."""
    now = now or timezone.now()
    task = _locked_task(task.pk)
    require_task_actor(actor, task)
    on_time = _on_time(now, task.acknowledge_due_at)
    task_transition(
        task=task,
        to=T.ACKNOWLEDGED,
        verb="acknowledged",
        now=now,
        actor=actor,
        fields={"acknowledged_at": now, "acknowledged_on_time": on_time},
        new={"on_time": on_time},
    )
    return task


@transaction.atomic
def task_check_in(
    *, task: Task, actor, lon: float | None = None, lat: float | None = None, note: str = "", now=None
) -> Task:
    """报到: the department is on site; where (optional) and a note. From pending it acknowledges too."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    note = _text(note, "note", errors)
    _check_point(lon, lat, errors)
    task = _locked_task(task.pk)
    require_task_actor(actor, task)
    _raise(errors)
    on_time = _on_time(now, task.checkin_due_at)
    fields = {
        "checked_in_at": now,
        "checked_in_on_time": on_time,
        "checkin_lon": lon,
        "checkin_lat": lat,
        "checkin_note": note,
    }
    if task.status == T.PENDING:
        # Checking in on site says "acknowledged" too (a quick whistle's heads come straight).
        fields |= {"acknowledged_at": now, "acknowledged_on_time": _on_time(now, task.acknowledge_due_at)}
    quick = task.whistle.mode == Whistle.Mode.QUICK
    reason = ""
    if quick and not on_time:
        reason = _("Late for the appointed check-in time %(time)s.") % {
            "time": timezone.localtime(task.checkin_due_at).strftime("%Y-%m-%d %H:%M")
        }
    task_transition(
        task=task,
        to=T.CHECKED_IN,
        verb="checked_in",
        now=now,
        actor=actor,
        reason=reason or note,
        fields=fields,
        new={"on_time": on_time, "late": not on_time, "quick": quick, "lon": lon, "lat": lat},
    )
    return task


def _check_point(lon, lat, errors: dict) -> None:
    if lon is None and lat is None:
        return
    for name, value, limit in (("lon", lon, 180), ("lat", lat, 90)):
        if value is None:
            errors.setdefault(name, []).append(_("Give both longitude and latitude, or neither."))
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            errors.setdefault(name, []).append(_("A number is required."))
        elif not -limit <= value <= limit:
            errors.setdefault(name, []).append(
                _("Must be between %(low)d and %(high)d.") % {"low": -limit, "high": limit}
            )


@transaction.atomic
def task_progress(*, task: Task, actor, note: str, now: datetime | None = None) -> Task:
    """A progress note on an open task: what is being done meanwhile."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    note = _text(note, "note", errors, required=_("Write what has been done."))
    task = _locked_task(task.pk)
    require_task_actor(actor, task)
    _raise(errors)
    _require_open(task)
    event_record(whistle=task.whistle, task=task, verb="progress", now=now, actor=actor, reason=note)
    Task.objects.filter(pk=task.pk).update(updated_at=now)
    return task


def _require_open(task: Task) -> None:
    if task.status not in Task.OPEN_STATUSES:
        raise Conflict(
            _("The task of %(department)s is %(status)s: nothing more can be done on it.")
            % {"department": task.department, "status": task.get_status_display()},
            code="invalid_transition",
        )


# Extension ---------------------------------------------------------------------------------


@transaction.atomic
def task_request_extension(*, task: Task, actor, until: datetime | None, reason: str, now=None) -> Extension:
    """延期申请: ask the street for a later resolve-by date."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    reason = _text(reason, "reason", errors, required=_("Say why more time is needed."))
    task = _locked_task(task.pk)
    require_task_actor(actor, task)
    if until is None:
        errors.setdefault("until", []).append(_("Give the proposed resolve-by date."))
    elif not isinstance(until, datetime) or timezone.is_naive(until):
        errors.setdefault("until", []).append(_("Give a time with its UTC offset."))
    elif until <= now:
        errors.setdefault("until", []).append(_("The proposed date must be in the future."))
    elif until <= task.resolve_due_at:
        errors.setdefault("until", []).append(
            _("The proposed date must be after the current resolve-by date %(due)s.")
            % {"due": timezone.localtime(task.resolve_due_at).strftime("%Y-%m-%d %H:%M")}
        )
    elif until > now + EXTENSION_MAX_AHEAD:
        errors.setdefault("until", []).append(_("The proposed date must be within a year."))
    _raise(errors)
    _require_open(task)
    if task.extensions.filter(status=Extension.Status.PENDING).exists():
        raise Conflict(_("An extension request of this task is waiting for a decision already."), code="pending")
    extension = Extension(
        task=task, requested_by=actor, reason=reason, until=until, previous_due_at=task.resolve_due_at, created_at=now
    )
    extension.full_clean()
    extension.save()
    event_record(
        whistle=task.whistle,
        task=task,
        verb="extension_requested",
        now=now,
        actor=actor,
        reason=reason,
        old={"resolve_due_at": _iso(task.resolve_due_at)},
        new={"until": _iso(until), "extension": extension.pk},
    )
    notify(whistle=task.whistle, verb="extension_requested", now=now, streets=[task.whistle.street_id], task=task)
    return extension


DECISIONS = ("approve", "refuse")


@transaction.atomic
def extension_decide(*, extension: Extension, actor, decision: str, note: str = "", now=None) -> Extension:
    """The street head or a supervisor approves (the resolve-by date moves) or refuses (it stays)."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if decision not in DECISIONS:
        errors["decision"] = [_("Choose approve or refuse.")]
    refusing = decision == "refuse"
    note = _text(note, "note", errors, required=_("Say why the request is refused.") if refusing else None)
    task = _locked_task(extension.task_id)
    require_extension_decider(actor, task)
    _raise(errors)
    # The task's lock covers its extension requests: a second decider waits, then sees it decided.
    extension = Extension.objects.get(pk=extension.pk)
    if extension.status != Extension.Status.PENDING:
        raise Conflict(
            _("This extension request is %(status)s already.") % {"status": extension.get_status_display()},
            code="decided",
        )
    status = Extension.Status.REFUSED if refusing else Extension.Status.APPROVED
    old = new = {"resolve_due_at": _iso(task.resolve_due_at)}
    if not refusing:
        _require_open(task)
        if extension.until <= now:
            raise Conflict(_("The proposed date has passed: the department must ask again."), code="expired")
        warn_at = _warning_at(task, start=now, due=extension.until)
        changes = {"resolve_due_at": extension.until, "resolve_warn_at": warn_at, "updated_at": now}
        # The deadline moves, and the ladder with it: a warning not yet due is cancelled, red turns back.
        changes["resolve_overdue_at"] = None
        if warn_at > now:
            changes["resolve_warned_at"] = None
        for name, value in changes.items():
            setattr(task, name, value)
        changes.update(task_next_step(task))
        Task.objects.filter(pk=task.pk).update(**changes)
        new = {"resolve_due_at": _iso(extension.until), "resolve_warn_at": _iso(warn_at)}
    Extension.objects.filter(pk=extension.pk).update(
        status=status, decided_by=actor, decided_at=now, decision_note=note
    )
    extension.status, extension.decided_by, extension.decided_at, extension.decision_note = status, actor, now, note
    event_record(
        whistle=task.whistle,
        task=task,
        verb="extension_approved" if status == Extension.Status.APPROVED else "extension_refused",
        now=now,
        actor=actor,
        reason=note,
        old=old,
        new={**new, "extension": extension.pk},
    )
    notify(whistle=task.whistle, verb="extension_decided", now=now, departments=[task.department_id], task=task)
    return extension


def _warning_at(task: Task, *, start: datetime, due: datetime) -> datetime:
    """The yellow light of a moved deadline: the grade's warning share of the time from the decision to it."""
    try:
        share = float(warning_ratio(task.whistle.grade))
    except DeadlineError:
        share = 0.8
    return start + (due - start) * share


# Return ------------------------------------------------------------------------------------


@transaction.atomic
def task_return(*, task: Task, actor, reason_code: str, reason: str, suggested_department: str = "", now=None) -> Task:
    """退回: not ours (or wrong place, duplicate …); the whistle goes back to the street's dispatcher."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if reason_code not in Task.ReturnReason.values:
        errors["reason_code"] = [_("Choose the reason for returning the task.")]
    reason = _text(reason, "reason", errors, required=_("Explain why the task is returned."))
    task = _locked_whistle_and_task(task.pk)
    require_task_actor(actor, task)
    suggested = None
    code = (suggested_department or "").strip() if isinstance(suggested_department, str) else ""
    if code:
        suggested = Department.objects.filter(code=code, district_id=task.whistle.street.district_id).first()
        if suggested is None:
            errors["suggested_department"] = [_("Unknown department %(code)s.") % {"code": code}]
        elif suggested.pk == task.department_id:
            errors["suggested_department"] = [_("Suggest another department than your own.")]
    _raise(errors)
    whistle = task.whistle
    label = Task.ReturnReason(reason_code).label
    task_transition(
        task=task,
        to=T.RETURNED,
        verb="returned",
        now=now,
        actor=actor,
        reason=reason,
        fields={
            "returned_at": now,
            "return_reason_code": reason_code,
            "return_reason": reason,
            "suggested_department": suggested,
        },
        new={"reason_code": reason_code, "suggested_department": suggested.code if suggested else None},
    )
    returns = whistle.returns + 1  # the whistle's row is locked: nobody else counts meanwhile
    if whistle.status == Whistle.Status.ROUTED:
        said = _("%(department)s returned its task (%(reason_code)s): %(reason)s") % {
            "department": task.department,
            "reason_code": label,
            "reason": reason,
        }
        if suggested:
            said += " " + _("Suggests %(department)s.") % {"department": suggested}
        whistle_transition(
            whistle=whistle,
            to=Whistle.Status.AWAITING_DISPATCH,
            verb="awaiting_dispatch",
            now=now,
            actor=actor,
            reason=said,
            fields={"returns": returns},
        )
    else:
        # Waiting for the dispatcher already (another department returned first): only count it.
        Whistle.objects.filter(pk=whistle.pk).update(returns=F("returns") + 1, updated_at=now)
        whistle.returns = returns
    notify(whistle=whistle, verb="returned", now=now, streets=[whistle.street_id], task=task)
    return task


# Close -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Upload:
    file: object
    name: str
    content_type: str
    size: int


# The accepted types, by their first bytes: the name a browser sends proves nothing.
SIGNATURES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("image/jpeg", "JPEG", (".jpg", ".jpeg")),
    ("image/png", "PNG", (".png",)),
    ("image/webp", "WebP", (".webp",)),
    ("application/pdf", "PDF", (".pdf",)),
)


def sniff_content_type(head: bytes) -> str | None:
    """The type the first bytes of a file show, if it is one of the accepted ones."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def _uploads(files: Iterable | None, errors: dict) -> list[_Upload]:
    files = list(files or [])
    limit, max_bytes = settings.ATTACHMENT_MAX_FILES, settings.ATTACHMENT_MAX_BYTES
    problems: list[str] = []
    if len(files) > limit:
        problems.append(_("At most %(limit)d files (%(count)d given).") % {"limit": limit, "count": len(files)})
    uploads = []
    for upload in files[:limit]:
        name = os.path.basename(getattr(upload, "name", "") or "")[:255] or "attachment"
        size = getattr(upload, "size", None)
        if size is None or size <= 0:
            problems.append(_("%(name)s is empty.") % {"name": name})
            continue
        if size > max_bytes:
            problems.append(
                _("%(name)s is larger than %(limit)s MB.") % {"name": name, "limit": f"{max_bytes / 1048576:g}"}
            )
            continue
        upload.seek(0)
        kind = sniff_content_type(upload.read(16))
        upload.seek(0)
        extensions = next((exts for ctype, _label, exts in SIGNATURES if ctype == kind), ())
        if kind is None or os.path.splitext(name)[1].lower() not in extensions:
            problems.append(
                _("%(name)s is not a JPEG, PNG or WebP photo or a PDF document (judged by its content and name).")
                % {"name": name}
            )
            continue
        uploads.append(_Upload(upload, name, kind, size))
    if problems:
        errors["files"] = problems
    return uploads


@transaction.atomic
def task_close(
    *,
    task: Task,
    actor,
    actions: str,
    result: str,
    note: str = "",
    files: Iterable | None = None,
    now: datetime | None = None,
) -> Feedback:
    """办结 with the feedback form; the whistle is resolved when the last open task (the lead's) closes.

    A co-operating department closes its own part at any time; the lead closes
    only when every co-operating task is closed, returned or released.
    """
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    actions = _text(actions, "actions", errors, required=_("Describe what was done."))
    if result not in Feedback.Result.values:
        errors["result"] = [_("Choose the result: solved, partly solved or unsolvable.")]
    unsolvable = result == Feedback.Result.UNSOLVABLE
    note = _text(note, "note", errors, required=_("Say why the matter cannot be solved.") if unsolvable else None)
    uploads = _uploads(files, errors)
    task = _locked_whistle_and_task(task.pk)
    require_task_actor(actor, task)
    _raise(errors)
    whistle = task.whistle
    on_time = _on_time(now, task.resolve_due_at)
    # The feedback row first, so that the Event names it: events are never updated (a database
    # trigger refuses it). Any refusal after this rolls the whole transaction back, the feedback
    # with it, and no file is written before the last check.
    feedback = Feedback(task=task, actions=actions, result=result, note=note, author=actor, created_at=now)
    feedback.full_clean()
    feedback.save()
    # The status moves before the lead's check: a task not checked in is a conflict whatever its role.
    task_transition(
        task=task,
        to=T.CLOSED,
        verb="closed",
        now=now,
        actor=actor,
        reason=note or actions,
        fields={"closed_at": now, "closed_on_time": on_time},
        new={"result": result, "on_time": on_time, "feedback": feedback.pk, "attachments": len(uploads)},
    )
    if task.role == LEAD:
        _require_lead_may_close(task)
    _store_attachments(feedback, uploads, actor, now)
    if whistle.status == Whistle.Status.ROUTED and not whistle.tasks.filter(status__in=Task.OPEN_STATUSES).exists():
        whistle_transition(
            whistle=whistle,
            to=Whistle.Status.RESOLVED,
            verb="resolved",
            now=now,
            actor=actor,
            fields={"resolved_at": now},
        )
        notify(whistle=whistle, verb="resolved", now=now, streets=[whistle.street_id], task=task)
    return feedback


def _require_lead_may_close(task: Task) -> None:
    whistle = task.whistle
    if whistle.status != Whistle.Status.ROUTED:
        raise Conflict(
            _("Whistle %(number)s is %(status)s: the lead closes once the dispatcher has routed it again.")
            % {"number": whistle.number, "status": whistle.get_status_display()},
            code="awaiting_dispatch",
        )
    still_open = list(
        whistle.tasks.exclude(pk=task.pk)
        .filter(status__in=Task.OPEN_STATUSES)
        .select_related("department")
        .order_by("department__code")
    )
    if still_open:
        raise Conflict(
            _("The lead closes last: %(departments)s have not closed their part yet.")
            % {"departments": ", ".join(f"{t.department.code} {t.department.name}" for t in still_open)},
            code="co_operating_open",
        )


def _store_attachments(feedback: Feedback, uploads: list[_Upload], actor, now: datetime) -> None:
    # Written last, after every check: a refused close leaves no file behind.
    for upload in uploads:
        stored_as = f"{uuid.uuid4().hex}{os.path.splitext(upload.name)[1].lower()}"
        attachment = Attachment(
            feedback=feedback,
            name=upload.name,
            content_type=upload.content_type,
            size=upload.size,
            uploaded_by=actor,
            created_at=now,
        )
        attachment.file.save(stored_as, File(upload.file), save=False)
        attachment.save()


# Release and grant -------------------------------------------------------------------------


@transaction.atomic
def task_release(*, task: Task, actor, note: str = "", now: datetime | None = None) -> Task:
    """The street's dispatcher lets a co-operating department go: its part is not needed (any more)."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    note = _text(note, "note", errors)
    task = _locked_whistle_and_task(task.pk)
    if not is_dispatcher_of(actor, task):
        raise NotAllowed(_("Only the dispatcher of the whistle's street releases a department."))
    _raise(errors)
    if task.role == LEAD:
        raise Conflict(
            _("The lead department cannot be released: the dispatcher routes the whistle to another lead instead."),
            code="lead",
        )
    task_transition(task=task, to=T.RELEASED, verb="released", now=now, actor=actor, reason=note)
    notify(whistle=task.whistle, verb="released", now=now, departments=[task.department_id], task=task)
    return task


@transaction.atomic
def task_grant(*, task: Task, actor, username: str, now: datetime | None = None) -> Task:
    """The lead department's head lets a co-operating department's member act on the lead task."""
    now = now or timezone.now()
    task = _locked_task(task.pk)
    if not is_lead_head(actor, task):
        raise NotAllowed(_("Only the head of the lead department grants a hand on its task."))
    user = get_user_model().objects.filter(username=(username or "").strip()).first() if username else None
    membership = membership_of(user) if user else None
    co_operating = set(
        task.whistle.tasks.filter(role=Responsibility.Role.CO_OPERATING).values_list("department_id", flat=True)
    )
    if (
        membership is None
        or membership.role not in (Membership.Role.DEPT_STAFF, Membership.Role.DEPT_HEAD)
        or membership.department_id not in co_operating
    ):
        raise InvalidInput(fields={"username": [_("Choose a member of a co-operating department of this whistle.")]})
    _require_open(task)
    assign_perm("whistle.act_on_task", user, task)
    event_record(
        whistle=task.whistle,
        task=task,
        verb="granted",
        now=now,
        actor=actor,
        new={"user": user.get_username(), "department": membership.department.code},
    )
    return task
