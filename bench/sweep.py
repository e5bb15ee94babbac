"""The deadline sweep over a million open tasks: against the raw UPDATE of the same rows and a per-row loop.

    .venv/bin/python bench/sweep.py [--tasks 1000000] [--repeat 1] [--keep]

On a scratch PostgreSQL database (dropped and created afresh, dropped at the
end unless --keep; its name must contain "bench"), given by --database-url
or BENCH_SWEEP_DATABASE_URL; DATABASE_URL is not read, so the benchmark never
drops a database it was not given for the purpose. Steps:

  1. migrate, seed_demo, then bench._generate writes N open tasks with COPY
     (about one whistle per 2.2 tasks, deadlines from the grade's policy),
     every one waiting for its acknowledgement warning, the warnings spread
     evenly over one hour of a working morning;
  2. for "now" = the moment 1 % and then 10 % of the tasks have
     next_deadline_at <= now, times
       (a) the real sweep, escalation.services.deadlines_sweep(now=now);
       (b) the baseline, one raw UPDATE that sets the warning marker and the
           next step of the same rows;
       (c) on 1 % only, a per-row loop in the style of a helpdesk's
           escalation command (get, check, save(), Event.objects.create,
           Notification.objects.create per task);
     each in autocommit, as in production (the sweep commits per batch, the
     UPDATE once, the loop per statement). Between runs the touched columns
     are put back, the rows written since are deleted, the state is checked
     equal to the generated one (row counts, every task back to its first
     step) and the tables VACUUM ANALYZEd, so every run starts from the same
     data. (a) and (b) alternate --repeat times (default once: a 10 % sweep
     of a million tasks takes minutes); the median counts;
  3. the supervisors' overdue dashboard, first page, at the 10 % moment,
     through the test client, after the tally of open tasks beat makes
     every minute (its time printed too);
  4. where the sweep's time goes: one 1 % sweep with every SQL statement
     timed, and cProfile around one batch.

Targets: the sweep within 2x the raw UPDATE, at least 20x faster
than the per-row loop, the dashboard's first page under 200 ms. DEBUG is off
for everything measured.
"""

import argparse
import cProfile
import io
import os
import pstats
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import database_name, load_average, scratch_postgres  # noqa: E402 - the root goes on the path first

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/whistle_sweep_bench"
SHARES = (0.01, 0.10)
LOOP_SHARE = 0.01
SPREAD = timedelta(minutes=60)
TARGET_SWEEP_OVER_RAW = 2.0
TARGET_LOOP_OVER_SWEEP = 20.0
TARGET_DASHBOARD_MS = 200.0
DASHBOARD_RUNS = 5
DASHBOARD_PATH = "/supervision/"
# The first page of a list on the dashboard when it is composed from the selectors here.

RAW_UPDATE = (
    "UPDATE whistle_task SET acknowledge_warned_at = %s, next_deadline_at = acknowledge_due_at, "
    "next_step = 'acknowledge_overdue' WHERE next_deadline_at <= %s"
)
LADDER_MARKS = (
    "acknowledge_warned_at",
    "acknowledge_overdue_at",
    "checkin_warned_at",
    "checkin_overdue_at",
    "resolve_warned_at",
    "resolve_overdue_at",
    "supervised_at",
    "accountable_at",
)
# Every task as generated: no marks, waiting for its acknowledgement warning.
PRISTINE = " AND ".join(
    [f"{mark} IS NULL" for mark in LADDER_MARKS]
    + ["next_step = 'acknowledge_warning'", "next_deadline_at = acknowledge_warn_at"]
)
RESTORE = (
    "UPDATE whistle_task SET "
    + ", ".join(f"{mark} = NULL" for mark in LADDER_MARKS)
    + f", next_deadline_at = acknowledge_warn_at, next_step = 'acknowledge_warning' WHERE NOT ({PRISTINE})"
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=1_000_000, help="open tasks to generate")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_SWEEP_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="scratch PostgreSQL database; its name must contain 'bench'",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs of (a) and (b) per share; the median counts")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the generated data")
    args = parser.parse_args()
    if args.tasks < 100:
        parser.error("--tasks must be at least 100")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("--database-url must be a PostgreSQL URL (the generator uses COPY)")
    if "bench" not in database_name(args.database_url):
        parser.error("the database name must contain 'bench': it is dropped and created afresh")
    return args


