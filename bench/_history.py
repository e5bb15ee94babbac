"""A district's recent history of whistles, in every state, written with PostgreSQL COPY; for any benchmark to import.

Not a benchmark itself (the Makefile's `bench` target skips bench/_*.py).

    from bench._history import generate_history
    result = generate_history(whistles=100_000, now=timezone.now(), days=90)

needs Django set up on a PostgreSQL database that has been migrated and
seeded (`seed_demo`). Where bench._generate writes open, untouched tasks (the
sweep's input), this writes what pages show after a district has worked for
`days` days: whistles raised at random moments of the working day over that
period, from every source (street 70 %, 12345 hotline 15 % with a caller,
grid worker 10 %, party-building office 5 %), in the demo catalogue's
categories and grids (bench._generate.DemoDistrict), and their life so far,
simulated up to `now`:

- each summoned department acts on its task at a random share of each
  stage's window (acknowledge, check in, resolve; windows and warnings from
  escalation.policy.stage_deadlines, as routing stores them): on time mostly,
  late about one time in eight, and never again from some stage on for about
  one task in sixty (the backlog that keeps a supervisor busy); the lead
  closes only after its co-operating departments;
- the escalation ladder fires as the sweep would have, at the moment each
  step fell due (escalation.policy.ladder_next): warnings and overdues per
  stage, one supervision order per task (answered, closed, or found
  unanswered after its reply-by date with its accountability record), one
  overdue accountability record per task, with their events and notices;
- a whistle whose tasks all closed is resolved, and confirmed (closed) by its
  street a few hours to three days later;
- a few recent whistles wait for the dispatcher (no rule: no tasks) or in the
  approval chain of the party-building office (draft to approved);
- every change has its Event (actor: the reporter, the department's staff,
  the street's staff, or the router and the sweeper), every summons, ladder
  step and resolution its Notification (read once acted upon), every closed
  task its feedback form.

Tasks store their ladder marks and next step as the sweep leaves them, so a
sweep run at `now` finds almost nothing due. Joint meetings, ratings,
callbacks, extensions and attachments are not generated. Afterwards the id
sequences are reset and the tables ANALYZEd.
"""

import json
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from unittest import mock

from bench._generate import (
    DemoDistrict,
    _copy,
    _copy_text,
    _skip_row_triggers,
    check_foreign_keys,
)

# The share of each source among whistles, and a few odd fates of recent ones.
SOURCES = (("street", 0.70), ("hotline", 0.15), ("grid_worker", 0.10), ("party_office", 0.05))
LATE_SHARE = 0.04  # a stage acted on after its deadline (by up to half its window again)
STUCK_SHARE = 0.017  # a task nobody acts on any more from some stage on
DISPATCH_SHARE = 0.015  # of whistles younger than RECENT_DAYS: no rule matched, waiting for the dispatcher
APPROVAL_SHARE = 0.4  # of party-office whistles younger than RECENT_DAYS: still in the approval chain
RECENT_DAYS = 3
CONFIRM_SHARE = 0.95  # resolved whistles the street confirms (the rest wait for it)
ANSWER_SHARE = 0.6  # supervision orders the department answers before the reply-by date
CLOSE_ORDER_SHARE = 0.7  # answered orders a supervisor closes a day later
DAY_FROM, DAY_HOURS = 7.5, 13.0  # whistles are raised between 07:30 and 20:30, local time
ROUTING_STEP = 5  # minutes: whistles are routed on this grid, a few minutes after they are raised
CALLERS = ("张女士", "王先生", "李女士", "刘先生", "陈女士", "赵先生")

