"""Reads behind the Open311 endpoints: services, their definitions, service requests, places by name.

Who reads which requests: a client with an api_key reads the whistles its
user may see (whistle.selectors.whistle_list, the same scope as the web
pages and the v1 API); a client without one reads only the whistles raised
through the 12345 hotline (source `hotline`), the public channel. Either
way only whistles that were submitted are requests (drafts of the approval
chain are not yet), and nothing about callers or reporters is read out.
"""

import unicodedata
from datetime import datetime

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils.translation import gettext as _

from config.errors import NotFound
from departments.models import Category, CategoryAttribute, Responsibility
from grids.models import Community, District, Grid, Street
from whistle.models import Task, Whistle
from whistle.selectors import whistle_list

S = Whistle.Status
# The spec's two statuses; the finer state goes into status_notes.
OPEN311_STATUSES: dict[str, tuple[str, ...]] = {
    "open": tuple(Whistle.OPEN_STATUSES),
    "closed": (S.CLOSED, S.MERGED),
}
VISIBLE_STATUSES = OPEN311_STATUSES["open"] + OPEN311_STATUSES["closed"]
# The spec's response volume: at most this many requests per answer.
REQUEST_LIMIT = 1000


def jurisdiction_get(jurisdiction_id: str) -> District | None:
    """The district named by jurisdiction_id (its code); None when none is named, NotFound for an unknown one."""
    if not jurisdiction_id:
        return None
    district = District.objects.filter(code=jurisdiction_id).first()
    if district is None:
        raise NotFound(_("jurisdiction_id: unknown jurisdiction %(id)s.") % {"id": jurisdiction_id[:64]})
    return district


def service_list() -> QuerySet[Category]:
    """Every category as an Open311 service, with its parent and whether it has attributes (`has_attributes`)."""
    attributes = CategoryAttribute.objects.filter(category=OuterRef("pk"))
    return Category.objects.select_related("parent").annotate(has_attributes=Exists(attributes)).order_by("code")


def service_definition(code: str) -> tuple[Category, list[CategoryAttribute]]:
    """The category with this code and its attributes in their order; NotFound for an unknown code."""
    category = Category.objects.filter(code=code).first()
    if category is None:
        raise NotFound(_("service_code: there is no service %(code)s.") % {"code": code[:64]})
    return category, list(category.attributes.order_by("order", "code"))


def request_scope(*, user, district: District | None) -> QuerySet[Whistle]:
    """The requests this client may read (see the module docstring), ready for rendering without a query per row."""
    if user is not None and user.is_authenticated:
        whistles = whistle_list(user=user)
    else:
        whistles = Whistle.objects.filter(source=Whistle.Source.HOTLINE).select_related(
            "category", "street", "community", "grid", "merged_into"
        )
    whistles = whistles.filter(status__in=VISIBLE_STATUSES, submitted_at__isnull=False)
    if district is not None:
        whistles = whistles.filter(street__district=district)
    # The lead department still working on it (a returned or released lead has handed the whistle back).
    leads = (
        Task.objects.filter(role=Responsibility.Role.LEAD)
        .exclude(status__in=(Task.Status.RETURNED, Task.Status.RELEASED))
        .select_related("department")
        .order_by("pk")
    )
    return whistles.select_related("open311_origin").prefetch_related(
        Prefetch("tasks", queryset=leads, to_attr="open311_leads")
    )


def request_search(
    *,
    user,
    district: District | None,
    numbers: list[str] | None = None,
    service_codes: list[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    statuses: list[str] | None = None,
) -> list[Whistle]:
    """The requests matching the filters, newest first, at most REQUEST_LIMIT.

    `numbers` overrides every other filter (the spec's service_request_id);
    otherwise requests raised in [start, end] whose status is one of `statuses`.
    """
    whistles = request_scope(user=user, district=district)
    if numbers is not None:
        whistles = whistles.filter(number__in=numbers)
    else:
        if service_codes:
            whistles = whistles.filter(category__code__in=service_codes)
        if start is not None:
            whistles = whistles.filter(submitted_at__gte=start)
        if end is not None:
            whistles = whistles.filter(submitted_at__lte=end)
        if statuses:
            whistles = whistles.filter(status__in=[s for name in statuses for s in OPEN311_STATUSES[name]])
    return list(whistles.order_by("-submitted_at", "-pk")[:REQUEST_LIMIT])


def request_get(*, user, district: District | None, number: str) -> Whistle:
    """One request the client may read; NotFound otherwise (never telling whether it exists)."""
    whistle = request_scope(user=user, district=district).filter(number=number[:32]).first()
    if whistle is None:
        raise NotFound(_("service_request_id: there is no request %(id)s you may read.") % {"id": number[:64]})
    return whistle


def known_service_codes(codes: list[str]) -> set[str]:
    return set(Category.objects.filter(code__in=codes).values_list("code", flat=True))


# Places by name or code -----------------------------------------------------------------------


def place_by_code(code: str, district: District | None) -> dict | None:
    """{"grid"|"community"|"street": code} for the unit with this code (an Open311 address_id), or None."""
    code = (code or "").strip()
    if not code:
        return None
    for kind, model, lookup in (
        ("grid", Grid, "community__street__district"),
        ("community", Community, "street__district"),
        ("street", Street, "district"),
    ):
        units = model.objects.filter(code=code)
        if district is not None:
            units = units.filter(**{lookup: district})
        if units.exists():
            return {kind: code}
    return None


def place_by_address(address: str, district: District | None) -> dict | None:
    """The most specific unit whose name the address contains: {"grid"|"community"|"street": code}, or None.

    A grid's name beats its community's, which beats its street's. Among
    names of one level the longest found wins; two units of one level whose
    names are found equally long are ambiguous and skipped for the level
    above. A grid or community must lie in the street (and community) found
    too, when one is. Full-width letters and digits count as their ASCII
    twins, spaces are ignored.
    """
    text = _normalised(address)
    if not text:
        return None
    streets = Street.objects.all()
    communities = Community.objects.all()
    grids = Grid.objects.all()
    if district is not None:
        streets = streets.filter(district=district)
        communities = communities.filter(street__district=district)
        grids = grids.filter(community__street__district=district)
    street = _best(text, ((name, (code,)) for code, name in streets.values_list("code", "name")))
    community = _best(
        text,
        (
            (name, (code, street_code))
            for code, name, street_code in communities.values_list("code", "name", "street__code")
            if street is None or street_code == street[0]
        ),
    )
    grid = _best(
        text,
        (
            (name, (code,))
            for code, name, community_code, street_code in grids.values_list(
                "code", "name", "community__code", "community__street__code"
            )
            if (street is None or street_code == street[0]) and (community is None or community_code == community[0])
        ),
    )
    if grid is not None:
        return {"grid": grid[0]}
    if community is not None:
        return {"community": community[0]}
    if street is not None:
        return {"street": street[0]}
    return None


def _normalised(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def _best(text: str, candidates) -> tuple | None:
    """The key of the longest name found in the text; None when none is, or when two different ones tie."""
    found = [(len(name), key) for name, key in ((_normalised(n), k) for n, k in candidates) if name and name in text]
    if not found:
        return None
    longest = max(length for length, _key in found)
    keys = {key for length, key in found if length == longest}
    return keys.pop() if len(keys) == 1 else None
