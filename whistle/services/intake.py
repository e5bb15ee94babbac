"""Raising a whistle: validation, numbering, idempotent storage, hand-off to routing."""

import logging
import math
import re
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import InvalidInput, NotAllowed
from departments.attributes import attribute_answers_clean
from departments.catalogue import current_catalogue
from departments.models import Grade, Membership
from grids.locate import locate
from grids.models import Community, Grid, Street
from whistle.models import DESCRIPTION_MAX_LENGTH, Doorbell, Whistle, WhistleNumberSequence
from whistle.permissions import GRADES_BY_ROLE, SOURCES_BY_ROLE, membership_of, whistle_scope
from whistle.services.doorbell import doorbell_ring, doorbell_silence
from whistle.services.transitions import event_record

logger = logging.getLogger(__name__)

PHONE = re.compile(r"^\+?[0-9][0-9 \-]{4,30}$")
# Deliberately plain: something@somewhere.tld, no spaces; the caller's mail server has the last word.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class SubmitResult:
    whistle: Whistle
    created: bool
    # False when the message broker could not be reached: the whistle is
    # stored and the re-enqueue job will route it once the broker is back.
    enqueued: bool = True
    # The events the submission wrote (a new whistle's one), for its answer.
    events: list = field(default_factory=list)


def whistle_submit(
    *,
    reporter,
    title: str,
    description: str,
    category: str,
    grade: str | None = None,
    source: str | None = None,
    mode: str = Whistle.Mode.REGULAR,
    lon: float | None = None,
    lat: float | None = None,
    address: str = "",
    grid: str = "",
    external_id: str = "",
    caller_name: str = "",
    caller_phone: str = "",
    caller_email: str = "",
    appointed_checkin_at: datetime | None = None,
    attributes: dict | None = None,
    community: str = "",
    street: str = "",
    now: datetime | None = None,
) -> SubmitResult:
    """Store a new whistle (or return the one with the same external id) and queue its routing.

    Party-building-office whistles of anyone but the street head start as a
    draft for the approval chain; everything else is submitted at once.
    The place is a point, or a grid; without either, the community or street
    named by its code (an address matched to a unit, as Open311 intake does).
    `attributes` answers the category's questions (departments.attributes).
    """
    now = now or timezone.now()
    membership = membership_of(reporter)
    if membership is None or membership.role not in SOURCES_BY_ROLE:
        raise NotAllowed(_("Your role cannot raise whistles."))
    source = source or _default_source(membership)
    external_id = (external_id or "").strip()

    try:
        data = _validated(
            membership=membership,
            title=title,
            description=description,
            category=category,
            grade=grade,
            source=source,
            mode=mode,
            lon=lon,
            lat=lat,
            address=address,
            grid=grid,
            external_id=external_id,
            caller_name=caller_name,
            caller_phone=caller_phone,
            caller_email=caller_email,
            appointed_checkin_at=appointed_checkin_at,
            attributes=attributes,
            community=community,
            street=street,
            now=now,
        )
    except InvalidInput:
        # A repeat of a whistle stored earlier answers with it, even if its input no longer passes
        # (an appointed time now past, a question added to the category since).
        repeatable = external_id and source in SOURCES_BY_ROLE[membership.role]
        existing = _repeat(reporter=reporter, source=source, external_id=external_id) if repeatable else None
        if existing is None:
            raise
        return SubmitResult(whistle=existing, created=False)
    result = SubmitResult(whistle=None, created=True)
    try:
        result.whistle = _store(reporter=reporter, membership=membership, data=data, now=now, result=result)
    except IntegrityError:
        # The unique (source, external_id) says a whistle with this id is stored already (a repeat,
        # or an identical submission at the same moment that won the race): answer with it. Looked
        # up only now, not before every insert, as repeats are few and inserts many.
        existing = _repeat(reporter=reporter, source=source, external_id=external_id) if external_id else None
        if existing is None:
            raise
        return SubmitResult(whistle=existing, created=False)
    return result


