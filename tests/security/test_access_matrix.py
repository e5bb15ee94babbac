"""No role sees or changes an object of another unit, through any endpoint, web or API.

Every URL pattern of the project (tests.security.endpoints walks the
resolver: web pages, /api/v1/, /open311/v2/, operations) is requested by
every role of unit A — the six street roles, a district department's staff and
head, a station's and an enterprise's staff — and by district YQ's supervisor
and hotline, by a user without a unit and by an anonymous visitor: with GET,
and with POST where the view takes it. The data is tests.security.world:
streets A and B of district YQ, street C of district HD, each with its own
departments and a full set of objects.

- An endpoint with an object in its address gets the other unit's object (B's
  for unit A, C's for the district's roles). Expected: 403 or 404 (405 for a
  method the endpoint does not take; a redirect to sign in, or 401, for the
  anonymous visitor); never the object's data; no event written, the object
  as it was.
- An endpoint without one (lists, dashboards, exports, evaluation) may answer,
  but never with the other unit's whistles, numbers, ids or units, also when
  asked with filters that name them; a POST (with a body naming the other
  unit's objects, then with one placing a whistle in the other unit) changes
  nothing of theirs. Anonymous visitors are turned away from all but the
  endpoints public by design (endpoints.PUBLIC).
- The role's own objects' pages show nothing of the other unit either, and an
  action on one's own object cannot reach the other unit through its body
  (merge into, dispatch to, grant to).
- No request is answered with a 5xx.

A leak found is a bug of the application, not of this test: it is listed in
KNOWN_LEAKS or CROSS_LEAKS with what was seen, which marks its cases
xfail(strict=True) until it is fixed.
"""

import json
import re
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client, override_settings
from rest_framework.authtoken.models import Token

from tests.security import matrix
from tests.security.endpoints import ALIKE_FOR_EVERYONE, PUBLIC, UNHEALTHY_IS_AN_ANSWER, endpoints, is_public
from tests.security.world import ROLES, build_world

ENDPOINTS = endpoints()
METHODS = ("GET", "POST")
SIGNED_IN = tuple(role for role in ROLES if role != "anonymous")

# Leaks found by this matrix, not fixed yet: (roles, methods, route as in the test ids, what was seen).
# Each marks its cases xfail(strict=True): fixing the leak makes them pass, and then fail until removed here.
KNOWN_LEAKS: list[tuple[tuple[str, ...], tuple[str, ...], str, str]] = []


def _leak(role: str, method: str, route: str) -> str | None:
    for roles, methods, leaking, reason in KNOWN_LEAKS:
        if role in roles and method in methods and route == leaking:
            return reason
    return None


# The anonymous visitor and a signed-in user without a unit stand for everyone at the endpoints that answer
# everyone alike (endpoints.ALIKE_FOR_EVERYONE).
ALIKE_ROLES = ("anonymous", "outsider")


def _roles(endpoint) -> tuple[str, ...]:
    return ALIKE_ROLES if any(re.search(pattern, endpoint.route) for pattern in ALIKE_FOR_EVERYONE) else tuple(ROLES)


def _cases(*kinds: str):
    for endpoint in ENDPOINTS:
        if endpoint.kind not in kinds or endpoint.problem:
            continue
        for role in _roles(endpoint):
            # GET everywhere (a view that takes only POST must say 405); POST where the view takes it.
            for method in (m for m in METHODS if m == "GET" or endpoint.takes(m)):
                reason = _leak(role, method, str(endpoint))
                marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                yield pytest.param(role, method, endpoint, id=f"{role}-{method}-{endpoint}", marks=marks)


