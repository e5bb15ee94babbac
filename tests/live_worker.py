"""A live Celery worker process for integration tests.

The worker runs the project's own Celery app against the configured broker
(kombu's file transport by default, Redis in CI) and the *test* database, on
a queue of its own so that parallel or leftover runs never steal its messages.
Tests that let it see rows they wrote must use `transaction=True`.
"""

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

from config.celery import app as celery_app
from config.celery import ping

WORKER_START_TIMEOUT = 90


def _test_database_url() -> str:
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{database['NAME']}"
    parts = urlsplit(settings.DATABASE_URL)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database["NAME"], parts.query, parts.fragment))


@pytest.fixture(scope="session")
def live_worker(django_db_setup, django_db_blocker):
    """Start `celery worker` on the test database; yields the queue name."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    log_path = Path(settings.VAR_DIR) / f"{queue}.log"
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "CELERY_QUEUE": queue,
        "VAR_DIR": str(settings.VAR_DIR),
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--queues",
                queue,
                "--concurrency",
                "2",
                "--pool",
                "prefork",
                "--without-mingle",
                "--without-gossip",
                "--loglevel",
                "INFO",
                "--hostname",
                f"{queue}@%h",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    previous_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    try:
        try:
            ping.apply_async().get(timeout=WORKER_START_TIMEOUT)
        except Exception as exc:
            raise RuntimeError(
                f"the Celery worker did not answer within {WORKER_START_TIMEOUT} s; "
                f"its log:\n{log_path.read_text(errors='replace')[-4000:]}"
            ) from exc
        yield queue
    finally:
        celery_app.conf.task_default_queue = previous_queue
        _stop(process)
        log_path.unlink(missing_ok=True)
        broker_dir = Path(settings.BROKER_DIR)
        if broker_dir.exists():
            for leftover in broker_dir.glob(f"*.{queue}.msg"):
                leftover.unlink(missing_ok=True)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
