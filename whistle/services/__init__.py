"""Every change to whistles goes through one of these services (STYLE.md, rule 3)."""

from whistle.services.approval import (
    whistle_approve,
    whistle_decide,
    whistle_issue,
    whistle_reject,
    whistle_request_signature,
    whistle_sign,
)
from whistle.services.intake import SubmitResult, whistle_submit
from whistle.services.meetings import meeting_cancel, meeting_check_in, meeting_close, meeting_schedule
from whistle.services.merge import whistle_merge, whistle_submit_as_duplicate
from whistle.services.requeue import whistles_requeue_stuck
from whistle.services.routing import whistle_dispatch, whistle_route, whistles_route_waiting
from whistle.services.street import whistle_callback, whistle_confirm, whistle_rate, whistle_reopen
from whistle.services.tasks import (
    extension_decide,
    task_acknowledge,
    task_check_in,
    task_close,
    task_grant,
    task_progress,
    task_release,
    task_request_extension,
    task_return,
)

__all__ = [
    "extension_decide",
    "task_acknowledge",
    "task_check_in",
    "task_close",
    "task_grant",
    "task_progress",
    "task_release",
    "task_request_extension",
    "task_return",
    "SubmitResult",
    "meeting_cancel",
    "meeting_check_in",
    "meeting_close",
    "meeting_schedule",
    "whistle_callback",
    "whistle_confirm",
    "whistle_rate",
    "whistle_reopen",
    "whistle_approve",
    "whistle_decide",
    "whistle_dispatch",
    "whistle_issue",
    "whistle_merge",
    "whistle_reject",
    "whistle_request_signature",
    "whistle_route",
    "whistles_route_waiting",
    "whistle_sign",
    "whistle_submit",
    "whistle_submit_as_duplicate",
    "whistles_requeue_stuck",
]
