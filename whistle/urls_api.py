"""Routes of the whistle API, included under /api/v1/ by config.urls."""

from rest_framework.routers import SimpleRouter

from whistle.api import WhistleViewSet
from whistle.inbox_api import NotificationViewSet
from whistle.meeting_api import MeetingViewSet
from whistle.task_api import AttachmentViewSet, ExtensionViewSet, TaskViewSet

app_name = "whistle_api"

router = SimpleRouter()
router.register("whistles", WhistleViewSet, basename="whistle")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("meetings", MeetingViewSet, basename="meeting")
router.register("tasks", TaskViewSet, basename="task")
router.register("extensions", ExtensionViewSet, basename="extension")
router.register("attachments", AttachmentViewSet, basename="attachment")

urlpatterns = router.urls
