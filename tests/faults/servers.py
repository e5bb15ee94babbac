"""Throw-away PostgreSQL and Redis servers, and the platform's processes run against them.

The fault tests stop, kill and restart servers: never the machine's shared
PostgreSQL and Redis, which other test runs use at the same moment. Each
session gets a PostgreSQL cluster of its own (initdb in a temporary folder,
on a free port, without fsync) and a Redis without persistence, and points
the web, worker and beat processes at them through DATABASE_URL and
CELERY_BROKER_URL, as a deployment does.
"""

import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import redis

BASE_DIR = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60
# The processes' secret key: random per test session, never used outside it.
SECRET_KEY = "faults-" + os.urandom(24).hex()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgres_bin() -> Path | None:
    """The newest PostgreSQL server's bin folder (Debian layout), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(Path(path).parts[-3]))
    return Path(found[-1]).parent if found else None


def missing_tools() -> list[str]:
    """What this machine lacks to run private servers; empty when it has everything."""
    missing = []
    if postgres_bin() is None:
        missing.append("PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb)")
    if shutil.which("redis-server") is None:
        missing.append("redis-server")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            missing.append("an OS user `postgres` to run PostgreSQL as (this runs as root)")
    return missing


def wait_for(probe, *, timeout: float, what: str, interval: float = 0.1):
    """Call `probe` until it returns something truthy, and return that; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(interval)


class PrivatePostgres:
    """A PostgreSQL cluster in `root`, owned by the `postgres` OS user when this runs as root."""

    def __init__(self, root: Path):
        self.root = root
        self.data = root / "pgdata"
        self.log = root / "postgres.log"
        self.port = free_port()
        self.bin = postgres_bin()

    def _run(self, *args: str, timeout: float = START_TIMEOUT_S) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root.
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=timeout, cwd=self.root)

    def init(self) -> None:
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        self.start()

    def start(self) -> None:
        options = f"-F -c fsync=off -c full_page_writes=off -p {self.port} -c listen_addresses=127.0.0.1 -k {self.root}"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres", **options) -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=database, connect_timeout=5, **options
        )

    def execute(self, sql: str, database: str = "postgres") -> None:
        with self.connect(database, autocommit=True) as connection:
            connection.execute(sql)


class PrivateRedis:
    """A Redis server without persistence: what it holds is gone when it stops."""

    def __init__(self, root: Path):
        self.root = root
        self.port = free_port()
        self.log = root / "redis.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                cwd=self.root,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(self._answers, timeout=START_TIMEOUT_S, what=f"Redis on port {self.port}")

    def _answers(self) -> bool:
        try:
            return self.client().ping()
        except redis.ConnectionError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, db=db, socket_timeout=5, socket_connect_timeout=2)


class Service:
    """One platform process (web, worker or beat) in its own process group, with its output in a log file."""

    def __init__(self, name: str, command: list[str], *, env: dict, log: Path):
        self.name = name
        self.command = command
        self.log_path = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                command, cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self, tail: int = 6000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-tail:]
        except FileNotFoundError:
            return "(no log)"

    def wait_for_log(self, text: str, *, timeout: float = START_TIMEOUT_S) -> None:
        def seen():
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.process.returncode}; its log:\n{self.log()}")
            return text in self.log(tail=10**7)

        try:
            wait_for(seen, timeout=timeout, what=f"{self.name} saying {text!r}", interval=0.2)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; its log:\n{self.log()}") from None

    def children(self) -> list[int]:
        """The ids of the main process's child processes (a worker's pool)."""
        path = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except FileNotFoundError:
            return []

    def kill(self) -> None:
        """SIGKILL to the whole process group: nothing gets to clean up, as when a machine dies."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """A graceful stop (SIGTERM to the main process), then whatever is left of the group is killed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        self.kill()


