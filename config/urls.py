from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config.api import ApiNotFoundView
from monitoring import views as monitoring_views

admin.site.site_header = _("Whistle and report: administration")
admin.site.site_title = _("Whistle and report")
admin.site.index_title = _("District, departments and responsibilities")

urlpatterns = [
    # The API (DESIGN.md, "API contract (v1)"); any other address under api/ is a 404 in its error shape.
    path("api/v1/", include("whistle.urls_api")),
    path("api/v1/", include("escalation.urls_api")),
    path("api/v1/", include("departments.urls_api")),
    path("api/v1/", include("grids.urls_api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view loads its start-up script from a URL instead of inline, so the content
    # security policy (script-src 'self') needs no exception for the docs.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"^api/", ApiNotFoundView.as_view()),
    path("supervision/", include("escalation.urls")),
    path("workbench/", include("workbench.urls")),
    path("map/", include("whistle.map_urls")),
    # Open311 GeoReport v2 (DESIGN.md, "API contract"): before the catch-all of the whistle pages.
    path("open311/v2/", include("open311.urls")),
    # Operations (monitoring.views): health for probes and load balancers, Prometheus figures.
    path("healthz", monitoring_views.healthz, name="healthz"),
    path("healthz/live", monitoring_views.healthz_live, name="healthz-live"),
    path("metrics", monitoring_views.metrics, name="metrics"),
    path("", include("whistle.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]