WHISTLE_COLUMNS = (
    "id, number, title, description, category_id, grade, source, mode, lon, lat, address, street_id, "
    "community_id, grid_id, reporter_id, caller_name, caller_phone, external_id, status, routing, "
    "created_at, submitted_at, routed_at, resolved_at, closed_at, returns, reopens, updated_at"
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
TASK_COLUMNS = (
    "id, whistle_id, department_id, role, status, acknowledge_due_at, checkin_due_at, resolve_due_at, "
    "acknowledge_warn_at, checkin_warn_at, resolve_warn_at, acknowledged_at, checked_in_at, closed_at, "
    "acknowledged_on_time, checked_in_on_time, closed_on_time, checkin_note, return_reason_code, return_reason, "
    + ", ".join(LADDER_MARKS)
    + ", next_deadline_at, next_step, created_at, updated_at"
)
EVENT_COLUMNS = "id, whistle_id, task_id, actor_id, system_actor, verb, reason, old, new, created_at"
NOTIFICATION_COLUMNS = (
    "id, department_id, street_id, recipient_id, whistle_id, task_id, verb, created_at, read_at, mail_due, emailed_at"
)
FEEDBACK_COLUMNS = "id, task_id, actions, result, note, author_id, created_at"
ORDER_COLUMNS = (
    "id, task_id, automatic, reason, reply_by, status, opened_by_id, reply, replied_by_id, replied_at, "
    "closed_by_id, closed_at, close_note, unanswered_at, created_at"
)
RECORD_COLUMNS = "id, department_id, whistle_id, task_id, order_id, kind, facts, created_at"
RECORD_EVENT_COLUMNS = "id, accountabilityrecord_id, event_id"

# (table, column, referenced table), checked after the copy (see bench._generate).
FOREIGN_KEYS = (
    ("whistle_whistle", "category_id", "departments_category"),
    ("whistle_whistle", "street_id", "grids_street"),
    ("whistle_whistle", "community_id", "grids_community"),
    ("whistle_whistle", "grid_id", "grids_grid"),
    ("whistle_whistle", "reporter_id", "auth_user"),
    ("whistle_task", "whistle_id", "whistle_whistle"),
    ("whistle_task", "department_id", "departments_department"),
    ("whistle_event", "whistle_id", "whistle_whistle"),
    ("whistle_event", "task_id", "whistle_task"),
    ("whistle_event", "actor_id", "auth_user"),
    ("whistle_notification", "whistle_id", "whistle_whistle"),
    ("whistle_notification", "task_id", "whistle_task"),
    ("whistle_notification", "department_id", "departments_department"),
    ("whistle_notification", "street_id", "grids_street"),
    ("whistle_notification", "recipient_id", "auth_user"),
    ("whistle_feedback", "task_id", "whistle_task"),
    ("whistle_feedback", "author_id", "auth_user"),
    ("escalation_supervisionorder", "task_id", "whistle_task"),
    ("escalation_supervisionorder", "replied_by_id", "auth_user"),
    ("escalation_supervisionorder", "closed_by_id", "auth_user"),
    ("escalation_accountabilityrecord", "department_id", "departments_department"),
    ("escalation_accountabilityrecord", "whistle_id", "whistle_whistle"),
    ("escalation_accountabilityrecord", "task_id", "whistle_task"),
    ("escalation_accountabilityrecord", "order_id", "escalation_supervisionorder"),
    ("escalation_accountabilityrecord_events", "accountabilityrecord_id", "escalation_accountabilityrecord"),
    ("escalation_accountabilityrecord_events", "event_id", "whistle_event"),
)
NULL = "\\N"


@dataclass
class HistoryResult:
    whistles: int
    tasks: int
    rows: dict[str, int]  # table: rows written
    whistle_statuses: dict[str, int]
    task_statuses: dict[str, int]
    seconds: float  # simulating, building the rows and COPY, in one transaction, until it committed
    analyze_seconds: float
    now: datetime
    days: int

    @property
    def rows_per_second(self) -> float:
        return sum(self.rows.values()) / self.seconds if self.seconds > 0 else float("nan")


# The text of each moment of the whistle being simulated: a moment is written several times (its
# event, its task's columns, a notice read then), and formatting costs more than a look-up.
_MOMENTS: dict[datetime, str] = {}


def _t(moment: datetime | None) -> str:
    """A moment for COPY: ISO 8601 with its offset, which PostgreSQL reads as is (cheaper than strftime)."""
    if moment is None:
        return NULL
    text = _MOMENTS.get(moment)
    if text is None:
        text = _MOMENTS[moment] = moment.isoformat()
    return text


def _b(value: bool | None) -> str:
    return NULL if value is None else ("t" if value else "f")


def _n(value) -> str:
    return NULL if value is None else str(value)


def _j(value: dict | list | None) -> str:
    return NULL if value is None else _copy_text(json.dumps(value, ensure_ascii=False, default=str))


_JSON: dict[tuple, str] = {}


def _js(**values) -> str:
    """A small JSON object of constants (an event's status change), built once per distinct value."""
    key = tuple(values.items())
    text = _JSON.get(key)
    if text is None:
        text = _JSON[key] = _j(values)
    return text


def _step_json(step: str, due: datetime) -> str:
    return f'{{"step": "{step}", "due": "{_t(due)}"}}'


class _People:
    """The demo users who act: per street by role, per department its staff and heads, the supervisors."""

    def __init__(self):
        from departments.models import Membership

        R = Membership.Role
        self.street: dict[tuple[int, str], int] = {}
        self.staff: dict[int, int] = {}
        self.heads: dict[int, list[int]] = defaultdict(list)
        self.supervisors: list[int] = []
        self.hotline: int | None = None
        for role, street_id, department_id, user_id in Membership.objects.values_list(
            "role", "street_id", "department_id", "user_id"
        ).order_by("user_id"):
            if street_id:
                self.street.setdefault((street_id, role), user_id)
            elif role == R.DEPT_STAFF:
                self.staff.setdefault(department_id, user_id)
            elif role == R.DEPT_HEAD:
                self.heads[department_id].append(user_id)
            elif role == R.SUPERVISOR:
                self.supervisors.append(user_id)
            elif role == R.HOTLINE_CLIENT and self.hotline is None:
                self.hotline = user_id

    def reporter(self, street_id: int, source: str) -> int:
        role = {"street": "street_staff", "grid_worker": "grid_worker", "party_office": "party_office"}.get(source)
        if source == "hotline" and self.hotline:
            return self.hotline
        return self.street.get((street_id, role)) or self.street[(street_id, "street_staff")]


@dataclass
class _Rows:
    """The COPY lines of every table, and the next id of each."""

    ids: dict[str, int]
    lines: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, table: str, text: str) -> int:
        pk = self.ids[table]
        self.ids[table] = pk + 1
        self.lines[table].append(f"{pk}\t{text}\n")
        return pk