def configure(args: argparse.Namespace) -> Path:
    """Environment for Django, set before it reads its settings; the temporary VAR_DIR."""
    var_dir = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CELERY_BROKER_READ_URL", "CELERY_BROKER_WRITE_URL"):
        os.environ.pop(name, None)  # the file broker in the temporary VAR_DIR: nothing leaves this run
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "VAR_DIR": str(var_dir),
            "DATABASE_URL": args.database_url,
            # seed_demo refuses to run without DEBUG; everything measured runs with it off (see main()).
            "DEBUG": "1",
            "LOG_LEVEL": "WARNING",
        }
    )
    return var_dir


# State: restore and check ----------------------------------------------------------------


@dataclass(frozen=True)
class State:
    """What a measured run may add to; restore() puts it back to this."""

    counts: dict  # table: rows
    last_ids: dict  # table: highest id


# Written by the sweep (or the loop); children first, for the deletes.
WRITTEN_TABLES = (
    "escalation_accountabilityrecord_events",
    "escalation_accountabilityrecord",
    "escalation_supervisionorder",
    "whistle_notification",
    "whistle_event",
)


def execute(sql: str, params=()) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def scalar(sql: str, params=()):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        return row[0] if row else None


def state_now() -> State:
    counts = {table: scalar(f"SELECT count(*) FROM {table}") for table in WRITTEN_TABLES}  # noqa: S608 - our names
    last_ids = {table: scalar(f"SELECT coalesce(max(id), 0) FROM {table}") for table in WRITTEN_TABLES}  # noqa: S608
    return State(counts, last_ids)


def vacuum() -> None:
    execute("VACUUM (ANALYZE) whistle_task, whistle_event, whistle_notification")


def restore(initial: State, tasks: int) -> float:
    """Back to the generated state, checked; the seconds it took."""
    started = time.perf_counter()
    from django.db import transaction

    execute(RESTORE)
    # Events are append-only (a trigger refuses deletes): the scratch database lifts it for the rewind only.
    with transaction.atomic():
        execute("ALTER TABLE whistle_event DISABLE TRIGGER whistle_event_append_only")
        for table in WRITTEN_TABLES:
            execute(f"DELETE FROM {table} WHERE id > %s", [initial.last_ids[table]])  # noqa: S608 - our names
        execute("ALTER TABLE whistle_event ENABLE TRIGGER whistle_event_append_only")
    now = state_now()
    untouched = scalar(f"SELECT count(*) FROM whistle_task WHERE {PRISTINE}")  # noqa: S608 - constant SQL
    if now.counts != initial.counts or untouched != tasks:
        raise SystemExit(f"restore failed: {now.counts} != {initial.counts} or {untouched} != {tasks} pristine tasks")
    vacuum()
    return time.perf_counter() - started


# The three contenders --------------------------------------------------------------------


def run_raw(now: datetime) -> tuple[float, int, dict]:
    started = time.perf_counter()
    rows = execute(RAW_UPDATE, [now, now])
    return time.perf_counter() - started, rows, {"acknowledge_warning": rows}


def run_sweep(now: datetime) -> tuple[float, int, dict]:
    from escalation.services import deadlines_sweep

    started = time.perf_counter()
    result = deadlines_sweep(now=now)
    elapsed = time.perf_counter() - started
    if result.failed:
        print(f"    note: the sweep logged {result.failed} failed rows", flush=True)
    return elapsed, result.total, dict(result.steps)


def run_loop(now: datetime) -> tuple[float, int, dict]:
    """The naive escalation command: one task at a time, every write its own statement and commit."""
    from whistle.models import Event, Notification, Task

    started = time.perf_counter()
    fired = 0
    due = Task.objects.filter(next_deadline_at__lte=now).order_by("next_deadline_at", "pk").values_list("pk", flat=True)
    for pk in list(due):
        task = Task.objects.get(pk=pk)
        if (
            task.status != Task.Status.PENDING
            or task.acknowledge_warned_at is not None
            or task.acknowledge_warn_at > now
        ):
            continue
        task.acknowledge_warned_at = now
        task.next_deadline_at = task.acknowledge_due_at
        task.next_step = "acknowledge_overdue"
        task.save()
        Event.objects.create(
            whistle_id=task.whistle_id,
            task=task,
            system_actor="sweeper",
            verb="warning",
            created_at=now,
            new={"step": "acknowledge_warning", "due": task.acknowledge_warn_at.isoformat()},
        )
        Notification.objects.create(
            whistle_id=task.whistle_id, task=task, department_id=task.department_id, verb="warning", created_at=now
        )
        fired += 1
    return time.perf_counter() - started, fired, {"acknowledge_warning": fired}


