"""Helpers shared by the benchmarks: scratch databases, child processes, waiting, percentiles.

Not a benchmark itself (the Makefile's `bench` target skips bench/_*.py).
"""

import math
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def scratch_postgres(url: str, *, create: bool) -> None:
    """Drop the PostgreSQL database named in `url` (and create it afresh when `create`).

    Refuses a name without "bench" in it: this is only ever a scratch database.
    """
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = database_name(url)
    if "bench" not in name:
        raise SystemExit(f"refusing to drop and create the database {name!r}: its name must contain 'bench'")
    maintenance = urlunsplit(("postgresql", parts.netloc, "/postgres", parts.query, ""))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if create:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def delete_redis_keys(url: str, fragment: str) -> int:
    """Delete the keys of the Redis database in `url` whose name contains `fragment` (a private queue name)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"*{fragment}*", count=1000))
        return client.delete(*keys) if keys else 0
    finally:
        client.close()


class Child:
    """A child process in its own process group, logging to a file; stop() ends the whole group."""

    def __init__(self, name: str, argv: Sequence[str], *, env: dict[str, str], log_path: Path):
        self.name = name
        self.log_path = log_path
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                list(argv), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, size: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-size:]
        except FileNotFoundError:
            return "(no log)"

    def stop(self, timeout: float = 30) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def wait_for(probe: Callable[[], bool], *, timeout: float, interval: float = 0.1) -> bool:
    """Call `probe` until it is true (True) or `timeout` seconds have passed (False)."""
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
    return True


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) of `values`, nearest rank; nan for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def history_database(*, whistles: int, days: int, seed: int, extra: Callable[[], None] | None = None) -> object:
    """Migrate, seed the demo district, write bench._history's whistles with COPY, run `extra`, VACUUM ANALYZE.

    Prints each step's time; returns what the generator reports.
    """
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from bench._history import generate_history

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("seed_demo", verbosity=0, stdout=quiet)
    print(f"migrated and seeded in {time.perf_counter() - started:.1f} s", flush=True)
    print(f"generating {whistles:,} whistles over {days} days with COPY ...", flush=True)
    generated = generate_history(
        whistles=whistles, now=timezone.now(), days=days, seed=seed, progress=lambda m: print(m, flush=True)
    )
    print(
        f"generated {generated.whistles:,} whistles, {generated.tasks:,} tasks, "
        f"{sum(generated.rows.values()):,} rows in {generated.seconds:.1f} s",
        flush=True,
    )
    if extra is not None:
        extra()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"VACUUM ANALYZE in {time.perf_counter() - started:.1f} s", flush=True)
    return generated
