"""Fixtures of the fault tests: private servers for the session, a fresh database and processes per test.

The fault tests run when the suite runs on PostgreSQL and Redis (CI's second
run) and skip, saying why, otherwise. They never touch the configured
servers: `private_servers` starts a PostgreSQL cluster and a Redis of their
own, migrates and seeds a template database once, and collects the static
files the web server needs with DEBUG off; each test gets a copy of the
template and an empty Redis, and whatever it started is stopped after it,
servers included when it left them down.
"""

import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from tests.faults.servers import BASE_DIR, Platform, PrivatePostgres, PrivateRedis, missing_tools

TEMPLATE_DATABASE = "faults_template"
_numbers = itertools.count(1)


def _not_postgres_and_redis() -> str:
    engine = settings.DATABASES["default"]["ENGINE"]
    broker = urlsplit(settings.CELERY_BROKER_URL).scheme
    if engine != "django.db.backends.postgresql" or broker not in {"redis", "rediss"}:
        return (
            "fault tests run only when the suite runs on PostgreSQL and Redis "
            f"(this run: {engine.rsplit('.', 1)[-1]} and a {broker}:// broker)"
        )
    missing = missing_tools()
    if missing:
        return f"fault tests need private servers, and this machine lacks: {', '.join(missing)}"
    return ""


@dataclass
class PrivateServers:
    postgres: PrivatePostgres
    redis: PrivateRedis
    root: Path
    token: str  # s01_staff's API token, the same in every copy of the template


@pytest.fixture(scope="session")
def private_servers():
    reason = _not_postgres_and_redis()
    if reason and os.environ.get("CI") and not reason.startswith("fault tests run only"):
        pytest.fail(reason)  # CI's PostgreSQL run must run them, not skip them
    if reason:
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="whistle-faults-"))
    postgres, redis_server = PrivatePostgres(root), PrivateRedis(root)
    try:
        postgres.init()
        redis_server.start()
        postgres.execute(f"CREATE DATABASE {TEMPLATE_DATABASE}")
        var_dir = root / "var"
        var_dir.mkdir()
        setup = Platform(postgres=postgres, redis_server=redis_server, database=TEMPLATE_DATABASE, var_dir=var_dir)
        # With DEBUG off the web server serves hashed static names: collect them, while migrate runs.
        collect = subprocess.Popen(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=BASE_DIR,
            env=setup.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            setup.run("manage.py", "migrate", "--noinput", "-v", "0")
            token = setup.json("-m", "tests.faults.scenario", "seed")["token"]
        finally:
            _, errors = collect.communicate(timeout=180)
        assert collect.returncode == 0, f"collectstatic failed:\n{errors.decode(errors='replace')[-4000:]}"
        yield PrivateServers(postgres=postgres, redis=redis_server, root=root, token=token)
    finally:
        redis_server.stop()
        if postgres.running():
            postgres.stop(mode="immediate")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def platform(private_servers):
    """A fresh copy of the seeded database and an empty Redis; stops every process the test started."""
    servers = private_servers
    database = f"faults_{next(_numbers)}"
    servers.postgres.execute(f"CREATE DATABASE {database} TEMPLATE {TEMPLATE_DATABASE}")
    servers.redis.client().flushall()
    logs = servers.root / database
    logs.mkdir()
    platform = Platform(
        postgres=servers.postgres,
        redis_server=servers.redis,
        database=database,
        var_dir=servers.root / "var",
        log_dir=logs,
    )
    platform.token = servers.token
    try:
        yield platform
    finally:
        platform.stop_all()
        # A test that failed with a server down must not leave the next one without it.
        if not servers.postgres.running():
            servers.postgres.start()
        if servers.redis.process is None:
            servers.redis.start()
        servers.postgres.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