@dataclass
class Case:
    share: float
    now: datetime
    due: int
    overdue_too: int
    raw: list = field(default_factory=list)  # (seconds, rows, steps)
    sweep: list = field(default_factory=list)
    loop: tuple | None = None

    @staticmethod
    def median(runs: list) -> float:
        return statistics.median(seconds for seconds, _rows, _steps in runs)


def moment_with_share(share: float, tasks: int) -> tuple[datetime, int, int]:
    """The k-th earliest next deadline (k = share of the tasks), and how many are due and overdue by then."""
    k = max(1, round(share * tasks))
    now = scalar(
        "SELECT next_deadline_at FROM whistle_task WHERE next_deadline_at IS NOT NULL "
        "ORDER BY next_deadline_at OFFSET %s LIMIT 1",
        [k - 1],
    )
    due = scalar("SELECT count(*) FROM whistle_task WHERE next_deadline_at <= %s", [now])
    overdue = scalar("SELECT count(*) FROM whistle_task WHERE acknowledge_due_at <= %s", [now])
    return now, due, overdue


def measure_case(case: Case, *, repeat: int, initial: State, tasks: int) -> None:
    label = f"{case.share:.0%}"
    for run in range(1, repeat + 1):
        for name, runner, runs in (("raw UPDATE", run_raw, case.raw), ("sweep", run_sweep, case.sweep)):
            seconds, rows, steps = runner(case.now)
            runs.append((seconds, rows, steps))
            restored = restore(initial, tasks)
            print(
                f"  {label} run {run}: {name:<10} {seconds:8.3f} s, {rows} rows {steps}  (restored in {restored:.1f} s)",
                flush=True,
            )
    if case.share == LOOP_SHARE:
        seconds, rows, steps = run_loop(case.now)
        case.loop = (seconds, rows, steps)
        restored = restore(initial, tasks)
        print(f"  {label}: per-row loop {seconds:8.3f} s, {rows} rows  (restored in {restored:.1f} s)", flush=True)


# The dashboard ---------------------------------------------------------------------------


def measure_dashboard(now: datetime) -> dict:
    """The supervisors' dashboard page at `now`, through the test client, after that minute's tally of open tasks."""
    import time_machine
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from escalation.services import open_tasks_tally

    started = time.perf_counter()
    tally_rows = open_tasks_tally(now=now)  # what beat does every minute
    tally_seconds = time.perf_counter() - started
    client = Client()
    client.force_login(get_user_model().objects.get(username="supervisor"))

    def get():
        with time_machine.travel(now, tick=True):
            response = client.get(DASHBOARD_PATH)
        if response.status_code != 200:
            raise RuntimeError(f"GET {DASHBOARD_PATH} answered {response.status_code}")

    get()  # warm: templates, translations, the plan cache
    times = []
    for _ in range(DASHBOARD_RUNS):
        started = time.perf_counter()
        get()
        times.append(time.perf_counter() - started)
    with CaptureQueriesContext(connection) as queries:
        get()
    slowest = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:3]
    return {
        "how": f"GET {DASHBOARD_PATH} through the test client (view and template)",
        "tally_rows": tally_rows,
        "tally_seconds": tally_seconds,
        "median_ms": statistics.median(times) * 1000,
        "best_ms": min(times) * 1000,
        "queries": len(queries.captured_queries),
        "slowest": [(float(q["time"]) * 1000, q["sql"]) for q in slowest],
    }


# Where the sweep's time goes ----------------------------------------------------------------

VERB = re.compile(r"^\s*(SELECT|UPDATE|INSERT INTO|DELETE FROM|SAVEPOINT|RELEASE SAVEPOINT)\b")
FIRST_TABLE = re.compile(r'(?:UPDATE|INTO|FROM)\s+"(\w+)"')


def _kind(sql: str) -> str:
    """A statement's verb and table, e.g. 'UPDATE whistle_task', 'SELECT whistle_task FOR UPDATE SKIP LOCKED'."""
    verb = VERB.match(sql)
    if not verb:
        return sql.split(None, 1)[0].upper()
    if verb.group(1).endswith("SAVEPOINT"):
        return "SAVEPOINT / RELEASE"
    table = FIRST_TABLE.search(sql)
    locked = " FOR UPDATE SKIP LOCKED" if verb.group(1) == "SELECT" and "FOR UPDATE" in sql else ""
    return f"{verb.group(1)} {table.group(1) if table else '?'}{locked}"


