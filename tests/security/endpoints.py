"""Every URL pattern of the project, found through the URL resolver, and how to point it at an object.

The access matrix never lists endpoints by hand: it walks
``django.urls.get_resolver()`` so that a pattern added anywhere (web pages,
``/api/v1/``, ``/open311/v2/``, operations) is exercised the day it appears.
Each pattern becomes one or more ``Endpoint``s of a kind:

- ``object``: it has a parameter that names an object (``number``, ``pk``,
  ``task_pk``, ``code`` …); FILLERS says which object of the other unit to put
  there. A parameter FILLERS does not know makes the pattern *uncovered*, and
  test_every_pattern_is_covered_or_allowed fails until someone says what it is.
- ``shared``: it names an object every signed-in user may read by design
  (SHARED: the city's category catalogue).
- ``list``: no object parameter (lists, dashboards, exports, evaluation); its
  answers are searched for the other unit's data.
- ``public``: in PUBLIC, answered without signing in by design.
- ``admin``: the Django admin, which only staff users reach; checked as one gate.

Parameters that choose an action or a table rather than an object (``action``,
``step``, ``table``, ``format``) are expanded into one endpoint per value, read
from the view modules where they are defined. The methods a view takes are
read from the view (a DRF viewset's actions, a class's handlers,
``require_http_methods``), so that POST goes only where it can be taken.
"""

import inspect
import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

# Endpoints that answer without signing in, by design. Each is still requested
# by every role and still must not show another unit's data or fail with a 5xx;
# only the "anonymous must be turned away" rule is lifted for them. Matched
# against the route as shown in the test ids ("accounts/login/", "api/schema/" …).
PUBLIC = {
    # Signing in and out, and the password pages of django.contrib.auth.
    r"^accounts/login/$": "sign-in page",
    r"^accounts/logout/$": "sign-out",
    r"^accounts/password_reset/": "password reset by e-mail (asks for an address, shows nothing)",
    r"^accounts/reset/": "password reset link from the e-mail",
    # Choosing the interface language.
    r"^i18n/": "django.views.i18n.set_language",
    # The OpenAPI schema and its browsable documentation (DESIGN.md: "anyone").
    r"^api/schema/": "OpenAPI 3 schema",
    r"^api/docs/": "Swagger UI",
    # Any other address under api/ is a 404 in the API's error shape.
    r"^api/$": "the API's not-found answer for unknown addresses",
    # Operations: load balancers and Prometheus call these without a session.
    r"^healthz": "health check",
    r"^metrics": "Prometheus metrics",
    # GeoReport v2: discovery and the services are public in the specification; so is reading requests, and
    # without an api_key a client reads only the 12345 hotline's whistles, the public channel
    # (open311/selectors.py). With an api_key it reads its user's scope, which the matrix checks per role.
    r"^open311/v2/discovery": "Open311 discovery",
    r"^open311/v2/services": "Open311 service list and definitions",
    r"^open311/v2/requests\.": "Open311 request search: the public channel without an api_key",
    r"^open311/v2/$": "Open311's not-found answer for unknown addresses",
    # The admin's own sign-in and sign-out (which sends a non-staff user to the admin's index).
    r"^admin/login/$": "admin sign-in page",
    r"^admin/logout/$": "admin sign-out",
}
# Of those, the ones that answer everyone alike, whoever asks: requested by the anonymous visitor and a
# signed-in user without a unit only (the schema alone takes seconds to build).
ALIKE_FOR_EVERYONE = (
    r"^accounts/",
    r"^i18n/",
    r"^api/schema/",
    r"^api/docs/",
    r"^api/$",
    r"^healthz",
    r"^metrics",
    r"^open311/v2/discovery",
    r"^open311/v2/services",
)
# A 503 from the health check is its answer ("not healthy": no beat heartbeat in a test run), not a failure.
UNHEALTHY_IS_AN_ANSWER = (r"^healthz",)

# Endpoints with an object parameter whose objects every signed-in user may read by design:
# requested like the others, but not expected to be refused (only anonymous is turned away).
SHARED = {
    r"^api/v1/categories/\{code\}/$": "the category catalogue is the city's, the same for every unit",
}

