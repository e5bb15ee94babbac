"""One JSON object per log line, for LOG_FORMAT=json (config.settings.LOGGING).

Each line has `time` (UTC, ISO 8601, milliseconds), `level`, `logger` and
`message`, then every field the call passed as `extra` (e.g.
`logger.info("…", extra={"whistle": number, "request_id": rid})`), the
Celery task's name and id when the line is logged inside one
(`celery_task`, `celery_task_id`), and `exception` with the traceback when
there is one. A value JSON does not know is written as its str(); an extra
field never replaces one of the four above.

This module is loaded while logging is configured, before the apps: it
imports nothing of the project.
"""

import json
import logging
from datetime import UTC, datetime

# What every LogRecord carries; anything else on a record came in through `extra`.
STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", logging.INFO, "", 0, "", (), None))) | {
    "message",
    "asctime",
}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in STANDARD_ATTRIBUTES and name not in entry and not name.startswith("_"):
                entry[name] = _plain(value)
        entry.update((name, value) for name, value in _celery_task().items() if name not in entry)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _plain(value):
    # Django's request log passes the request itself: its method and path are what a reader wants.
    if hasattr(value, "method") and hasattr(value, "get_full_path"):
        return {"method": value.method, "path": value.get_full_path()}
    return value


def _celery_task() -> dict:
    from celery import current_task

    task = current_task._get_current_object()  # None outside a task
    if task is None or task.request.id is None:
        return {}
    return {"celery_task": task.name, "celery_task_id": task.request.id}
