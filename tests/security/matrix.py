"""What the access matrix sends and what it looks for: values, bodies, forbidden strings, the state it compares.

Kept apart from the test module so that the rules stay readable there:
- object_value: the other unit's object an endpoint parameter names;
- post_body / foreign_query: a minimal valid body and a query that point at the other unit;
- hidden_whistles / forbidden_strings / forbidden_ids: what a role must never be shown;
- state: everything a refused request must leave as it was.
"""

import json
from datetime import timedelta

from django.utils import timezone

from tests.security.world import PERIOD, ROLES, TARGET_UNIT, WHISTLE_KINDS

# Roles that act for a unit of district YQ (everyone but the outsider and the anonymous visitor).
IN_DISTRICT_YQ = frozenset(name for name, (role, _unit) in ROLES.items() if role is not None)


def target(world, role: str):
    """The unit whose objects the role must not reach."""
    return world.units[TARGET_UNIT[role]]


def object_value(name: str, world, role: str):
    """The value of an endpoint parameter, from the object name given in endpoints.FILLERS."""
    unit = target(world, role)
    kind, _, detail = name.partition(":")
    if kind == "whistle":
        if detail == "callback":
            # The hotline calls citizens back on hotline whistles; the street on any closed one.
            detail = "hotline" if role == "hotline" else "closed"
        elif detail == "open311":
            # Without an api_key Open311 reads the hotline's whistles of every district (the public channel):
            # the anonymous visitor's other-unit object is one raised elsewhere.
            detail = "open" if role == "anonymous" else "hotline"
        return unit.whistles[detail].number
    if kind == "task":
        return unit.tasks[detail].pk
    if kind == "district":
        # Catalogue endpoints: every user's "other unit" is the other district's.
        other = world.units["C"]
        return {"department": other.department, "street": other.street, "grid": other.grid}[detail].code
    if kind == "grid":
        # The map of a department, the supervisor or the hotline covers its district: their other grid is HD's.
        return (unit if ROLES[role][1] == "street" else world.units["C"]).grid.code
    if kind == "category":
        return world.categories.compound.code
    return getattr(unit, kind).pk


# The objects of unit A each role works on: the whistle whose page offers it the most (the dispatcher's
# dispatch form, the street's rating form, the approval chain, the joint meeting), its department's task.
OWN_WHISTLE = {
    "street_staff": "resolved",
    "street_deputy": "draft",
    "street_head": "difficult",
    "party_office": "draft",
    "dispatcher": "queue",
    "station_staff": "overdue",
    "supervisor": "overdue",
    "hotline": "hotline",
}
OWN_TASK = {"station_staff": "overdue", "enterprise_staff": "open_co"}


def own_value(name: str, world, role: str):
    """The value of an endpoint parameter naming the role's own object (of unit A, or of district YQ)."""
    own = world.units["A"]
    kind, _, detail = name.partition(":")
    if kind == "whistle":
        if role == "hotline" or detail not in own.whistles:
            detail = OWN_WHISTLE.get(role, "open")
        elif detail == "open":
            detail = OWN_WHISTLE.get(role, detail)
        return own.whistles[detail].number
    if kind == "task":
        return own.tasks[OWN_TASK.get(role, detail)].pk
    if kind == "district":
        return {"department": own.department, "street": own.street, "grid": own.grid}[detail].code
    if kind == "grid":
        return own.grid.code
    if kind == "category":
        return world.categories.compound.code
    return getattr(own, kind).pk


def post_body(world, role: str, endpoint) -> dict:
    """One body that every action accepts as valid input, each reference pointing at the other unit.

    Valid, so that an endpoint that checks its input before access still
    reaches the access check: only that check may refuse the request.
    """
    unit = target(world, role)
    future = (timezone.now() + timedelta(days=40)).isoformat()
    text = "matrix"
    body = {
        "reason": text,
        "note": text,
        "reply": text,
        "text": text,
        "comment": text,
        "agenda": text,
        "place": text,
        "actions": text,
        "decision": "approve",
        "result": 5 if endpoint.route.endswith("/rate/") else "solved",
        "reason_code": "not_ours",
        "until": future,
        "reply_by": future,
        "scheduled_at": future,
        "username": unit.users["enterprise_staff"].username,
        "satisfaction": "satisfied",
        "solved": True if endpoint.api else "yes",
        "department": unit.department.code,
        "response": 5,
        "attitude": 5,
        "lon": unit.point[0],
        "lat": unit.point[1],
        "lead": unit.department.code,
        "co_operating": [unit.enterprise.code],
        # References to the other unit in the body of endpoints without an object in the address.
        "into": unit.whistles["extension"].number,
        "whistle": unit.whistles["difficult"].number,
        "task": unit.tasks["open"].pk,
        "ids": [unit.notification.pk],
        "duplicate_of": unit.whistles["open"].number,
        "external_id": f"12345-{unit.key}-0001",
        "grid": unit.grid.code,
        "street": unit.street.code,
        "period": PERIOD,
        "title": text,
        "description": text,
        "category": world.categories.compound.code,
        "grade": "ordinary",
        # Open311 (GeoReport v2) names.
        "service_code": world.categories.compound.code,
        "long": unit.point[0],
        "address_id": unit.grid.code,
        "address_string": text,
        "jurisdiction_id": unit.district.code,
    }
    if endpoint.api:
        body["departments"] = [{"code": unit.department.code, "role": "lead"}]
    return body