def profile_sweep(now: datetime, initial: State, tasks: int) -> dict:
    """One whole sweep with every statement timed; then cProfile around one batch (rolled back)."""
    from django.db import connection, transaction

    from escalation.services import SWEEP_BATCH, SweepResult, _sweep_tasks

    spent = defaultdict(lambda: [0, 0.0])

    def timer(execute_, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute_(sql, params, many, context)
        finally:
            entry = spent[_kind(sql)]
            entry[0] += 1
            entry[1] += time.perf_counter() - started

    started = time.perf_counter()
    with connection.execute_wrapper(timer):
        _seconds, rows, _steps = run_sweep(now)
    total = time.perf_counter() - started
    restore(initial, tasks)

    profiler = cProfile.Profile()
    with transaction.atomic():
        started = time.perf_counter()
        profiler.enable()
        claimed = _sweep_tasks(now=now, batch=SWEEP_BATCH, result=SweepResult())
        profiler.disable()
        batch_seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    restore(initial, tasks)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    # The project's own functions and the ORM's steps, by time including what they call; then by own time.
    stats.sort_stats("cumulative").print_stats(
        r"work/main/(escalation|whistle)/|bulk_update|bulk_create|_batched_insert|_fetch_all|execute_sql|from_db"
        r"|\(update\)",
        18,
    )
    own = io.StringIO()
    pstats.Stats(profiler, stream=own).sort_stats("tottime").print_stats(12)
    return {
        "rows": rows,
        "total": total,
        "sql": sorted(spent.items(), key=lambda item: -item[1][1]),
        "batch": claimed,
        "batch_seconds": batch_seconds,
        "cprofile": out.getvalue(),
        "cprofile_own": own.getvalue(),
    }


# Reporting --------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def report(args, generated, cases: list[Case], dashboard: dict, prof: dict) -> None:
    from django.db import connection

    line = "-" * 100
    print()
    print(line)
    print(
        f"sweep benchmark: PostgreSQL {connection.pg_version // 10000}, {generated.tasks:,} open tasks on "
        f"{generated.whistles:,} whistles, {os.cpu_count()} cores, load average now {load_average()}"
    )
    print(line)
    print(
        f"generated with COPY in {generated.seconds:.1f} s: {generated.rows_per_second:,.0f} rows/s "
        f"({generated.whistles + generated.tasks:,} rows), ANALYZE {generated.analyze_seconds:.1f} s; "
        f"tasks by grade {generated.grades}"
    )
    print(line)
    print(
        f"{'':<8}{'due rows':>10}{'raw UPDATE s':>14}{'sweep s':>10}{'loop s':>10}{'sweep/raw':>11}{'loop/sweep':>12}"
    )
    for case in cases:
        raw, sweep = Case.median(case.raw), Case.median(case.sweep)
        loop = case.loop[0] if case.loop else None
        print(
            f"{case.share:<8.0%}{case.due:>10}{raw:>14.3f}{sweep:>10.3f}"
            f"{(f'{loop:.3f}' if loop is not None else '-'):>10}{sweep / raw:>11.2f}"
            f"{(f'{loop / sweep:.1f}' if loop is not None else '-'):>12}"
        )
    print(line)
    for case in cases:
        rows = {
            "raw": {r for _s, r, _st in case.raw},
            "sweep": {r for _s, r, _st in case.sweep},
            **({"loop": {case.loop[1]}} if case.loop else {}),
        }
        steps = case.sweep[-1][2]
        same = len({frozenset(v) for v in rows.values()}) == 1 and rows["raw"] == {case.due}
        print(
            f"{case.share:.0%} due at {case.now:%Y-%m-%d %H:%M:%S} UTC: rows fired {', '.join(f'{k} {sorted(v)}' for k, v in rows.items())}"
            f"{'' if same else '  (NOT the same rows count!)'}; sweep steps {steps}; "
            f"of the due tasks {case.overdue_too} are past their acknowledgement deadline too"
        )
        print(
            f"    runs, s: raw {[round(s, 3) for s, _r, _st in case.raw]}, sweep {[round(s, 3) for s, _r, _st in case.sweep]}"
        )
    print(line)
    for case in cases:
        ratio = Case.median(case.sweep) / Case.median(case.raw)
        print(
            f"sweep / raw UPDATE at {case.share:>3.0%}: {ratio:6.2f}   target <= {TARGET_SWEEP_OVER_RAW:g}: "
            f"{verdict(ratio <= TARGET_SWEEP_OVER_RAW)}"
        )
    for case in cases:
        if case.loop:
            speedup = case.loop[0] / Case.median(case.sweep)
            print(
                f"loop / sweep at {case.share:>3.0%}:        {speedup:6.1f}   target >= {TARGET_LOOP_OVER_SWEEP:g}: "
                f"{verdict(speedup >= TARGET_LOOP_OVER_SWEEP)}"
            )
    print(
        f"dashboard first page: {dashboard['median_ms']:.0f} ms median of {DASHBOARD_RUNS} (best "
        f"{dashboard['best_ms']:.0f}), {dashboard['queries']} queries   target < {TARGET_DASHBOARD_MS:g} ms: "
        f"{verdict(dashboard['median_ms'] < TARGET_DASHBOARD_MS)}"
    )
    print(f"    measured: {dashboard['how']}, as the demo supervisor at the 10 % moment")
    print(
        f"    its counts come from the tally beat makes every minute: {dashboard['tally_rows']:,} rows "
        f"in {dashboard['tally_seconds']:.2f} s"
    )
    for ms, sql in dashboard["slowest"]:
        print(f"    {ms:7.1f} ms  {sql[:140]}")
    print(line)
    print(
        f"where a sweep's time goes (one 1 % sweep, {prof['rows']} rows, {prof['total']:.3f} s with every "
        "statement timed):"
    )
    sql_total = 0.0
    for kind, (count, seconds) in prof["sql"]:
        sql_total += seconds
        print(f"    {seconds:8.3f} s {count:6d}x  {kind}")
    print(f"    {prof['total'] - sql_total:8.3f} s          Python (the rest)")
    print(
        f"cProfile of one batch of {prof['batch']} ({prof['batch_seconds'] * 1000:.0f} ms under the profiler): "
        "the project's functions and the ORM's bulk writes, by cumulative time:"
    )
    for key, title in (("cprofile", None), ("cprofile_own", "the same batch, the top functions by own time:")):
        if title:
            print(title)
        body = prof[key].strip().splitlines()
        start = next((i for i, text in enumerate(body) if text.strip().startswith("ncalls")), 0)
        for text in body[start:]:
            print(f"    {text.replace(str(ROOT) + '/', '').replace('.venv/lib/python3.11/site-packages/', '')[:150]}")
    print(line)
    print(
        f"N={args.tasks:,}; (a) and (b) ran {args.repeat}x each per share, alternating, medians shown; (c) once; "
        "autocommit; state restored and VACUUM ANALYZEd between runs. Shared 2-core machine: expect a few per cent of noise."
    )


def main() -> int:
    args = parse_args()
    var_dir = configure(args)
    print(f"load average before: {load_average()}; database {database_name(args.database_url)}", flush=True)
    scratch_postgres(args.database_url, create=True)
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.utils import timezone

        from bench._generate import generate_open_tasks
        from escalation.policy import current_calendar

        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        call_command("seed_demo", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
        settings.DEBUG = False  # what is measured runs as in production: no query log
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        print(f"migrated and seeded in {time.perf_counter() - started:.1f} s", flush=True)

        # Warnings from 11:00 on a working day two weeks back: every grade's start is that morning.
        calendar = current_calendar()
        day = timezone.localdate() - timedelta(days=14)
        while not calendar.is_working_day(day):
            day += timedelta(days=1)
        warn_from = timezone.make_aware(datetime.combine(day, time_of_day(11)))
        print(
            f"generating {args.tasks:,} open tasks with COPY (warnings from {warn_from:%Y-%m-%d %H:%M %Z}) ...",
            flush=True,
        )
        generated = generate_open_tasks(
            tasks=args.tasks,
            warn_from=warn_from,
            spread=SPREAD,
            seed=args.seed,
            progress=lambda m: print(m, flush=True),
        )
        print(
            f"generated {generated.whistles:,} whistles and {generated.tasks:,} tasks in {generated.seconds:.1f} s "
            f"({generated.rows_per_second:,.0f} rows/s); ANALYZE {generated.analyze_seconds:.1f} s",
            flush=True,
        )
        vacuum()
        initial = state_now()

        cases = []
        for share in SHARES:
            now, due, overdue = moment_with_share(share, generated.tasks)
            case = Case(share=share, now=now, due=due, overdue_too=overdue)
            print(f"{share:.0%} due: now = {now:%H:%M:%S} UTC, {due} tasks due", flush=True)
            measure_case(case, repeat=args.repeat, initial=initial, tasks=generated.tasks)
            cases.append(case)

        print("dashboard ...", flush=True)
        dashboard = measure_dashboard(cases[-1].now)
        print("profiling one sweep ...", flush=True)
        prof = profile_sweep(cases[0].now, initial, generated.tasks)
        report(args, generated, cases, dashboard, prof)
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001, S110 - Django may not be set up yet
            pass
        if args.keep:
            print(f"kept: database {database_name(args.database_url)}")
        else:
            scratch_postgres(args.database_url, create=False)
        shutil.rmtree(var_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
