"""Routes of the supervisor API, included under /api/v1/ by config.urls."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from escalation.api import AccountabilityViewSet, OverdueDashboardViewSet, SupervisionOrderViewSet

app_name = "escalation_api"

router = SimpleRouter()
router.register("supervision-orders", SupervisionOrderViewSet, basename="supervision-order")
router.register("accountability", AccountabilityViewSet, basename="accountability")

urlpatterns = [
    path("dashboard/overdue/", OverdueDashboardViewSet.as_view({"get": "overview"}), name="dashboard-overdue"),
    *router.urls,
]
