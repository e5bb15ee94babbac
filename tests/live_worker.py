"""A live Celery worker process for integration tests.

The worker runs the project's own Celery app against the configured broker
(kombu's file transport by default, Redis in CI) and the *test* database, on
a queue of its own so that parallel or leftover runs never steal its messages.
Tests that let it see rows they wrote must use `transaction=True`.

Helpers for those tests: `wait_until` polls for the worker's result with a
bound, `worker_log` shows what the worker said when it did not come, and
`broker_unreachable` makes the test process's producer fail to reach the
broker (as when Redis is down) while the worker stays connected.
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

from config.celery import app as celery_app
from config.celery import ping

WORKER_START_TIMEOUT = 90
# How long a test waits for the worker to do something (the file transport polls once a second).
WORKER_RESULT_TIMEOUT = 30

T = TypeVar("T")


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
    log_path = _log_path(queue)
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
    if process.poll() is None:
        # The main process only: its warm shutdown stops the pool children in
        # order, whereas a signal to the whole group kills them under it first.
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # whatever is left of the group
    except ProcessLookupError:
        pass
    process.wait(timeout=10)


def _log_path(queue: str) -> Path:
    return Path(settings.VAR_DIR) / f"{queue}.log"


def worker_log(queue: str, tail: int = 4000) -> str:
    """The end of the live worker's log, for failure messages."""
    try:
        return _log_path(queue).read_text(errors="replace")[-tail:]
    except FileNotFoundError:
        return "(no worker log)"


def wait_until(
    probe: Callable[[], T], *, timeout: float = WORKER_RESULT_TIMEOUT, interval: float = 0.1, what: str = ""
) -> T:
    """Call `probe` until it returns something truthy, and return that; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what or 'the condition'} did not happen within {timeout} s")
        time.sleep(interval)


def queue_drained(queue: str, *, settle: float = 0.5) -> None:
    """Wait until the worker's queue is empty, then `settle` seconds for the messages it holds to finish."""

    def empty():
        with celery_app.connection_for_write() as connection:
            # Not passive: Redis keeps no key for an empty queue, and a passive declaration of it fails.
            return connection.default_channel.queue_declare(queue=queue).message_count == 0

    wait_until(empty, what=f"the queue {queue} to drain")
    time.sleep(settle)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _reset_producer_pools() -> None:
    # Celery builds its connection and producer pools once from the config and
    # keeps them; there is no public way to rebuild them after a change.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def broker_unreachable() -> Iterator[str]:
    """Inside the block this process cannot publish to the broker; the app's config is restored after it.

    Redis (or AMQP): the producer connects to a local port on which nothing
    listens, as when the broker is stopped. kombu's file transport: its
    folders lie under a regular file, so no message can be written. Only the
    producer side changes: a live worker stays on the real broker. Yields a
    description for failure messages.
    """
    conf = celery_app.conf
    saved_url = conf.get("broker_write_url")
    saved_options = conf.broker_transport_options
    parts = urlsplit(conf.broker_write_url)
    with tempfile.TemporaryDirectory(dir=settings.VAR_DIR) as scratch:
        if parts.scheme == "filesystem":
            blocker = Path(scratch) / "not-a-folder"
            blocker.write_text("a regular file: nothing can be created under it\n")
            folder = str(blocker / "broker")
            conf.broker_transport_options = {
                **(saved_options or {}),
                "data_folder_in": folder,
                "data_folder_out": folder,
                "control_folder": str(Path(folder) / "control"),
            }
            description = f"file transport writing to {folder}"
        else:
            port = _free_port()
            conf.broker_write_url = urlunsplit(
                (parts.scheme, f"127.0.0.1:{port}", parts.path, parts.query, parts.fragment)
            )
            description = f"{parts.scheme} broker on port {port}, where nothing listens"
        _reset_producer_pools()
        try:
            yield description
        finally:
            broken_producers = celery_app.amqp._producer_pool
            if broken_producers is not None:
                broken_producers.force_close_all()
            if celery_app._pool is not None:
                celery_app._pool.force_close_all()
            conf.broker_write_url = saved_url
            conf.broker_transport_options = saved_options
            _reset_producer_pools()
