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
from whistle.services.merge import whistle_merge, whistle_submit_as_duplicate
from whistle.services.requeue import whistles_requeue_stuck
from whistle.services.routing import whistle_dispatch, whistle_route, whistles_route_waiting

__all__ = [
    "SubmitResult",
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