class _Simulation:
    """One pass over the whistles: their tasks' lives, the ladder, and every row these write."""

    def __init__(self, *, now: datetime, days: int, rng: random.Random, rows: _Rows):
        from departments.models import Department
        from escalation.policy import current_calendar, ladder_next, stage_deadlines, supervision_reply_by

        self.now, self.days, self.rng, self.rows = now, days, rng, rows
        self.district = DemoDistrict()
        self.people = _People()
        self.calendar = current_calendar()
        self.tz = self.calendar.timezone
        self.stage_deadlines, self.ladder_next, self.reply_by = stage_deadlines, ladder_next, supervision_reply_by
        self.deadlines: dict[tuple[str, datetime], object] = {}
        self.counters: dict[tuple[int, int], int] = {}
        self.whistle_statuses: Counter = Counter()
        self.task_statuses: Counter = Counter()
        self.department_names = dict(Department.objects.values_list("pk", "name"))

    # Rows ---------------------------------------------------------------------------------

    def event(self, whistle_id, verb, at, *, task_id=None, actor=None, system="", reason="", old=None, new=None):
        return self.rows.add(
            "whistle_event",
            f"{whistle_id}\t{_n(task_id)}\t{_n(actor)}\t{system}\t{verb}\t{_copy_text(reason)}\t{old or NULL}\t"
            f"{new or NULL}\t{_t(at)}",
        )

    def notice(self, whistle_id, verb, at, *, task_id=None, department=None, street=None, recipient=None, read=None):
        read = read if read is not None and read <= self.now else None
        self.rows.add(
            "whistle_notification",
            f"{_n(department)}\t{_n(street)}\t{_n(recipient)}\t{whistle_id}\t{_n(task_id)}\t{verb}\t{_t(at)}\t"
            f"{_t(read)}\tf\t{NULL}",
        )

    # Whistles ------------------------------------------------------------------------------

    def created_moment(self) -> datetime:
        """A moment of the working day (local time) in the last `days` days, before now."""
        local_now = self.now.astimezone(self.tz)
        while True:
            day = local_now.date() - timedelta(days=self.rng.randrange(self.days))
            hours = DAY_FROM + self.rng.random() * DAY_HOURS
            moment = datetime.combine(day, datetime.min.time(), tzinfo=self.tz) + timedelta(hours=hours)
            if moment < self.now - timedelta(minutes=10):
                return moment

    def whistle(self) -> bool:
        """Simulate one whistle; False when its category has no rule in its street (draw again)."""
        district, rng = self.district, self.rng
        _MOMENTS.clear()
        category_id, title, description, grade = district.categories[rng.randrange(len(district.categories))]
        grid_id, community_id, street_id, lon, lat = district.grids[rng.randrange(len(district.grids))]
        route = district.routes.get((category_id, street_id))
        if route is None:
            return False
        created = self.created_moment()
        roll, source = rng.random(), "street"
        for name, share in SOURCES:
            if roll < share:
                source = name
                break
            roll -= share
        reporter = self.people.reporter(street_id, source)
        recent = self.now - created < timedelta(days=RECENT_DAYS)
        if recent and source == "party_office" and rng.random() < APPROVAL_SHARE:
            fate = rng.choice(("draft", "awaiting_signature", "awaiting_approval", "approved"))
        elif recent and rng.random() < DISPATCH_SHARE:
            fate = "awaiting_dispatch"
        else:
            fate = "routed"
        year = created.astimezone(self.tz).year
        number = self.counters.get((street_id, year), 0) + 1
        self.counters[(street_id, year)] = number
        wid = self.rows.ids["whistle_whistle"]
        caller = ("", "", "")
        if source == "hotline":
            caller = (rng.choice(CALLERS), f"138{rng.randrange(10**8):08d}", f"BENCH-{wid}")
        code = district.street_codes[street_id]
        head = (
            f"{code}-{year}-{number:06d}\t{title}（生成 {wid}）\t{description}\t{category_id}\t{grade}\t{source}\t"
            f"regular\t{lon}\t{lat}\t\t{street_id}\t{community_id}\t{grid_id}\t{reporter}\t{caller[0]}\t{caller[1]}\t"
            f"{caller[2]}"
        )
        if fate != "routed":
            self.unrouted(wid, head, fate, created, street_id, reporter)
            return True
        departments, explanation = route
        # The router's batches run on a five-minute grid here: a few distinct starts, deadlines computed once each.
        start = created.replace(second=0, microsecond=0) + timedelta(
            minutes=ROUTING_STEP - created.minute % ROUTING_STEP
        )
        self.event(wid, "submitted", created, actor=reporter, new=_js(status="submitted"))
        self.event(wid, "routed", start, system="router", old=_js(status="submitted"), new=_js(status="routed"))
        lives = self.task_lives(grade, start, departments)
        closes = [life["closed"] for life in lives]
        resolved = confirmed = None
        if all(moment is not None and moment <= self.now for moment in closes):
            resolved = max(closes)
            confirm = resolved + timedelta(hours=2 + rng.random() * 70)
            if confirm <= self.now and rng.random() < CONFIRM_SHARE:
                confirmed = confirm
        status = "closed" if confirmed else "resolved" if resolved else "routed"
        self.whistle_statuses[status] += 1
        self.rows.add(
            "whistle_whistle",
            f"{head}\t{status}\t{explanation}\t{_t(created)}\t{_t(created)}\t{_t(start)}\t{_t(resolved)}\t"
            f"{_t(confirmed)}\t0\t0\t{_t(confirmed or resolved or start)}",
        )
        for (department_id, role), life in zip(departments, lives, strict=True):
            self.task(wid, street_id, grade, department_id, role, start, life)
        if resolved:
            lead = self.people.staff.get(departments[0][0])
            self.event(wid, "resolved", resolved, actor=lead, old=_js(status="routed"), new=_js(status="resolved"))
            self.notice(wid, "resolved", resolved, street=street_id, read=confirmed)
        if confirmed:
            staff = self.people.street[(street_id, "street_staff")]
            self.event(wid, "confirmed", confirmed, actor=staff, old=_js(status="resolved"), new=_js(status="closed"))
        return True

    def unrouted(self, wid, head, fate, created, street_id, reporter) -> None:
        """A whistle with no tasks: waiting for the dispatcher, or in the approval chain."""
        self.whistle_statuses[fate] += 1
        if fate == "awaiting_dispatch":
            routing, submitted = _j([{"scope": "none"}]), created
            self.event(wid, "submitted", created, actor=reporter, new=_js(status="submitted"))
            self.event(
                wid,
                "awaiting_dispatch",
                created + timedelta(minutes=1),
                system="router",
                reason="No responsibility rule matches this category in this street.",
                old=_js(status="submitted"),
                new=_js(status="awaiting_dispatch"),
            )
            self.notice(wid, "awaiting_dispatch", created + timedelta(minutes=1), street=street_id)
        else:
            routing, submitted = "[]", None
            self.event(wid, "drafted", created, actor=reporter, new=_js(status="draft"))
        self.rows.add(
            "whistle_whistle",
            f"{head}\t{fate}\t{routing}\t{_t(created)}\t{_t(submitted)}\t{NULL}\t{NULL}\t{NULL}\t0\t0\t{_t(created)}",
        )

    # Tasks ---------------------------------------------------------------------------------

    def due(self, grade: str, start: datetime):
        """The deadlines of a task started at `start`, and the COPY text of its deadline columns (start included)."""
        key = (grade, start)
        found = self.deadlines.get(key)
        if found is None:
            due = self.stage_deadlines(grade=grade, start=start, calendar=self.calendar)
            text = "\t".join(
                _t(moment)
                for moment in (
                    due.acknowledge_due,
                    due.checkin_due,
                    due.resolve_due,
                    due.acknowledge_warning_at,
                    due.checkin_warning_at,
                    due.resolve_warning_at,
                )
            )
            found = self.deadlines[key] = (due, text, _t(start))
        return found

    def task_lives(self, grade: str, start: datetime, departments) -> list[dict]:
        """When each department acknowledges, checks in and closes (None: not yet, or never)."""
        (due, text, start_text), rng = self.due(grade, start), self.rng
        lives = []
        for _department, _role in departments:
            stuck = rng.randrange(3) if rng.random() < STUCK_SHARE else None
            moment, life = start, {"due": due, "text": text, "start": start_text}
            for index, (name, deadline) in enumerate(
                (("acknowledged", due.acknowledge_due), ("checked_in", due.checkin_due), ("closed", due.resolve_due))
            ):
                if stuck is not None and index >= stuck:
                    life[name] = None
                    continue
                span = max(deadline - moment, timedelta(minutes=5))
                share = 1.02 + rng.random() * 0.5 if rng.random() < LATE_SHARE else 0.05 + rng.random() * 0.8
                moment = moment + span * share
                life[name] = moment
            lives.append(life)
        # The lead closes last: only once every co-operating department has closed its part.
        others = [life["closed"] for life in lives[1:]]
        if lives[0]["closed"] is not None and others:
            if any(moment is None for moment in others):
                lives[0]["closed"] = None
            else:
                lives[0]["closed"] = max(lives[0]["closed"], max(others) + timedelta(minutes=10))
        return lives

    def task(self, wid, street_id, grade, department_id, role, start, life) -> None:
        due, now = life["due"], self.now
        tid = self.rows.ids["whistle_task"]
        staff = self.people.staff.get(department_id)
        state = SimpleNamespace(
            status="pending",
            acknowledge_due_at=due.acknowledge_due,
            checkin_due_at=due.checkin_due,
            resolve_due_at=due.resolve_due,
            acknowledge_warn_at=due.acknowledge_warning_at,
            checkin_warn_at=due.checkin_warning_at,
            resolve_warn_at=due.resolve_warning_at,
            **dict.fromkeys(LADDER_MARKS),
        )
        steps = (
            ("acknowledged", "acknowledged", "acknowledge_due_at"),
            ("checked_in", "checked_in", "checkin_due_at"),
            ("closed", "closed", "resolve_due_at"),
        )
        acted, on_time = {}, {}
        for name, status, due_field in steps:
            moment = life[name]
            limit = now if moment is None or moment > now else moment
            self.ladder(state, wid, tid, street_id, department_id, grade, limit, next_act=moment)
            if moment is None or moment > now:
                break
            on_time[name] = moment <= getattr(state, due_field)
            self.event(
                wid,
                status,
                moment,
                task_id=tid,
                actor=staff,
                old=_js(status=state.status),
                new=_js(status=status, on_time=on_time[name]),
            )
            state.status, acted[name] = status, moment
        next_at, next_step = self.ladder_next(state, grade=grade)
        self.task_statuses[state.status] += 1
        self.rows.add(
            "whistle_task",
            "\t".join(
                (
                    str(wid),
                    str(department_id),
                    role,
                    state.status,
                    life["text"],
                    _t(acted.get("acknowledged")),
                    _t(acted.get("checked_in")),
                    _t(acted.get("closed")),
                    _b(on_time.get("acknowledged")),
                    _b(on_time.get("checked_in")),
                    _b(on_time.get("closed")),
                    "",
                    "",
                    "",
                    *(_t(getattr(state, mark)) for mark in LADDER_MARKS),
                    _t(next_at),
                    next_step,
                    life["start"],
                    _t(max(acted.values())) if acted else life["start"],
                )
            ),
        )
        self.notice(wid, "summoned", start, task_id=tid, department=department_id, read=life["acknowledged"])
        if "closed" in acted:
            solved = self.rng.random() < 0.9
            self.rows.add(
                "whistle_feedback",
                f"{tid}\t已到现场核实并处置完毕，现场已恢复。\t{'solved' if solved else 'partly_solved'}\t"
                f"{'' if solved else '部分问题需长期治理。'}\t{staff}\t{_t(acted['closed'])}",
            )

    # The escalation ladder -------------------------------------------------------------------

    def ladder(self, state, wid, tid, street_id, department_id, grade, limit, *, next_act) -> None:
        """Fire every ladder step due by `limit` (the next act, or now), as the sweep would have."""
        for _round in range(len(LADDER_MARKS) + 1):
            at, step = self.ladder_next(state, grade=grade)
            if at is None or at > limit:
                return
            self.fire(state, step, at, wid, tid, street_id, department_id, grade, next_act)

    def fire(self, state, step, at, wid, tid, street_id, department_id, grade, next_act) -> None:
        people, rng = self.people, self.rng
        read_later = at + timedelta(hours=4 + rng.random() * 40)
        if step.endswith("_warning"):
            setattr(state, f"{step.removesuffix('_warning')}_warned_at", at)
            self.event(wid, "warning", at, task_id=tid, system="sweeper", new=_step_json(step, at))
            self.notice(wid, "warning", at, task_id=tid, department=department_id, read=next_act)
        elif step.endswith("_overdue"):
            setattr(state, f"{step.removesuffix('_overdue')}_overdue_at", at)
            self.event(wid, "overdue", at, task_id=tid, system="sweeper", new=_step_json(step, at))
            for head in people.heads.get(department_id, []):
                self.notice(wid, "overdue", at, task_id=tid, recipient=head, read=read_later)
            self.notice(wid, "overdue", at, task_id=tid, street=street_id, read=read_later)
        elif step == "supervision":
            state.supervised_at = at
            self.event(wid, "supervision_ordered", at, task_id=tid, system="sweeper", new=_step_json(step, at))
            self.order(wid, tid, department_id, grade, at, done=next_act)
            self.notice(wid, "supervision_order", at, task_id=tid, department=department_id, read=next_act)
            for supervisor in people.supervisors:
                self.notice(wid, "supervision_order", at, task_id=tid, recipient=supervisor, read=read_later)
        elif step == "accountability":
            state.accountable_at = at
            event = self.event(wid, "accountability_recorded", at, task_id=tid, system="sweeper", new=_js(step=step))
            self.record(wid, tid, department_id, None, "overdue", "逾期超过问责时限，仍未办理。", at, event)
            for supervisor in people.supervisors:
                self.notice(wid, "accountability", at, task_id=tid, recipient=supervisor, read=read_later)
        else:
            raise ValueError(f"unknown ladder step {step!r}")

    def order(self, wid, tid, department_id, grade, at, *, done) -> None:
        """The automatic supervision order and what became of it by now (`done`: when the late stage was done)."""
        rng, now = self.rng, self.now
        reply_by = self.reply_by(at, grade=grade, calendar=self.calendar)
        staff = self.people.staff.get(department_id)
        supervisor = self.people.supervisors[0] if self.people.supervisors else None
        status, reply, replied_by, replied_at = "open", "", None, None
        closed_by = closed_at = unanswered_at = None
        answer = at + (reply_by - at) * (0.1 + 0.8 * rng.random())
        if rng.random() < ANSWER_SHARE and answer <= now:
            status, reply, replied_by, replied_at = "answered", "已安排专人处置，将按时办结。", staff, answer
            close = answer + timedelta(days=1)
            if rng.random() < CLOSE_ORDER_SHARE and close <= now and supervisor:
                status, closed_by, closed_at = "closed", supervisor, close
        elif reply_by <= now:
            unanswered_at = reply_by
            # Left open while the task stays late; a supervisor closes it a day after the stage is done.
            close = max(done, reply_by) + timedelta(days=1) if done is not None else None
            if close is not None and close <= now and supervisor:
                status, closed_by, closed_at = "closed", supervisor, close
        name = self.department_names.get(department_id, "")
        oid = self.rows.add(
            "escalation_supervisionorder",
            f"{tid}\tt\t{_copy_text(name)}逾期未办结，请说明原因并限期办理。\t{_t(reply_by)}\t{status}\t{NULL}\t"
            f"{reply}\t{_n(replied_by)}\t{_t(replied_at)}\t{_n(closed_by)}\t{_t(closed_at)}\t"
            f"{'' if closed_at is None else '已核实。'}\t{_t(unanswered_at)}\t{_t(at)}",
        )
        if unanswered_at is not None:
            event = self.event(
                wid,
                "order_unanswered",
                unanswered_at,
                task_id=tid,
                system="sweeper",
                new=_j({"reply_by": reply_by.isoformat()}),
            )
            self.record(wid, tid, department_id, oid, "unanswered_order", "督办单逾期未答复。", unanswered_at, event)

    def record(self, wid, tid, department_id, order_id, kind, facts, at, event) -> None:
        rid = self.rows.add(
            "escalation_accountabilityrecord",
            f"{department_id}\t{wid}\t{tid}\t{_n(order_id)}\t{kind}\t{facts}\t{_t(at)}",
        )
        self.rows.add("escalation_accountabilityrecord_events", f"{rid}\t{event}")


