"""The API under gunicorn: requests/s and p50/p99 latency of intake and the task list, against a bare DRF create.

    .venv/bin/python bench/api.py [--duration 15] [--rounds 3] [--connections 6] [--workers 3] [--whistles 20000] [--profile]

Runs the project's production web server (gunicorn, sync workers, as in
docker-compose.yml: `gunicorn config.wsgi --access-logfile -`, WEB_CONCURRENCY
workers) with DEBUG off, SECRET_KEY and ALLOWED_HOSTS set, on loopback against
PostgreSQL and Redis (the broker and the rate-limit cache), and loads it with
wrk (Lua scripts write each POST body, with a unique id per request, and take
the latency percentiles in wrk's `done` hook). One server answers everything:
DJANGO_SETTINGS_MODULE=bench._settings is the project's settings plus the
baseline app bench.bare and its URL. Measured at --connections concurrent
connections, each for --duration seconds after --warmup seconds of the same
load, in this order (in --rounds rounds, default 3: 1 to 3 are measured in
turn in each round, so that each round's ratio compares endpoints under the
same machine load; the figures shown are the medians of the rounds):

  1. the baseline: POST /api/v1/bench-bare/, a bare ModelSerializer +
     CreateAPIView on a 12-field model, same token authentication, same body;
  2. POST /api/v1/whistles/ as the 12345 hotline (token from `issue_token`):
     random categories of the demo catalogue with answers to their attribute
     questions, points inside random demo grids, a unique external_id per
     request, so every request stores a whistle;
  3. POST /open311/v2/requests.json (form-encoded, the hotline's token as
     api_key, attribute[code] answers, a unique marker in the description),
     when the Open311 app is there (skipped with a note otherwise); services
     whose default grade the hotline may not raise are left out (Open311
     cannot give a grade);
  4. GET /api/v1/tasks/ as the staff of the department with the most tasks,
     after the intake's whistles are routed.

Intake (2, 3) runs with the Celery worker stopped, as its 2 processes would
compete for the same 2 cores: the routing messages wait in Redis. Afterwards a
worker drains them, and every whistle posted is counted (stored once, none
lost, all routed); then the task list is measured. Target: intake at least
0.6x the baseline's requests/s with p99 under 100 ms (PASS/FAIL in the table;
the exit status is 1 only when the count of stored whistles is wrong or the
drain does not finish). An intake endpoint below target (with --profile: every
endpoint) is profiled afterwards in this process, through Django's test
client: its median time against the baseline's, its queries timed one by one,
and under cProfile its top costs with file:line.

Data: a scratch PostgreSQL database (dropped and created afresh, dropped at
the end unless --keep; its name must contain "bench"), migrated, seeded with
the demo district and --whistles whistles of history (bench._history: tasks in
every state; a NOT NULL column its COPY does not list gets its model default
in the database first), from --database-url or BENCH_API_DATABASE_URL; Redis
database 10 (--broker-url or BENCH_API_BROKER_URL) with a private queue, whose
keys and the rate counters are deleted at the end. DATABASE_URL and
CELERY_BROKER_URL are not read. Rate limits (API_RATE_*) are set far above the
load. The machine is shared (2 cores): the load average is printed before and
after; run it twice and expect several per cent of noise.
"""

import argparse
import contextlib
import cProfile
import http.client
import io
import json
import os
import pstats
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import (  # noqa: E402 - the project root must be on the path first
    Child,
    database_name,
    delete_redis_keys,
    history_database,
    load_average,
    scratch_postgres,
    wait_for,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/whistle_benchapi"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/10"
WRK = "/usr/bin/wrk"
TARGET_RATIO = 0.6
TARGET_P99_MS = 100.0
# Far above any load this machine can make: the limit is checked (one cache round trip) but never reached.
UNLIMITED_RATE = "100000000/minute"
POOL_SIZE = 400  # distinct bodies per endpoint; each request still gets its own id
WORKER_START_TIMEOUT = 90
PROFILE_REQUESTS = 200
UID = "UIDXUIDXUID"  # stands for the per-request id in a pooled body (letters only: survives urlencode)

API_PATH = "/api/v1/whistles/"
OPEN311_PATH = "/open311/v2/requests.json"
TASKS_PATH = "/api/v1/tasks/"
BARE_PATH = "/api/v1/bench-bare/"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.epilog = "\n\n".join(__doc__.split("\n\n")[1:])
    parser.add_argument("--duration", type=int, default=15, help="seconds measured per endpoint (default 15)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of the same load before each (default 3)")
    parser.add_argument("--connections", type=int, default=6, help="concurrent connections of wrk (default 6)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of measurement, each endpoint in turn in each (default 3)"
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument(
        "--workers", type=int, default=3, help="gunicorn sync workers (WEB_CONCURRENCY; docker-compose's default 3)"
    )
    parser.add_argument("--whistles", type=int, default=20_000, help="whistles of generated history (default 20000)")
    parser.add_argument("--days", type=int, default=90, help="the generated history's length in days")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_API_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="scratch PostgreSQL database; its name must contain 'bench'",
    )
    parser.add_argument(
        "--broker-url",
        default=os.environ.get("BENCH_API_BROKER_URL", DEFAULT_BROKER_URL),
        help="Redis database for the broker and the rate counters (default db 10)",
    )
    parser.add_argument("--skip-open311", action="store_true", help="leave out the Open311 intake")
    parser.add_argument("--profile", action="store_true", help="profile intake even when it meets the target")
    parser.add_argument("--profile-requests", type=int, default=PROFILE_REQUESTS, help="requests profiled")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database and the logs")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the generated data and bodies")
    args = parser.parse_args()
    if args.duration < 1 or args.warmup < 0 or args.rounds < 1:
        parser.error("--duration and --rounds must be at least 1, and --warmup at least 0")
    if not 1 <= args.threads <= args.connections:
        parser.error("--threads must be between 1 and --connections")
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.whistles < 1000 or args.days < 7:
        parser.error("--whistles must be at least 1000 and --days at least 7")
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("--database-url must be a PostgreSQL URL")
    if "bench" not in database_name(args.database_url):
        parser.error("the database name must contain 'bench': it is dropped and created afresh")
    if not args.broker_url.startswith("redis://"):
        parser.error("--broker-url must be a redis:// URL")
    if not os.access(WRK, os.X_OK):
        parser.error(f"{WRK} is missing (Debian: apt-get install wrk)")
    return args


