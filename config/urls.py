from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView

admin.site.site_header = _("Whistle and report: administration")
admin.site.site_title = _("Whistle and report")
admin.site.index_title = _("District, departments and responsibilities")

urlpatterns = [
    # The workbenches of each role come with the workflow; until then the
    # administration is where the district is looked after.
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]