# Which object of the other unit each object parameter gets, first match wins:
# (parameter, regular expression on the shown route, object). The object names
# are resolved by tests.security.test_access_matrix.object_value.
FILLERS = [
    # A whistle in the state each action expects, so a missing check would show as a change.
    ("number", r"/\{number\}/(step/|reject/|approve/)", "whistle:draft"),
    ("number", r"/\{number\}/dispatch/", "whistle:queue"),
    ("number", r"/\{number\}/(confirm|reopen|rate)/", "whistle:resolved"),
    ("number", r"/\{number\}/callback/", "whistle:callback"),
    ("number", r"/\{number\}/meetings/", "whistle:difficult"),
    ("number", r"", "whistle:open"),
    ("pk", r"(^|/)tasks/extensions/\{pk\}/", "extension"),
    ("pk", r"(^|/)extensions/\{pk\}/", "extension"),
    ("pk", r"(^|/)tasks/attachments/\{pk\}/", "attachment"),
    ("pk", r"(^|/)attachments/\{pk\}/", "attachment"),
    ("pk", r"(^|/)tasks/\{pk\}/", "task:open"),
    ("pk", r"(^|/)notifications/\{pk\}/", "notification"),
    ("pk", r"(^|/)meetings/\{pk\}/", "meeting"),
    ("pk", r"(^|/)(orders|supervision-orders)/\{pk\}/", "order"),
    ("pk", r"(^|/)accountability/\{pk\}/", "record"),
    ("task_pk", r"", "task:open"),
    ("code", r"^map/grids/\{code\}/", "grid:map"),
    # The catalogue shows the units of the user's own district: the other one is district HD's (unit C).
    ("code", r"^api/v1/departments/\{code\}/", "district:department"),
    ("code", r"^api/v1/streets/\{code\}/", "district:street"),
    ("code", r"^api/v1/grids/\{code\}/", "district:grid"),
    ("code", r"^api/v1/categories/\{code\}/", "category"),
    # Open311 (GeoReport v2): a service request is a whistle, addressed by its number.
    ("service_request_id", r"^open311/", "whistle:open311"),
    ("token", r"^open311/", "whistle:open311"),
    ("service_code", r"^open311/", "category"),
]


def _task_actions():
    from whistle.task_views import _services

    return list(_services())


def _row_actions():
    from workbench.views import _row_actions

    return list(_row_actions())


def _steps():
    from whistle.views import STEP_ACTIONS

    return list(STEP_ACTIONS)


def _export_tables():
    from escalation.evaluation_views import EXPORTS

    return list(EXPORTS)


# Parameters that pick one of a few values: (URL name or "*", parameter) → the values, from the view.
CHOICES = {
    ("whistle:task_act", "action"): _task_actions,
    ("workbench:task_act", "action"): _row_actions,
    ("whistle:step", "step"): _steps,
    ("escalation:evaluation_export", "table"): _export_tables,
    ("*", "format"): lambda: ["json", "xml"],
    # The password reset link: no object of a unit, a made-up user and token.
    ("password_reset_confirm", "uidb64"): lambda: ["MQ"],
    ("password_reset_confirm", "token"): lambda: ["set-password"],
}

ROUTE_PARAM = re.compile(r"<(?:[^>:]+:)?(?P<name>\w+)>")
# A named group, its body free of nested groups or with one level of them.
REGEX_PARAM = re.compile(r"\(\?P<(?P<name>\w+)>(?:[^()]|\([^()]*\))*\)")
REGEX_LEFTOVER = re.compile(r"[\\^$()\[\]*+?{}|]")