def _drop_plain_indexes(tables: list[str]) -> list[str]:
    """Drop the indexes of `tables` that back no constraint, in this transaction; their definitions, to recreate.

    Building an index once over the copied rows is several times faster than
    updating it row by row during the COPY (the event and notice tables carry
    five to eight indexes). Primary keys and constraints stay.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
            "AND i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conindid = format('%%I.%%I', i.schemaname, i.indexname)::regclass)",
            [tables],
        )
        found = cursor.fetchall()
        for name, _definition in found:
            cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _name, definition in found]


TABLES = (
    ("whistle_whistle", WHISTLE_COLUMNS),
    ("whistle_task", TASK_COLUMNS),
    ("whistle_event", EVENT_COLUMNS),
    ("whistle_notification", NOTIFICATION_COLUMNS),
    ("whistle_feedback", FEEDBACK_COLUMNS),
    ("escalation_supervisionorder", ORDER_COLUMNS),
    ("escalation_accountabilityrecord", RECORD_COLUMNS),
    ("escalation_accountabilityrecord_events", RECORD_EVENT_COLUMNS),
)


def generate_history(*, whistles: int, now: datetime, days: int = 90, seed: int = 2026, progress=None) -> HistoryResult:
    """Write `whistles` whistles with their history up to `now` (see the module notes). PostgreSQL only."""
    from django.apps import apps
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from escalation import policy
    from whistle.models import WhistleNumberSequence

    if connection.vendor != "postgresql":
        raise SystemExit("the generator writes with PostgreSQL's COPY: it needs a PostgreSQL database")
    models = {model._meta.db_table: model for model in apps.get_models(include_auto_created=True)}
    started = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            first = {}
            for table, _columns in TABLES:
                cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")  # noqa: S608 - our table names
                first[table] = cursor.fetchone()[0]
        rows = _Rows(ids=dict(first))
        simulation = _Simulation(now=now, days=days, rng=random.Random(seed), rows=rows)
        simulation.counters = {
            (street_id, year): last
            for street_id, year, last in WhistleNumberSequence.objects.values_list("street_id", "year", "last")
        }
        made = 0
        # ladder_next() and supervision_reply_by() read the calendar's version stamp at every call (a
        # query); nothing changes the calendar during the generation, so one snapshot serves it all.
        snapshot = policy._snapshots.get()
        with mock.patch.object(policy._snapshots, "get", new=lambda: snapshot):
            while made < whistles:
                if simulation.whistle():
                    made += 1
                    if progress and made % 20_000 == 0:
                        progress(f"  {made:,} whistles simulated after {time.perf_counter() - started:.1f} s")
        unchecked = _skip_row_triggers()
        indexes = _drop_plain_indexes([table for table, _columns in TABLES])
        connection.ensure_connection()
        with connection.connection.cursor() as cursor:
            for table, columns in TABLES:
                _copy(cursor, table, columns, rows.lines[table])
        if progress:
            progress(f"  copied after {time.perf_counter() - started:.1f} s; indexing ...")
        with connection.cursor() as cursor:
            for definition in indexes:
                cursor.execute(definition)
        if progress:
            progress(f"  indexed after {time.perf_counter() - started:.1f} s")
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [models[table] for table, _c in TABLES]):
                cursor.execute(sql)
        for (street_id, year), last in simulation.counters.items():
            WhistleNumberSequence.objects.update_or_create(street_id=street_id, year=year, defaults={"last": last})
        if unchecked:
            check_foreign_keys(keys=FOREIGN_KEYS, first=first)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(table for table, _columns in TABLES))
    return HistoryResult(
        whistles=made,
        tasks=rows.ids["whistle_task"] - first["whistle_task"],
        rows={table: rows.ids[table] - first[table] for table, _columns in TABLES},
        whistle_statuses=dict(simulation.whistle_statuses),
        task_statuses=dict(simulation.task_statuses),
        seconds=seconds,
        analyze_seconds=time.perf_counter() - started,
        now=now,
        days=days,
    )