# Set-up ------------------------------------------------------------------------------------------------


@dataclass
class Setup:
    var_dir: Path
    queue: str
    token: str  # in every id this run writes
    child_env: dict = field(default_factory=dict)


def configure(args: argparse.Namespace) -> Setup:
    """Environment for this process and its children, set before Django reads its settings."""
    var_dir = Path(tempfile.mkdtemp(prefix="bench-api-"))
    run = uuid.uuid4().hex[:8]
    queue = f"bench-api-{run}"
    for name in ("CELERY_RESULT_BACKEND", "CELERY_BROKER_READ_URL", "CELERY_BROKER_WRITE_URL"):
        os.environ.pop(name, None)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench._settings",
            "VAR_DIR": str(var_dir),
            "DATABASE_URL": args.database_url,
            "CELERY_BROKER_URL": args.broker_url,
            "CELERY_QUEUE": queue,
            # The rate counters in Redis, as in production (every web process shares them).
            "CACHE_URL": args.broker_url,
            "API_RATE_TOKEN": UNLIMITED_RATE,
            "API_RATE_USER": UNLIMITED_RATE,
            "API_RATE_ANON": UNLIMITED_RATE,
            # seed_demo refuses to run without DEBUG; what is measured runs with it off.
            "DEBUG": "1",
            "LOG_LEVEL": "WARNING",
        }
    )
    child_env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Plain HTTP on loopback: no redirect to HTTPS (a TLS proxy does that in front of production).
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "INFO",  # docker-compose.yml's default
        "PYTHONPATH": str(ROOT),
    }
    return Setup(var_dir=var_dir, queue=queue, token=run, child_env=child_env)


def column_defaults() -> list[str]:
    """Give the columns bench._history's COPY leaves out their model field's default in the database.

    bench._history writes its rows with COPY and a fixed column list: a NOT
    NULL column added to a model since (e.g. Whistle.attributes) would get NULL
    and fail the COPY. Django never relies on database defaults (it sends every
    column), so on this scratch database they change nothing else. Returns
    "table.column" of each default given.
    """
    from django.apps import apps
    from django.db import connection
    from psycopg import sql

    from bench._history import TABLES

    listed = {table: {c.strip() for c in columns.split(",")} for table, columns in TABLES}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND is_nullable = 'NO' AND column_default IS NULL"
        )
        bare_columns = set(cursor.fetchall())
    given = []
    for model in apps.get_models():
        for model_field in model._meta.concrete_fields:
            key = (model._meta.db_table, model_field.column)
            if key not in bare_columns or model_field.column in listed.get(key[0], {model_field.column}):
                continue
            if model_field.has_default():
                value = model_field.get_default()
            elif model_field.blank and model_field.get_internal_type() in ("CharField", "TextField", "EmailField"):
                value = ""
            else:
                continue
            if isinstance(value, dict | list):
                literal = sql.SQL("{}::jsonb").format(sql.Literal(json.dumps(value)))
            elif isinstance(value, str | int | float | bool):
                literal = sql.Literal(value)
            else:
                continue
            statement = sql.SQL("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}").format(
                sql.Identifier(key[0]), sql.Identifier(key[1]), literal
            )
            with connection.cursor() as cursor:
                cursor.execute(statement.as_string(connection.connection))
            given.append(".".join(key))
    return given


@dataclass
class Cast:
    hotline_token: str = ""
    department_user: str = ""
    department_label: str = ""
    department_token: str = ""
    department_tasks: int = 0


def issue_token(username: str) -> str:
    from django.core.management import call_command

    out = io.StringIO()
    call_command("issue_token", username, stdout=out)
    return out.getvalue().strip()


