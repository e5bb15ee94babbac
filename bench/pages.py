"""Every page's server time on 100,000 whistles, against a bare Django view measured in the same run.

    PYTHONPATH=. .venv/bin/python bench/pages.py [--whistles 100000] [--days 90] [--runs 5] [--explain] [--keep]
    PYTHONPATH=. .venv/bin/python bench/pages.py --reuse [--only dashboard]   # again, on a kept database

On a scratch PostgreSQL database (dropped and created afresh, dropped at the
end unless --keep; its name must contain "bench"), given by --database-url
or BENCH_PAGES_DATABASE_URL; DATABASE_URL is not read, so the benchmark never
drops a database it was not given for the purpose. Steps:

  1. migrate, seed_demo, then bench._history writes N whistles (default
     100,000) raised over the last --days days, with their tasks (about 2.2
     a whistle), events, notices, feedback forms, supervision orders and
     accountability records, each in the state its simulated life has
     reached by now: most closed, some resolved, the recent ones open, some
     of them late (warning, overdue), a few waiting for the dispatcher or in
     the approval chain. VACUUM ANALYZE, as autovacuum would have by then;
     the tally of open tasks that beat rebuilds every minute;
  2. each page through Django's test client, DEBUG off, signed in as the
     role that uses it (a street's staff, the busiest department's staff,
     the district's supervisor, ...): one warm-up request (templates,
     translations, plan caches), then --runs timed requests (median
     shown), then one more counting its queries. The URL of each page is
     resolved by name: a name that does not exist (yet) is printed as
     "missing" and skipped. The baseline, timed the same way and first: a
     bare view rendering a minimal template after one query, behind the
     same middleware; each page's time is printed as a ratio to it;
  3. for each page over the target (300 ms), its slowest queries;
     with --explain, the EXPLAIN ANALYZE of the slowest. A page answering
     anything but 200 is printed with its status, not timed.

--reuse measures again on a database kept by an earlier --keep run (nothing
is generated; the data has aged since, so more of it is late); --only runs
the pages whose label contains a word. The machine is shared (2 cores): the
load average is printed before and after; expect a few per cent of noise.
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import types
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import database_name, history_database, load_average, scratch_postgres  # noqa: E402 - the root goes on the path first

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/whistle_pages_bench"
TARGET_MS = 300.0
TALLY_EVERY_S = 60  # beat rebuilds the tally of open tasks every minute
BASELINE_TEMPLATE = "<!doctype html><html><head><title>baseline</title></head><body><p>{{ users }}</p></body></html>"
SLOWEST_SHOWN = 3


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--whistles", type=int, default=100_000, help="whistles to generate")
    parser.add_argument("--days", type=int, default=90, help="the generated history's length in days")
    parser.add_argument("--runs", type=int, default=5, help="timed requests per page; the median counts")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_PAGES_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="scratch PostgreSQL database; its name must contain 'bench'",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--reuse", action="store_true", help="measure on the kept database as it is")
    parser.add_argument("--only", default="", help="measure only the pages whose label contains this")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the slowest query of a slow page")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the generated data")
    args = parser.parse_args()
    if args.whistles < 1000:
        parser.error("--whistles must be at least 1000")
    if args.runs < 1 or args.days < 7:
        parser.error("--runs must be at least 1 and --days at least 7")
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("--database-url must be a PostgreSQL URL (the generator uses COPY)")
    if "bench" not in database_name(args.database_url):
        parser.error("the database name must contain 'bench': it is dropped and created afresh")
    return args


def configure(args: argparse.Namespace) -> Path:
    """Environment for Django, set before it reads its settings; the temporary VAR_DIR."""
    var_dir = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CELERY_BROKER_READ_URL", "CELERY_BROKER_WRITE_URL"):
        os.environ.pop(name, None)  # the file broker in the temporary VAR_DIR: nothing leaves this run
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "VAR_DIR": str(var_dir),
            "DATABASE_URL": args.database_url,
            # seed_demo refuses to run without DEBUG; everything measured runs with it off (see main()).
            "DEBUG": "1",
            "LOG_LEVEL": "ERROR",
        }
    )
    return var_dir


# The baseline: a bare view behind the same middleware ----------------------------------------------


def baseline_view(request):
    """One query, a minimal template: what any page costs before it does its own work."""
    from django.contrib.auth import get_user_model
    from django.http import HttpResponse
    from django.template import engines

    users = get_user_model().objects.count()
    return HttpResponse(engines["django"].from_string(BASELINE_TEMPLATE).render({"users": users}))


def install_baseline() -> None:
    """The project's URLs with the baseline view beside them, as the root URLconf of this process."""
    from django.conf import settings
    from django.urls import clear_url_caches, include, path

    module = types.ModuleType("bench_pages_urls")
    module.urlpatterns = [
        path("bench/baseline/", baseline_view, name="bench_baseline"),
        path("", include(settings.ROOT_URLCONF)),
    ]
    sys.modules[module.__name__] = module
    settings.ROOT_URLCONF = module.__name__
    clear_url_caches()


