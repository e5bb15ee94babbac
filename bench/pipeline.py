"""Intake → Celery → routing, end to end: routed whistles per second against the one-insert ceiling.

    .venv/bin/python bench/pipeline.py [--count 10000] [--embedded] [--skip-api]

By default on PostgreSQL and Redis: a scratch database (dropped and created
afresh, and dropped at the end; its name must contain "bench"), Redis
database 5 with a private queue whose keys are deleted at the end. Set them
with --database-url / --broker-url (or BENCH_DATABASE_URL / BENCH_BROKER_URL);
DATABASE_URL and CELERY_BROKER_URL are not read, so the benchmark never drops
a database it was not given for the purpose. --embedded runs the same on
SQLite and kombu's file transport in a temporary VAR_DIR.

Steps: migrate, seed_demo, start one Celery worker (2 prefork processes, on
the private queue, DEBUG off), then

  (a) submit N whistles of the demo catalogue through whistle_submit from
      S processes at once (--submitters, default 4, as a web server's
      workers would; random categories, points inside random demo grids,
      reporters from the street staff of the grid's street, grades their role
      may raise), timed from the first submit until every one is routed (or
      waits for manual dispatch: no rule in that street);
  (b) the ceiling: N Celery tasks that each do one ORM insert, end to end on
      the same worker;
  (c) N whistles through POST /api/v1/whistles/ under gunicorn (sync
      workers), from a few client threads, as the 12345 hotline with a token;
      skipped with a note when the API is not there;

then profiles one whistle_submit, one whistle_route and one routing batch in this process
(queries and time), and prints a summary with the targets: at least 250
routed whistles/s and at least 0.5 of the ceiling. Each part runs once: the
machine (2 cores) runs the database, the broker, the worker and this process
together, so expect a few per cent of noise between runs.
"""

import argparse
import http.client
import json
import os
import random
import secrets
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import (  # noqa: E402 - the project root must be on the path first
    Child,
    database_name,
    delete_redis_keys,
    load_average,
    percentile,
    scratch_postgres,
    wait_for,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/whistle_bench"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/5"
TARGET_ROUTED_PER_S = 250
TARGET_RATIO = 0.5
WORKER_START_TIMEOUT = 90


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000, help="whistles (and ceiling tasks) per part")
    parser.add_argument("--embedded", action="store_true", help="SQLite and the file transport in a temp VAR_DIR")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--broker-url", default=os.environ.get("BENCH_BROKER_URL", DEFAULT_BROKER_URL))
    parser.add_argument("--submitters", type=int, default=4, help="processes submitting in part (a)")
    parser.add_argument("--skip-api", action="store_true", help="leave out part (c)")
    parser.add_argument("--api-threads", type=int, default=4, help="concurrent HTTP clients in part (c)")
    parser.add_argument("--gunicorn-workers", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database and VAR_DIR")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the generated whistles")
    args = parser.parse_args()
    if args.count < 1:
        parser.error("--count must be at least 1")
    if args.submitters < 1:
        parser.error("--submitters must be at least 1")
    return args


@dataclass
class Setup:
    embedded: bool
    var_dir: Path
    made_var_dir: bool
    database_url: str
    broker_url: str
    queue: str
    child_env: dict = field(default_factory=dict)


def configure(args: argparse.Namespace) -> Setup:
    """Environment for this process and its children, set before Django reads its settings."""
    queue = f"bench-{uuid.uuid4().hex[:10]}"
    if args.embedded:
        var_dir, made = Path(tempfile.mkdtemp(prefix="bench-pipeline-")), True
        database_url = f"sqlite:///{var_dir / 'bench.sqlite3'}"
        broker_url = "filesystem://localhost//"
    else:
        given = os.environ.get("VAR_DIR")
        var_dir, made = (Path(given), False) if given else (Path(tempfile.mkdtemp(prefix="bench-pipeline-")), True)
        database_url, broker_url = args.database_url, args.broker_url
    for name in ("CELERY_RESULT_BACKEND", "CELERY_BROKER_READ_URL", "CELERY_BROKER_WRITE_URL"):
        os.environ.pop(name, None)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "VAR_DIR": str(var_dir),
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker_url,
            "CELERY_QUEUE": queue,
            # seed_demo refuses to run without DEBUG; the measured code runs with it off (see main()).
            "DEBUG": "1",
        }
    )
    # The worker and gunicorn run as in production: DEBUG off (no query log), quiet logs.
    child_env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    return Setup(args.embedded, var_dir, made, database_url, broker_url, queue, child_env)


