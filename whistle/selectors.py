"""Read queries over whistles for the pages and the API: always through the user's scope."""

import math
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from departments.models import Category, Department, Membership, Responsibility
from grids.models import Grid
from whistle.models import (
    Callback,
    Event,
    JointMeeting,
    MeetingAttendance,
    Notification,
    Rating,
    Task,
    Whistle,
)
from whistle.permissions import (
    MERGERS,
    access_whistle,
    mask_email,
    mask_name,
    mask_phone,
    membership_of,
    sees_caller,
    whistle_scope,
)
from whistle.services.approval import STEPS
from whistle.services.merge import MERGEABLE


def category_choices() -> list[tuple[str, str]]:
    return [(code, f"{code} {name}") for code, name in Category.objects.order_by("code").values_list("code", "name")]


def street_grids(*, user) -> QuerySet[Grid]:
    """The grids of the user's street (a reporter picks one instead of a point)."""
    membership = membership_of(user)
    if membership is None or not membership.street_id:
        return Grid.objects.none()
    return Grid.objects.filter(community__street_id=membership.street_id).select_related("community").order_by("code")


def dispatch_department_choices(*, whistle: Whistle) -> list[tuple[str, str]]:
    """The departments of the whistle's district a dispatcher may summon."""
    departments = Department.objects.filter(district_id=whistle.street.district_id).order_by("code")
    return [(code, f"{code} {name}") for code, name in departments.values_list("code", "name")]


# Everything a whistle's summary shows, in the one query that loads it.
SUMMARY_RELATIONS = ("category", "street", "community", "grid", "reporter", "merged_into")


def whistle_list(*, user) -> QuerySet[Whistle]:
    """The whistles the user may see, newest first, ready for a list (no query per row)."""
    return whistle_scope(user).select_related(*SUMMARY_RELATIONS).order_by("-created_at", "-pk")


def _detail_prefetches() -> tuple[Prefetch, ...]:
    return (
        Prefetch("tasks", queryset=Task.objects.select_related("department").order_by("resolve_due_at", "pk")),
        Prefetch("events", queryset=Event.objects.select_related("actor").order_by("created_at", "pk")),
        Prefetch("duplicates", queryset=Whistle.objects.only("pk", "number", "merged_into_id").order_by("pk")),
        Prefetch("ratings", queryset=Rating.objects.select_related("department", "rated_by").order_by("pk")),
        Prefetch("callbacks", queryset=Callback.objects.select_related("recorded_by").order_by("pk")),
        Prefetch(
            "meetings",
            queryset=JointMeeting.objects.order_by("scheduled_at", "pk").prefetch_related(
                Prefetch("attendance", queryset=MeetingAttendance.objects.select_related("department"))
            ),
        ),
    )


def whistle_get(*, user, number: str) -> Whistle:
    """One whistle with its tasks, events and duplicates; NotFound when the user may not see it."""
    queryset = Whistle.objects.select_related(*SUMMARY_RELATIONS).prefetch_related(*_detail_prefetches())
    return access_whistle(user, number, queryset=queryset)


def whistle_just_stored(whistle: Whistle, *, events: list[Event]) -> Whistle:
    """A whistle intake has just stored, ready for its answer without a query.

    Routing starts after the commit, so at that moment the whistle has no task,
    duplicate, rating, callback or meeting, and its events are those intake
    wrote (their actor the reporter, loaded). The related lists are filled the
    way prefetch_related fills them, with the rows in hand.
    """
    whistle._prefetched_objects_cache = {}
    for name, rows in (
        ("tasks", []),
        ("events", events),
        ("duplicates", []),
        ("ratings", []),
        ("callbacks", []),
        ("meetings", []),
    ):
        rows_of = getattr(whistle, name).all()
        rows_of._result_cache, rows_of._prefetch_done = list(rows), True
        whistle._prefetched_objects_cache[name] = rows_of
    return whistle


# The intake form, the whistle page and the work lists ---------------------------------------

R, S = Membership.Role, Whistle.Status
EARTH_RADIUS_M = 6_371_008.8
DUPLICATES_SHOWN = 10
# Metres per degree of latitude (and of longitude at the equator).
METRES_PER_DEGREE = math.pi * EARTH_RADIUS_M / 180

# The action name of each approval step, in the order of the chain.
APPROVAL_ACTIONS = {
    S.DRAFT: "request_signature",
    S.AWAITING_SIGNATURE: "sign",
    S.AWAITING_APPROVAL: "approve",
    S.APPROVED: "issue",
}
REJECTABLE = (S.AWAITING_SIGNATURE, S.AWAITING_APPROVAL, S.APPROVED)


