"""Idempotency-Key: a POST repeated with the same key gets the first answer, and runs once.

A client that cannot tell whether its POST arrived (a time-out, a dropped
connection) sends it again with the same `Idempotency-Key` header:

- the same key with the same request (method, path and body) answers what the
  first one answered, with `Idempotent-Replayed: true`, and changes nothing;
- the same key with another request is a 409 (`idempotency_key_reused`);
- the same key while the first is still running is a 409
  (`idempotency_in_progress`) with Retry-After;
- answers of 500 and above, and 429s, are not kept: the client may try again.

Keys belong to the client (the signed-in user, the user of the API token or
of Open311's api_key) and are kept IDEMPOTENCY_TTL_H hours; a request still
marked running after IDEMPOTENCY_LOCK_S seconds is taken as abandoned (its
process died) and the next one with the key runs. Bodies are compared by
content: JSON and form fields in any order, multipart parts by their
contents (boundaries differ from send to send).

Runs as middleware for /api/ and /open311/, before any view, so every POST
endpoint has it; a POST without the header is untouched.
"""

import hashlib
import json
import re
import tempfile
from datetime import timedelta
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.files import uploadhandler
from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from config.authentication import MembershipTokenAuthentication
from idempotency.models import IdempotencyKey

HEADER = "Idempotency-Key"
PATHS = ("/api/", "/open311/")
# Visible ASCII, as in the IETF draft's examples (UUIDs, ULIDs, hashes).
KEY_FORMAT = re.compile(r"[\x21-\x7e]{1,255}")
CHUNK = 64 * 1024


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None or not request.path_info.startswith(PATHS):
            return self.get_response(request)
        if not KEY_FORMAT.fullmatch(key):
            message = _("The Idempotency-Key header must be 1 to 255 visible ASCII characters, e.g. a UUID.")
            return _error(request, 400, "invalid", message, field=HEADER)
        try:
            fingerprint = request_fingerprint(request)
        except RequestDataTooBig:
            message = _("The request body is larger than %(limit)d bytes.") % {
                "limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            }
            return _error(request, 413, "too_large", message)
        user = _client(request)
        if user is None:
            # No client to hold the key: the view refuses the request anyway.
            return self.get_response(request)

        record, found = _claim(user=user, key=key, fingerprint=fingerprint)
        if found == "reused":
            message = _("This Idempotency-Key was used for another request; use a new key for a new request.")
            return _error(request, 409, "idempotency_key_reused", message, field=HEADER)
        if found == "running":
            message = _("A request with this Idempotency-Key is still being processed; try again shortly.")
            response = _error(request, 409, "idempotency_in_progress", message, field=HEADER)
            response["Retry-After"] = "1"
            return response
        if found is not None:
            return _replay(found)

        try:
            response = self.get_response(request)
        except BaseException:
            record.delete()
            raise
        if response.status_code >= 500 or response.status_code == 429 or response.streaming:
            record.delete()
        else:
            IdempotencyKey.objects.filter(pk=record.pk).update(
                status=response.status_code,
                content_type=response.get("Content-Type", ""),
                body=response.content,
                location=response.get("Location", ""),
            )
        return response


def _claim(*, user, key: str, fingerprint: str) -> tuple[IdempotencyKey | None, object]:
    """(the new record, None) when this request runs; else (None, "reused" | "running" | the kept answer)."""
    now = timezone.now()
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(user=user, key=key, fingerprint=fingerprint, started_at=now), None
        except IntegrityError:
            pass
        existing = IdempotencyKey.objects.filter(user=user, key=key).first()
        if existing is None:
            continue  # purged between the two statements: claim it again
        expired = existing.started_at < now - timedelta(hours=settings.IDEMPOTENCY_TTL_H)
        abandoned = existing.status is None and existing.started_at < now - timedelta(
            seconds=settings.IDEMPOTENCY_LOCK_S
        )
        if expired or abandoned:
            taken = IdempotencyKey.objects.filter(pk=existing.pk, started_at=existing.started_at).update(
                fingerprint=fingerprint, started_at=now, status=None, content_type="", body=b"", location=""
            )
            if taken:
                existing.refresh_from_db()
                return existing, None
            return None, "running"  # another repeat took it over first
        if existing.fingerprint != fingerprint:
            return None, "reused"
        if existing.status is None:
            return None, "running"
        return None, existing
    return None, "running"


def _replay(record: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(bytes(record.body), status=record.status, content_type=record.content_type or None)
    if record.location:
        response["Location"] = record.location
    response["Idempotent-Replayed"] = "true"
    return response


def _client(request):
    """The user the request speaks for: the session's, the API token's or Open311's api_key's; None if none."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user
    try:
        found = MembershipTokenAuthentication().authenticate(request)
    except AuthenticationFailed:
        return None
    if found is not None:
        return found[0]
    if request.path_info.startswith("/open311/"):
        api_key = request.GET.get("api_key") or _form_value(request, "api_key")
        if api_key:
            token = Token.objects.select_related("user").filter(key=api_key).first()
            if token is not None and token.user.is_active:
                return token.user
    return None


def _form_value(request, name: str) -> str:
    if request.content_type not in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        return ""
    try:
        return request.POST.get(name, "")
    except (MultiPartParserError, SuspiciousOperation):
        return ""


# The fingerprint ---------------------------------------------------------------------------


def request_fingerprint(request) -> str:
    """SHA-256 of what the request asks for: method, path, query and body, compared by content."""
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path_info}?{request.META.get('QUERY_STRING', '')}\n".encode())
    content_type = request.content_type or ""
    digest.update(content_type.encode() + b"\n")
    if content_type == "multipart/form-data":
        _digest_multipart(request, digest)
    else:
        digest.update(_canonical(content_type, request.body))
    return digest.hexdigest()


def _canonical(content_type: str, body: bytes) -> bytes:
    try:
        if content_type == "application/json":
            return json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
        if content_type == "application/x-www-form-urlencoded":
            return json.dumps(sorted(parse_qsl(body.decode(), keep_blank_values=True))).encode()
    except (ValueError, UnicodeDecodeError):
        pass  # not what it says it is: compared byte for byte, and the view refuses it
    return body


def _digest_multipart(request, digest) -> None:
    """Digest the parts, then hand the view the very same bytes to parse again.

    The body is copied from the (not yet read) input stream into a spooled
    file, parsed once here on that copy, and the copy becomes the request's
    stream: Django and DRF parse it as if nobody had looked.
    """
    spool = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)
    stream = request._stream
    while chunk := stream.read(CHUNK):
        spool.write(chunk)
    spool.seek(0)
    handlers = [uploadhandler.load_handler(name, request) for name in settings.FILE_UPLOAD_HANDLERS]
    try:
        data, files = MultiPartParser(request.META, spool, handlers, request.encoding).parse()
    except (MultiPartParserError, SuspiciousOperation):
        spool.seek(0)
        while chunk := spool.read(CHUNK):
            digest.update(chunk)
    else:
        digest.update(json.dumps(sorted(data.lists())).encode())
        for field, uploads in sorted(files.lists()):
            for upload in uploads:
                digest.update(f"\n{field}:{upload.name}:{upload.size}:".encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.close()
    spool.seek(0)
    request._stream = spool


# Errors ------------------------------------------------------------------------------------


def _error(request, status: int, code: str, message: str, *, field: str = "") -> HttpResponse:
    """The error in the shape of the interface asked: the API's, or Open311's list of errors."""
    if request.path_info.startswith("/open311/"):
        if request.path_info.endswith(".xml"):
            body = (
                '<?xml version="1.0" encoding="utf-8"?>\n'
                f"<errors><error><code>{status}</code><description>{escape(message)}</description></error></errors>"
            )
            return HttpResponse(body, status=status, content_type="text/xml; charset=utf-8")
        return JsonResponse([{"code": status, "description": message}], status=status, safe=False)
    return JsonResponse(
        {"code": code, "message": message, "fields": {field: [message]} if field else {}}, status=status
    )
