"""Raising a whistle from an Open311 service request: the same intake as the web form and the v1 API.

The Open311 fields are translated to whistle_submit's (service_code → the
category, lat/long → the point, address_string → a grid, community or street
found by name, first_name/last_name/phone/email → the caller,
attribute[code] → the answers); the whistle and what it cannot hold itself
(ServiceRequestOrigin: account, device, media URL) are stored in one
transaction, so a refused request leaves nothing behind. Errors name the
Open311 field, not the whistle's.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import InvalidInput, NotAllowed, NotFound
from departments.catalogue import current_catalogue
from grids.models import District
from open311.models import ServiceRequestOrigin
from open311.selectors import place_by_address, place_by_code
from whistle.models import Whistle
from whistle.permissions import SOURCES_BY_ROLE, membership_of
from whistle.services import SubmitResult, whistle_submit

TITLE_LENGTH = 50
ID_MAX_LENGTH = 64
MEDIA_URL_MAX_LENGTH = 500
# whistle_submit's field names as an Open311 client knows them.
FIELD_NAMES = {
    "category": "service_code",
    "lon": "long",
    "lat": "lat",
    "title": "description",
    "caller_name": "first_name",
    "caller_phone": "phone",
    "caller_email": "email",
    "address": "address_string",
}


def service_request_submit(
    *,
    reporter,
    service_code: str,
    lat: float | None = None,
    long: float | None = None,
    address_string: str = "",
    address_id: str = "",
    attributes: dict | None = None,
    description: str = "",
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    email: str = "",
    device_id: str = "",
    account_id: str = "",
    media_url: str = "",
    district: District | None = None,
    now: datetime | None = None,
) -> SubmitResult:
    """Raise a whistle for an Open311 POST requests; InvalidInput naming the Open311 fields, or NotFound for the service."""
    membership = membership_of(reporter)
    if membership is None or membership.role not in SOURCES_BY_ROLE:
        raise NotAllowed(_("api_key: this account's role may not raise whistles."))
    category = current_catalogue().categories.get(service_code) if service_code else None
    if service_code and category is None:
        raise NotFound(_("service_code: there is no service %(code)s.") % {"code": service_code[:64]})

    errors: dict[str, list[str]] = {}
    if not service_code:
        errors["service_code"] = [_("Give the service_code of one of the services (services.json).")]
    for name, value in (("device_id", device_id), ("account_id", account_id)):
        if len(value) > ID_MAX_LENGTH:
            errors[name] = [_("At most %(limit)d characters.") % {"limit": ID_MAX_LENGTH}]
    if media_url:
        try:
            if len(media_url) > MEDIA_URL_MAX_LENGTH:
                raise ValidationError("too long")
            URLValidator(schemes=["http", "https"])(media_url)
        except ValidationError:
            errors["media_url"] = [
                _("Give an http or https address of at most %(limit)d characters.") % {"limit": MEDIA_URL_MAX_LENGTH}
            ]
    place, place_field = _place(lat, long, address_string, address_id, district, errors)
    now = now or timezone.now()
    with transaction.atomic():
        try:
            result = whistle_submit(
                reporter=reporter,
                title=_title(description, category),
                description=description,
                category=service_code,
                lon=long,
                lat=lat,
                address=address_string,
                caller_name=_caller_name(first_name, last_name),
                caller_phone=phone,
                caller_email=email,
                attributes=attributes,
                now=now,
                **place,
            )
        except InvalidInput as error:
            raise InvalidInput(fields=_merged(errors, error.fields, place_field)) from None
        # A rule only Open311 has is broken: the whistle just stored goes back with the transaction.
        if errors:
            raise InvalidInput(fields=errors)
        ServiceRequestOrigin.objects.create(
            whistle=result.whistle,
            account_id=account_id,
            device_id=device_id,
            media_url=media_url,
            created_at=now,
        )
    return result


def _place(lat, long, address_string: str, address_id: str, district, errors: dict) -> tuple[dict, str]:
    """whistle_submit's place arguments besides the point (a unit found by address_id or address_string),
    and the Open311 field the place comes from."""
    if lat is not None or long is not None:
        return {}, "lat"  # the point decides; whistle_submit checks it (both given, in range, on a grid)
    if address_id:
        place = place_by_code(address_id, district)
        if place is None:
            errors["address_id"] = [
                _("No grid, community or street has the code %(code)s.") % {"code": address_id[:64]}
            ]
        return place or {}, "address_id"
    if address_string:
        place = place_by_address(address_string, district)
        if place is None:
            errors["address_string"] = [
                _(
                    "No street, community or grid of the district is named in this address: "
                    "give the place as lat and long."
                )
            ]
        return place or {}, "address_string"
    errors["lat"] = [_("Give the place: lat and long, or address_string.")]
    return {}, "lat"


def _merged(errors: dict, service_errors: dict, place_field: str) -> dict:
    """The Open311 errors and whistle_submit's, renamed; a field the Open311 checks named already keeps its message.

    A problem with the place (the grid, community or street it came to) is named by the field the place came from;
    without a place, the whistle's "mark the place" message only repeats the Open311 one, and is left out.
    """
    merged = {name: list(messages) for name, messages in errors.items()}
    for name, messages in service_errors.items():
        target = place_field if name in ("grid", "community", "street") else _open311_name(name)
        if target in errors:
            continue
        merged.setdefault(target, []).extend(messages)
    return merged


def _open311_name(name: str) -> str:
    if name.startswith("attributes."):
        return f"attribute[{name.removeprefix('attributes.')}]"
    return FIELD_NAMES.get(name, name)


def _title(description: str, category) -> str:
    """The whistle's title: the first line of the description, shortened; the service's name without one."""
    first_line = next((line.strip() for line in (description or "").splitlines() if line.strip()), "")
    if not first_line:
        return category.name if category is not None else _("Open311 service request")
    return first_line if len(first_line) <= TITLE_LENGTH else first_line[: TITLE_LENGTH - 1] + "…"


def _caller_name(first_name: str, last_name: str) -> str:
    """Family name first, as Chinese names are written, when both are given; else whichever is, joined by a space."""
    first_name, last_name = (first_name or "").strip(), (last_name or "").strip()
    if first_name and last_name:
        return f"{last_name}{first_name}"
    return " ".join(part for part in (first_name, last_name) if part)


def service_notice(result: SubmitResult) -> str:
    """What happens next, for the answer to a POST requests."""
    whistle = result.whistle
    if whistle.status == Whistle.Status.DRAFT:
        return _("The request is saved as a draft: it is routed once the street's leadership approves it.")
    if not result.enqueued:
        return _(
            "The request is stored. The routing queue cannot be reached just now: "
            "it will be routed as soon as the queue is back."
        )
    return _(
        "The request is being routed to the responsible departments; read requests/%(id)s for the lead "
        "department and the expected time."
    ) % {"id": whistle.number}