def whistle_queue(*, user) -> QuerySet[Whistle]:
    """The dispatcher's queue: the street's whistles no rule could route, oldest first."""
    membership = membership_of(user)
    street_id = membership.street_id if membership else None
    return (
        whistle_list(user=user).filter(street_id=street_id, status=S.AWAITING_DISPATCH).order_by("submitted_at", "pk")
    )


def approval_statuses(role: str | None) -> list[str]:
    """The statuses in which a whistle waits for this role's step of the approval chain."""
    return [status for status, (roles, _target, _verb) in STEPS.items() if role in roles]


def whistle_approvals(*, user) -> QuerySet[Whistle]:
    """Drafts and approvals of the user's street waiting for the user's role, oldest first."""
    membership = membership_of(user)
    if membership is None or not membership.street_id:
        return Whistle.objects.none()
    return (
        whistle_list(user=user)
        .filter(street_id=membership.street_id, status__in=approval_statuses(membership.role))
        .order_by("updated_at", "pk")
    )


def whistle_possible_duplicates(
    *, user, category: str, lon: float, lat: float, now: datetime, exclude_id: int | None = None
) -> list[Whistle]:
    """Open whistles of the category near the point and recent, in the user's scope, nearest first.

    A bounding box on lon/lat and the creation time narrows the rows in SQL;
    the exact great-circle distance is then computed for the few left. Each
    whistle returned carries its `distance_m`.
    """
    radius = settings.WHISTLE_DUPLICATE_RADIUS_M
    dlat = radius / METRES_PER_DEGREE
    # Near the poles a degree of longitude shrinks to nothing: cap the box at the whole circle.
    cos_lat = math.cos(math.radians(lat))
    dlon = 180.0 if cos_lat < 1e-6 else min(180.0, radius / (METRES_PER_DEGREE * cos_lat))
    candidates = whistle_list(user=user).filter(
        category__code=category,
        status__in=Whistle.OPEN_STATUSES,
        created_at__gte=now - timedelta(days=settings.WHISTLE_DUPLICATE_DAYS),
        lat__gte=lat - dlat,
        lat__lte=lat + dlat,
        lon__gte=lon - dlon,
        lon__lte=lon + dlon,
    )
    if exclude_id is not None:
        candidates = candidates.exclude(pk=exclude_id)
    near = []
    for whistle in candidates:
        whistle.distance_m = haversine_m(lon, lat, whistle.lon, whistle.lat)
        if whistle.distance_m <= radius:
            near.append(whistle)
    near.sort(key=lambda w: (w.distance_m, -w.created_at.timestamp()))
    return near[:DUPLICATES_SHOWN]


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two WGS 84 points."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def whistle_actions(*, user, whistle: Whistle) -> set[str]:
    """What this viewer may do to the whistle now; the services check the same rules again.

    Names: request_signature, sign, approve, issue, reject, dispatch, merge.
    """
    membership = membership_of(user)
    if membership is None or membership.street_id != whistle.street_id:
        return set()
    role, status = membership.role, whistle.status
    actions = set()
    if status in STEPS and role in STEPS[status][0]:
        actions.add(APPROVAL_ACTIONS[status])
        if status in REJECTABLE:
            actions.add("reject")
    if status == S.AWAITING_DISPATCH and role == R.DISPATCHER:
        actions.add("dispatch")
    if status in MERGEABLE and role in MERGERS:
        actions.add("merge")
    return actions


def may_merge(user) -> bool:
    """Whether the user's role may mark a whistle as a duplicate at all (the intake form asks)."""
    membership = membership_of(user)
    return membership is not None and membership.role in MERGERS


def whistle_routing_explained(whistle: Whistle) -> list[dict]:
    """The routing explanation in words: for each department, its role and why it was chosen."""
    overridden = {entry["overrides"] for entry in whistle.routing if entry.get("overrides")}
    names = dict(Department.objects.filter(code__in=overridden).values_list("code", "name")) if overridden else {}
    rows = []
    for entry in whistle.routing:
        if entry.get("scope") == "none":
            waiting = whistle.status == S.AWAITING_DISPATCH
            reason = (
                _("No rule matched: waiting for the dispatcher.")
                if waiting
                else _("No rule matched: the dispatcher chose the departments by hand.")
            )
            rows.append({"department": None, "role": "", "reason": reason})
            continue
        role = entry.get("role")
        rows.append(
            {
                "department": f"{entry.get('department', '')} {entry.get('department_name', '')}".strip(),
                "role": Responsibility.Role(role).label if role in Responsibility.Role.values else role or "",
                "reason": _routing_reason(whistle, entry, names),
            }
        )
    return rows