def busiest_department() -> tuple[str, str, int]:
    """The staff user of the department with the most tasks, its code and name, and its task count."""
    from django.db.models import Count

    from departments.models import Membership
    from whistle.models import Task

    busy = (
        Task.objects.values("department_id", "department__code", "department__name")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    member = Membership.objects.filter(role=Membership.Role.DEPT_STAFF, department_id=busy["department_id"]).first()
    return member.user.get_username(), f"{busy['department__code']} {busy['department__name']}", busy["n"]


# Request bodies --------------------------------------------------------------------------------------


class Catalogue:
    """Points inside random demo grids, the catalogue's categories and their questions, the hotline's grades."""

    def __init__(self, rng: random.Random):
        from departments.models import Category, CategoryAttribute, Membership
        from grids.locate import current_index
        from grids.models import Grid
        from whistle.permissions import GRADES_BY_ROLE

        self.rng = rng
        self.index = current_index()
        self.categories = list(Category.objects.order_by("code").values_list("code", "name", "default_grade"))
        self.grades = sorted(GRADES_BY_ROLE[Membership.Role.HOTLINE_CLIENT])
        self.questions: dict[str, list] = {}
        for attribute in CategoryAttribute.objects.filter(variable=True).select_related("category"):
            self.questions.setdefault(attribute.category.code, []).append(attribute)
        self.places = {
            grid_id: f"{street}{community}"
            for grid_id, street, community in Grid.objects.values_list(
                "pk", "community__street__name", "community__name"
            )
        }

    def point(self) -> tuple[float, float, str]:
        """A random point inside a random grid (as intake will locate it), and a place name for it."""
        import shapely

        while True:
            geometry = self.index.geometries[self.rng.randrange(len(self.index.geometries))]
            min_x, min_y, max_x, max_y = geometry.bounds
            for _ in range(200):
                lon, lat = self.rng.uniform(min_x, max_x), self.rng.uniform(min_y, max_y)
                if shapely.contains_xy(geometry, lon, lat):
                    break
            else:
                spot = geometry.representative_point()
                lon, lat = spot.x, spot.y
            lon, lat = round(lon, 6), round(lat, 6)
            grid = self.index.locate(lon, lat)  # slivers where neighbours overlap belong to one grid
            if grid is not None:
                return lon, lat, self.places.get(grid.pk, "")

    def grade(self, default: str) -> str:
        return default if default in self.grades else self.grades[0]

    def answers(self, code: str) -> dict:
        """Answers to the category's questions, as a caller gives them: every required one, half the others."""
        return {
            question.code: self.answer(question)
            for question in self.questions.get(code, [])
            if question.required or self.rng.random() < 0.5
        }

    def answer(self, question):
        from django.utils import timezone

        from departments.models import CategoryAttribute

        Datatype = CategoryAttribute.Datatype
        keys = [item["key"] for item in question.values or []]
        if question.datatype == Datatype.NUMBER:
            return self.rng.randint(1, 20)
        if question.datatype == Datatype.DATETIME:
            return (timezone.localtime() - timedelta(hours=self.rng.randint(1, 48))).replace(microsecond=0).isoformat()
        if question.datatype == Datatype.TEXT:
            return "来电人称情况已持续多日，周边居民意见较大。"
        if question.datatype == Datatype.SINGLEVALUELIST:
            return self.rng.choice(keys)
        if question.datatype == Datatype.MULTIVALUELIST:
            return self.rng.sample(keys, min(len(keys), self.rng.randint(1, 2)))
        return question.datatype_description or "见描述"

    def fields(self, n: int, *, categories=None) -> dict:
        code, name, default_grade = self.rng.choice(categories or self.categories)
        lon, lat, place = self.point()
        return {
            "attributes": self.answers(code),
            "title": f"市民来电：{name}",
            "description": f"市民反映{place}附近{name}问题，已持续数日，请尽快派单处理。",
            "category": code,
            "grade": self.grade(default_grade),
            "lon": lon,
            "lat": lat,
            "address": f"{place}{self.rng.randint(1, 200)}号附近",
            "caller_name": self.rng.choice(["王女士", "李先生", "张女士", "刘先生", "陈女士"]),
            "caller_phone": f"13{self.rng.randint(0, 9)}{self.rng.randint(0, 99_999_999):08d}",
        }


def split_uid(body: str) -> tuple[str, str]:
    before, _, after = body.partition(UID)
    return before, after


def api_pool(catalogue: Catalogue, prefix: str) -> list[tuple[str, str]]:
    """JSON bodies of POST /api/v1/whistles/ (and of the baseline: the same 12 fields), split at the id."""
    pool = []
    for n in range(POOL_SIZE):
        fields = catalogue.fields(n)
        body = {
            "title": fields["title"],
            "description": fields["description"],
            "category": fields["category"],
            "grade": fields["grade"],
            "source": "hotline",
            "mode": "regular",
            "lon": fields["lon"],
            "lat": fields["lat"],
            "address": fields["address"],
            "external_id": f"{prefix}-{UID}",
            "caller_name": fields["caller_name"],
            "caller_phone": fields["caller_phone"],
        }
        if fields["attributes"]:
            body["attributes"] = fields["attributes"]
        pool.append(split_uid(json.dumps(body, ensure_ascii=False)))
    return pool


def open311_categories(catalogue: Catalogue, services: list[str]) -> list[tuple]:
    """Categories an Open311 request of the hotline can use: a service whose default grade the hotline may raise."""
    return [c for c in catalogue.categories if c[0] in services and c[2] in catalogue.grades]


def open311_pool(catalogue: Catalogue, prefix: str, api_key: str, services: list[str]) -> list[tuple[str, str]]:
    """Form bodies of POST /open311/v2/requests.json, split at the id (written into the description)."""
    # Open311 has no grade: the category's default is taken, and the hotline may not raise every grade.
    usable = [c for c in open311_categories(catalogue, services) if c[0] in services]
    pool = []
    for n in range(POOL_SIZE):
        fields = catalogue.fields(n, categories=usable)
        surname, title = fields["caller_name"][0], fields["caller_name"][1:]
        form = {
            "api_key": api_key,
            "service_code": fields["category"],
            "lat": f"{fields['lat']:.6f}",
            "long": f"{fields['lon']:.6f}",
            "description": f"{fields['description']} [{prefix}-{UID}]",
            "first_name": title,
            "last_name": surname,
            "phone": fields["caller_phone"],
        }
        for code, answer in fields["attributes"].items():
            form[f"attribute[{code}]"] = answer
        pool.append(split_uid(urlencode(form, doseq=True)))
    return pool


# wrk ------------------------------------------------------------------------------------------------------


def lua_string(value: str) -> str:
    """A Lua string literal of `value`'s UTF-8 bytes (non-ASCII as 3-digit decimal escapes)."""
    out = []
    for byte in value.encode():
        if byte in (34, 92):  # " and \
            out.append("\\" + chr(byte))
        elif 32 <= byte < 127:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


LUA_COMMON = r"""
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  statuses = {}
  first_error = ""
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if status >= 300 and first_error == "" then
    first_error = tostring(status) .. " " .. string.sub(body or "", 1, 400)
  end
end

local function hex(text)
  return (text:gsub(".", function(c) return string.format("%02x", string.byte(c)) end))
end

function done(summary, latency, requests)
  local counts, first = {}, ""
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + n
    end
    local err = thread:get("first_error")
    if first == "" and err then first = err end
  end
  local parts = {}
  for status, n in pairs(counts) do
    table.insert(parts, string.format('"%s": %d', status, n))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"statuses": {%s}, "first_error": "%s"}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.status, e.timeout, table.concat(parts, ", "), hex(first)))
end
"""

LUA_POOLED_REQUEST = r"""
function request()
  counter = counter + 1
  local piece = pool[(counter + id * 7) % #pool + 1]
  return wrk.format(nil, nil, nil, piece[1] .. phase .. "-" .. id .. "-" .. counter .. piece[2])
end
"""


@dataclass
class Endpoint:
    key: str
    label: str
    method: str
    path: str
    headers: dict
    pool: list = field(default_factory=list)  # (before, after) the per-request id; empty: no body
    intake: bool = False

    def lua(self, phase: str) -> str:
        lines = [
            "-- written by bench/api.py for one wrk run",
            f"wrk.method = {lua_string(self.method)}",
            f"wrk.path = {lua_string(self.path)}",
        ]
        lines += [f"wrk.headers[{lua_string(k)}] = {lua_string(v)}" for k, v in self.headers.items()]
        if self.pool:
            lines.append(f"phase = {lua_string(phase)}")
            lines.append("pool = {")
            lines += [f"  {{{lua_string(before)}, {lua_string(after)}}}," for before, after in self.pool]
            lines.append("}")
            lines.append(LUA_POOLED_REQUEST)
        lines.append(LUA_COMMON)
        return "\n".join(lines)


@dataclass
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: dict
    statuses: dict
    first_error: str

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else float("nan")

    @property
    def non_2xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if not status.startswith("2"))

    @property
    def socket_errors(self) -> int:
        return sum(self.errors[k] for k in ("connect", "read", "write", "timeout"))


