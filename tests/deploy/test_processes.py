"""The deployment's processes, run for real: web, worker and beat started as docker-compose.yml starts them.

Their commands, health checks and environment are read from docker-compose.yml
(and the image's ENV from the Dockerfile), so the test cannot drift from
them; only what belongs to this machine replaces the stack's: the PostgreSQL
and Redis servers of this test run (the test database, as tests/live_worker.py
does it), a folder of its own for VAR_DIR, a free loopback port. DEBUG is off,
as in production; a proxy that terminates TLS is played by the
`X-Forwarded-Proto: https` header.

A whistle then goes through the three processes over HTTP: the 12345 hotline
raises it with its token, the worker routes it, the department acknowledges
its task through the API; beat's heartbeat arrives, /healthz answers 200,
every container's health check passes, and whitenoise serves the hashed,
compressed static files.

Only on PostgreSQL and Redis, what docker-compose.yml runs: on SQLite and the
embedded broker the test is skipped (CI runs the suite on both).
"""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import time
import uuid
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import NoReverseMatch, reverse

from config.celery import app as celery_app
from monitoring.models import Heartbeat
from tests.deploy.files import BASE_DIR, container_environment
from tests.live_worker import _free_port, _test_database_url
from whistle.models import Event

ON_POSTGRESQL_AND_REDIS = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and (
    settings.CELERY_BROKER_URL.split(":", 1)[0] in ("redis", "rediss")
)

pytestmark = [
    pytest.mark.skipif(
        not ON_POSTGRESQL_AND_REDIS,
        reason="docker-compose.yml's processes run on PostgreSQL and Redis: set DATABASE_URL=postgres://… "
        "and CELERY_BROKER_URL=redis://… to run this test (CI does, in its second run)",
    ),
    pytest.mark.live_worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# Every wait of this test is bounded by this.
WAIT_S = 60
STOP_S = 20
PROCESSES = ("web", "worker", "beat")


class Stack:
    """web, worker and beat as subprocesses, each in a process group of its own, with their logs."""

    def __init__(self, compose, var_dir: Path, port: int, env: dict[str, str]):
        self.compose = compose
        self.var_dir = var_dir
        self.port = port
        self.env = env
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self, name: str) -> None:
        command = self.compose.services[name].command
        with self.log_path(name).open("wb") as log:
            self.processes[name] = subprocess.Popen(
                command, cwd=BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def log_path(self, name: str) -> Path:
        return self.var_dir / f"deploy-{name}.log"

    def logs(self, tail: int = 3000) -> str:
        parts = []
        for name in self.processes:
            text = self.log_path(name).read_text(errors="replace") if self.log_path(name).exists() else ""
            parts.append(f"--- {name} (exit status {self.processes[name].poll()}):\n{text[-tail:]}")
        return "\n".join(parts)

    def stop(self) -> None:
        # SIGTERM to each main process, as docker stop does: gunicorn and the Celery worker stop
        # their own children in order. Whatever is left of a group after STOP_S is killed.
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_S
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=10)

    def request(self, method: str, path: str, *, token: str = "", body=None, headers=None):
        """(status, headers, body) of one request, over HTTP, as the TLS proxy would pass it on."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        sent = {"X-Forwarded-Proto": "https", "Accept-Language": "en", **(headers or {})}
        if token:
            sent["Authorization"] = f"Token {token}"
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        try:
            connection.request(method, path, body=payload, headers=sent)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def json(self, method: str, path: str, *, expect: int, **options):
        status, _headers, content = self.request(method, path, **options)
        assert status == expect, f"{method} {path}: {status} {content[:2000]!r}\n{self.logs()}"
        return json.loads(content)

    def health_check(self, name: str) -> subprocess.CompletedProcess:
        """Run the service's health check from docker-compose.yml, as Docker runs it in the container."""
        test = self.compose.services[name].healthcheck
        kind, arguments = test[0], test[1:]
        # In the container gunicorn listens on the image's port; here on a free one.
        arguments = [part.replace("127.0.0.1:8000", f"127.0.0.1:{self.port}") for part in arguments]
        command = ["/bin/sh", "-c", arguments[0]] if kind == "CMD-SHELL" else arguments
        # A container's HOSTNAME is its host name, which names the Celery worker in it (celery@%h).
        env = {**self.env, "HOSTNAME": socket.gethostname()}
        return subprocess.run(command, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=WAIT_S)

    def wait(self, probe, *, what: str):
        """The first truthy value of `probe()`; fails naming `what`, with the processes' logs, after WAIT_S."""
        deadline = time.monotonic() + WAIT_S
        while True:
            for name, process in self.processes.items():
                assert process.poll() is None, f"{name} exited while waiting for {what}:\n{self.logs()}"
            value = probe()
            if value:
                return value
            assert time.monotonic() < deadline, f"{what} did not happen within {WAIT_S} s:\n{self.logs()}"
            time.sleep(0.25)