@dataclass(frozen=True)
class Endpoint:
    route: str  # as shown: "api/v1/whistles/{number}/approve/"
    name: str  # the namespaced URL name, or "" for an unnamed pattern
    kind: str  # "object", "shared", "list", "public" or "admin"
    params: tuple  # ((parameter, object name or "=value"), …)
    problem: str = ""  # why the pattern cannot be requested (uncovered), else ""
    methods: frozenset | None = None  # the HTTP methods the view takes, when it says (None: unknown)

    def takes(self, method: str) -> bool:
        return self.methods is None or method in self.methods

    @property
    def api(self) -> bool:
        return self.route.startswith("api/")

    @property
    def open311(self) -> bool:
        return self.route.startswith("open311/")

    def url(self, values: dict) -> str:
        """The address with each parameter replaced by its value."""
        shown = self.route
        for name, value in values.items():
            shown = shown.replace("{" + name + "}", str(value))
        return "/" + shown

    def __str__(self):
        values = {name: (filler[1:] if filler.startswith("=") else "{" + name + "}") for name, filler in self.params}
        return self.url(values)[1:] or "/"


def _shown(pieces) -> tuple[str, list[str], str]:
    """The route with "{name}" for each parameter, the parameter names, and what could not be read."""
    shown, names, problem = "", [], ""
    for piece in pieces:
        text = str(piece)
        if piece.__class__.__name__ == "RegexPattern":
            text = text.removeprefix("^").removesuffix("$").replace(r"\.", ".")
            names += REGEX_PARAM.findall(text)
            text = REGEX_PARAM.sub(lambda m: "{" + m.group("name") + "}", text)
            if REGEX_LEFTOVER.search(text.replace("{", "").replace("}", "")):
                problem = f"regular expression left in the route: {text!r}"
        else:
            names += ROUTE_PARAM.findall(text)
            text = ROUTE_PARAM.sub(lambda m: "{" + m.group("name") + "}", text)
        shown += text
    return shown, names, problem


def _walk(resolver, pieces=(), namespace=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}:{entry.namespace}" if namespace and entry.namespace else entry.namespace or namespace
            yield from _walk(entry, (*pieces, entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name or ""
            yield (*pieces, entry.pattern), name, entry.callback


def _methods(view) -> frozenset | None:
    """The methods a view takes: a DRF viewset's actions, a class's handlers, a require_http_methods list."""
    if getattr(view, "actions", None):
        return frozenset(method.upper() for method in view.actions)
    cls = getattr(view, "cls", None) or getattr(view, "view_class", None)
    if cls is not None:
        return frozenset(m.upper() for m in cls.http_method_names if m not in ("options", "head") and hasattr(cls, m))
    while view is not None:
        try:
            allowed = inspect.getclosurevars(view).nonlocals.get("request_method_list")
        except TypeError:
            allowed = None
        if allowed:
            return frozenset(allowed)
        view = getattr(view, "__wrapped__", None)
    return None


def _filler(param: str, shown: str) -> str | None:
    for name, pattern, target in FILLERS:
        if name == param and re.search(pattern, shown):
            return target
    return None


def _choices(name: str, param: str):
    values = CHOICES.get((name, param)) or CHOICES.get(("*", param))
    return values() if values else None


def is_public(shown: str) -> bool:
    return any(re.search(pattern, shown) for pattern in PUBLIC)


def endpoints() -> list[Endpoint]:
    """Every pattern of the URL configuration, as endpoints (one per value of an action/table parameter)."""
    found = []
    for pieces, name, view in _walk(get_resolver()):
        shown, names, problem = _shown(pieces)
        methods = _methods(view)
        if shown.startswith("admin/"):
            found.append(Endpoint(shown, name, "admin", tuple((n, "admin") for n in names), "", methods))
            continue
        expanded = [()]
        fixed = []
        for param in names:
            values = _choices(name, param)
            if values is not None:
                expanded = [(*done, (param, f"={value}")) for done in expanded for value in values]
                continue
            target = _filler(param, shown)
            if target is None:
                problem = problem or f"no object of the other unit is known for the parameter {param!r}"
                target = "?"
            fixed.append((param, target))
        if is_public(shown):
            kind = "public"
        elif any(re.search(pattern, shown) for pattern in SHARED):
            kind = "shared"
        else:
            kind = "object" if fixed else "list"
        for chosen in expanded:
            found.append(Endpoint(shown, name, kind, (*fixed, *chosen), problem, methods))
    return found
