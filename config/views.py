"""Domain errors mapped once for HTML pages (the API maps them once for JSON)."""

from functools import wraps

from django.shortcuts import render
from django.utils.translation import gettext as _

from config.errors import ApplicationError

ERROR_TEMPLATE = "whistle/error.html"


def error_titles() -> dict[int, str]:
    return {
        400: _("The request is not valid"),
        403: _("Not allowed"),
        404: _("Not found"),
        409: _("Not possible now"),
    }


def application_error_page(request, error: ApplicationError):
    """The page for a domain error a view did not handle itself: 403 not allowed, 404 not found, …"""
    title = error_titles().get(error.status, _("The request cannot be carried out"))
    return render(request, ERROR_TEMPLATE, {"title": title, "error": error}, status=error.status)


def html_errors(view):
    """Turn a domain error escaping the view into its error page with the matching HTTP status."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except ApplicationError as error:
            return application_error_page(request, error)

    return wrapper
