"""Categories and whistles as GeoReport v2 resources (the JSON form; open311.renderers writes the XML).

A whistle is a service request: service_request_id is its number, status
open or closed with the finer state in status_notes, agency_responsible
the lead department still working on it, expected_datetime that task's
resolve deadline. Nothing about the caller or the reporter is ever part of it.
"""

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from departments.models import Category, CategoryAttribute
from open311.selectors import OPEN311_STATUSES
from whistle.models import Whistle


def w3(moment: datetime | None) -> str | None:
    """A time in the spec's w3 format, with the local offset (2026-05-06T09:30:00+08:00)."""
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else None


def service_data(category: Category) -> dict:
    parts = [category.name, *(part.lower() for part in category.code.split("-") if part)]
    if category.parent is not None:
        parts.append(category.parent.name)
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description or category.name,
        "metadata": bool(getattr(category, "has_attributes", False)),
        "type": "realtime",
        "keywords": ", ".join(dict.fromkeys(parts)),
        "group": category.parent.name if category.parent is not None else None,
    }


def definition_data(category: Category, attributes: list[CategoryAttribute]) -> dict:
    return {
        "service_code": category.code,
        "attributes": [
            {
                "variable": attribute.variable,
                "code": attribute.code,
                "datatype": attribute.datatype,
                "required": attribute.required,
                "datatype_description": attribute.datatype_description or None,
                # The spec's order starts at 1 and is unique within the service: the position asked.
                "order": position,
                "description": attribute.description,
                "values": [{"key": value["key"], "name": value["name"]} for value in attribute.values or []],
            }
            for position, attribute in enumerate(attributes, start=1)
        ],
    }


def request_data(whistle: Whistle) -> dict:
    """One request; the whistle comes from open311.selectors.request_scope (its lead task and origin loaded)."""
    lead = next(iter(getattr(whistle, "open311_leads", None) or []), None)
    closed = whistle.status in OPEN311_STATUSES["closed"]
    origin = getattr(whistle, "open311_origin", None)  # none for a whistle raised elsewhere
    return {
        "service_request_id": whistle.number,
        "status": "closed" if closed else "open",
        "status_notes": whistle.get_status_display(),
        "service_name": whistle.category.name,
        "service_code": whistle.category.code,
        "description": whistle.description,
        "agency_responsible": lead.department.name if lead else None,
        "service_notice": _notice(whistle),
        "requested_datetime": w3(whistle.submitted_at),
        "updated_datetime": w3((whistle.closed_at if closed else None) or whistle.updated_at),
        "expected_datetime": w3(lead.resolve_due_at) if lead else None,
        "address": whistle.address or _place_name(whistle),
        "lat": whistle.lat,
        "long": whistle.lon,
        "media_url": (origin.media_url or None) if origin else None,
    }


def _notice(whistle: Whistle) -> str | None:
    if whistle.status == Whistle.Status.MERGED and whistle.merged_into is not None:
        return _("A duplicate of request %(id)s, which the departments work on.") % {"id": whistle.merged_into.number}
    if whistle.status == Whistle.Status.AWAITING_DISPATCH:
        return _("No responsibility rule matched: the street's dispatcher routes it by hand.")
    return None


def _place_name(whistle: Whistle) -> str:
    """Most specific unit first, as the spec orders an address: grid, community, street."""
    units = (whistle.grid, whistle.community, whistle.street)
    return ", ".join(unit.name for unit in units if unit is not None)