# The data, once per module ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The three units, built once and rolled back after the module.

    The matrix sends thousands of requests per run, so it keeps them cheap:
    no rate limits (they have their own tests) and sessions kept in signed
    cookies rather than the database.
    """
    quick = override_settings(
        API_RATE_TOKEN=(0, 60),
        API_RATE_USER=(0, 60),
        API_RATE_ANON=(0, 60),
        SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
    )
    with django_db_blocker.unblock(), transaction.atomic(), quick:
        world = build_world()
        world.sessions, world.api_keys = {}, {}
        for role, user in world.users.items():
            if user is not None:
                client = Client()
                client.force_login(user)
                world.sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
                # Open311 knows no session: its clients send their token as the api_key.
                world.api_keys[role] = Token.objects.create(user=user).key
        yield world
        transaction.set_rollback(True)


@pytest.fixture
def db(world):
    """This module's `db`, in place of pytest-django's: a savepoint in the module's transaction, undone after.

    pytest-django sets a test case up and down around each test; over the
    matrix's thousands of cases that costs more than the requests. The name
    stays `db` because pytest-django creates the test database for the tests
    that ask for it.
    """
    savepoint = transaction.savepoint()
    yield
    transaction.savepoint_rollback(savepoint)
    # A request that failed inside the database would have left the transaction marked for rollback.
    transaction.set_rollback(False)


def _client(world, role: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if role in world.sessions:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
    return client


def _send(client, method: str, endpoint, url: str, body: dict, query: dict | None = None, *, api_key=None):
    if api_key and endpoint.open311:
        query, body = {**(query or {}), "api_key": api_key}, {**body, "api_key": api_key}
    if method == "GET":
        return client.get(url, query or {})
    if endpoint.api:
        return client.post(url, json.dumps(body), content_type="application/json")
    return client.post(url, body)


def _values(world, role: str, endpoint) -> dict:
    return {
        name: filler[1:] if filler.startswith("=") else matrix.object_value(filler, world, role)
        for name, filler in endpoint.params
    }


def _turned_away(role: str, response, *, login_url: str = settings.LOGIN_URL) -> bool:
    """Refused without showing anything: 403/404/405, for the anonymous visitor also 401 or a redirect to sign in."""
    if response.status_code in (403, 404, 405):
        return True
    if role == "anonymous":
        if response.status_code == 401:
            return True
        if response.status_code == 302 and response["Location"].startswith(login_url):
            return True
    return False


def _describe(role, method, url, response, text) -> str:
    return f"{role} {method} {url} → {response.status_code}: {text[:300]!r}"


def _changes(before: dict, after: dict) -> dict:
    return {key: (before[key], after[key]) for key in before if before[key] != after[key]}


# The matrix ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "method", "endpoint"), list(_cases("object")))
def test_another_units_object_is_refused(world, db, role, method, endpoint):
    values = _values(world, role, endpoint)
    url = endpoint.url(values)
    body = matrix.post_body(world, role, endpoint)
    target = endpoint.params[0][1] if method == "POST" else None
    before = matrix.state(world, role, target=target, values=values)

    response = _send(_client(world, role), method, endpoint, url, body, api_key=world.api_keys.get(role))

    text = matrix.body_text(response)
    sent = matrix.sent_values(body, values)
    assert response.status_code < 500, _describe(role, method, url, response, text)
    assert _turned_away(role, response), _describe(role, method, url, response, text)
    found = matrix.leaks(world, role, response, text, sent=sent, route=endpoint.route)
    assert not found, f"{found}: " + _describe(role, method, url, response, text)
    after = matrix.state(world, role, target=target, values=values)
    assert not _changes(before, after), f"{role} {method} {url} changed the other unit's data"


@pytest.mark.parametrize(("role", "method", "endpoint"), list(_cases("list", "shared", "public")))
def test_answers_without_an_object_show_nothing_of_another_unit(world, db, role, method, endpoint):
    values = _values(world, role, endpoint)
    url = endpoint.url(values)
    body = matrix.post_body(world, role, endpoint)
    sent = matrix.sent_values(body, values)
    before = matrix.state(world, role, lists=method == "POST")
    # Asked with filters that name the other unit's street, department, grid and whistles: a list that
    # ignores its scope shows them, whether or not it applies the filters. Asked again without them when
    # they are refused as bad input (a filter offering only the user's own units).
    query = matrix.foreign_query(world, matrix.target(world, role), endpoint) if method == "GET" else {}
    sent |= {str(value) for value in query.values()}
    api_key = world.api_keys.get(role)
    public_channel = endpoint.open311 and api_key is None
    if method == "GET":
        attempts = [(query, body), (matrix.base_query(endpoint), body)]
    else:
        # Two bodies: one naming the other unit's objects (whistle, task, notices, duplicate, external id), one
        # raising a whistle in the other unit's place; one refusal must not hide the other.
        attempts = [({}, body), ({}, matrix.place_body(world, role))]
    for attempt, sending in attempts:
        response = _send(_client(world, role), method, endpoint, url, sending, attempt, api_key=api_key)
        text = matrix.body_text(response)
        shown = f"{url}?{urlencode(attempt)}" if attempt else url
        unhealthy = response.status_code == 503 and any(re.search(p, endpoint.route) for p in UNHEALTHY_IS_AN_ANSWER)
        assert response.status_code < 500 or unhealthy, _describe(role, method, shown, response, text)
        if role == "anonymous" and endpoint.kind != "public":
            assert _turned_away(role, response), (
                "not in endpoints.PUBLIC, yet answered to an anonymous visitor: "
                + _describe(role, method, shown, response, text)
            )
        found = matrix.leaks(
            world, role, response, text, sent=sent, route=endpoint.route, public_channel=public_channel
        )
        assert not found, f"{found}: " + _describe(role, method, shown, response, text)
        if method == "GET" and response.status_code != 400:
            break

    after = matrix.state(world, role, lists=method == "POST")
    if method == "POST":
        # The role's own unit may change (a POST to a list endpoint can act on it); the hidden whistles may not.
        before.pop("events"), after.pop("events")
    assert not _changes(before, after), f"{role} {method} {url} changed the other unit's data"


# The admin lets in staff users only, whatever their unit (none of the matrix's users is staff): the anonymous
# visitor, a street's and the district's roles stand for all, over its two hundred addresses.
ADMIN_ROLES = ("anonymous", "street_staff", "supervisor")


@pytest.mark.parametrize("role", ADMIN_ROLES)
@pytest.mark.parametrize("method", METHODS)
def test_the_admin_lets_no_unit_role_in(world, db, role, method):
    """Every address of the admin sends a user without the staff flag to its sign-in page."""
    assert not any(user.is_staff or user.is_superuser for user in world.users.values() if user is not None)
    failures = []
    for endpoint in (e for e in ENDPOINTS if e.kind == "admin"):
        url = endpoint.url(_admin_values(world, endpoint))
        response = _send(_client(world, role), method, endpoint, url, {})
        text = matrix.body_text(response)
        if is_public(endpoint.route):
            ok = response.status_code < 500
        else:
            ok = _turned_away("anonymous", response, login_url="/admin/login/")
        if not ok or matrix.leaks(world, role, response, text, sent=set(), route=endpoint.route):
            failures.append(_describe(role, method, url, response, text))
    assert not failures, "\n".join(failures)


def _admin_values(world, endpoint) -> dict:
    """An object of the other unit where the admin addresses one of its models, else a plain number."""
    from django.apps import apps
    from django.contrib.contenttypes.models import ContentType

    model = None
    parts = endpoint.route.split("/")
    if len(parts) > 3:
        try:
            model = apps.get_model(parts[1], parts[2])
        except (LookupError, ValueError):
            model = None
    last = model.objects.order_by("-pk").values_list("pk", flat=True).first() if model else None
    whistle = world.units["C"].whistles["open"]
    values = {}
    for name, _filler in endpoint.params:
        if name == "content_type_id":
            values[name] = ContentType.objects.get_for_model(whistle).pk
        elif name == "app_label":
            values[name] = "whistle"
        elif name in ("object_id", "id"):
            values[name] = last or whistle.pk
        else:
            values[name] = "1"
    return values


@pytest.mark.parametrize(
    ("role", "endpoint"),
    [
        pytest.param(role, endpoint, id=f"{role}-GET-{endpoint}")
        for endpoint in ENDPOINTS
        if endpoint.kind == "object" and not endpoint.problem and endpoint.takes("GET")
        for role in ROLES
        if ROLES[role][0] is not None
    ],
)
def test_own_objects_show_nothing_of_another_unit(world, db, role, endpoint):
    """The role's own objects' pages (whistle, task, order …) offer nothing of the other unit either: no whistle,
    no unit of the other district in a form's choices."""
    values = {
        name: filler[1:] if filler.startswith("=") else matrix.own_value(filler, world, role)
        for name, filler in endpoint.params
    }
    url = endpoint.url(values)

    response = _send(_client(world, role), "GET", endpoint, url, {}, api_key=world.api_keys.get(role))

    text = matrix.body_text(response)
    assert response.status_code < 500, _describe(role, "GET", url, response, text)
    found = matrix.leaks(world, role, response, text, sent=set(), route=endpoint.route)
    assert not found, f"{found}: " + _describe(role, "GET", url, response, text)