# The pages ---------------------------------------------------------------------------------------


@dataclass
class Page:
    label: str
    name: str  # URL name
    user: str | None  # username; None: anonymous
    args: tuple = ()
    query: str = ""
    headers: dict = field(default_factory=dict)


@dataclass
class Measured:
    page: Page
    status: int | str  # the HTTP status, or "missing"
    path: str = ""
    times: list = field(default_factory=list)  # seconds
    queries: int = 0
    slowest: list = field(default_factory=list)  # (ms, sql)
    bytes: int = 0

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times) * 1000 if self.times else float("nan")

    @property
    def best_ms(self) -> float:
        return min(self.times) * 1000 if self.times else float("nan")


@dataclass
class Cast:
    """Who signs in for which page, and the objects the detail pages show."""

    street: str = "s01_staff"
    dispatcher: str = "s01_dispatcher"
    deputy: str = "s01_deputy"
    supervisor: str = "supervisor"
    department: str = ""  # the staff of the department with the most open tasks
    department_label: str = ""
    whistle: str = ""  # a whistle of S01 with the most events
    task: int = 0  # a task of the busy department with the most events
    grid: str = ""  # the grid of S01 with the most open whistles
    facts: dict = field(default_factory=dict)


def pick_cast() -> Cast:
    from django.db.models import Count

    from departments.models import Membership
    from whistle.models import Event, Task, Whistle

    cast = Cast()
    busy = (
        Task.objects.filter(status__in=Task.OPEN_STATUSES)
        .values("department_id", "department__code", "department__name")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    member = Membership.objects.filter(role=Membership.Role.DEPT_STAFF, department_id=busy["department_id"]).first()
    cast.department = member.user.get_username()
    cast.department_label = f"{busy['department__code']} {busy['department__name']}"
    cast.facts["busy department's open tasks"] = busy["n"]
    cast.facts["busy department's tasks"] = Task.objects.filter(department_id=busy["department_id"]).count()
    top = (
        Event.objects.filter(whistle__street__code="S01")
        .values("whistle_id")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    cast.whistle = Whistle.objects.get(pk=top["whistle_id"]).number
    cast.facts["events of the whistle shown"] = top["n"]
    top = (
        Event.objects.filter(task__department_id=busy["department_id"])
        .values("task_id")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    cast.task = top["task_id"]
    cast.facts["events of the task shown"] = top["n"]
    grid = (
        Whistle.objects.filter(street__code="S01", status__in=Whistle.OPEN_STATUSES)
        .values("grid__code")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    cast.grid = grid["grid__code"]
    cast.facts["S01 whistles"] = Whistle.objects.filter(street__code="S01").count()
    return cast


def pages(cast: Cast) -> list[Page]:
    return [
        Page("sign-in page", "login", None),
        Page("street workbench", "workbench:street", cast.street),
        Page("department workbench", "workbench:department", cast.department),
        Page("supervisor workbench", "workbench:supervisor", cast.supervisor),
        Page("whistle list (street)", "whistle:list", cast.street),
        Page("whistle list (district)", "whistle:list", cast.supervisor),
        Page("task list (department)", "whistle:tasks", cast.department),
        Page("task list (district)", "whistle:tasks", cast.supervisor),
        Page("whistle detail", "whistle:detail", cast.street, args=(cast.whistle,)),
        Page("task detail", "whistle:task", cast.department, args=(cast.task,)),
        Page("dispatch queue", "whistle:queue", cast.dispatcher),
        Page("approvals", "whistle:approvals", cast.deputy),
        Page("supervision dashboard", "escalation:dashboard", cast.supervisor),
        Page("supervision orders", "escalation:orders", cast.supervisor),
        Page("accountability ledger", "escalation:ledger", cast.supervisor),
        Page("inbox (department)", "whistle:inbox", cast.department),
        Page("map page (street)", "map:overview", cast.street),
        Page("map page (district)", "map:overview", cast.supervisor),
        Page("map grids JSON (district)", "map:grids", cast.supervisor),
        Page("map whistles JSON (district)", "map:whistles", cast.supervisor),
        Page("map grid panel (htmx)", "map:grid_whistles", cast.street, args=(cast.grid,),
             headers={"HX-Request": "true"}),
    ]  # fmt: skip


class Clients:
    """One signed-in test client per user, kept across pages (as a browser keeps its session)."""

    def __init__(self):
        self.clients = {}

    def get(self, username: str | None):
        from django.contrib.auth import get_user_model
        from django.test import Client

        if username not in self.clients:
            client = Client(raise_request_exception=False)
            if username:
                client.force_login(get_user_model().objects.get(username=username))
            self.clients[username] = client
        return self.clients[username]


class Tally:
    """The open-task tally that beat rebuilds every minute: rebuilt, untimed, when older than that."""

    def __init__(self):
        self.at = 0.0
        self.rows = 0
        self.seconds = 0.0

    def fresh(self) -> None:
        from django.utils import timezone

        from escalation.services import open_tasks_tally

        if time.monotonic() - self.at >= TALLY_EVERY_S:
            started = time.perf_counter()
            self.rows = open_tasks_tally(now=timezone.now())
            self.seconds = time.perf_counter() - started
            self.at = time.monotonic()


def measure(page: Page, *, clients: Clients, tally: Tally, runs: int) -> Measured:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import NoReverseMatch, reverse

    try:
        path = reverse(page.name, args=page.args)
    except NoReverseMatch:
        return Measured(page, "missing")
    if page.query:
        path = f"{path}?{page.query}"
    client = clients.get(page.user)
    headers = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in page.headers.items()}

    def get():
        tally.fresh()
        started = time.perf_counter()
        response = client.get(path, **headers)
        elapsed = time.perf_counter() - started
        return response, elapsed

    response, _elapsed = get()  # warm: templates, translations, the plan cache
    result = Measured(page, response.status_code, path, bytes=len(response.content))
    if response.status_code != 200:
        return result
    for _ in range(runs):
        response, elapsed = get()
        result.times.append(elapsed)
    tally.fresh()
    with CaptureQueriesContext(connection) as queries:
        client.get(path, **headers)
    result.queries = len(queries.captured_queries)
    slowest = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:SLOWEST_SHOWN]
    result.slowest = [(float(q["time"]) * 1000, q["sql"]) for q in slowest]
    return result


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


# Reporting ---------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def report(args, generated, cast: Cast, baseline: Measured, results: list[Measured], tally) -> None:
    from django.db import connection

    line = "-" * 118
    print()
    print(line)
    print(
        f"pages benchmark: PostgreSQL {connection.pg_version // 10000}, {os.cpu_count()} cores, "
        f"load average now {load_average()}"
    )
    if generated is not None:
        print(
            f"generated {generated.whistles:,} whistles over {generated.days} days in {generated.seconds:.1f} s "
            f"({generated.rows_per_second:,.0f} rows/s), ANALYZE {generated.analyze_seconds:.1f} s"
        )
        print(f"    rows: {', '.join(f'{table} {n:,}' for table, n in generated.rows.items())}")
        print(f"    whistles by status: {dict(sorted(generated.whistle_statuses.items(), key=lambda kv: -kv[1]))}")
        print(f"    tasks by status: {dict(sorted(generated.task_statuses.items(), key=lambda kv: -kv[1]))}")
    print(
        f"    signed in: street {cast.street}, department {cast.department} ({cast.department_label}), "
        f"supervisor {cast.supervisor}"
    )
    print(f"    shown: whistle {cast.whistle}, task {cast.task}, grid {cast.grid}; {cast.facts}")
    print(
        f"    open-task tally rebuilt (untimed) every {TALLY_EVERY_S} s: {tally.rows:,} rows in {tally.seconds:.2f} s"
    )
    print(line)
    base = baseline.median_ms
    print(
        f"{'page':<30}{'signed in as':<16}{'median ms':>10}{'best ms':>9}{'queries':>9}{'KB':>7}"
        f"{'x baseline':>12}   target {TARGET_MS:g} ms"
    )
    print(
        f"{'baseline (bare view)':<30}{'-':<16}{base:>10.1f}{baseline.best_ms:>9.1f}{baseline.queries:>9}"
        f"{baseline.bytes / 1024:>7.0f}{1:>12.1f}"
    )
    for result in results:
        page = result.page
        who = page.user or "anonymous"
        if result.status == "missing":
            print(f"{page.label:<30}{who:<16}{'missing':>10}   (no URL named {page.name!r} yet)")
            continue
        if result.status != 200:
            print(f"{page.label:<30}{who:<16}{'error':>10}   HTTP {result.status} at {result.path}")
            continue
        print(
            f"{page.label:<30}{who:<16}{result.median_ms:>10.1f}{result.best_ms:>9.1f}{result.queries:>9}"
            f"{result.bytes / 1024:>7.0f}{result.median_ms / base:>12.1f}   {verdict(result.median_ms < TARGET_MS)}"
        )
    print(line)
    measured = [r for r in results if r.status == 200]
    slow = [r for r in measured if r.median_ms >= TARGET_MS]
    print(
        f"{len(measured)} pages measured, {len(measured) - len(slow)} under {TARGET_MS:g} ms, {len(slow)} over; "
        f"{sum(r.status == 'missing' for r in results)} missing, "
        f"{sum(r.status not in (200, 'missing') for r in results)} answering an error"
    )
    for result in slow:
        print(f"{result.page.label} ({result.median_ms:.0f} ms, {result.queries} queries), its slowest queries:")
        for ms, sql in result.slowest:
            print(f"    {ms:8.1f} ms  {sql[:400]}")
        if args.explain and result.slowest:
            print("    EXPLAIN ANALYZE of the slowest:")
            for text in explain(result.slowest[0][1]).splitlines():
                print(f"        {text}")
    print(line)
    print(
        f"each page: one warm-up request, then {args.runs} timed (median shown), through Django's test client "
        "(middleware, view, template), DEBUG off; shared 2-core machine."
    )


# Main ----------------------------------------------------------------------------------------------


def prepare(args) -> object:
    """A fresh database with the generated history, vacuumed and analyzed; what the generator reports."""
    return history_database(whistles=args.whistles, days=args.days, seed=args.seed)


def main() -> int:
    args = parse_args()
    var_dir = configure(args)
    print(f"load average before: {load_average()}; database {database_name(args.database_url)}", flush=True)
    if not args.reuse:
        scratch_postgres(args.database_url, create=True)
    try:
        import django

        django.setup()
        from django.conf import settings

        generated = None if args.reuse else prepare(args)
        settings.DEBUG = False  # what is measured runs as in production: no query log, no debug pages
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        install_baseline()
        cast = pick_cast()
        listed = pages(cast)
        clients, tally = Clients(), Tally()
        baseline = measure(Page("baseline", "bench_baseline", None), clients=clients, tally=tally, runs=args.runs)
        results = []
        for page in listed:
            if args.only and args.only not in page.label:
                continue
            result = measure(page, clients=clients, tally=tally, runs=args.runs)
            shown = "missing" if result.status == "missing" else f"{result.median_ms:.0f} ms"
            print(f"  {page.label}: {shown} (HTTP {result.status})", flush=True)
            results.append(result)
        report(args, generated, cast, baseline, results, tally)
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001, S110 - Django may not be set up yet
            pass
        if args.keep or args.reuse:
            print(f"kept: database {database_name(args.database_url)}")
        else:
            scratch_postgres(args.database_url, create=False)
        shutil.rmtree(var_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
