"""The Celery application shared by the web process, workers and beat."""

import os

from celery import Celery
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# The embedded broker writes its message files atomically; a worker outlives a Redis outage (config.broker).
TRANSPORT_ALIASES["filesystem"] = "config.broker:Transport"
TRANSPORT_ALIASES["redis"] = "config.broker:RedisTransport"

app = Celery("whistle")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="config.ping", ignore_result=False, acks_late=False)
def ping() -> dict:
    """Answer with the database this worker writes to: proof of a live, well-configured worker."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"database": str(connection.settings_dict["NAME"]), "vendor": connection.vendor}
