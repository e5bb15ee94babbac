"""Routes of the geography API, included under /api/v1/ by config.urls."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from grids.api import GridViewSet, LocateView, StreetViewSet

app_name = "grids_api"

router = SimpleRouter()
router.register("streets", StreetViewSet, basename="street")
router.register("grids", GridViewSet, basename="grid")

urlpatterns = [path("locate/", LocateView.as_view(), name="locate"), *router.urls]