def _repeat(*, reporter, source: str, external_id: str) -> Whistle | None:
    """The whistle stored earlier under this external id, if the reporter may see it.

    An id taken by a whistle outside the reporter's scope is refused rather
    than answered with a whistle they must not see.
    """
    existing = Whistle.objects.filter(source=source, external_id=external_id).first()
    if existing is None:
        return None
    if not whistle_scope(reporter).filter(pk=existing.pk).exists():
        raise InvalidInput(fields={"external_id": [_("This external id is already used by another whistle.")]})
    return existing


@transaction.atomic
def _store(*, reporter, membership: Membership, data: dict, now: datetime, result: SubmitResult) -> Whistle:
    draft = data["source"] == Whistle.Source.PARTY_OFFICE and membership.role != Membership.Role.STREET_HEAD
    whistle = Whistle(
        **data,
        number=_next_number(street=data["street"], year=timezone.localtime(now).year),
        reporter=reporter,
        status=Whistle.Status.DRAFT if draft else Whistle.Status.SUBMITTED,
        submitted_at=None if draft else now,
        created_at=now,
        updated_at=now,
    )
    whistle.save(force_insert=True)
    result.events = [
        event_record(
            whistle=whistle,
            verb="drafted" if draft else "submitted",
            now=now,
            actor=reporter,
            new={"status": whistle.status, "grade": whistle.grade, "source": whistle.source},
        )
    ]
    if not draft:
        whistle_enqueue_routing_on_commit(whistle=whistle, result=result)
    return whistle


def whistle_enqueue_routing_on_commit(*, whistle: Whistle, result: SubmitResult | None = None) -> None:
    """After the whistle is committed, call for a routing run (the routing doorbell).

    The broker being down must not lose or fail the submission: the whistle
    is already stored, and the re-enqueue job picks up whistles left in
    `submitted`; the caller is told it is queued.
    """
    from whistle.tasks import route_waiting_whistles

    def enqueue():
        if not doorbell_ring(Doorbell.ROUTING):
            return  # a routing run is called for already: it takes this whistle too
        try:
            route_waiting_whistles.apply_async(retry=False)
        except Exception:  # noqa: BLE001 - any broker failure; the whistle is safe in the database
            logger.warning("broker unreachable; whistle %s waits for the re-enqueue job", whistle.number, exc_info=True)
            doorbell_silence(Doorbell.ROUTING)  # the next submit tries the broker again
            if result is not None:
                result.enqueued = False

    transaction.on_commit(enqueue)


def _next_number(*, street: Street, year: int) -> str:
    """S01-2026-000123: the street's running number for the year, gap-free per committed whistle.

    One UPDATE … RETURNING both counts and locks the street's counter row:
    concurrent submits in one street queue there for the rest of their
    (short) transactions. The ORM has no UPDATE … RETURNING, hence the SQL.
    """
    table = connection.ops.quote_name(WhistleNumberSequence._meta.db_table)
    # A model's table name, quoted; the values are parameters. (A format call, not an f-string:
    # bandit misreads a nosec beside an f-string.)
    count = "UPDATE {} SET last = last + 1 WHERE street_id = %s AND year = %s RETURNING last".format(table)  # noqa: S608, UP032  # nosec B608
    for _attempt in range(2):
        with connection.cursor() as cursor:
            cursor.execute(count, [street.pk, year])
            row = cursor.fetchone()
        if row is not None:
            return f"{street.code}-{year}-{row[0]:06d}"
        try:
            with transaction.atomic():
                WhistleNumberSequence.objects.create(street=street, year=year, last=0)
        except IntegrityError:
            pass  # another submit created it first: count on theirs
    raise RuntimeError(f"no number counter for {street.code} in {year}")  # unreachable: the row exists by now


def _default_source(membership: Membership) -> str:
    return {
        Membership.Role.GRID_WORKER: Whistle.Source.GRID_WORKER,
        Membership.Role.HOTLINE_CLIENT: Whistle.Source.HOTLINE,
        Membership.Role.PARTY_OFFICE: Whistle.Source.PARTY_OFFICE,
    }.get(membership.role, Whistle.Source.STREET)


