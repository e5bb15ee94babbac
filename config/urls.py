from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.api import ApiNotFoundView

admin.site.site_header = _("Whistle and report: administration")
admin.site.site_title = _("Whistle and report")
admin.site.index_title = _("District, departments and responsibilities")

urlpatterns = [
    # The API (DESIGN.md, "API contract (v1)"); any other address under api/ is a 404 in its error shape.
    path("api/v1/", include("whistle.urls_api")),
    path("api/v1/", include("escalation.urls_api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"^api/", ApiNotFoundView.as_view()),
    path("supervision/", include("escalation.urls")),
    path("workbench/", include("workbench.urls")),
    path("map/", include("whistle.map_urls")),
    path("", include("whistle.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]
