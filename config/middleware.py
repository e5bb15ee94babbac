"""A database that cannot be reached answers 503 Service Unavailable, not 500.

PostgreSQL restarting, failing over or refusing connections is an outage to
wait out, not a bug: the answer says so, with Retry-After, in the API's
error shape under /api/ and as a plain page elsewhere. Nothing needs
restarting afterwards: Django closes a connection that had errors when the
request finishes (request_finished → close_old_connections), and
CONN_HEALTH_CHECKS replaces a kept connection that died in the meantime, so
the first request after the database is back connects again.
"""

import logging
import sys

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

# Lost connections, refused connections, a server shutting down (OperationalError), a
# connection already closed (InterfaceError): worth asking again in a moment.
UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_S = 10
API_PREFIX = "/api/"
PAGE_TEMPLATE = "database_unavailable.html"
MARK = "_database_unavailable"


def database_unavailable(request) -> HttpResponse:
    """The 503 answer: JSON in the one error shape for the API, a page for everything else."""
    message = _("The database cannot be reached just now. Please try again in a moment.")
    if request.path_info.startswith(API_PREFIX):
        response = JsonResponse(
            {"code": "unavailable", "message": message, "fields": {}},
            status=503,
            json_dumps_params={"ensure_ascii": False},
        )
    else:
        # No request context: the context processors would read the database that is away.
        response = HttpResponse(render_to_string(PAGE_TEMPLATE, {"message": message}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_S)
    return response


def _mark_request(sender, request=None, **kwargs):
    # Django turns an exception raised in a middleware (a session saved, an idempotency key
    # looked up) into a 500 page right there, out of reach of process_exception; it sends
    # this signal inside the `except`, so the exception is still sys.exc_info() here.
    if request is not None and isinstance(sys.exc_info()[1], UNAVAILABLE):
        setattr(request, MARK, True)


got_request_exception.connect(_mark_request, dispatch_uid="config.middleware.database_unavailable")


class DatabaseUnavailableMiddleware:
    """Turns OperationalError and InterfaceError into a 503.

    Sits near the top of MIDDLEWARE (below the security headers): a view's
    error is answered by process_exception; one raised in a middleware below
    this one reaches it as a 500, marked by the signal above, and is replaced.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, MARK, False):
            return database_unavailable(request)
        return response

    def process_exception(self, request, exception):
        if not isinstance(exception, UNAVAILABLE):
            return None
        logger.warning("database unavailable for %s %s: %s", request.method, request.path, exception)
        return database_unavailable(request)