def run_wrk(setup: Setup, endpoint: Endpoint, *, port: int, phase: str, seconds: int, args) -> WrkResult:
    script = setup.var_dir / f"{endpoint.key}-{phase}.lua"
    script.write_text(endpoint.lua(phase))
    argv = [WRK, "-t", str(args.threads), "-c", str(args.connections), "-d", f"{seconds}s", "--timeout", "10s"]
    argv += ["-s", str(script), f"http://127.0.0.1:{port}{endpoint.path}"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCHJSON ")), None)
    if done.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    data = json.loads(line.removeprefix("BENCHJSON "))
    return WrkResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        errors=data["errors"],
        statuses=data["statuses"],
        first_error=bytes.fromhex(data["first_error"]).decode(errors="replace"),
    )


# The server ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def request(port: int, method: str, path: str, *, body: bytes | None = None, headers=None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def start_gunicorn(setup: Setup, args) -> tuple[Child, int]:
    """The production command (docker-compose.yml's `web`), on a free loopback port."""
    port = free_port()
    argv = [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--access-logfile", "-"]
    env = {**setup.child_env, "WEB_CONCURRENCY": str(args.workers)}
    server = Child("gunicorn", argv, env=env, log_path=setup.var_dir / "gunicorn.log")

    def answers() -> bool:
        try:
            request(port, "GET", BARE_PATH)
            return True
        except OSError:
            return False

    if not wait_for(answers, timeout=60, interval=0.2):
        server.stop()
        raise SystemExit(f"gunicorn did not answer within 60 s:\n{server.log_tail()}")
    return server, port


def start_worker(setup: Setup) -> Child:
    from config.celery import ping

    argv = [sys.executable, "-m", "celery", "-A", "config", "worker", "--queues", setup.queue]
    argv += ["--concurrency", "2", "--pool", "prefork", "--without-mingle", "--without-gossip"]
    argv += ["--loglevel", "WARNING", "--hostname", f"{setup.queue}@%h"]
    env = {**setup.child_env, "LOG_LEVEL": "WARNING"}
    worker = Child("worker", argv, env=env, log_path=setup.var_dir / "worker.log")
    try:
        result = ping.apply_async()
        result.get(timeout=WORKER_START_TIMEOUT)
        result.forget()
    except Exception as exc:
        worker.stop()
        raise SystemExit(f"the worker did not answer: {exc!r}\n{worker.log_tail()}") from exc
    return worker


def queued_messages(setup: Setup, broker_url: str) -> int:
    import redis

    client = redis.Redis.from_url(broker_url)
    try:
        return int(client.llen(setup.queue))
    finally:
        client.close()


def forget_binding_deadlines(broker_url: str, fragments: tuple[str, ...]) -> None:
    """Take the run's exchanges out of kombu's binding-deadline index (a key every Redis transport shares)."""
    import redis

    client = redis.Redis.from_url(broker_url)
    try:
        key = "_kombu.binding_deadlines"
        members = [m for m in client.zrange(key, 0, -1) if any(f.encode() in m for f in fragments)]
        if members:
            client.zrem(key, *members)
    finally:
        client.close()


def open311_services(port: int) -> tuple[list[str], str]:
    """The service codes of the Open311 service list (the bodies answer their questions), or why Open311 is left out."""
    import importlib.util

    if importlib.util.find_spec("open311") is None or not (ROOT / "open311" / "urls.py").exists():
        return [], "the Open311 app (open311/) is not there yet"
    status, data = request(port, "GET", "/open311/v2/services.json")
    if status != 200:
        return [], f"GET /open311/v2/services.json answered {status}: {data[:300].decode(errors='replace')}"
    codes = [service["service_code"] for service in json.loads(data)]
    return (codes, "") if codes else ([], "the Open311 service list is empty")


# Measuring --------------------------------------------------------------------------------------------


@dataclass
class Measured:
    endpoint: Endpoint
    warm: WrkResult | None = None
    runs: list = field(default_factory=list)  # WrkResult of each round
    skipped: str = ""
    stored: dict = field(default_factory=dict)  # intake: the count of what was stored

    @property
    def results(self) -> list[WrkResult]:
        return [r for r in (self.warm, *self.runs) if r is not None]

    @property
    def rps(self) -> float:
        return statistics.median(r.rps for r in self.runs)

    @property
    def p50_ms(self) -> float:
        return statistics.median(r.p50_ms for r in self.runs)

    @property
    def p99_ms(self) -> float:
        return statistics.median(r.p99_ms for r in self.runs)

    @property
    def max_ms(self) -> float:
        return max(r.max_ms for r in self.runs)

    @property
    def failed_requests(self) -> int:
        return sum(r.non_2xx + r.socket_errors for r in self.runs)

    def ratio(self, bare: "Measured") -> float:
        """The median of the rounds' ratios when both ran in each round (the machine drifts); else of the medians."""
        if len(self.runs) == len(bare.runs) and self.endpoint.intake:
            return statistics.median(mine.rps / theirs.rps for mine, theirs in zip(self.runs, bare.runs, strict=True))
        return self.rps / bare.rps

    def passes(self, bare: "Measured") -> bool:
        return self.ratio(bare) >= TARGET_RATIO and self.p99_ms < TARGET_P99_MS


def measure_round(setup: Setup, measured: Measured, *, port: int, args, round_number: int) -> None:
    """One round of the endpoint: --duration seconds (after --warmup seconds in the first round)."""
    endpoint = measured.endpoint
    if round_number == 1 and args.warmup:
        measured.warm = run_wrk(setup, endpoint, port=port, phase="warm", seconds=args.warmup, args=args)
    run = run_wrk(setup, endpoint, port=port, phase=f"r{round_number}", seconds=args.duration, args=args)
    measured.runs.append(run)
    print(
        f"  round {round_number}, {endpoint.label}: {run.rps:.1f} requests/s, p50 {run.p50_ms:.1f} ms, "
        f"p99 {run.p99_ms:.1f} ms, statuses {run.statuses}, socket errors {run.socket_errors}",
        flush=True,
    )


def settled(count) -> int:
    """`count()` once it stops moving: the server finishes what was in flight when wrk stopped."""
    last = [-1]

    def still() -> bool:
        now = count()
        same = now == last[0]
        last[0] = now
        return same

    wait_for(still, timeout=30, interval=0.5)
    return last[0]


def created(measured: Measured) -> int:
    return sum(r.statuses.get("201", 0) for r in measured.results)


def _phases(lookup: str, prefix: str, measured: Measured):
    """The ids of the warm-up and the rounds (not the probe's request, nor the profile's)."""
    from django.db.models import Q

    q = Q()
    for phase in ["warm", *(f"r{n}" for n in range(1, len(measured.runs) + 1))]:
        q |= Q(**{lookup: f"{prefix}{phase}-"})
    return q


def count_api(setup: Setup, measured: Measured) -> dict:
    from whistle.models import Whistle

    rows = Whistle.objects.filter(
        _phases("external_id__startswith", f"{setup.token}-api-", measured), source=Whistle.Source.HOTLINE
    )
    stored = settled(rows.count)
    ids = list(rows.values_list("external_id", flat=True))
    return {"stored": stored, "distinct": len(set(ids)), "answered_201": created(measured), "rows": rows}


def count_bare(setup: Setup, measured: Measured) -> dict:
    from bench.bare.models import BareRecord

    rows = BareRecord.objects.filter(_phases("external_id__startswith", f"{setup.token}-bare-", measured))
    stored = settled(rows.count)
    ids = list(rows.values_list("external_id", flat=True))
    return {"stored": stored, "distinct": len(set(ids)), "answered_201": created(measured), "rows": None}


def count_open311(setup: Setup, measured: Measured) -> dict:
    from whistle.models import Whistle

    marker = f"[{setup.token}-o311-"
    rows = Whistle.objects.filter(_phases("description__contains", marker, measured))
    stored = settled(rows.count)
    pattern = re.compile(re.escape(marker) + r"([a-z0-9]+-\d+-\d+)\]")
    ids = [m.group(1) for d in rows.values_list("description", flat=True) if (m := pattern.search(d))]
    return {"stored": stored, "distinct": len(set(ids)), "answered_201": created(measured), "rows": rows}


def stored_once(measured: Measured, connections: int) -> tuple[bool, str]:
    """Every answered 201 stored, nothing twice; at most one request per connection in flight when wrk stopped."""
    s = measured.stored
    runs = len(measured.results)
    in_flight = s["stored"] - s["answered_201"]
    ok = s["stored"] == s["distinct"] and 0 <= in_flight <= connections * runs
    text = (
        f"answered 201: {s['answered_201']:,}; stored: {s['stored']:,} ({s['distinct']:,} distinct ids); "
        f"in flight when wrk stopped: {in_flight} (at most {connections} in each of {runs} runs)"
    )
    return ok, text


def drain(setup: Setup, args, intake: list[Measured]) -> dict:
    """Start the worker on the waiting messages; wait until every whistle posted is routed (or queued for dispatch)."""
    from django.db.models import Count

    from whistle.models import Whistle

    done_statuses = [Whistle.Status.ROUTED, Whistle.Status.AWAITING_DISPATCH]
    querysets = [m.stored["rows"] for m in intake]
    total = sum(q.count() for q in querysets)
    waiting_messages = queued_messages(setup, args.broker_url)

    def processed() -> int:
        return sum(q.filter(status__in=done_statuses).count() for q in querysets)

    started = time.perf_counter()
    worker = start_worker(setup)
    finished = wait_for(lambda: processed() >= total, timeout=max(300.0, total / 10), interval=0.25)
    elapsed = time.perf_counter() - started
    return {
        "worker": worker,
        "messages": waiting_messages,
        "total": total,
        "processed": processed(),
        "routed": sum(q.filter(status=Whistle.Status.ROUTED).count() for q in querysets),
        "finished": finished,
        "seconds": elapsed,
        "left": {
            status: n
            for q in querysets
            for status, n in q.exclude(status__in=done_statuses).values_list("status").annotate(n=Count("pk"))
        },
    }


# Profiling ----------------------------------------------------------------------------------------------


@dataclass
class Profiled:
    label: str
    ms_per_request: float  # median, without the profiler
    reference_ms: float  # the baseline's median, timed alternately with it
    reference_statements: int
    profiled_ms: float = 0.0  # mean under cProfile
    statements: int = 0  # of one request, BEGIN and COMMIT included
    queries: list = field(default_factory=list)  # (ms, sql) of one request's queries
    project: list = field(default_factory=list)  # (cumulative ms a request, self ms, calls a request, where)
    overall: list = field(default_factory=list)  # the same, by self time, any code


class ProfileError(Exception):
    pass


class QueryTimer:
    """Times each query of the connection (Django's own log rounds to the millisecond)."""

    def __init__(self):
        self.queries = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append(((time.perf_counter() - started) * 1000, sql))


def _caller(endpoint: Endpoint, phase: str):
    """A function making one request of the endpoint through Django's test client (a new id each time)."""
    from django.test import Client

    client = Client(raise_request_exception=False)
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in endpoint.headers.items() if k != "Content-Type"}
    content_type = endpoint.headers.get("Content-Type", "")
    counter = iter(range(1, 10**9))

    def call():
        n = next(counter)
        if endpoint.pool:
            before, after = endpoint.pool[n % len(endpoint.pool)]
            body = f"{before}{phase}-0-{n}{after}".encode()
            response = client.generic(endpoint.method, endpoint.path, body, content_type=content_type, **headers)
        else:
            response = client.generic(endpoint.method, endpoint.path, **headers)
        if response.status_code >= 300:
            raise ProfileError(f"HTTP {response.status_code} {response.content[:300].decode(errors='replace')}")

    return call


