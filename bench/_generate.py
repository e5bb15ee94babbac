"""Open tasks by the million on the demo district, written with PostgreSQL COPY; for any benchmark to import.

Not a benchmark itself (the Makefile's `bench` target skips bench/_*.py).

    from bench._generate import generate_open_tasks
    result = generate_open_tasks(tasks=1_000_000, warn_from=moment, spread=timedelta(minutes=60))

needs Django set up on a PostgreSQL database that has been migrated and
seeded (`seed_demo`). It writes, in one transaction:

- whistles, about one per 2.2 tasks: status routed, source street, numbered
  `S01-2026-000123` from each street's counter (the counters are moved past
  them, so later submits do not collide), a random category of the
  catalogue with its default grade, a random grid of the demo district (its
  community, street and a point inside it), the street's `sNN_staff` as
  reporter, and the routing explanation the catalogue gives;
- their tasks: one for each department the responsibility catalogue
  summons for the category in that street (lead first, then co-operating;
  unique per whistle as in routing). A catalogue that summons fewer or more
  departments than --per-whistle asks for on average is followed as is: the
  whistle count is what gives N tasks;
- every task open and untouched: `status='pending'`, no ladder marks,
  `next_step='acknowledge_warning'`, `next_deadline_at=acknowledge_warn_at`.
  Its deadlines are escalation.policy.stage_deadlines() of its grade from
  its creation moment (the routing moment), as routing stores them
  (whistle.services.routing.task_deadlines).

The creation moments are chosen per grade so that the acknowledgement
warnings fall evenly, to the second, in [warn_from, warn_from + spread):
a moment `now` inside that range has about (now - warn_from) / spread of the
tasks due, and nothing else of their ladder is due while now - warn_from is
shorter than the gap between warning and deadline (7.5 minutes for the
priority grade's 30-minute window). Pick `warn_from` on a working day,
late enough in the morning that every grade's start is within working hours.

Afterwards the id sequences are reset and both tables ANALYZEd.
"""

import json
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# COPY chunks: big enough to keep the per-call overhead out, small enough to stream.
CHUNK_ROWS = 20_000

WHISTLE_COLUMNS = (
    "id, number, title, description, category_id, grade, source, mode, lon, lat, address, street_id, "
    "community_id, grid_id, reporter_id, caller_name, caller_phone, external_id, status, routing, "
    "created_at, submitted_at, routed_at, returns, reopens, updated_at"
)
TASK_COLUMNS = (
    "id, whistle_id, department_id, role, status, acknowledge_due_at, checkin_due_at, resolve_due_at, "
    "acknowledge_warn_at, checkin_warn_at, resolve_warn_at, checkin_note, return_reason_code, return_reason, "
    "next_deadline_at, next_step, created_at, updated_at"
)


@dataclass
class GenerateResult:
    whistles: int
    tasks: int
    seconds: float  # building the rows and COPY, in one transaction, until it committed
    analyze_seconds: float
    warn_from: datetime
    spread: timedelta
    grades: dict[str, int]  # tasks per grade

    @property
    def rows_per_second(self) -> float:
        return (self.whistles + self.tasks) / self.seconds if self.seconds > 0 else float("nan")