class Platform:
    """Starts the platform's processes against one database of the private cluster and the private Redis.

    Every process gets the environment of docker-compose.yml's services (DEBUG
    off, DATABASE_URL, CELERY_BROKER_URL, no CACHE_URL: the rate counters in a
    folder under VAR_DIR) plus what a test adds; `cache_url` puts the cache
    somewhere else, e.g. in the broker's Redis.
    """

    def __init__(
        self,
        *,
        postgres: PrivatePostgres,
        redis_server: PrivateRedis,
        database: str,
        var_dir: Path,
        log_dir: Path | None = None,
    ):
        self.postgres = postgres
        self.redis = redis_server
        self.database = database
        self.var_dir = var_dir
        self.log_dir = log_dir or var_dir
        self.cache_url = ""
        self.token = ""
        self.services: list[Service] = []
        self.web_port: int | None = None

    def env(self, **extra: str) -> dict:
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("CELERY_", "DATABASE_", "CACHE_", "PYTEST_", "DJANGO_")) and name != "VAR_DIR"
        }
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DEBUG="false",
            SECRET_KEY=SECRET_KEY,
            ALLOWED_HOSTS="127.0.0.1",
            # Plain HTTP on the loopback, as behind a proxy that terminates TLS.
            SECURE_SSL_REDIRECT="false",
            SESSION_COOKIE_SECURE="false",
            CSRF_COOKIE_SECURE="false",
            # No mail server here: notices are "sent" to nowhere instead of retried against port 25.
            EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
            DATABASE_URL=self.postgres.url(self.database),
            CELERY_BROKER_URL=self.redis.url(0),
            VAR_DIR=str(self.var_dir),
            PYTHONUNBUFFERED="1",
            LOG_LEVEL="INFO",
        )
        if self.cache_url:
            env["CACHE_URL"] = self.cache_url
        env.update(extra)
        return env

    def run(self, *args: str, **extra: str) -> str:
        """Run `python <args>` against the private servers and return its output (it must succeed)."""
        done = subprocess.run(
            [sys.executable, *args], cwd=BASE_DIR, env=self.env(**extra), capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            raise AssertionError(f"python {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-4000:]}")
        return done.stdout

    def json(self, *args: str, **extra: str):
        """The JSON object the last line of `python <args>` printed (tests.faults.scenario's commands)."""
        return json.loads(self.run(*args, **extra).strip().splitlines()[-1])

    def scenario(self, *args: str):
        return self.json("-m", "tests.faults.scenario", *args)

    def _start(self, name: str, command: list[str], **extra: str) -> Service:
        service = Service(name, command, env=self.env(**extra), log=self.log_dir / f"{name}.log")
        self.services.append(service)
        return service

    def worker(self, name: str = "worker", *, concurrency: int = 2) -> Service:
        """`celery -A config worker -l info -c 2`, as in the Procfile; returns once it consumes."""
        service = self._start(
            name,
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "info", "-c", str(concurrency)]
            + ["-n", f"{name}@%h"],
        )
        service.wait_for_log(" ready.")
        return service

    def beat(self, name: str = "beat", *, every: float, jobs: str) -> Service:
        """`celery -A config beat` with its own schedule file, the `jobs` (schedule names) every `every` seconds.

        The project's schedule runs its jobs every minute; tests.faults.fast_beat
        runs the named ones faster and leaves out the others.
        """
        service = self._start(
            name,
            [sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "info"]
            + ["-s", str(self.log_dir / f"{name}-schedule"), "-S", "tests.faults.fast_beat:FastScheduler"],
            FAULTS_BEAT_EVERY_S=str(every),
            FAULTS_BEAT_JOBS=jobs,
        )
        service.wait_for_log("beat: Starting...")
        return service

    def web(self) -> Service:
        """gunicorn as in the Procfile; returns once it answers."""
        self.web_port = free_port()
        service = self._start(
            "web",
            [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{self.web_port}"]
            + ["--workers", "2", "--graceful-timeout", "5", "--access-logfile", "-"],
        )

        def answers():
            if service.process.poll() is not None:
                raise AssertionError(f"the web server exited; its log:\n{service.log()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}/accounts/login/", timeout=5):
                    return True
            except urllib.error.HTTPError:
                return True  # it answers
            except OSError:
                return False

        wait_for(answers, timeout=START_TIMEOUT_S, what="the web server", interval=0.2)
        return service

    def stop_all(self) -> None:
        for service in reversed(self.services):
            service.stop()
        self.services.clear()