def place_body(world, role: str) -> dict:
    """A whistle to raise whose only reference to the other unit is its place: point, district, service."""
    unit = target(world, role)
    return {
        "title": "matrix",
        "description": "matrix",
        "category": world.categories.compound.code,
        "service_code": world.categories.compound.code,
        "grade": "ordinary",
        "lon": unit.point[0],
        "long": unit.point[0],
        "lat": unit.point[1],
        "jurisdiction_id": unit.district.code,
    }


def sent_values(body: dict, values: dict) -> set[str]:
    """The identifiers the request itself carries: an answer may repeat them ("S02-2026-000001 does not exist")."""
    sent = {str(v) for v in values.values()}
    for value in body.values():
        if isinstance(value, str | int):
            sent.add(str(value))
    return sent


def foreign_query(world, unit, endpoint) -> dict:
    """Filters naming the other unit's street, department, grid, place and whistles, for a list endpoint."""
    number = unit.whistles["open"].number
    return {
        "street": unit.street.code,
        "department": unit.department.code,
        "district": unit.district.code,
        "community": f"{unit.street.code}C01",
        "grid": unit.grid.code,
        "category": world.categories.compound.code,
        "lon": unit.point[0],
        "lat": unit.point[1],
        "whistle": number,
        "number": number,
        "q": number,
        "period": PERIOD,
        **base_query(endpoint),
    }


def base_query(endpoint) -> dict:
    # Exports default to Excel; CSV is the same table in text that can be searched.
    return {"format": "csv"} if endpoint.name == "escalation:evaluation_export" else {}


def hidden_streets(world, role: str) -> list:
    """The streets where the role may raise nothing and see nothing."""
    if role in ("supervisor", "hotline"):
        keys = ("C",)
    elif role in IN_DISTRICT_YQ:
        keys = ("B", "C")
    else:
        keys = tuple(world.units)
    return [world.units[key].street for key in keys]


def hidden_whistles(world, role: str) -> list:
    """The whistles (of all three units) the role may not see."""
    units = world.units
    if role == "supervisor":
        hidden = {"C": WHISTLE_KINDS}
    elif role == "hotline":
        # The hotline sees the 12345 whistles of its own district, nothing else.
        others = tuple(kind for kind in WHISTLE_KINDS if kind != "hotline")
        hidden = {"A": others, "B": others, "C": WHISTLE_KINDS}
    elif role in IN_DISTRICT_YQ:
        hidden = {"B": WHISTLE_KINDS, "C": WHISTLE_KINDS}
    else:
        hidden = {key: WHISTLE_KINDS for key in units}
    return [units[key].whistles[kind] for key, kinds in hidden.items() for kind in kinds]


def _cached(world, key, compute):
    cache = world.__dict__.setdefault("_matrix_cache", {})
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def forbidden_strings(world, role: str, *, public_channel: bool = False) -> frozenset[str]:
    """Canaries, numbers and order numbers of the hidden whistles; the marker of units outside the role's district.

    `public_channel`: the answer is Open311's to a client without an api_key,
    which shows the hotline's whistles of every district by design.
    """

    def compute():
        from escalation.models import SupervisionOrder

        units = world.units
        hidden = hidden_whistles(world, role)
        if public_channel:
            hidden = [whistle for whistle in hidden if whistle.source != "hotline"]
        strings = set()
        for unit in units.values():
            for kind, whistle in unit.whistles.items():
                if whistle in hidden:
                    strings |= {unit.canary(kind), whistle.number}
        strings |= {order.number for order in SupervisionOrder.objects.filter(task__whistle__in=hidden)}
        outside = ("C",) if role in IN_DISTRICT_YQ else tuple(units)
        strings |= {f"{key}单元" for key in outside}
        return frozenset(strings)

    return _cached(world, ("strings", role, public_channel), compute)