def _copy_text(value: str) -> str:
    """A value for COPY's text format (the generator's own strings: no tabs or newlines, but be safe)."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")


class DemoDistrict:
    """What the generator takes from the seeded demo district: grids, reporters, categories, the catalogue."""

    def __init__(self):
        import shapely
        from django.contrib.auth import get_user_model

        from departments.catalogue import current_catalogue
        from departments.models import Category, Membership
        from grids.geometry import parse_boundary
        from grids.models import Grid

        self.grids = []  # (grid_id, community_id, street_id, lon, lat)
        for grid in Grid.objects.select_related("community").order_by("pk"):
            point = shapely.point_on_surface(parse_boundary(grid.boundary))
            self.grids.append(
                (grid.pk, grid.community_id, grid.community.street_id, round(point.x, 7), round(point.y, 7))
            )
        if not self.grids:
            raise SystemExit("the demo district has no grids: run seed_demo first")
        users = get_user_model().objects.filter(membership__role=Membership.Role.STREET_STAFF)
        self.reporters = dict(users.values_list("membership__street_id", "pk"))
        self.street_codes = dict(Grid.objects.values_list("community__street_id", "community__street__code").distinct())
        catalogue = current_catalogue()
        # Per (category, street): [(department id, role)] and the routing explanation as COPY text.
        self.routes: dict[tuple[int, int], tuple[list[tuple[int, str]], str]] = {}
        self.categories = []  # (id, title prefix, description, grade) of categories someone leads somewhere
        for category in Category.objects.order_by("code"):
            usable = False
            for street_id in self.street_codes:
                assignments = catalogue.match(category_id=category.pk, street_id=street_id)
                if assignments:
                    usable = True
                    explanation = json.dumps([a.explanation() for a in assignments], ensure_ascii=False)
                    self.routes[(category.pk, street_id)] = (
                        [(a.department.pk, a.role) for a in assignments],
                        _copy_text(explanation),
                    )
            if usable:
                self.categories.append(
                    (
                        category.pk,
                        _copy_text(category.name),
                        _copy_text(f"压测生成的{category.name}事项：按职责清单派单。"),
                        category.default_grade,
                    )
                )
        if not self.categories:
            raise SystemExit("the responsibility catalogue summons nobody: run seed_demo first")


class _Deadlines:
    """COPY text of a task's deadline columns, per grade and creation second, computed once each."""

    def __init__(self, *, warn_from: datetime, grades: set[str]):
        from escalation.policy import current_calendar, stage_deadlines

        self.stage_deadlines = stage_deadlines
        self.calendar = current_calendar()
        # The warning of a window that starts on the same working morning is a fixed
        # offset after its start; start each grade that much before warn_from.
        probe = warn_from.replace(hour=8, minute=40, second=0, microsecond=0)
        self.base = {}
        for grade in grades:
            due = stage_deadlines(grade=grade, start=probe, calendar=self.calendar)
            self.base[grade] = warn_from - (due.acknowledge_warning_at - probe)
        self.cache: dict[tuple[str, int], tuple[str, str, datetime]] = {}

    def get(self, grade: str, second: int) -> tuple[str, str, datetime]:
        """(created_at text, the task row from `status` to the end, acknowledge_warn_at)."""
        key = (grade, second)
        found = self.cache.get(key)
        if found is None:
            start = self.base[grade] + timedelta(seconds=second)
            due = self.stage_deadlines(grade=grade, start=start, calendar=self.calendar)
            created = _stamp(start)
            # Regular mode: routing's task_deadlines() stores the policy's moments as they are.
            tail = "\t".join(
                (
                    "pending",
                    _stamp(due.acknowledge_due),
                    _stamp(due.checkin_due),
                    _stamp(due.resolve_due),
                    _stamp(due.acknowledge_warning_at),
                    _stamp(due.checkin_warning_at),
                    _stamp(due.resolve_warning_at),
                    "",
                    "",
                    "",
                    _stamp(due.acknowledge_warning_at),
                    "acknowledge_warning",
                    created,
                    created,
                )
            )
            found = self.cache[key] = (created, tail + "\n", due.acknowledge_warning_at)
        return found


def _copy(cursor, table: str, columns: str, lines) -> None:
    from psycopg.copy import QueuedLibpqWriter

    # The queued writer sends from a thread: the server stores one chunk while Python builds the next.
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN", writer=QueuedLibpqWriter(cursor)) as copy:
        chunk = []
        for line in lines:
            chunk.append(line)
            if len(chunk) >= CHUNK_ROWS:
                copy.write("".join(chunk))
                chunk.clear()
        if chunk:
            copy.write("".join(chunk))


# The foreign keys of the columns the generator writes: (table, column, referenced table).
FOREIGN_KEYS = (
    ("whistle_whistle", "category_id", "departments_category"),
    ("whistle_whistle", "street_id", "grids_street"),
    ("whistle_whistle", "community_id", "grids_community"),
    ("whistle_whistle", "grid_id", "grids_grid"),
    ("whistle_whistle", "reporter_id", "auth_user"),
    ("whistle_task", "whistle_id", "whistle_whistle"),
    ("whistle_task", "department_id", "departments_department"),
)


def _skip_row_triggers() -> bool:
    """Switch off the row triggers that check foreign keys, for this transaction, if we may (superuser).

    Django's foreign keys are deferred: every copied row would queue a check,
    run one by one at commit (about 70 % of the time at a million rows).
    The rows are consistent by construction; _check_foreign_keys() proves it
    with one anti-join per key instead.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if not cursor.fetchone()[0]:
            return False
        cursor.execute("SET LOCAL session_replication_role = replica")
    return True


def check_foreign_keys(*, keys=FOREIGN_KEYS, first: dict[str, int]) -> None:
    """Prove the rows copied without checks point somewhere: one anti-join per (table, column, target) of `keys`.

    `first` gives each table's first generated id; older rows are not looked at.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = origin")
        for table, column, target in keys:
            cursor.execute(
                f"SELECT count(*) FROM {table} t LEFT JOIN {target} r ON r.id = t.{column} "  # noqa: S608 - constants
                f"WHERE t.id >= %s AND t.{column} IS NOT NULL AND r.id IS NULL",
                [first[table]],
            )
            dangling = cursor.fetchone()[0]
            if dangling:
                raise RuntimeError(f"generated {dangling} rows of {table} whose {column} points nowhere")