# The generated whistles -------------------------------------------------------------------


class Catalogue:
    """The demo district as the generator needs it: grids, reporters per street, categories."""

    REPORTER_ROLES = ("street_staff", "street_deputy", "street_head", "grid_worker", "dispatcher")

    def __init__(self, rng: random.Random):
        from django.contrib.auth import get_user_model

        from departments.models import Category, Membership
        from grids.locate import current_index
        from whistle.models import Whistle
        from whistle.permissions import GRADES_BY_ROLE

        self.rng = rng
        self.index = current_index()
        self.categories = list(Category.objects.order_by("code").values_list("code", "name"))
        roles = {Membership.Role(r) for r in self.REPORTER_ROLES}
        source_of = {Membership.Role.GRID_WORKER: Whistle.Source.GRID_WORKER}
        self.reporters: dict[int, list[tuple]] = {}
        users = get_user_model().objects.select_related("membership").filter(membership__role__in=roles)
        for user in users.order_by("username"):
            role = user.membership.role
            entry = (user, source_of.get(role, Whistle.Source.STREET), sorted(GRADES_BY_ROLE[role]))
            self.reporters.setdefault(user.membership.street_id, []).append(entry)
        self.hotline = users.model.objects.select_related("membership").get(username="hotline")
        self.hotline_grades = sorted(GRADES_BY_ROLE[Membership.Role.HOTLINE_CLIENT])

    def point(self):
        """A random point inside a random grid, and the grid that owns it."""
        import shapely

        rng = self.rng
        geometry = self.index.geometries[rng.randrange(len(self.index.geometries))]
        min_x, min_y, max_x, max_y = geometry.bounds
        for _ in range(200):
            lon, lat = rng.uniform(min_x, max_x), rng.uniform(min_y, max_y)
            if shapely.contains_xy(geometry, lon, lat):
                break
        else:
            spot = geometry.representative_point()
            lon, lat = spot.x, spot.y
        # Slivers where neighbours overlap belong to one grid: ask the index, as intake will.
        return round(lon, 7), round(lat, 7), self.index.locate(lon, lat)

    def _fields(self, lon, lat, n: int) -> dict:
        code, name = self.rng.choice(self.categories)
        return {
            "title": f"{name}（压测 {n}）",
            "description": f"压测生成的{name}事项，编号 {n}：请按职责清单派单。",
            "category": code,
            "lon": lon,
            "lat": lat,
        }

    def street_whistles(self, count: int) -> list[tuple]:
        plan = []
        while len(plan) < count:
            lon, lat, grid = self.point()
            if grid is None:
                continue
            user, source, grades = self.rng.choice(self.reporters[grid.community.street_id])
            fields = self._fields(lon, lat, len(plan))
            plan.append((user, {**fields, "grade": self.rng.choice(grades), "source": source}))
        return plan

    def hotline_bodies(self, count: int, prefix: str) -> list[bytes]:
        bodies = []
        while len(bodies) < count:
            lon, lat, grid = self.point()
            if grid is None:
                continue
            n = len(bodies)
            body = {
                **self._fields(lon, lat, n),
                "grade": self.rng.choice(self.hotline_grades),
                "source": "hotline",
                "mode": "regular",
                "external_id": f"{prefix}-{n:07d}",
                "caller_name": "市民",
                "caller_phone": f"138{n:08d}",
            }
            bodies.append(json.dumps(body, ensure_ascii=False).encode())
        return bodies


# Measuring ---------------------------------------------------------------------------------


def processed_statuses():
    from whistle.models import Whistle

    # Routed, or in the street's manual dispatch queue (no rule in that street): the router is done with both.
    return [Whistle.Status.ROUTED, Whistle.Status.AWAITING_DISPATCH]