@pytest.fixture
def stack(compose, collected_static, transactional_db):
    """web, worker and beat running on the test database and this run's Redis, stopped (all of them) afterwards."""
    var_dir, _manifest = collected_static
    port = _free_port()
    overrides = {
        "DATABASE_URL": _test_database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        # A queue of this test's own: no other worker takes its messages, nor this worker others'.
        "CELERY_QUEUE": f"deploy-{uuid.uuid4().hex[:12]}",
        "ALLOWED_HOSTS": "127.0.0.1",
        "WEB_HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
        # Beat's heartbeat every 5 s instead of 30: the test waits for it.
        "MONITOR_HEARTBEAT_EVERY_S": "5",
        # No SMTP server here: the notices' e-mails go nowhere.
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "SECRET_KEY": "deploy-processes-" + uuid.uuid4().hex + uuid.uuid4().hex,
    }
    env = container_environment(compose.services["web"], var_dir=var_dir, **overrides)
    if os.environ.get("CACHE_URL"):
        env["CACHE_URL"] = os.environ["CACHE_URL"]  # this run's Redis cache
    else:
        env.pop("CACHE_URL", None)  # the stack's Redis host does not exist here: a file cache under VAR_DIR
    running = Stack(compose, var_dir, port, env)
    try:
        for name in PROCESSES:
            running.start(name)
        yield running
    finally:
        running.stop()
        with celery_app.connection_for_write() as connection:
            connection.default_channel.queue_delete(overrides["CELERY_QUEUE"])  # and its bindings


def issue_token(username: str) -> str:
    out = StringIO()
    call_command("issue_token", username, stdout=out)
    return out.getvalue().strip()


def test_a_whistle_goes_through_web_worker_and_beat_as_docker_compose_runs_them(cast, stack):
    # The web server answers (gunicorn with its workers started).
    stack.wait(lambda: _answers(stack, "/healthz/live"), what="the web server")

    # The hotline raises a whistle with its token; the worker routes it to S01's police station.
    hotline = issue_token("hotline")
    body = {
        "title": "夜间噪音扰民",
        "description": "百泉第1社区3号楼下烧烤摊营业至凌晨。",
        "category": "ORDER-PUBLIC",
        "lon": 115.975,
        "lat": 40.465,
        "external_id": "12345-DEPLOY-0001",
        "caller_phone": "13800000000",
    }
    number = stack.json("POST", "/api/v1/whistles/", token=hotline, body=body, expect=201)["number"]

    def routed():
        whistle = stack.json("GET", f"/api/v1/whistles/{number}/", token=hotline, expect=200)
        return whistle if whistle["tasks"] else None

    whistle = stack.wait(routed, what=f"the routing of {number} by the worker")
    assert whistle["status"] == "routed"
    assert [(task["department"]["code"], task["role"]) for task in whistle["tasks"]] == [("T01", "lead")]

    # The police station acknowledges its task through the API.
    task_id = whistle["tasks"][0]["id"]
    station = issue_token("t01_staff")
    acknowledged = stack.json("POST", f"/api/v1/tasks/{task_id}/acknowledge/", token=station, body={}, expect=200)
    assert acknowledged["status"] == "acknowledged"
    assert stack.json("GET", f"/api/v1/tasks/{task_id}/", token=station, expect=200)["status"] == "acknowledged"
    assert list(Event.objects.filter(whistle__number=number).values_list("verb", flat=True)) == [
        "submitted",
        "routed",
        "acknowledged",
    ]

    # Beat runs: its heartbeat task is published (and stored), and the worker runs it.
    stack.wait(lambda: Heartbeat.objects.filter(kind=Heartbeat.Kind.BEAT).exists(), what="beat's heartbeat")

    # Every part of the platform is healthy, on /healthz and in each container's own health check.
    try:
        healthz = reverse("healthz")
    except NoReverseMatch:
        healthz = None
    if healthz is not None:
        report = stack.wait(lambda: _healthy(stack, healthz), what="/healthz answering 200")
        assert set(report["checks"]) == {"database", "broker", "beat", "worker"}
    for name in ("web", "worker", "beat"):
        check = stack.wait(lambda name=name: _passes(stack, name), what=f"the {name} container's health check")
        assert check.returncode == 0

    # whitenoise serves the static files with DEBUG off: hashed names, kept for good, compressed.
    status, _headers, page = stack.request("GET", "/accounts/login/")
    assert status == 200, page[:2000]
    linked = re.findall(r"""/static/([^"'?#]+)""", page.decode())
    assert linked and set(linked) <= set(_manifest(stack).values()), linked
    hashed = linked[0]
    status, headers, content = stack.request("GET", f"/static/{hashed}", headers={"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers.get("Content-Encoding") == "gzip"
    assert "immutable" in headers.get("Cache-Control", "") and "max-age=315360000" in headers["Cache-Control"]
    assert content[:2] == b"\x1f\x8b"


def _answers(stack: Stack, path: str) -> bool:
    try:
        status, _headers, _content = stack.request("GET", path)
    except OSError:
        return False
    return status == 200


def _healthy(stack: Stack, path: str):
    status, _headers, content = stack.request("GET", path)
    return json.loads(content) if status == 200 else None


def _passes(stack: Stack, name: str):
    done = stack.health_check(name)
    return done if done.returncode == 0 else None


def _manifest(stack: Stack) -> dict[str, str]:
    return json.loads((stack.var_dir / "static" / "staticfiles.json").read_text())["paths"]
