"""The map page (/map/): grids shaded by their whistles, markers by traffic light, a grid's whistles in a panel.

The page renders the filters, the legend and the plain list of grids with
their counts (keyboard and phone users work from it); the map's polygons and
markers come from the two GeoJSON endpoints, fetched by static/js/whistle-map.js.
They live in whistle, not in grids, because they read whistles (grids must not
import whistle, DESIGN.md "Architecture").
"""

from functools import wraps
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from config.errors import ApplicationError, InvalidInput
from config.views import application_error_page, html_errors
from departments.models import Category
from whistle import map_selectors
from whistle.map_selectors import ALL, OPEN, MapFilter
from whistle.views import nav_context

GRID_PAGE_SIZE = 100
PANEL_PAGE_SIZE = 20
GEOJSON = "application/geo+json; charset=utf-8"


class CategoryChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} {obj.name}"


class MapFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Whistles"),
        choices=[(OPEN, _("open")), (ALL, _("all, closed too"))],
        required=False,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    category = CategoryChoice(
        label=_("Category"),
        queryset=Category.objects.order_by("code"),
        to_field_name="code",
        required=False,
        empty_label=_("any"),
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )

    def filters(self) -> MapFilter:
        """The filters asked for; a field with bad input keeps its default (the form shows its error)."""
        data = getattr(self, "cleaned_data", {})
        return MapFilter(status=data.get("status") or OPEN, category=data.get("category"))


def filter_query(filters: MapFilter) -> str:
    """The query string that asks the endpoints for the same filters ("" for the defaults)."""
    params = {}
    if filters.status != OPEN:
        params["status"] = filters.status
    if filters.category is not None:
        params["category"] = filters.category.code
    return urlencode(params)


def _strict_filters(request) -> MapFilter:
    """The filters of an endpoint's request; bad input is a 400 naming the field."""
    form = MapFilterForm(request.GET)
    if not form.is_valid():
        raise InvalidInput(fields={name: list(errors) for name, errors in form.errors.items()})
    return form.filters()


def json_errors(view):
    """A domain error escaping a JSON endpoint is answered in the API's error shape, with its status."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except ApplicationError as error:
            return JsonResponse(error.as_dict(), status=error.status)

    return wrapper


@require_GET
@login_required
@html_errors
def map_page(request):
    form = MapFilterForm(request.GET or None)
    form.is_valid()
    filters = form.filters()
    rows, legend = map_selectors.grid_table(user=request.user, filters=filters)
    query = filter_query(filters)
    return render(
        request,
        "whistle/map/map.html",
        {
            "form": form,
            "filters": filters,
            "grid_page": Paginator(rows, GRID_PAGE_SIZE).get_page(request.GET.get("page")),
            "grid_total": len(rows),
            "legend": legend,
            "filter_query": query,
            "map_tile_url": settings.MAP_TILE_URL,
            "marker_limit": map_selectors.MARKER_LIMIT,
            **nav_context(request.user, "map"),
        },
    )


@require_GET
@login_required
@json_errors
def map_grids_geojson(request):
    """The user's grids with their whistle counts and choropleth shades."""
    data = map_selectors.grids_geojson(user=request.user, filters=_strict_filters(request))
    return JsonResponse(data, content_type=GEOJSON)


@require_GET
@login_required
@json_errors
def map_whistles_geojson(request):
    """The newest whistles with a point, coloured by their light; `truncated` when some are left out."""
    map_selectors.map_grids(user=request.user)  # a user without a unit has no map: 403, as on the page
    data = map_selectors.whistles_geojson(
        user=request.user,
        filters=_strict_filters(request),
        now=timezone.now(),
        limit=map_selectors.MARKER_LIMIT,
    )
    return JsonResponse(data, content_type=GEOJSON)


def panel_errors(view):
    """A domain error in the panel: a message inside the panel for htmx, the error page otherwise."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except ApplicationError as error:
            if request.headers.get("HX-Request"):
                response = render(request, "whistle/map/_panel_error.html", {"error": error}, status=error.status)
            else:
                response = application_error_page(request, error)
            patch_vary_headers(response, ["HX-Request"])
            return response

    return wrapper


@require_GET
@login_required
@panel_errors
def map_grid_whistles(request, code: str):
    """One grid's whistles, paginated: the map's side panel (htmx), or a page of its own without JavaScript."""
    grid = map_selectors.map_grid_get(user=request.user, code=code)
    filters = _strict_filters(request)
    whistles = map_selectors.grid_whistles(user=request.user, grid=grid, filters=filters, now=timezone.now())
    query = filter_query(filters)
    context = {
        "grid": grid,
        "filters": filters,
        "filter_query": query,
        # The panel's page links: the same grid and filters, another page.
        "page_link": f"{reverse('map:grid_whistles', args=[grid.code])}?{query + '&' if query else ''}page=",
        "page": Paginator(whistles, PANEL_PAGE_SIZE).get_page(request.GET.get("page")),
    }
    if request.headers.get("HX-Request"):
        response = render(request, "whistle/map/_grid_whistles.html", context)
    else:
        response = render(request, "whistle/map/grid_whistles.html", {**context, **nav_context(request.user, "map")})
    # The same address answers a fragment to htmx and a page to a browser: caches must keep both apart.
    patch_vary_headers(response, ["HX-Request"])
    return response