def _validated(*, membership: Membership, now: datetime, **raw) -> dict:
    """Every rule the input breaks, per field, or the clean values for a Whistle."""
    errors: dict[str, list[str]] = {}

    def fail(name, message):
        errors.setdefault(name, []).append(message)

    title = (raw["title"] or "").strip()
    if not title:
        fail("title", _("A title is required."))
    elif len(title) > 200:
        fail(
            "title",
            _("The title may have at most %(limit)d characters (it has %(count)d).")
            % {"limit": 200, "count": len(title)},
        )
    description = (raw["description"] or "").strip()
    if not description:
        fail("description", _("A description is required."))
    elif len(description) > DESCRIPTION_MAX_LENGTH:
        fail(
            "description",
            _("The description may have at most %(limit)d characters (it has %(count)d).")
            % {"limit": DESCRIPTION_MAX_LENGTH, "count": len(description)},
        )

    catalogue = current_catalogue()
    category = catalogue.categories.get(raw["category"]) if raw["category"] else None
    if category is None:
        fail(
            "category",
            _("Unknown category %(code)s.") % {"code": raw["category"] or "—"}
            if raw["category"]
            else _("A category is required."),
        )
    grade = raw["grade"] or (category.default_grade if category else None)
    if grade is None:
        pass  # no grade given and no category to take it from: the category error says it all
    elif grade not in Grade.values:
        fail("grade", _("Grade must be one of %(choices)s.") % {"choices": ", ".join(Grade.values)})
    elif grade not in GRADES_BY_ROLE[membership.role]:
        fail(
            "grade",
            _("Your role (%(role)s) may not raise a %(grade)s whistle.")
            % {"role": membership.get_role_display(), "grade": Grade(grade).label},
        )
    source = raw["source"]
    if source not in Whistle.Source.values:
        fail("source", _("Source must be one of %(choices)s.") % {"choices": ", ".join(Whistle.Source.values)})
    elif source not in SOURCES_BY_ROLE[membership.role]:
        fail(
            "source",
            _("Your role (%(role)s) may not raise whistles from the source %(source)s.")
            % {"role": membership.get_role_display(), "source": Whistle.Source(source).label},
        )
    mode = raw["mode"] or Whistle.Mode.REGULAR
    if mode not in Whistle.Mode.values:
        fail("mode", _("Mode must be one of %(choices)s.") % {"choices": ", ".join(Whistle.Mode.values)})
    appointed = raw["appointed_checkin_at"]
    if mode == Whistle.Mode.QUICK:
        if appointed is None:
            fail("appointed_checkin_at", _("A quick whistle needs the appointed check-in time."))
        elif timezone.is_naive(appointed):
            fail("appointed_checkin_at", _("Give the time with its UTC offset, e.g. 2026-05-06T09:30:00+08:00."))
        elif appointed <= now:
            fail("appointed_checkin_at", _("The appointed check-in time must be in the future."))
    elif appointed is not None:
        fail("appointed_checkin_at", _("Only a quick whistle has an appointed check-in time."))

    lon, lat = raw["lon"], raw["lat"]
    point = _checked_point(lon, lat, fail)
    grid = community = None
    unit_street = None
    if errors.keys() & {"lon", "lat"}:
        pass
    elif not raw["grid"] and point is None and (raw["community"] or raw["street"]):
        community, unit_street = _resolved_unit(raw["community"], raw["street"], fail)
    else:
        grid = _resolved_grid(raw["grid"], point, fail)
        community = grid.community if grid else None

    street = grid.community.street if grid else unit_street or membership.street
    if membership.street_id and street is not None and street.pk != membership.street_id:
        where = "grid" if raw["grid"] else "lon" if grid else "community" if raw["community"] else "street"
        fail(where, _("The place lies in %(street)s, not in your street.") % {"street": street})
    elif membership.district_id and street is not None and street.district_id != membership.district_id:
        # The hotline and the supervisors raise whistles in their own district only.
        where = "grid" if raw["grid"] else "lon" if grid else "community" if raw["community"] else "street"
        fail(where, _("The place lies outside your district."))  # whose it is, is not the user's to know

    caller_name = (raw["caller_name"] or "").strip()
    caller_phone = (raw["caller_phone"] or "").strip()
    caller_email = (raw["caller_email"] or "").strip()
    if caller_email and (len(caller_email) > 254 or not EMAIL.match(caller_email)):
        fail("caller_email", _("Give an e-mail address such as name@example.com."))
    if len(caller_name) > 50:
        fail("caller_name", _("The caller's name may have at most %(limit)d characters.") % {"limit": 50})
    if caller_phone and not PHONE.match(caller_phone):
        fail("caller_phone", _("The phone number may only have digits, spaces, dashes and a leading +."))
    if len(raw["external_id"]) > 64:
        fail("external_id", _("The external id may have at most %(limit)d characters.") % {"limit": 64})
    address = (raw["address"] or "").strip()
    if len(address) > 300:
        fail("address", _("The address may have at most %(limit)d characters.") % {"limit": 300})

    attributes = {}
    if category is not None:
        attributes, problems = attribute_answers_clean(
            category_code=category.code,
            definitions=catalogue.attributes_of(category.pk),
            answers=raw["attributes"],
        )
        for name, messages in problems.items():
            errors.setdefault(name, []).extend(messages)
    elif raw["attributes"] and not isinstance(raw["attributes"], dict):
        fail("attributes", _("Give the answers as an object keyed by attribute code."))

    if errors:
        raise InvalidInput(fields=errors)
    return {
        "title": title,
        "description": description,
        "category": category,
        "grade": grade,
        "source": source,
        "mode": mode,
        "lon": point[0] if point else None,
        "lat": point[1] if point else None,
        "address": address,
        "grid": grid,
        "community": community,
        "street": street,
        "external_id": raw["external_id"],
        "caller_name": caller_name,
        "caller_phone": caller_phone,
        "caller_email": caller_email,
        "appointed_checkin_at": appointed if mode == Whistle.Mode.QUICK else None,
        "attributes": attributes,
    }