def _statements(call) -> tuple[int, list]:
    """The statements of one call (BEGIN and COMMIT included), and its queries timed one by one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timer = QueryTimer()
    with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timer):
        call()
    return len(captured.captured_queries), timer.queries


def profile_endpoint(endpoint: Endpoint, reference: Endpoint, *, count: int, phase: str) -> Profiled:
    """`count` requests of the endpoint through Django's test client, in this process.

    Timed alternately with the baseline (the machine's load moves both alike),
    then once with its queries timed, then `count` more under cProfile.
    """
    call, reference_call = _caller(endpoint, phase), _caller(reference, phase)
    for _ in range(20):  # warm: catalogue, grid index, plan caches, translations
        call()
        reference_call()
    times, reference_times = [], []
    for n in range(count):
        for function, out in ((call, times), (reference_call, reference_times))[:: 1 if n % 2 else -1]:
            started = time.perf_counter()
            function()
            out.append(time.perf_counter() - started)
    reference_statements, _queries = _statements(reference_call)
    result = Profiled(
        endpoint.label, statistics.median(times) * 1000, statistics.median(reference_times) * 1000, reference_statements
    )
    result.statements, result.queries = _statements(call)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(count):
        call()
    profiler.disable()
    result.profiled_ms = (time.perf_counter() - started) * 1000 / count
    rows = []
    for (filename, line, name), (_cc, calls, self_s, cumulative_s, _callers) in pstats.Stats(profiler).stats.items():
        where = f"{_short(filename)}:{line} {name}"
        rows.append((cumulative_s * 1000 / count, self_s * 1000 / count, calls / count, where, filename))
    # The project's own code: not the virtualenv's libraries, nor this script's request loop.
    skip = (str(ROOT / ".venv"), str(ROOT / "bench"))
    mine = sorted((r for r in rows if r[4].startswith(str(ROOT)) and not r[4].startswith(skip)), key=lambda r: -r[0])
    rows.sort(key=lambda r: -r[1])
    result.project = [r[:4] for r in mine[:25]]
    result.overall = [r[:4] for r in rows[:20]]
    return result


def profiled(endpoint: Endpoint, reference: Endpoint, args) -> list[Profiled]:
    """The endpoint's profile, or none (said so) when a request of it fails."""
    try:
        return [profile_endpoint(endpoint, reference, count=args.profile_requests, phase="prof")]
    except ProfileError as exc:
        print(f"    not profiled: a request answered {exc}", flush=True)
        return []


def _short(filename: str) -> str:
    for base in (str(ROOT / ".venv" / "lib"), str(ROOT)):
        if filename.startswith(base):
            trimmed = filename[len(base) :].lstrip("/")
            return re.sub(r"^python3\.\d+/site-packages/", "", trimmed)
    return filename


# Reporting ----------------------------------------------------------------------------------------------


def report(args, setup: Setup, cast: Cast, results: list[Measured], checks: list, drained: dict | None, profiles):
    from django.db import connection

    line = "-" * 112
    bare = results[0]
    print()
    print(line)
    print(
        f"API benchmark: gunicorn config.wsgi, {args.workers} sync workers (WEB_CONCURRENCY), DEBUG off; "
        f"PostgreSQL {connection.pg_version // 10000}, Redis broker and rate counters; {os.cpu_count()} cores; "
        f"load average now {load_average()}"
    )
    print(
        f"wrk: {args.connections} connections, {args.threads} threads; {args.warmup} s warm-up, then "
        f"{args.rounds} round(s) of {args.duration} s per endpoint, intake interleaved with the baseline in each "
        f"round (figures: median of the rounds; x bare: median of the rounds' ratios)"
    )
    print(
        f"data: history of {args.whistles:,} whistles; task list as {cast.department_user} "
        f"({cast.department_label}, {cast.department_tasks:,} tasks)"
    )
    print(line)
    print(
        f"{'endpoint':<40}{'requests/s':>11}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'x bare':>8}"
        f"{'non-2xx':>9}   target: >= {TARGET_RATIO}x bare, p99 < {TARGET_P99_MS:g} ms"
    )
    for result in results:
        label = result.endpoint.label
        if result.skipped:
            print(f"{label:<40}{'skipped':>11}   ({result.skipped})")
            continue
        verdict = ("PASS" if result.passes(bare) else "FAIL") if result.endpoint.intake else "-"
        print(
            f"{label:<40}{result.rps:>11.1f}{result.p50_ms:>9.1f}{result.p99_ms:>9.1f}{result.max_ms:>9.1f}"
            f"{result.ratio(bare):>8.2f}{result.failed_requests:>9}   {verdict}"
        )
    print(line)
    for result in results:
        if result.skipped:
            continue
        if len(result.runs) > 1:
            rounds = "; ".join(f"{r.rps:.1f}/s p99 {r.p99_ms:.0f} ms" for r in result.runs)
            print(f"{result.endpoint.label} by round: {rounds}")
        for run in result.runs:
            if run.non_2xx or run.socket_errors:
                print(f"{result.endpoint.label}: statuses {run.statuses}, socket errors {run.errors}")
                if run.first_error:
                    print(f"    first: {run.first_error[:300]}")
    print(
        "intake was measured with the Celery worker stopped: the routing messages waited in Redis "
        f"({drained['messages'] if drained else '?'} in the queue when it started; the routing doorbell sends one "
        "per burst, not one per whistle)."
    )
    for label, ok, text in checks:
        print(f"stored once, {label}: {'ok' if ok else 'NOT OK'} - {text}")
    if drained:
        rate = drained["processed"] / drained["seconds"] if drained["seconds"] else float("nan")
        print(
            f"drained: {drained['processed']:,} of {drained['total']:,} whistles posted processed in "
            f"{drained['seconds']:.1f} s, the worker's start included ({rate:.0f}/s; {drained['routed']:,} routed, "
            f"{drained['processed'] - drained['routed']:,} to manual dispatch)"
            + ("" if drained["finished"] else f"; NOT finished, left: {drained['left']}")
        )
    for prof in profiles:
        print(line)
        sql_ms = sum(ms for ms, _ in prof.queries)
        print(
            f"profile of {prof.label}, in this process through Django's test client (middleware, view, "
            f"service; no gunicorn, no network): {prof.ms_per_request:.2f} ms a request against the baseline's "
            f"{prof.reference_ms:.2f} ms ({prof.ms_per_request / prof.reference_ms:.1f}x; medians of "
            f"{args.profile_requests} each, timed alternately), {prof.profiled_ms:.2f} ms under cProfile; "
            f"{prof.statements} statements (BEGIN and COMMIT included) against the baseline's "
            f"{prof.reference_statements}; its {len(prof.queries)} queries took {sql_ms:.2f} ms:"
        )
        for ms, sql in prof.queries:
            print(f"    {ms:6.2f} ms  {' '.join(sql.split())[:150]}")
        print("  project code by cumulative time (ms a request, self ms, calls a request):")
        for cumulative, own, calls, where in prof.project:
            print(f"    {cumulative:7.2f} {own:7.2f} {calls:7.1f}  {where}")
        print("  any code by self time:")
        for cumulative, own, calls, where in prof.overall:
            print(f"    {cumulative:7.2f} {own:7.2f} {calls:7.1f}  {where}")
    print(line)
    print(
        f"each endpoint measured in {args.rounds} round(s) of this run, on a 2-core machine shared with other "
        "work (wrk, gunicorn, PostgreSQL and Redis on the same cores): expect several per cent between runs, "
        "more when the load average before the run was above 1."
    )


# Main ----------------------------------------------------------------------------------------------------


def endpoints(setup: Setup, catalogue: Catalogue, cast: Cast, open311_codes: list[str]) -> dict[str, Endpoint]:
    json_headers = {"Authorization": f"Token {cast.hotline_token}", "Content-Type": "application/json"}
    bodies = api_pool(catalogue, f"{setup.token}-api")
    found = {
        "bare": Endpoint(
            "bare",
            "bare DRF create (baseline)",
            "POST",
            BARE_PATH,
            json_headers,
            [(before.replace(f"{setup.token}-api-", f"{setup.token}-bare-"), after) for before, after in bodies],
        ),
        "api": Endpoint("api", f"POST {API_PATH} (hotline)", "POST", API_PATH, json_headers, bodies, intake=True),
        "tasks": Endpoint(
            "tasks",
            f"GET {TASKS_PATH} (department)",
            "GET",
            TASKS_PATH,
            {"Authorization": f"Token {cast.department_token}"},
        ),
    }
    found["open311"] = Endpoint(
        "open311",
        f"POST {OPEN311_PATH}",
        "POST",
        OPEN311_PATH,
        {"Content-Type": "application/x-www-form-urlencoded"},
        open311_pool(catalogue, f"{setup.token}-o311", cast.hotline_token, open311_codes) if open311_codes else [],
        intake=True,
    )
    return found


def probe(port: int, endpoint: Endpoint, token: str) -> str:
    """Empty when one request of the endpoint answers 2xx; else what it answered (the probe's whistle is not counted)."""
    body = None
    if endpoint.pool:
        before, after = endpoint.pool[0]
        body = f"{before}probe-{token}{after}".encode()
    status, data = request(port, endpoint.method, endpoint.path, body=body, headers=endpoint.headers)
    return (
        "" if 200 <= status < 300 else f"a probe request answered HTTP {status}: {data[:400].decode(errors='replace')}"
    )


def main() -> int:
    args = parse_args()
    # Stopped from outside (SIGTERM), clean up as after Ctrl-C: the finally below stops gunicorn and drops the database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    setup = configure(args)
    print(f"load average before: {load_average()}; database {database_name(args.database_url)}", flush=True)
    scratch_postgres(args.database_url, create=True)
    server = worker = None
    ok = True
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        given = column_defaults()
        if given:
            print(f"database defaults for the history's COPY: {', '.join(given)}", flush=True)
        history_database(whistles=args.whistles, days=args.days, seed=args.seed)
        settings.DEBUG = False  # the profile runs as in production: no query log
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        cast = Cast(hotline_token=issue_token("hotline"))
        catalogue = Catalogue(random.Random(args.seed))

        server, port = start_gunicorn(setup, args)
        codes, open311_missing = ([], "--skip-open311") if args.skip_open311 else open311_services(port)
        found = endpoints(setup, catalogue, cast, codes)
        if codes:
            left_out = sorted(set(codes) - {c[0] for c in open311_categories(catalogue, codes)})
            print(
                f"Open311: {len(codes) - len(left_out)} of {len(codes)} services used; left out, as their default "
                f"grade is one the hotline may not raise (Open311 cannot give a grade): {', '.join(left_out) or 'none'}",
                flush=True,
            )
        print(f"gunicorn on 127.0.0.1:{port}, {args.workers} workers; measuring intake (worker stopped) ...")
        results, checks = [], []
        for key in ("bare", "api", "open311"):
            endpoint = found[key]
            failed = open311_missing if key == "open311" and open311_missing else probe(port, endpoint, setup.token)
            if failed and key == "bare":
                raise SystemExit(f"the baseline does not answer: {failed}")
            results.append(Measured(endpoint, skipped=failed))
        measured = [r for r in results if not r.skipped]
        for round_number in range(1, args.rounds + 1):
            for result in measured:  # the baseline, then intake: each round sees the machine as it is then
                measure_round(setup, result, port=port, args=args, round_number=round_number)
        counts = {"bare": count_bare, "api": count_api, "open311": count_open311}
        for result in measured:
            result.stored = counts[result.endpoint.key](setup, result)
            passed, text = stored_once(result, args.connections)
            checks.append((result.endpoint.label, passed, text))
            ok &= passed

        intake = [r for r in results if r.endpoint.intake and not r.skipped]
        profiles = []
        slow = [r for r in intake if args.profile or not r.passes(results[0])]
        for result in slow:  # the worker is still stopped: the profile's whistles are routed with the others
            print(f"  profiling {result.endpoint.label} ({args.profile_requests} requests) ...", flush=True)
            profiles += profiled(result.endpoint, found["bare"], args)

        print("draining the routing queue with a worker (2 processes) ...", flush=True)
        drained = drain(setup, args, intake)
        worker = drained.pop("worker")
        ok &= drained["finished"]
        worker.stop()
        worker = None

        cast.department_user, cast.department_label, cast.department_tasks = busiest_department()
        cast.department_token = issue_token(cast.department_user)
        tasks = found["tasks"]
        tasks.headers = {"Authorization": f"Token {cast.department_token}"}
        failed = probe(port, tasks, setup.token)
        results.append(Measured(tasks, skipped=failed))
        for round_number in range(1, 0 if failed else args.rounds + 1):
            measure_round(setup, results[-1], port=port, args=args, round_number=round_number)
        if args.profile and not failed:
            print(f"  profiling {tasks.label} ({args.profile_requests} requests) ...", flush=True)
            profiles += profiled(tasks, found["bare"], args)
        report(args, setup, cast, results, checks, drained, profiles)
    finally:
        for child in (worker, server):
            if child is not None:
                child.stop()
        with contextlib.suppress(Exception):  # Django may not be set up yet
            from django.db import connections

            connections.close_all()
        if args.keep:
            print(f"kept: database {database_name(args.database_url)}, logs in {setup.var_dir}")
        else:
            scratch_postgres(args.database_url, create=False)
            shutil.rmtree(setup.var_dir, ignore_errors=True)
        # The run's keys in its Redis database: its queue, the workers' control bindings, the rate counters.
        for fragment in (setup.queue, "pidbox", "throttle:"):
            delete_redis_keys(args.broker_url, fragment)
        forget_binding_deadlines(args.broker_url, (setup.queue, "pidbox"))
        print(f"load average after: {load_average()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