def wait_processed(whistles, count: int, started: float) -> dict:
    """Poll until `count` whistles of the queryset are processed; the time from `started` and the outcome."""
    statuses = processed_statuses()
    timeout = max(120.0, count / 20)
    finished = wait_for(lambda: whistles.filter(status__in=statuses).count() >= count, timeout=timeout, interval=0.05)
    elapsed = time.perf_counter() - started
    done = whistles.filter(status__in=statuses)
    latencies = [
        (updated - submitted).total_seconds() for submitted, updated in done.values_list("submitted_at", "updated_at")
    ]
    return {
        "finished": finished,
        "elapsed": elapsed,
        "processed": len(latencies),
        "routed": done.filter(status=statuses[0]).count(),
        "awaiting_dispatch": done.filter(status=statuses[1]).count(),
        "latency_p50": percentile(latencies, 50),
        "latency_p95": percentile(latencies, 95),
    }


def _submit_share(plan: list[tuple], results) -> None:
    """One submitting process (forked): its share of the plan, then how many could not reach the broker."""
    from whistle.services import whistle_submit

    not_enqueued = sum(1 for user, fields in plan if not whistle_submit(reporter=user, **fields).enqueued)
    results.put(not_enqueued)


def part_a(catalogue: Catalogue, count: int, submitters: int) -> dict:
    import multiprocessing

    from django.db import connections

    from whistle.models import Task, Whistle

    plan = catalogue.street_whistles(count)
    before_tasks = Task.objects.count()
    first_id = (Whistle.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    connections.close_all()  # each forked submitter opens its own connection
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [context.Process(target=_submit_share, args=(plan[i::submitters], results)) for i in range(submitters)]
    started = time.perf_counter()
    for process in processes:
        process.start()
    not_enqueued = sum(results.get(timeout=max(300.0, count / 10)) for _ in processes)
    for process in processes:
        process.join()
    submit_seconds = time.perf_counter() - started
    if any(process.exitcode for process in processes):
        raise SystemExit(f"a submitting process failed: exit codes {[p.exitcode for p in processes]}")
    whistles = Whistle.objects.filter(pk__gte=first_id)
    # The worker's backlog when the submits stop: it then has the machine to itself.
    backlog = count - whistles.filter(status__in=processed_statuses()).count()
    outcome = wait_processed(whistles, count, started)
    tasks = Task.objects.count() - before_tasks
    return {
        **outcome,
        "count": count,
        "submitters": submitters,
        "submit_seconds": submit_seconds,
        "backlog": backlog,
        "tasks": tasks,
        "not_enqueued": not_enqueued,
    }


def part_b(count: int) -> dict:
    from django.contrib.auth.models import Group

    from bench._ceiling import ceiling_insert

    run = f"ceiling-{uuid.uuid4().hex[:8]}"
    rows = Group.objects.filter(name__startswith=f"{run}-")
    started = time.perf_counter()
    for n in range(count):
        ceiling_insert.apply_async(args=[run, n], retry=False)
    send_seconds = time.perf_counter() - started
    finished = wait_for(lambda: rows.count() >= count, timeout=max(120.0, count / 20), interval=0.05)
    elapsed = time.perf_counter() - started
    return {
        "finished": finished,
        "count": count,
        "inserted": rows.count(),
        "send_seconds": send_seconds,
        "elapsed": elapsed,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def api_available() -> str:
    """Empty when POST /api/v1/whistles/ is routed to a view here; else why not."""
    import importlib.util

    from django.urls import Resolver404, resolve

    if importlib.util.find_spec("whistle.api") is None:
        return "whistle/api.py does not exist yet"
    try:
        import whistle.api  # noqa: F401

        resolve("/api/v1/whistles/")
    except Resolver404:
        return "no URL /api/v1/whistles/"
    except Exception as exc:  # noqa: BLE001 - the API is someone else's work in progress; report and skip
        return f"the API does not load: {exc!r}"
    return ""


def post(conn: http.client.HTTPConnection, body: bytes, headers: dict) -> tuple[int, bytes]:
    conn.request("POST", "/api/v1/whistles/", body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    if response.will_close:
        conn.close()  # gunicorn's sync workers close after every response; the next request reconnects
    return response.status, data


def part_c(setup: Setup, catalogue: Catalogue, count: int, *, threads: int, workers: int) -> dict:
    from rest_framework.authtoken.models import Token

    from whistle.models import Task, Whistle

    reason = api_available()
    if reason:
        return {"skipped": reason}
    token, _ = Token.objects.get_or_create(user=catalogue.hotline)
    headers = {"Authorization": f"Token {token.key}", "Content-Type": "application/json", "Accept-Language": "en"}
    prefix = f"api-{uuid.uuid4().hex[:8]}"
    bodies = catalogue.hotline_bodies(count, prefix)
    port = free_port()
    argv = [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}"]
    argv += ["--workers", str(workers), "--worker-class", "sync", "--log-level", "warning", "--timeout", "60"]
    server = Child("gunicorn", argv, env=setup.child_env, log_path=setup.var_dir / f"{setup.queue}-gunicorn.log")
    try:

        def answers():
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                probe.request("GET", "/api/v1/whistles/", headers=headers)
                probe.getresponse().read()
                probe.close()
                return True
            except OSError:
                return False

        if not wait_for(answers, timeout=30, interval=0.2):
            return {"skipped": f"gunicorn did not answer within 30 s:\n{server.log_tail()}"}
        probe_body = json.loads(bodies[0])
        probe_body["external_id"] = f"{prefix}-probe"
        status, data = post(
            http.client.HTTPConnection("127.0.0.1", port, timeout=30), json.dumps(probe_body).encode(), headers
        )
        if status != 201:
            return {"skipped": f"a probe POST answered {status}: {data[:400].decode(errors='replace')}"}

        before_tasks = Task.objects.count()
        results: list[list[tuple[float, int, bytes]]] = [[] for _ in range(threads)]

        def client(mine: list[bytes], out: list):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            for body in mine:
                sent = time.perf_counter()
                status, data = post(conn, body, headers)
                out.append((time.perf_counter() - sent, status, data if status not in (200, 201) else b""))
            conn.close()

        clients = [
            threading.Thread(target=client, args=(bodies[i::threads], results[i]), name=f"client-{i}")
            for i in range(threads)
        ]
        started = time.perf_counter()
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join()
        request_seconds = time.perf_counter() - started
        answers_all = [r for out in results for r in out]
        created = sum(1 for _, status, _ in answers_all if status == 201)
        failures = [(status, data) for _, status, data in answers_all if status != 201]
        whistles = Whistle.objects.filter(source=Whistle.Source.HOTLINE, external_id__startswith=f"{prefix}-").exclude(
            external_id=f"{prefix}-probe"
        )
        outcome = wait_processed(whistles, created, started)
        latencies = [seconds for seconds, _, _ in answers_all]
        return {
            **outcome,
            "count": count,
            "created": created,
            "failures": len(failures),
            "first_failure": failures[0] if failures else None,
            "request_seconds": request_seconds,
            "request_p50": percentile(latencies, 50),
            "request_p99": percentile(latencies, 99),
            "tasks": Task.objects.count() - before_tasks,
            "threads": threads,
            "workers": workers,
        }
    finally:
        server.stop()


@contextmanager
def routing_not_enqueued():
    from config.celery import app

    with mock.patch.object(app.tasks["whistle.route"], "apply_async", lambda *args, **kwargs: None):
        yield


def profile(catalogue: Catalogue, sample: int = 200) -> dict:
    """whistle_submit (without the broker), whistle_route alone and in a batch, in this process: time and queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    import whistle.tasks  # noqa: F401 - registers whistle.route, patched below
    from departments.catalogue import current_catalogue
    from whistle.services import whistle_route, whistle_submit, whistles_route_waiting
    from whistle.services.routing import ROUTE_BATCH

    plan = catalogue.street_whistles(sample + 1)
    current_catalogue()  # built once per process, as in a web worker that has served a request
    submit_times, route_times, ids = [], [], []
    with routing_not_enqueued():
        with CaptureQueriesContext(connection) as submit_queries:
            first = whistle_submit(reporter=plan[0][0], **plan[0][1]).whistle
        for user, fields in plan[1:]:
            started = time.perf_counter()
            ids.append(whistle_submit(reporter=user, **fields).whistle.pk)
            submit_times.append(time.perf_counter() - started)
    whistle_route(whistle_id=ids[0])  # the process's deadline snapshot is built once, not per whistle
    with CaptureQueriesContext(connection) as route_queries:
        whistle_route(whistle_id=first.pk)
    for whistle_id in ids[1 : sample // 2]:  # one at a time; the other half waits for one routing run
        started = time.perf_counter()
        whistle_route(whistle_id=whistle_id)
        route_times.append(time.perf_counter() - started)
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as batch_queries:
        routed = whistles_route_waiting(batch=ROUTE_BATCH)
    batch_seconds = time.perf_counter() - started
    return {
        "batch": min(routed, ROUTE_BATCH),
        "batches": -(-routed // ROUTE_BATCH),
        "batch_ms_per_whistle": batch_seconds / max(routed, 1) * 1000,
        "batch_queries": len(batch_queries),
        "sample": sample,
        "submit_ms": statistics.median(submit_times) * 1000,
        "submit_queries": [q["sql"] for q in submit_queries.captured_queries],
        "route_ms": statistics.median(route_times) * 1000,
        "route_p95_ms": percentile(route_times, 95) * 1000,
        "route_queries": [q["sql"] for q in route_queries.captured_queries],
    }


# Reporting ---------------------------------------------------------------------------------


def rate(count: float, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("nan")


def ratio_of(part: float, whole: float) -> float:
    return part / whole if whole > 0 else float("nan")


def report(setup: Setup, args, a: dict, b: dict, c: dict, prof: dict) -> None:
    from django.db import connection

    line = "-" * 96
    print()
    print(line)
    print(
        f"pipeline benchmark: {connection.vendor} + {setup.broker_url.split(':')[0]}, one worker "
        f"(prefork, 2 processes), {os.cpu_count()} cores, load average now {load_average()}"
    )
    print(line)
    print(f"{'part':<44}{'count':>9}{'seconds':>10}{'per second':>13}  notes")

    def row(name, count, seconds, notes=""):
        print(f"{name:<44}{count:>9}{seconds:>10.2f}{rate(count, seconds):>13.1f}  {notes}")

    row(f"(a) whistle_submit, {a['submitters']} processes", a["count"], a["submit_seconds"])
    unfinished = "" if a["finished"] else f"  UNFINISHED: {a['processed']} of {a['count']}"
    row(
        "(a) routed whistles (first submit → last)",
        a["processed"],
        a["elapsed"],
        f"{a['routed']} routed, {a['awaiting_dispatch']} to manual dispatch; latency p50 "
        f"{a['latency_p50']:.2f} s, p95 {a['latency_p95']:.2f} s{unfinished}",
    )
    row("(a) tasks created", a["tasks"], a["elapsed"], f"{a['tasks'] / max(a['routed'], 1):.2f} per routed whistle")
    row(
        "(a) ... backlog routed after the last submit",
        a["processed"] - (a["count"] - a["backlog"]),
        a["elapsed"] - a["submit_seconds"],
        f"of {a['backlog']} waiting then: the worker without submits competing for the cores",
    )
    if a["not_enqueued"]:
        print(f"    note: {a['not_enqueued']} submits could not reach the broker")
    row("(b) ceiling: one-insert task, end to end", b["inserted"], b["elapsed"], "" if b["finished"] else "UNFINISHED")
    row("(b) ... of which sending the messages", b["count"], b["send_seconds"], "apply_async from one process")
    if "skipped" in c:
        print(f"(c) POST /api/v1/whistles/ under gunicorn: SKIPPED — {c['skipped']}")
    else:
        row(
            f"(c) API requests ({c['threads']} clients, {c['workers']} sync workers)",
            c["count"],
            c["request_seconds"],
            f"p50 {c['request_p50'] * 1000:.1f} ms, p99 {c['request_p99'] * 1000:.1f} ms, {c['failures']} not 201",
        )
        row(
            "(c) routed whistles (first request → last)",
            c["processed"],
            c["elapsed"],
            f"{c['routed']} routed, {c['awaiting_dispatch']} to manual dispatch; latency p50 {c['latency_p50']:.2f} s",
        )
        row("(c) tasks created", c["tasks"], c["elapsed"])
        if c["first_failure"]:
            status, data = c["first_failure"]
            print(f"    first failure: {status} {data[:300].decode(errors='replace')}")
    print(line)
    routed_rate = rate(a["processed"], a["elapsed"])
    ceiling_rate = rate(b["inserted"], b["elapsed"])
    ratio = ratio_of(routed_rate, ceiling_rate)
    verdict = {True: "met", False: "NOT met"}
    print(f"routed whistles/s (a): {routed_rate:8.1f}   target ≥ {TARGET_ROUTED_PER_S}: {verdict[routed_rate >= 250]}")
    print(f"ceiling tasks/s   (b): {ceiling_rate:8.1f}")
    print(f"ratio routed/ceiling : {ratio:8.2f}   target ≥ {TARGET_RATIO}: {verdict[ratio >= TARGET_RATIO]}")
    if "skipped" not in c:
        api_rate = rate(c["processed"], c["elapsed"])
        print(
            f"routed whistles/s (c): {api_rate:8.1f}   (through the API; ratio to the ceiling {ratio_of(api_rate, ceiling_rate):.2f})"
        )
    print(line)
    print(
        f"profile, in this process (median of {prof['sample']} each): whistle_submit without "
        f"the broker {prof['submit_ms']:.2f} ms, {len(prof['submit_queries'])} queries; whistle_route "
        f"{prof['route_ms']:.2f} ms (p95 {prof['route_p95_ms']:.2f}), {len(prof['route_queries'])} queries; "
        f"a run of {prof['batches']} batches of {prof['batch']}: {prof['batch_ms_per_whistle']:.2f} ms per whistle, "
        f"{prof['batch_queries']} queries in all"
    )
    if b["count"]:
        print(f"sending one message (from (b)): {b['send_seconds'] / b['count'] * 1000:.2f} ms")
    print("queries of one whistle_route:")
    for sql in prof["route_queries"]:
        print(f"    {sql[:110]}")
    print(line)
    print(f"N={args.count}; each part ran once on a shared 2-core machine: figures move by several per cent per run.")


def main() -> int:
    args = parse_args()
    setup = configure(args)
    print(f"load average before: {load_average()}; VAR_DIR {setup.var_dir}; queue {setup.queue}", flush=True)
    if not setup.embedded:
        scratch_postgres(setup.database_url, create=True)
    worker = None
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        from config.celery import ping

        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        call_command("seed_demo", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
        # What is measured runs as in production: no query log.
        settings.DEBUG = False
        print(f"migrated and seeded in {time.perf_counter() - started:.1f} s", flush=True)

        argv = [sys.executable, "-m", "celery", "-A", "config", "worker", "--queues", setup.queue]
        argv += ["--concurrency", "2", "--pool", "prefork", "--without-mingle", "--without-gossip"]
        argv += ["--loglevel", "WARNING", "--include", "bench._ceiling", "--hostname", f"{setup.queue}@%h"]
        worker = Child("worker", argv, env=setup.child_env, log_path=setup.var_dir / f"{setup.queue}-worker.log")
        try:
            ping.apply_async().get(timeout=WORKER_START_TIMEOUT)
        except Exception as exc:
            raise SystemExit(f"the worker did not answer: {exc!r}\n{worker.log_tail()}") from exc

        catalogue = Catalogue(random.Random(args.seed))
        print(
            f"(a) submitting {args.count} whistles through whistle_submit from {args.submitters} processes ...",
            flush=True,
        )
        a = part_a(catalogue, args.count, args.submitters)
        if not a["finished"]:
            # The unrouted backlog would still be in the queue ahead of the next parts' messages.
            print("part (a) did not finish in time: (b) and (c) are left out", flush=True)
            b = {"finished": False, "count": 0, "inserted": 0, "send_seconds": 0.0, "elapsed": 0.0}
            c = {"skipped": "part (a) did not finish"}
        else:
            print(f"(b) {args.count} one-insert tasks ...", flush=True)
            b = part_b(args.count)
            if args.skip_api:
                c = {"skipped": "--skip-api"}
            else:
                print(f"(c) {args.count} whistles through POST /api/v1/whistles/ under gunicorn ...", flush=True)
                c = part_c(setup, catalogue, args.count, threads=args.api_threads, workers=args.gunicorn_workers)
        prof = profile(catalogue)
        report(setup, args, a, b, c, prof)
    finally:
        if worker is not None:
            worker.stop()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001, S110 - Django may not be set up yet
            pass
        if not args.keep:
            if not setup.embedded:
                scratch_postgres(setup.database_url, create=False)
                delete_redis_keys(setup.broker_url, setup.queue)
            if setup.made_var_dir:
                shutil.rmtree(setup.var_dir, ignore_errors=True)
            else:
                for leftover in setup.var_dir.glob(f"{setup.queue}*"):
                    leftover.unlink(missing_ok=True)
        else:
            print(f"kept: database {database_name(setup.database_url)}, VAR_DIR {setup.var_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