# One's own object, the other unit's in the body ------------------------------------------------------
#
# The matrix above puts the other unit's object in the address. Some actions on one's own object name
# another object in their body: merge into, dispatch to, grant to. These are written out by hand (the body
# is each action's own), each with what must stay as it was.


def _other_district_tasks(world):
    """Tasks of district HD's departments on whistles outside HD."""
    from whistle.models import Task

    other = world.units["C"]
    units = (other.department, other.station, other.enterprise)
    return Task.objects.filter(department__in=units).exclude(whistle__street=other.street).count()


def _merged_into_b(world):
    from whistle.models import Whistle

    return Whistle.objects.filter(merged_into__street=world.units["B"].street).count()


def _grants(world):
    from guardian.models import UserObjectPermission

    return UserObjectPermission.objects.count()


def _a(world, kind: str) -> str:
    return world.units["A"].whistles[kind].number


def _a_task(world) -> int:
    return world.units["A"].tasks["open"].pk


# (role, address as shown, address, body, what must not change)
CROSS_REFERENCES = [
    (
        "street_staff",
        "api/v1/whistles/{own}/merge/",
        lambda w: f"/api/v1/whistles/{_a(w, 'open')}/merge/",
        lambda w: {"into": w.units["B"].whistles["extension"].number},
        _merged_into_b,
    ),
    (
        "street_staff",
        "whistles/{own}/merge/",
        lambda w: f"/whistles/{_a(w, 'open')}/merge/",
        lambda w: {"into": w.units["B"].whistles["extension"].number},
        _merged_into_b,
    ),
    (
        "dispatcher",
        "api/v1/whistles/{own}/dispatch/",
        lambda w: f"/api/v1/whistles/{_a(w, 'queue')}/dispatch/",
        lambda w: {"departments": [{"code": w.units["C"].department.code, "role": "lead"}], "note": "matrix"},
        _other_district_tasks,
    ),
    (
        "dispatcher",
        "whistles/{own}/dispatch/",
        lambda w: f"/whistles/{_a(w, 'queue')}/dispatch/",
        lambda w: {"lead": w.units["C"].department.code, "note": "matrix"},
        _other_district_tasks,
    ),
    (
        "dept_head",
        "api/v1/tasks/{own}/grant/",
        lambda w: f"/api/v1/tasks/{_a_task(w)}/grant/",
        lambda w: {"username": w.units["B"].users["dept_staff"].username},
        _grants,
    ),
    (
        "dept_head",
        "tasks/{own}/grant/",
        lambda w: f"/tasks/{_a_task(w)}/grant/",
        lambda w: {"username": w.units["B"].users["dept_staff"].username},
        _grants,
    ),
]
# Leaks found this way, not fixed yet: (role, address as shown) → what was seen; their cases are xfail(strict=True).
CROSS_LEAKS: dict[tuple[str, str], str] = {}


