"""The evaluation on a year of a district: monthly rankings, statistics and the three pages, against a bare COUNT.

    PYTHONPATH=. .venv/bin/python bench/evaluation.py [--whistles 1000000] [--days 365] [--runs 5] [--keep]
    PYTHONPATH=. .venv/bin/python bench/evaluation.py --reuse    # again, on a database kept by --keep

On a scratch PostgreSQL database (dropped and created afresh, dropped at the
end unless --keep; its name must contain "bench"), given by --database-url
or BENCH_EVALUATION_DATABASE_URL; DATABASE_URL is not read, so the benchmark
never drops a database it was not given for the purpose. Steps:

  1. migrate, seed_demo, then bench._history writes N whistles (default
     1,000,000) raised over the last --days days (default 365), with their
     tasks (about two a whistle), events and the rest, each in the state its
     simulated life has reached; then, in two set-based statements, a
     citizen callback for 60 % of the closed whistles (a day after closing;
     mostly satisfied, some solved=false) and a street's rating of the lead
     department for 30 % of them, which the generator does not write.
     VACUUM ANALYZE;
  2. the month measured is the last complete calendar month (Asia/Shanghai),
     compared with the one before. The evaluation tally is counted for both
     (timed: what beat does every few minutes), then each measurement runs
     once to warm up and --runs times timed (the median counts):
       - the monthly ranking of the departments and of the streets, read
         through the tally (escalation.evaluation.ranking), and for
         reference the same counted directly (tallied=False);
       - the statistics page's selectors: whistle_counts by street and by
         day, street_whistle_rates, high_frequency;
       - the three pages (rankings, statistics, high-frequency problems)
         through Django's test client, signed in as the supervisor, DEBUG off;
     the baseline, timed the same way: a bare COUNT(*) over the month's
     whistles by the indexed submitted_at. Each figure prints with the
     500 ms target met or not and its ratio to the baseline;
  3. the tally is checked equal to the direct computation of the month at
     the same moment (escalation.evaluation.fact_counts), key by key.

The machine is shared (2 cores): the load average is printed before and
after; expect a few per cent of noise.
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import database_name, history_database, load_average, scratch_postgres  # noqa: E402 - the root goes on the path first

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/whistle_evaluation_bench"
TARGET_MS = 500.0
CALLBACK_SHARE, RATING_SHARE = 0.6, 0.3


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--whistles", type=int, default=1_000_000, help="whistles to generate")
    parser.add_argument("--days", type=int, default=365, help="the generated history's length in days")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each measurement; the median counts")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_EVALUATION_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="scratch PostgreSQL database; its name must contain 'bench'",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--reuse", action="store_true", help="measure on the kept database as it is")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the generated data")
    args = parser.parse_args()
    if args.whistles < 1000:
        parser.error("--whistles must be at least 1000")
    if args.runs < 1 or args.days < 62:
        parser.error("--runs must be at least 1 and --days at least 62 (two complete months)")
    return args


def configure(args: argparse.Namespace) -> Path:
    var_dir = Path(tempfile.mkdtemp(prefix="bench-evaluation-"))
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


# Preparing ---------------------------------------------------------------------------------------


def prepare(args) -> object:
    """A fresh database with a year of history, callbacks and ratings, vacuumed and analyzed."""

    def verdicts() -> None:
        started = time.perf_counter()
        callbacks, ratings = add_verdicts(args.seed)
        print(f"{callbacks:,} callbacks and {ratings:,} ratings in {time.perf_counter() - started:.1f} s", flush=True)

    return history_database(whistles=args.whistles, days=args.days, seed=args.seed, extra=verdicts)


def add_verdicts(seed: int) -> tuple[int, int]:
    """Citizens' callbacks and streets' ratings of the closed whistles, which the generator does not write."""
    from django.db import connection

    from departments.models import Membership

    hotline = Membership.objects.filter(role=Membership.Role.HOTLINE_CLIENT).values_list("user_id", flat=True).first()
    staff = Membership.objects.filter(role=Membership.Role.STREET_STAFF).values_list("user_id", flat=True).first()
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [(seed % 1000) / 1000])
        # One callback a day after the closing: 70 % satisfied, 20 % basically, 10 % not; 8 % not solved.
        cursor.execute(
            """
            INSERT INTO whistle_callback (whistle_id, recorded_by_id, satisfaction, solved, note, created_at)
            SELECT id, %s, CASE WHEN r < 0.7 THEN 'satisfied' WHEN r < 0.9 THEN 'basically_satisfied'
                                ELSE 'dissatisfied' END,
                   r < 0.92, '', closed_at + interval '1 day'
            FROM (SELECT id, closed_at, random() AS r FROM whistle_whistle
                  WHERE closed_at IS NOT NULL AND merged_into_id IS NULL) closed
            WHERE random() < %s
            """,
            [hotline, CALLBACK_SHARE],
        )
        callbacks = cursor.rowcount
        cursor.execute(
            """
            INSERT INTO whistle_rating (whistle_id, department_id, rated_by_id, response, attitude, result,
                                        comment, created_at)
            SELECT t.whistle_id, t.department_id, %s, 3 + floor(random() * 3)::int, 3 + floor(random() * 3)::int,
                   2 + floor(random() * 4)::int, '', w.closed_at + interval '2 hours'
            FROM whistle_task t JOIN whistle_whistle w ON w.id = t.whistle_id
            WHERE t.role = 'lead' AND t.status = 'closed' AND w.closed_at IS NOT NULL AND random() < %s
            """,
            [staff, RATING_SHARE],
        )
        ratings = cursor.rowcount
    return callbacks, ratings


# Measuring ---------------------------------------------------------------------------------------


def timed(call: Callable[[], object], runs: int) -> tuple[float, float, object]:
    """One warm-up call, then `runs` timed: (median ms, best ms, the last answer)."""
    answer = call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        answer = call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, min(times) * 1000, answer


def baseline_count(month) -> Callable[[], int]:
    from django.db import connection

    def count() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM whistle_whistle WHERE submitted_at >= %s AND submitted_at < %s",
                [month.start, month.end],
            )
            return cursor.fetchone()[0]

    return count


def page_call(client, path: str, query: dict) -> Callable[[], int]:
    def get() -> int:
        response = client.get(path, query)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered HTTP {response.status_code}")
        return len(response.content)

    return get


def compare_tally(district, month, now) -> tuple[bool, int, list]:
    """The tally counted at `now` against fact_counts at `now`: equal, how many keys, the first differences."""
    from escalation.evaluation import fact_counts
    from escalation.evaluation_tally import evaluation_tally_count, tallied_facts

    evaluation_tally_count(district=district, month=month, now=now)
    evaluation_tally_count(district=district, month=month.previous(), now=now)
    tallied, _counted_at = tallied_facts(district=district, current=month, previous=month.previous(), now=now)
    current = {key: counts for key, counts in tallied.items() if key[0] == 0}
    direct = fact_counts(district=district, current=month, now=now)
    differences = [
        (key, current.get(key), direct.get(key))
        for key in sorted(current.keys() | direct.keys(), key=str)
        if current.get(key) != direct.get(key)
    ]
    return not differences, len(direct), differences[:5]


def verdict(ms: float) -> str:
    return "met" if ms < TARGET_MS else "NOT met"


def main() -> int:  # noqa: PLR0915 - one straight script, read top to bottom
    args = parse_args()
    var_dir = configure(args)
    print(f"load average before: {load_average()}; database {database_name(args.database_url)}", flush=True)
    if not args.reuse:
        scratch_postgres(args.database_url, create=True)
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.db import connection
        from django.test import Client
        from django.utils import timezone

        from escalation import evaluation
        from escalation import statistics as stats
        from escalation.evaluation_tally import evaluation_tally_count
        from escalation.periods import Period
        from grids.models import District
        from whistle.models import Callback, Rating, Task, Whistle

        generated = None if args.reuse else prepare(args)
        settings.DEBUG = False  # what is measured runs as in production: no query log, no debug pages
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        # The tally is counted once below; every reading after that uses it, as between two beats.
        settings.EVALUATION_TALLY_MAX_AGE_S = 24 * 3600

        district = District.objects.order_by("pk").first()
        now = timezone.now()
        month = Period.current_month(now).previous()
        previous = month.previous()
        query = {"period": month.label}
        facts = {
            "whistles": Whistle.objects.count(),
            "tasks": Task.objects.count(),
            "callbacks": Callback.objects.count(),
            "ratings": Rating.objects.count(),
            "month's whistles": baseline_count(month)(),
            "month's tasks due": Task.objects.filter(
                acknowledge_due_at__gte=month.start, acknowledge_due_at__lt=month.end
            ).count(),
        }
        print(f"month {month.label} (against {previous.label}); {facts}", flush=True)

        refresh = {}
        for period in (month, previous):
            started = time.perf_counter()
            rows = evaluation_tally_count(district=district, month=period, now=now)
            refresh[period.label] = (time.perf_counter() - started, rows)
            print(f"  tally of {period.label}: {rows} rows in {refresh[period.label][0]:.2f} s", flush=True)

        supervisor = get_user_model().objects.get(username="supervisor")
        client = Client(raise_request_exception=False)
        client.force_login(supervisor)

        measurements = [
            ("ranking of departments (tally)", lambda: evaluation.ranking(district=district, period=month, level="department")),
            ("ranking of streets (tally)", lambda: evaluation.ranking(district=district, period=month, level="street")),
            ("ranking of departments (direct)", lambda: evaluation.ranking(district=district, period=month, level="department", tallied=False)),
            ("ranking of streets (direct)", lambda: evaluation.ranking(district=district, period=month, level="street", tallied=False)),
            ("department figures", lambda: evaluation.department_figures(district=district, period=month)),
            ("whistle_counts by street", lambda: stats.whistle_counts(district=district, period=month, by="street")),
            ("whistle_counts by day", lambda: stats.whistle_counts(district=district, period=month, by="day")),
            ("street_whistle_rates", lambda: stats.street_whistle_rates(district=district, period=month)),
            ("high_frequency", lambda: stats.high_frequency(district=district, period=month)),
            ("category_street_counts", lambda: stats.category_street_counts(district=district, period=month)),
            ("grid_workers", lambda: stats.grid_workers(district=district, period=month)),
            ("page: rankings", page_call(client, "/supervision/evaluation/", query)),
            ("page: rankings (streets)", page_call(client, "/supervision/evaluation/", {**query, "level": "street"})),
            ("page: statistics", page_call(client, "/supervision/evaluation/statistics/", query)),
            ("page: problems", page_call(client, "/supervision/evaluation/problems/", query)),
        ]  # fmt: skip
        base_ms, base_best, counted = timed(baseline_count(month), args.runs)
        print(f"  baseline: {base_ms:.1f} ms ({counted:,} whistles)", flush=True)
        results = []
        for label, call in measurements:
            median_ms, best_ms, _answer = timed(call, args.runs)
            results.append((label, median_ms, best_ms))
            print(f"  {label}: {median_ms:.0f} ms", flush=True)

        started = time.perf_counter()
        equal, keys, differences = compare_tally(district, month, timezone.now())
        check_seconds = time.perf_counter() - started

        line = "-" * 100
        print()
        print(line)
        print(
            f"evaluation benchmark: PostgreSQL {connection.pg_version // 10000}, {os.cpu_count()} cores, "
            f"load average now {load_average()}"
        )
        if generated is not None:
            print(
                f"generated {generated.whistles:,} whistles over {generated.days} days in {generated.seconds:.1f} s "
                f"({generated.rows_per_second:,.0f} rows/s)"
            )
        print(f"    month {month.label} against {previous.label}: {facts}")
        for label, (seconds, rows) in refresh.items():
            print(
                f"    tally refresh of {label}: {rows} rows in {seconds * 1000:.0f} ms (beat's job, every few minutes)"
            )
        print(line)
        print(f"{'measured':<36}{'median ms':>10}{'best ms':>9}{'x baseline':>12}   target {TARGET_MS:g} ms")
        print(f"{'baseline (COUNT of the month)':<36}{base_ms:>10.1f}{base_best:>9.1f}{1:>12.1f}")
        for label, median_ms, best_ms in results:
            print(f"{label:<36}{median_ms:>10.1f}{best_ms:>9.1f}{median_ms / base_ms:>12.1f}   {verdict(median_ms)}")
        print(line)
        print(
            f"tally equals the direct computation of {month.label}: {'yes' if equal else 'NO'} "
            f"({keys} keys, checked in {check_seconds:.1f} s)"
        )
        for key, tallied, direct in differences:
            print(f"    {key}: tally {tallied} direct {direct}")
        print(
            f"each: one warm-up, then {args.runs} timed (median shown); pages through Django's test client, "
            "DEBUG off; shared 2-core machine."
        )
        return 0 if equal else 1
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


if __name__ == "__main__":
    sys.exit(main())
