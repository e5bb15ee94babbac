"""Routing: from a submitted whistle to the task lists of the responsible departments.

`whistle_route` runs in the Celery worker. It is idempotent and safe to run
twice at once: it locks the whistle row and acts only on a whistle still in
`submitted`; tasks are unique per (whistle, department) besides.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import Conflict, InvalidInput
from departments.models import Department, Membership, Responsibility
from escalation.policy import stage_deadlines
from whistle.models import Notification, Task, Whistle
from whistle.permissions import require_role
from whistle.services.transitions import whistle_transition

logger = logging.getLogger(__name__)

ROUTER = "router"
LEAD, CO_OPERATING = Responsibility.Role.LEAD, Responsibility.Role.CO_OPERATING


@dataclass(frozen=True)
class Assignment:
    """One department chosen for a whistle, and the reason recorded for it."""

    department: Department
    role: str
    rule_id: int | None
    scope: str  # "street", "district" or "manual"
    overrides: str = ""  # code of the district-wide lead a street rule took precedence over

    def explanation(self) -> dict:
        return {
            "department": self.department.code,
            "department_name": self.department.name,
            "role": self.role,
            "rule": self.rule_id,
            "scope": self.scope,
            **({"overrides": self.overrides} if self.overrides else {}),
        }


def match_responsibilities(*, category_id: int, street_id: int) -> list[Assignment]:
    """The lead and co-operating departments for a category in a street, lead first.

    A rule scoped to the street beats a district-wide rule of the same role;
    a department is summoned once, in its strongest role.
    """
    rules = list(
        Responsibility.objects.filter(category_id=category_id)
        .select_related("department")
        .prefetch_related("streets")
        .order_by("pk")
    )
    scoped = {rule.pk: {s.pk for s in rule.streets.all()} for rule in rules}
    applicable = [rule for rule in rules if not scoped[rule.pk] or street_id in scoped[rule.pk]]
    leads = sorted((r for r in applicable if r.role == LEAD), key=lambda r: not scoped[r.pk])  # street-scoped first
    if not leads:
        return []
    lead = leads[0]
    overridden = next((r.department.code for r in leads[1:] if not scoped[r.pk]), "") if scoped[lead.pk] else ""
    chosen = [Assignment(lead.department, LEAD, lead.pk, "street" if scoped[lead.pk] else "district", overridden)]
    seen = {lead.department_id}
    for rule in sorted((r for r in applicable if r.role == CO_OPERATING), key=lambda r: not scoped[r.pk]):
        if rule.department_id in seen:
            continue
        seen.add(rule.department_id)
        chosen.append(Assignment(rule.department, CO_OPERATING, rule.pk, "street" if scoped[rule.pk] else "district"))
    return chosen


def whistle_route(*, whistle_id: int, now: datetime | None = None) -> Whistle | None:
    """Route a submitted whistle; a no-op for one already routed (or gone)."""
    now = now or timezone.now()
    with transaction.atomic():
        # The row lock makes a second router wait, then find the whistle routed.
        whistle = Whistle.objects.select_for_update().filter(pk=whistle_id).first()
        if whistle is None:
            logger.warning("route_whistle: whistle %s does not exist", whistle_id)
            return None
        if whistle.status != Whistle.Status.SUBMITTED:
            return whistle
        assignments = match_responsibilities(category_id=whistle.category_id, street_id=whistle.street_id)
        if not assignments:
            whistle_transition(
                whistle=whistle,
                to=Whistle.Status.AWAITING_DISPATCH,
                verb="awaiting_dispatch",
                now=now,
                system_actor=ROUTER,
                reason=_("No responsibility rule matches this category in this street."),
                fields={"routing": [{"scope": "none"}]},
            )
            Notification.objects.create(
                street_id=whistle.street_id, whistle=whistle, verb="awaiting_dispatch", created_at=now
            )
            return whistle
        _summon(whistle=whistle, assignments=assignments, now=now)
        whistle_transition(
            whistle=whistle,
            to=Whistle.Status.ROUTED,
            verb="routed",
            now=now,
            system_actor=ROUTER,
            fields={"routing": [a.explanation() for a in assignments], "routed_at": now},
        )
    return whistle


def _summon(*, whistle: Whistle, assignments: list[Assignment], now: datetime) -> list[Task]:
    """Create (or re-open) one task per department with its deadlines, and notify each department."""
    due = stage_deadlines(grade=whistle.grade, start=now)
    checkin_due = whistle.appointed_checkin_at if whistle.mode == Whistle.Mode.QUICK else due.checkin_due
    deadlines = {
        "acknowledge_due_at": due.acknowledge_due,
        "acknowledge_warn_at": due.acknowledge_warning_at,
        "checkin_due_at": checkin_due,
        "checkin_warn_at": min(due.checkin_warning_at, checkin_due),
        "resolve_due_at": due.resolve_due,
        "resolve_warn_at": due.resolve_warning_at,
    }
    existing = {task.department_id: task for task in whistle.tasks.all()}
    new, reopened = [], []
    for assignment in assignments:
        task = existing.get(assignment.department.pk)
        if task is None:
            new.append(
                Task(
                    whistle=whistle,
                    department=assignment.department,
                    role=assignment.role,
                    created_at=now,
                    updated_at=now,
                    **deadlines,
                )
            )
        else:
            # A department summoned again (after it returned the task) gets the same row back.
            for name, value in {
                "role": assignment.role,
                "status": Task.Status.PENDING,
                "updated_at": now,
                **deadlines,
            }.items():
                setattr(task, name, value)
            reopened.append(task)
    Task.objects.bulk_create(new)
    if reopened:
        Task.objects.bulk_update(reopened, ["role", "status", "updated_at", *deadlines])
    tasks = new + reopened
    Notification.objects.bulk_create(
        Notification(department_id=task.department_id, whistle=whistle, task=task, verb="summoned", created_at=now)
        for task in tasks
    )
    return tasks


@transaction.atomic
def whistle_dispatch(
    *, whistle: Whistle, actor, departments: list[dict], note: str = "", now: datetime | None = None
) -> Whistle:
    """Manual routing by the street's dispatcher: [{code, role}], exactly one lead."""
    now = now or timezone.now()
    require_role(actor, {Membership.Role.DISPATCHER}, street_id=whistle.street_id)
    whistle = Whistle.objects.select_for_update().get(pk=whistle.pk)
    assignments = _manual_assignments(whistle=whistle, departments=departments, note=note)
    if whistle.status != Whistle.Status.AWAITING_DISPATCH:
        raise Conflict(
            _("Whistle %(number)s is %(status)s: only a whistle waiting for dispatch is routed by hand.")
            % {"number": whistle.number, "status": whistle.get_status_display()}
        )
    _summon(whistle=whistle, assignments=assignments, now=now)
    routing = [*whistle.routing, *({**a.explanation(), "by": actor.get_username(), "note": note} for a in assignments)]
    whistle_transition(
        whistle=whistle,
        to=Whistle.Status.ROUTED,
        verb="dispatched",
        now=now,
        actor=actor,
        reason=note,
        fields={"routing": routing, "routed_at": whistle.routed_at or now},
    )
    return whistle