@pytest.mark.parametrize(
    ("role", "address", "body", "watch"),
    [
        pytest.param(
            role,
            address,
            body,
            watch,
            id=f"{role}-POST-{shown}",
            marks=[pytest.mark.xfail(strict=True, reason=CROSS_LEAKS[role, shown])]
            if (role, shown) in CROSS_LEAKS
            else [],
        )
        for role, shown, address, body, watch in CROSS_REFERENCES
    ],
)
def test_own_object_cannot_reach_another_unit_through_its_body(world, db, role, address, body, watch):
    url, sending = address(world), body(world)
    before = watch(world)
    endpoint = SimpleNamespace(api=url.startswith("/api/"), open311=False)

    response = _send(_client(world, role), "POST", endpoint, url, sending)

    assert response.status_code < 500, f"{role} POST {url} → {response.status_code}"
    assert watch(world) == before, f"{role} POST {url} {sending} → {response.status_code}: reached the other unit"


# The enumeration ---------------------------------------------------------------------------------


def test_every_pattern_is_covered_or_allowed():
    """A new URL pattern is either requested by the matrix or listed as public by design: never silently skipped.

    A pattern is covered when each of its parameters names an object of the
    other unit (endpoints.FILLERS) or one of a few values (endpoints.CHOICES);
    one with a parameter neither knows needs an entry there (or, if it is
    public by design, in endpoints.PUBLIC).
    """
    uncovered = sorted({f"{e} ({e.name or 'unnamed'}): {e.problem}" for e in ENDPOINTS if e.problem})
    assert not uncovered, "URL patterns the access matrix cannot request:\n" + "\n".join(uncovered)


def test_the_enumeration_finds_the_endpoints_it_must():
    """The resolver walk sees the web pages, the API and the supervisor pages (a broken walk would test nothing)."""
    routes = {str(e) for e in ENDPOINTS}
    for route in (
        "whistles/{number}/",
        "api/v1/whistles/{number}/approve/",
        "api/v1/tasks/{pk}/acknowledge/",
        "tasks/{pk}/close/",
        "supervision/orders/{pk}/reply/",
        "workbench/department/tasks/{pk}/check-in/",
        "map/grids/{code}/whistles/",
    ):
        assert route in routes
    kinds = {e.kind for e in ENDPOINTS}
    assert {"object", "list", "public", "admin"} <= kinds


def test_every_allowance_names_an_endpoint():
    """An entry of PUBLIC or KNOWN_LEAKS that matches no endpoint any more would allow or mark nothing: remove it."""
    routes = {str(e) for e in ENDPOINTS}
    stale = [pattern for pattern in PUBLIC if not any(re.search(pattern, route) for route in routes)]
    stale += [route for _roles, _methods, route, _reason in KNOWN_LEAKS if route not in routes]
    assert not stale, stale