def _check_foreign_keys(*, next_whistle: int, next_task: int) -> None:
    check_foreign_keys(first={"whistle_whistle": next_whistle, "whistle_task": next_task})


def generate_open_tasks(
    *,
    tasks: int,
    warn_from: datetime,
    spread: timedelta = timedelta(minutes=60),
    seed: int = 2026,
    progress=None,
) -> GenerateResult:
    """Write `tasks` open tasks (and their whistles) with COPY; see the module notes. PostgreSQL only."""
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.db.models import Max

    from whistle.models import Task, Whistle, WhistleNumberSequence

    if connection.vendor != "postgresql":
        raise SystemExit("the generator writes with PostgreSQL's COPY: it needs a PostgreSQL database")
    rng = random.Random(seed)
    district = DemoDistrict()
    seconds = max(1, int(spread.total_seconds()))
    deadlines = _Deadlines(warn_from=warn_from, grades={grade for *_rest, grade in district.categories})
    year = warn_from.astimezone(deadlines.calendar.timezone).year
    started = time.perf_counter()
    with transaction.atomic():
        next_whistle = (Whistle.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
        next_task = (Task.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
        counters = dict(WhistleNumberSequence.objects.filter(year=year).values_list("street_id", "last"))
        # The whistles' plan first (ids, grade, second, routes): the tasks' pass reads it back.
        plan: list[tuple[int, str, int, list[tuple[int, str]]]] = []
        planned_tasks = 0
        grades: dict[str, int] = {}

        def whistle_lines():
            nonlocal planned_tasks
            wid = next_whistle
            categories, grids, routes = district.categories, district.grids, district.routes
            while planned_tasks < tasks:
                category_id, title, description, grade = categories[rng.randrange(len(categories))]
                grid_id, community_id, street_id, lon, lat = grids[rng.randrange(len(grids))]
                route = routes.get((category_id, street_id))
                if route is None:
                    continue  # nobody leads this category in that street: routing would not summon anyone
                departments, explanation = route
                departments = departments[: tasks - planned_tasks]
                second = rng.randrange(seconds)
                created, _tail, _warn = deadlines.get(grade, second)
                number = counters.get(street_id, 0) + 1
                counters[street_id] = number
                code = district.street_codes[street_id]
                plan.append((wid, grade, second, departments))
                planned_tasks += len(departments)
                grades[grade] = grades.get(grade, 0) + len(departments)
                yield (
                    f"{wid}\t{code}-{year}-{number:06d}\t{title}（压测 {wid}）\t{description}\t{category_id}\t"
                    f"{grade}\tstreet\tregular\t{lon}\t{lat}\t\t{street_id}\t{community_id}\t{grid_id}\t"
                    f"{district.reporters[street_id]}\t\t\t\trouted\t{explanation}\t{created}\t{created}\t"
                    f"{created}\t0\t0\t{created}\n"
                )
                wid += 1
                if progress and len(plan) % 100_000 == 0:
                    progress(f"  {len(plan):,} whistles, {planned_tasks:,} tasks planned")

        def task_lines():
            tid = next_task
            for wid, grade, second, departments in plan:
                tail = deadlines.get(grade, second)[1]
                for department_id, role in departments:
                    yield f"{tid}\t{wid}\t{department_id}\t{role}\t{tail}"
                    tid += 1

        unchecked = _skip_row_triggers()
        connection.ensure_connection()
        with connection.connection.cursor() as cursor:
            _copy(cursor, Whistle._meta.db_table, WHISTLE_COLUMNS, whistle_lines())
            if progress:
                progress(f"  whistles copied after {time.perf_counter() - started:.1f} s; copying tasks ...")
            _copy(cursor, Task._meta.db_table, TASK_COLUMNS, task_lines())
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [Whistle, Task]):
                cursor.execute(sql)
        for street_id, last in counters.items():
            WhistleNumberSequence.objects.update_or_create(street_id=street_id, year=year, defaults={"last": last})
        if unchecked:
            _check_foreign_keys(next_whistle=next_whistle, next_task=next_task)
    seconds_taken = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Whistle._meta.db_table}, {Task._meta.db_table}")
    return GenerateResult(
        whistles=len(plan),
        tasks=planned_tasks,
        seconds=seconds_taken,
        analyze_seconds=time.perf_counter() - started,
        warn_from=warn_from,
        spread=spread,
        grades=grades,
    )