def _checked_point(lon, lat, fail) -> tuple[float, float] | None:
    if lon is None and lat is None:
        return None
    if lon is None or lat is None:
        fail("lon" if lon is None else "lat", _("Give both longitude and latitude, or neither."))
        return None
    ok = True
    for name, value, limit in (("lon", lon, 180), ("lat", lat, 90)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            fail(name, _("Must be a number."))
            ok = False
        elif not -limit <= value <= limit:
            fail(name, _("Must be between %(low)d and %(high)d.") % {"low": -limit, "high": limit})
            ok = False
    return (float(lon), float(lat)) if ok else None


def _resolved_unit(community_code, street_code, fail) -> tuple[Community | None, Street | None]:
    """The community (with its street) or the street named by code, when the place has no point or grid."""
    if community_code:
        community = Community.objects.select_related("street").filter(code=community_code).first()
        if community is None:
            fail("community", _("Unknown community %(code)s.") % {"code": community_code})
            return None, None
        if street_code and community.street.code != street_code:
            fail(
                "community",
                _("Community %(community)s lies in %(street)s, not in %(code)s.")
                % {"community": community, "street": community.street, "code": street_code},
            )
        return community, community.street
    street = Street.objects.filter(code=street_code).first()
    if street is None:
        fail("street", _("Unknown street %(code)s.") % {"code": street_code})
    return None, street


def _resolved_grid(code, point, fail) -> Grid | None:
    """The grid the reporter chose, else the one under the point."""
    if code:
        grid = Grid.objects.select_related("community__street").filter(code=code).first()
        if grid is None:
            fail("grid", _("Unknown grid %(code)s.") % {"code": code})
        return grid
    if point is None:
        fail("grid", _("Mark the place on the map or choose a grid."))
        return None
    grid = locate(*point)
    if grid is None:
        fail(
            "grid",
            _("The point (%(lon).6f, %(lat).6f) lies on no grid of the district: choose a grid.")
            % {"lon": point[0], "lat": point[1]},
        )
    return grid
