"""What every API endpoint shares: the one error shape, pagination, strict input fields.

Every error leaves the API as

    {"code": "...", "message": "...", "fields": {"name": ["..."]}}

with the status that fits (DESIGN.md, "API contract"): domain errors
(ApplicationError) carry their own status and code; DRF's exceptions are
mapped here once, so no endpoint formats an error by hand.
"""

from datetime import UTC

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import Resolver404, resolve
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, pagination, serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView, set_rollback

from config.errors import ApplicationError, InvalidInput

# Error codes ------------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    """The shape of every error answer (for the OpenAPI schema)."""

    code = serializers.CharField(help_text="Machine-readable code, e.g. invalid, not_found, conflict.")
    message = serializers.CharField(help_text="What went wrong, in the user's language.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per input field; nested fields are named with dots (departments.0.code).",
    )


def error_responses(*statuses: int) -> dict:
    """The schema's error answers of an endpoint: each status with the one error shape."""
    return {status: OpenApiResponse(ErrorSerializer) for status in statuses}


# What an action on one object can answer besides its success.
ACTION_ERRORS = error_responses(400, 401, 403, 404, 409)


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: any error an endpoint raises, in the one error shape.

    Anything not recognised here is a bug, not bad input: it is left to
    Django (a 500 and a logged traceback) rather than hidden.
    """
    if isinstance(exc, DjangoValidationError):
        # A model's full_clean() reaching the edge: still bad input, never a 500.
        exc = InvalidInput.from_validation_error(exc)
    if isinstance(exc, ApplicationError):
        set_rollback()
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, RequestDataTooBig):
        set_rollback()
        message = _("The request body is larger than %(limit)d bytes.") % {
            "limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        }
        return Response({"code": "too_large", "message": message, "fields": {}}, status=413)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = f"{exc.wait:.0f}"
    if isinstance(exc, exceptions.ValidationError):
        body = _validation_body(exc.detail)
    else:
        body = {"code": exc.default_code, "message": _message(exc.detail), "fields": {}}
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)


def _message(detail) -> str:
    if isinstance(detail, (list, tuple)):
        return " ".join(str(item) for item in detail)
    if isinstance(detail, dict):
        return " ".join(_message(value) for value in detail.values())
    return str(detail)


def _validation_body(detail) -> dict:
    fields: dict[str, list[str]] = {}
    _flatten(detail, "", fields)
    # Errors of the body as a whole (not a JSON object, a serializer-wide rule)
    # become the message; everything else stays named by its field.
    general = fields.pop("", [])
    message = " ".join(general) if general else _("Some fields are not valid.")
    return {"code": "invalid", "message": message, "fields": fields}


def _flatten(detail, prefix: str, out: dict[str, list[str]]) -> None:
    """DRF's nested error structure as dotted field names: {"departments.0.code": ["..."]}."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = prefix if key == api_settings.NON_FIELD_ERRORS_KEY else f"{prefix}.{key}" if prefix else str(key)
            _flatten(value, name, out)
    elif isinstance(detail, (list, tuple)):
        if all(not isinstance(item, (dict, list, tuple)) for item in detail):
            if detail:
                out.setdefault(prefix, []).extend(str(item) for item in detail)
            return
        # A list of nested errors, one per item; valid items have an empty entry.
        for index, item in enumerate(detail):
            _flatten(item, f"{prefix}.{index}" if prefix else str(index), out)
    elif detail is not None:
        out.setdefault(prefix, []).append(str(detail))


class ApiNotFoundView(APIView):
    """Any other path under /api/: a 404 in the error shape instead of Django's HTML page."""

    authentication_classes = []
    permission_classes = [AllowAny]
    schema = None  # not an endpoint: keep it out of the OpenAPI schema

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        path = request.path_info
        if not path.endswith("/"):
            try:
                match = resolve(path + "/")
            except Resolver404:
                match = None
            if match is not None and getattr(match.func, "view_class", None) is not ApiNotFoundView:
                raise exceptions.NotFound(_("Not found: the address ends with a slash (%(path)s/).") % {"path": path})
        raise exceptions.NotFound()


# Query parameters -------------------------------------------------------------------------


def query_point(params) -> tuple[float, float]:
    """`lon` and `lat` of a query string as numbers in range; InvalidInput naming each one that is not."""
    fields, values = {}, {}
    for name, low, high in (("lon", -180, 180), ("lat", -90, 90)):
        raw = params.get(name, "").strip()
        try:
            value = float(raw)
        except ValueError:
            fields[name] = [_("Give a number.") if raw else _("This parameter is required.")]
            continue
        if not low <= value <= high:  # also false for NaN
            fields[name] = [_("Must be between %(low)s and %(high)s.") % {"low": low, "high": high}]
        values[name] = value
    if fields:
        raise InvalidInput(fields=fields)
    return values["lon"], values["lat"]


# Pagination -------------------------------------------------------------------------------


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


# Strict input fields ----------------------------------------------------------------------
#
# DRF's fields coerce generously ("12.5" and true become numbers, 12 becomes
# "12"). The API contract is JSON with real types, so these only accept the
# JSON type itself; every domain rule is left to the service.


class StrictCharField(serializers.CharField):
    default_error_messages = {"invalid": gettext_lazy("A string is required.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    default_error_messages = {"invalid": gettext_lazy("A number is required.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        return super().to_internal_value(data)


class OffsetDateTimeField(serializers.DateTimeField):
    """An ISO-8601 string, passed on as given: a time without its offset is left naive for the service to refuse."""

    default_error_messages = {
        "invalid": gettext_lazy("Give an ISO-8601 time with its UTC offset, e.g. 2026-05-06T09:30:00+08:00.")
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, value):
        if not isinstance(value, str):
            self.fail("invalid")
        try:
            parsed = parse_datetime(value.strip())
            # As UTC: PostgreSQL refuses offsets beyond ±15:59, which Python allows; and a
            # year-9999 time at -14:00 has no UTC time at all (refused here, not in the database).
            if parsed is not None and parsed.tzinfo is not None:
                parsed = parsed.astimezone(UTC)
        except (ValueError, OverflowError):
            parsed = None
        if parsed is None:
            self.fail("invalid")
        return parsed
