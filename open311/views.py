"""Open311 GeoReport v2 at /open311/v2/: discovery, services, service definitions, requests, tokens.

Every address ends in .json or .xml (the format); anything else under
/open311/v2/ is a 404. Errors come in the spec's shape,
[{"code": 400, "description": "field: what is wrong"}] or
<errors><error><code>…</code><description>…</description></error></errors>,
one error per broken rule, in the user's language; a domain error is
raised by the selectors and services and mapped here, once.

Access: discovery, services and service definitions are public; POST
requests needs the api_key (a DRF authtoken key) of a user whose role may
raise whistles; reading requests and tokens works without a key on the
whistles raised through the 12345 hotline only, and with a key on the
whistles the key's user may see (open311.selectors). No output ever holds
a caller's or reporter's name, phone or e-mail. POST is exempt from CSRF:
the api_key is the only credential, never a session.
"""

import math
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers, status
from rest_framework.negotiation import BaseContentNegotiation, DefaultContentNegotiation
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView, set_rollback

from config.errors import ApplicationError, InvalidInput, NotFound
from open311 import selectors
from open311.authentication import ApiKeyAuthentication
from open311.renderers import Open311JSONRenderer, Open311XMLRenderer
from open311.representation import definition_data, request_data, service_data
from open311.services import service_notice, service_request_submit

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this description of the endpoint last changed (the discovery document's changeset).
CHANGESET = "2026-11-28T00:00:00+08:00"
DEFAULT_WINDOW = timedelta(days=90)
MAX_IDS = selectors.REQUEST_LIMIT


def exception_handler(exc, context):
    """Any error of an Open311 endpoint in the spec's error list; None (a 500) only for a bug."""
    headers = {}
    if isinstance(exc, DjangoValidationError):
        exc = InvalidInput.from_validation_error(exc)
    if isinstance(exc, ApplicationError):
        code = exc.status
        if exc.fields:
            errors = [f"{name}: {message}" for name, messages in exc.fields.items() for message in messages]
            if exc.message and exc.message != str(InvalidInput.default_message):
                errors.insert(0, exc.message)
        else:
            errors = [exc.message]
    elif isinstance(exc, RequestDataTooBig):
        code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        errors = [
            _("The request body is larger than %(limit)d bytes.") % {"limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
        ]
    elif isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        code = status.HTTP_403_FORBIDDEN
        errors = [
            _("api_key: give the api_key of an account that may raise whistles.")
            if isinstance(exc, exceptions.NotAuthenticated)
            else str(exc.detail)
        ]
    elif isinstance(exc, (Http404, DjangoPermissionDenied, exceptions.APIException)):
        if isinstance(exc, Http404):
            exc = exceptions.NotFound(_("Not found: the Open311 addresses are listed in discovery.xml."))
        elif isinstance(exc, DjangoPermissionDenied):
            exc = exceptions.PermissionDenied()
        code = exc.status_code
        errors = [_flatten(exc.detail)]
        if getattr(exc, "wait", None):
            headers["Retry-After"] = f"{exc.wait:.0f}"
    else:
        return None
    set_rollback()
    return Response([{"code": code, "description": text} for text in errors], status=code, headers=headers)


def _flatten(detail) -> str:
    if isinstance(detail, (list, tuple)):
        return " ".join(_flatten(item) for item in detail)
    if isinstance(detail, dict):
        return " ".join(f"{key}: {_flatten(value)}" for key, value in detail.items())
    return str(detail)


class SuffixNegotiation(BaseContentNegotiation):
    """The address's suffix alone picks the format (the spec's way); an Accept header never makes it a 406."""

    def select_parser(self, request, parsers):
        return DefaultContentNegotiation().select_parser(request, parsers)

    def select_renderer(self, request, renderers, format_suffix=None):
        renderer = next((r for r in renderers if r.format == format_suffix), None)
        renderer = renderer or next(r for r in renderers if r.format == "xml")
        return renderer, renderer.media_type


class Open311View(APIView):
    """What every Open311 endpoint shares: the two formats, form input, the spec's errors, api_key auth."""

    renderer_classes = [Open311JSONRenderer, Open311XMLRenderer]
    content_negotiation_class = SuffixNegotiation
    parser_classes = [parsers.FormParser, parsers.MultiPartParser]
    authentication_classes = []
    permission_classes = [AllowAny]
    schema = None  # described by the GeoReport v2 spec, not by the OpenAPI schema of /api/v1/
    xml_root, xml_item = "service_requests", "request"

    def get_exception_handler(self):
        return exception_handler

    def perform_authentication(self, request):
        # Before the api_key is looked up: PostgreSQL refuses a NUL in any text, a query with one fails.
        refused = [
            name
            for name, values in (
                *((key, [value]) for key, value in self.kwargs.items() if key != "format"),
                *request.query_params.lists(),
                *(request.data.lists() if request.method == "POST" and hasattr(request.data, "lists") else ()),
            )
            if "\x00" in name or any(isinstance(value, str) and "\x00" in value for value in values)
        ]
        if refused:
            raise InvalidInput(
                fields={name.replace("\x00", "")[:64]: [_("Text may not hold a NUL character.")] for name in refused}
            )
        super().perform_authentication(request)

    def district(self, request):
        value = request.query_params.get("jurisdiction_id") or ""
        if not value and request.method == "POST":
            value = request.data.get("jurisdiction_id") or ""
        return selectors.jurisdiction_get(value.strip())


class DiscoveryView(Open311View):
    xml_root = "discovery"

    def get(self, request, format=None):
        root = request.build_absolute_uri(reverse("open311:root"))
        endpoint = {
            "specification": SPECIFICATION,
            "url": root.rstrip("/"),
            "changeset": CHANGESET,
            "type": "test" if settings.DEBUG else "production",
            "formats": [Open311XMLRenderer.media_type, Open311JSONRenderer.media_type],
        }
        return Response(
            {
                "changeset": CHANGESET,
                "contact": _("The district's whistle-and-report office: %(email)s")
                % {"email": settings.DEFAULT_FROM_EMAIL},
                "key_service": _(
                    "API keys are issued by the platform's administrators to the 12345 hotline and other systems "
                    "that raise whistles."
                ),
                "endpoints": [endpoint],
            }
        )


class ServiceListView(Open311View):
    xml_root, xml_item = "services", "service"

    def get(self, request, format=None):
        self.district(request)
        return Response([service_data(category) for category in selectors.service_list()])


class ServiceDefinitionView(Open311View):
    xml_root = "service_definition"

    def get(self, request, service_code, format=None):
        self.district(request)
        category, attributes = selectors.service_definition(service_code)
        return Response(definition_data(category, attributes))


class RequestListView(Open311View):
    """GET: search the requests the client may read; POST: raise a whistle."""

    authentication_classes = [ApiKeyAuthentication]

    def get_permissions(self):
        return [IsAuthenticated()] if self.request.method == "POST" else [AllowAny()]

    def get(self, request, format=None):
        district = self.district(request)
        whistles = selectors.request_search(user=request.user, district=district, **_search_filters(request))
        return Response([request_data(whistle) for whistle in whistles])

    def post(self, request, format=None):
        district = self.district(request)
        submission = _submission(request.data)
        result = service_request_submit(reporter=request.user, district=district, **submission)
        body = [
            {
                "service_request_id": result.whistle.number,
                "service_notice": service_notice(result),
                "account_id": submission["account_id"] or None,
            }
        ]
        return Response(body, status=status.HTTP_201_CREATED)


class RequestDetailView(Open311View):
    authentication_classes = [ApiKeyAuthentication]

    def get(self, request, service_request_id, format=None):
        whistle = selectors.request_get(user=request.user, district=self.district(request), number=service_request_id)
        return Response([request_data(whistle)])


class TokenView(Open311View):
    """Requests are realtime: the token of a request is its service_request_id, answered as both."""

    authentication_classes = [ApiKeyAuthentication]

    def get(self, request, token, format=None):
        try:
            whistle = selectors.request_get(user=request.user, district=self.district(request), number=token)
        except ApplicationError as error:
            error.message = _("token: there is no request with the token %(token)s you may read.") % {
                "token": token[:64]
            }
            raise
        return Response([{"service_request_id": whistle.number, "token": whistle.number}])


class NotFoundView(Open311View):
    """Any other address under /open311/v2/ (an unknown resource or format): a 404 in XML, or JSON for .json."""

    def get_format_suffix(self, **kwargs):
        return "json" if self.request.path.endswith(".json") else "xml"

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        raise exceptions.NotFound(
            _("Not found: Open311 addresses end in .json or .xml; discovery.xml lists the endpoint.")
        )


# Parsing the input ------------------------------------------------------------------------------


def _search_filters(request) -> dict:
    """The filters of GET requests, or InvalidInput naming each bad parameter."""
    params = request.query_params
    errors: dict[str, list[str]] = {}
    ids = _comma_list(params.get("service_request_id"))
    if ids:
        if len(ids) > MAX_IDS:
            errors["service_request_id"] = [_("At most %(limit)d ids at once.") % {"limit": MAX_IDS}]
        if errors:
            raise InvalidInput(fields=errors)
        return {"numbers": ids}  # the spec: service_request_id overrides every other argument
    codes = _comma_list(params.get("service_code"))
    if codes:
        unknown = sorted(set(codes) - selectors.known_service_codes(codes))
        if unknown:
            raise NotFound(_("service_code: there is no service %(code)s.") % {"code": ", ".join(unknown)[:200]})
    statuses = _comma_list(params.get("status"))
    wrong = [value for value in statuses if value not in selectors.OPEN311_STATUSES]
    if wrong:
        errors["status"] = [_("Status is open or closed, or both separated by a comma.")]
    start = _moment(params.get("start_date"), "start_date", errors, end_of_day=False)
    end = _moment(params.get("end_date"), "end_date", errors, end_of_day=True)
    if not errors.keys() & {"start_date", "end_date"}:
        start, end = _window(start, end, errors)
    if errors:
        raise InvalidInput(fields=errors)
    return {"service_codes": codes, "statuses": statuses, "start": start, "end": end}


def _window(start, end, errors) -> tuple[datetime, datetime]:
    """The spec's window: the last 90 days without dates; 90 days from or to the one date given; never longer."""
    if start is None and end is None:
        end = timezone.now()
        return end - DEFAULT_WINDOW, end
    if start is None:
        return end - DEFAULT_WINDOW, end
    if end is None:
        return start, start + DEFAULT_WINDOW
    if end < start:
        errors["end_date"] = [_("The end_date lies before the start_date.")]
    elif end - start > DEFAULT_WINDOW:
        errors["end_date"] = [_("The dates may span at most %(days)d days.") % {"days": DEFAULT_WINDOW.days}]
    return start, end


def _moment(value, name: str, errors: dict, *, end_of_day: bool) -> datetime | None:
    """A w3 date-time with its offset (or a bare date, taken in the local time zone, a whole day)."""
    value = (value or "").strip()
    if not value:
        return None
    problem = _("Give a w3 date-time with its UTC offset, e.g. 2026-01-01T00:00:00+08:00.")
    try:
        day = parse_date(value) if len(value) == 10 else None
        if day is not None:
            moment = timezone.make_aware(datetime.combine(day, time.min))
            if end_of_day:
                moment += timedelta(days=1) - timedelta(microseconds=1)
        else:
            moment = parse_datetime(value) if len(value) <= 64 else None
        # A date at either end of the calendar has no UTC time, or no room for the 90-day window.
        if moment is not None and (timezone.is_naive(moment) or not 1 < moment.astimezone(UTC).year < 9999):
            moment = None
    except (ValueError, OverflowError):
        moment = None
    if moment is None:
        errors.setdefault(name, []).append(problem)
    return moment


def _comma_list(value) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


ATTRIBUTE_PREFIX = "attribute["


def _submission(data) -> dict:
    """The arguments of service_request_submit from the form body; InvalidInput for what cannot be parsed."""
    errors: dict[str, list[str]] = {}

    def text(name: str) -> str:
        value = data.get(name)
        return value.strip() if isinstance(value, str) else ""

    point = {}
    for name in ("lat", "long"):
        raw = text(name)
        if not raw:
            point[name] = None
            continue
        try:
            number = float(raw) if len(raw) <= 64 else math.nan
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            errors[name] = [_("Give a number in decimal degrees (WGS 84), e.g. 40.465.")]
        point[name] = number
    if errors:
        raise InvalidInput(fields=errors)
    return {
        "service_code": text("service_code"),
        **point,
        "address_string": text("address_string"),
        "address_id": text("address_id"),
        "attributes": _attributes(data),
        "description": text("description"),
        "first_name": text("first_name"),
        "last_name": text("last_name"),
        "phone": text("phone"),
        "email": text("email"),
        "device_id": text("device_id"),
        "account_id": text("account_id"),
        "media_url": text("media_url"),
    }


def _attributes(data) -> dict:
    """attribute[code]=value pairs as {code: value}; repeated (or attribute[code][]) as {code: [values]}."""
    answers: dict[str, list[str]] = {}
    for key in data:
        if not key.startswith(ATTRIBUTE_PREFIX) or not key.endswith("]"):
            continue
        code = key[len(ATTRIBUTE_PREFIX) : -1].removesuffix("][")
        values = [value for value in data.getlist(key) if isinstance(value, str)]
        answers.setdefault(code, []).extend(values)
    return {code: values[0] if len(values) == 1 else values for code, values in answers.items()}
