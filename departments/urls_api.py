"""Routes of the catalogue API, included under /api/v1/ by config.urls."""

from rest_framework.routers import SimpleRouter

from departments.api import CategoryViewSet, DepartmentViewSet

app_name = "departments_api"

router = SimpleRouter()
router.register("categories", CategoryViewSet, basename="category")
router.register("departments", DepartmentViewSet, basename="department")

urlpatterns = router.urls