def forbidden_ids(world, role: str) -> dict[str, frozenset[int]]:
    """The ids of hidden objects, by the API list that would show them."""

    def compute():
        from escalation.models import AccountabilityRecord, SupervisionOrder
        from whistle.models import JointMeeting, Notification, Task

        hidden = [w.pk for w in hidden_whistles(world, role)]
        ids = {
            "api/v1/tasks/": Task.objects.filter(whistle__in=hidden),
            "api/v1/meetings/": JointMeeting.objects.filter(whistle__in=hidden),
            "api/v1/notifications/": Notification.objects.filter(whistle__in=hidden),
            "api/v1/supervision-orders/": SupervisionOrder.objects.filter(task__whistle__in=hidden),
            "api/v1/accountability/": AccountabilityRecord.objects.filter(whistle__in=hidden),
        }
        return {route: frozenset(rows.values_list("pk", flat=True)) for route, rows in ids.items()}

    return _cached(world, ("ids", role), compute)


def body_text(response) -> str:
    """The answer as text; JSON re-written with its non-ASCII characters as they are, to be searched."""
    if getattr(response, "streaming", False):
        raw = b"".join(response.streaming_content)
    else:
        raw = response.content
    text = raw.decode("utf-8", errors="replace")
    if "json" in response.get("Content-Type", ""):
        try:
            text = json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            pass
    return text


def leaks(world, role: str, response, text: str, *, sent: set[str], route: str, public_channel=False) -> list[str]:
    """What of the hidden data the answer shows."""
    found = sorted(s for s in forbidden_strings(world, role, public_channel=public_channel) - sent if s in text)
    ids = forbidden_ids(world, role).get(route)
    if ids and "json" in response.get("Content-Type", ""):
        try:
            rows = json.loads(text).get("results", [])
        except (ValueError, AttributeError):
            rows = []
        found += [f"{route} id {row['id']}" for row in rows if isinstance(row, dict) and row.get("id") in ids]
    return found


def state(world, role: str, *, target: str | None = None, values: dict | None = None, lists: bool = False) -> dict:
    """What a refused request must leave as it was.

    Always the number of events: every change the application makes writes
    one (one service call, one Event). With `target` (an endpoint's object
    name, its value in `values`), also that object's own state. With `lists`
    (a POST to an endpoint without an object, which may change the user's own
    unit), what belongs to the hidden whistles and streets: their events,
    whistles raised there, notices marked read, topic links, task grants.
    """
    from guardian.models import UserObjectPermission

    from escalation.models import ProblemTopic
    from whistle.models import Event, Notification, Whistle

    found = {"events": Event.objects.count()}
    if target is not None:
        found["object"] = _object_state(target, values)
        found["grants"] = UserObjectPermission.objects.count()
    if lists:
        ids = _cached(world, ("whistle ids", role), lambda: [w.pk for w in hidden_whistles(world, role)])
        streets = _cached(world, ("street ids", role), lambda: [s.pk for s in hidden_streets(world, role)])
        found |= {
            "their events": Event.objects.filter(whistle__in=ids).count(),
            "whistles in their streets": Whistle.objects.filter(street__in=streets).count(),
            "their notices read": Notification.objects.filter(whistle__in=ids, read_at__isnull=False).count(),
            "topics": ProblemTopic.whistles.through.objects.filter(whistle_id__in=ids).count(),
            "grants": UserObjectPermission.objects.count(),
        }
    return found


def _object_state(target: str, values: dict | None):
    """The state of the object an endpoint parameter names (see endpoints.FILLERS)."""
    from escalation.models import AccountabilityRecord, SupervisionOrder
    from whistle.models import Extension, JointMeeting, Notification, Task, Whistle

    kind = target.partition(":")[0]
    value = next(iter(values.values())) if values else None
    rows = {
        "whistle": (Whistle, "number", ("status", "reopens", "merged_into", "closed_at")),
        "task": (Task, "pk", ("status", "resolve_due_at", "acknowledged_at", "checked_in_at")),
        "extension": (Extension, "pk", ("status", "decided_at")),
        "meeting": (JointMeeting, "pk", ("status",)),
        "order": (SupervisionOrder, "pk", ("status", "reply", "closed_at")),
        "record": (AccountabilityRecord, "pk", ("notes",)),
        "notification": (Notification, "pk", ("read_at",)),
    }
    if kind not in rows:
        return None
    model, key, fields = rows[kind]
    return list(model.objects.filter(**{key: value}).order_by().values_list(*fields))