def _manual_assignments(*, whistle: Whistle, departments: list[dict], note: str) -> list[Assignment]:
    errors: list[str] = []
    if not isinstance(departments, list) or not departments:
        raise InvalidInput(fields={"departments": [_("Choose at least one department.")]})
    codes = [str(item.get("code", "")) if isinstance(item, dict) else "" for item in departments]
    roles = [item.get("role") if isinstance(item, dict) else None for item in departments]
    found = Department.objects.in_bulk(codes, field_name="code")
    for code, role in zip(codes, roles, strict=True):
        if code not in found:
            errors.append(_("Unknown department %(code)s.") % {"code": code or "—"})
        if role not in (LEAD, CO_OPERATING):
            errors.append(_("Role must be lead or co_operating (department %(code)s).") % {"code": code or "—"})
    if len(set(codes)) != len(codes):
        errors.append(_("A department may be chosen only once."))
    if roles.count(LEAD) != 1:
        errors.append(_("Choose exactly one lead department."))
    returned = set(whistle.tasks.filter(status=Task.Status.RETURNED).values_list("department__code", flat=True))
    again = sorted(returned & set(codes))
    if again and not note.strip():
        errors.append(
            _("%(codes)s returned this whistle before: say in the note why it is theirs after all.")
            % {"codes": ", ".join(again)}
        )
    if errors:
        raise InvalidInput(fields={"departments": errors})
    ordered = sorted(zip(codes, roles, strict=True), key=lambda pair: pair[1] != LEAD)
    return [Assignment(found[code], role, None, "manual") for code, role in ordered]
