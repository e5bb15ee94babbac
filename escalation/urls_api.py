"""Routes of the supervisor API, included under /api/v1/ by config.urls."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from escalation.api import AccountabilityViewSet, OverdueDashboardViewSet, SupervisionOrderViewSet
from escalation.evaluation_api import (
    GridWorkersView,
    HighFrequencyView,
    MonthlyReportView,
    RatesView,
    RatingsView,
    StatisticsView,
    TopicsView,
)

app_name = "escalation_api"

router = SimpleRouter()
router.register("supervision-orders", SupervisionOrderViewSet, basename="supervision-order")
router.register("accountability", AccountabilityViewSet, basename="accountability")

urlpatterns = [
    path("dashboard/overdue/", OverdueDashboardViewSet.as_view({"get": "overview"}), name="dashboard-overdue"),
    path("evaluation/rates/", RatesView.as_view(), name="evaluation-rates"),
    path("evaluation/ratings/", RatingsView.as_view(), name="evaluation-ratings"),
    path("evaluation/statistics/", StatisticsView.as_view(), name="evaluation-statistics"),
    path("evaluation/high-frequency/", HighFrequencyView.as_view(), name="evaluation-high-frequency"),
    path("evaluation/topics/", TopicsView.as_view(), name="evaluation-topics"),
    path("evaluation/grid-workers/", GridWorkersView.as_view(), name="evaluation-grid-workers"),
    path("evaluation/report/", MonthlyReportView.as_view(), name="evaluation-report"),
    *router.urls,
]