def _routing_reason(whistle: Whistle, entry: dict, names: dict[str, str]) -> str:
    scope = entry.get("scope")
    if scope == "street":
        reason = _("Street-scoped rule for %(street)s.") % {"street": whistle.street.name}
        if entry.get("overrides"):
            code = entry["overrides"]
            department = f"{code} {names.get(code, '')}".strip()
            reason += " " + _("Overrides the district-wide lead %(department)s.") % {"department": department}
        return reason
    if scope == "district":
        return _("District-wide rule.")
    if scope == "manual":
        note, by = (entry.get("note") or "").strip(), entry.get("by") or "—"
        if note:
            return _("Chosen by the dispatcher %(user)s: %(note)s") % {"user": by, "note": note}
        return _("Chosen by the dispatcher %(user)s.") % {"user": by}
    return ""


def whistle_caller(*, user, whistle: Whistle) -> dict:
    """The caller's name, phone and e-mail, masked unless the user's role needs them."""
    if sees_caller(user):
        return {
            "name": whistle.caller_name,
            "phone": whistle.caller_phone,
            "email": whistle.caller_email,
            "masked": False,
        }
    return {
        "name": mask_name(whistle.caller_name),
        "phone": mask_phone(whistle.caller_phone),
        "email": mask_email(whistle.caller_email),
        "masked": True,
    }


def street_grids_geojson(*, user) -> dict:
    """The grids of the user's street as a GeoJSON FeatureCollection, for the intake map."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": grid.boundary,
                "properties": {"code": grid.code, "name": grid.name, "community": grid.community.name},
            }
            for grid in street_grids(user=user)
        ],
    }


def event_labels() -> dict[str, str]:
    from whistle.task_selectors import task_event_labels

    return {
        "drafted": _("drafted"),
        "submitted": _("submitted"),
        "signature_requested": _("signature requested"),
        "signed": _("signed by the deputy"),
        "approved": _("approved by the head"),
        "issued": _("issued by the party-building office"),
        "rejected": _("sent back to the draft"),
        "awaiting_dispatch": _("waiting for the dispatcher"),
        "routed": _("routed"),
        "dispatched": _("dispatched by hand"),
        "merged": _("merged as a duplicate"),
        "duplicate_attached": _("duplicate attached"),
        "confirmed": _("confirmed by the street"),
        "reopened": _("reopened"),
        "rated": _("department rated"),
        "callback": _("citizen called back"),
        "callback_reopened": _("reopened after the citizen's callback"),
        "callback_escalated": _("escalated to supervisors after the citizen's callback"),
        "meeting_scheduled": _("joint meeting scheduled"),
        "meeting_attended": _("checked in to the joint meeting"),
        "meeting_held": _("joint meeting held"),
        "meeting_cancelled": _("joint meeting cancelled"),
        "resolved": _("resolved: every department closed its task"),
        # The department side: task events show on the whistle's timeline too.
        **task_event_labels(),
    }


def whistle_timeline(whistle: Whistle) -> list[dict]:
    """The whistle's events for display; expects them prefetched with their actors (whistle_get)."""
    labels = event_labels()
    system_actors = {"router": _("the router"), "sweeper": _("the deadline sweep")}
    rows = []
    for event in whistle.events.all():
        actor = event.actor
        rows.append(
            {
                "at": event.created_at,
                "verb": event.verb,
                "label": labels.get(event.verb, event.verb),
                "actor": (actor.get_full_name() or actor.get_username())
                if actor
                else system_actors.get(event.system_actor, event.system_actor),
                "reason": event.reason,
                # Only the duplicate's number: the caller data in the event is not for every viewer.
                "duplicate": (event.new or {}).get("number") if event.verb == "duplicate_attached" else None,
            }
        )
    return rows


# The inbox ------------------------------------------------------------------------------


def notifications_visible(*, user) -> QuerySet[Notification]:
    """The notices addressed to the user: to them, to their department or to their street; newest first."""
    if not user.is_authenticated:
        return Notification.objects.none()
    addressed = Q(recipient_id=user.pk)
    membership = membership_of(user)
    if membership is not None and membership.department_id:
        addressed |= Q(department_id=membership.department_id)
    if membership is not None and membership.street_id:
        addressed |= Q(street_id=membership.street_id)
    return (
        Notification.objects.filter(addressed)
        .select_related("whistle", "task__department")
        .order_by("-created_at", "-pk")
    )


def notifications_unread_count(*, user) -> int:
    return notifications_visible(user=user).filter(read_at=None).count()
