"""Routes of the whistle API, included under /api/v1/ by config.urls."""

from rest_framework.routers import SimpleRouter

from whistle.api import WhistleViewSet

app_name = "whistle_api"

router = SimpleRouter()
router.register("whistles", WhistleViewSet, basename="whistle")

urlpatterns = router.urls
