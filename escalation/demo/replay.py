"""Playing the demo stories through the real services, in time order, with the beat's sweeps between them.

See escalation.demo for what and why.
"""

import heapq
import itertools
import random
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from departments.catalogue import LEAD, current_catalogue
from departments.demo import DemoSeedError, demo_district_data
from departments.models import Department, Membership
from escalation.demo import texts
from escalation.demo.stories import HOUR, SEED, Step, Story, plan_stories
from escalation.demo.world import DemoWorld
from escalation.models import AccountabilityRecord, SupervisionOrder
from escalation.services import deadlines_sweep, open_tasks_tally, supervision_order_close, supervision_order_reply
from grids.models import District
from whistle.models import Callback, Event, Extension, JointMeeting, Notification, Rating, Task, Whistle
from whistle.services import (
    extension_decide,
    meeting_check_in,
    meeting_close,
    meeting_schedule,
    task_acknowledge,
    task_check_in,
    task_close,
    task_progress,
    task_request_extension,
    task_return,
    whistle_approve,
    whistle_callback,
    whistle_confirm,
    whistle_dispatch,
    whistle_issue,
    whistle_rate,
    whistle_reject,
    whistle_reopen,
    whistle_request_signature,
    whistle_sign,
    whistle_submit,
    whistles_route_waiting,
)
from whistle.task_selectors import with_stage

DEFAULT_COUNT = 150
# Whistles raised longer ago than this are "from the past" in the summary.
PAST = timedelta(days=3)
MINUTE = timedelta(minutes=1)
R, S, T = Membership.Role, Whistle.Status, Task.Status
Source = Whistle.Source


@dataclass(frozen=True)
class DemoActivityResult:
    district: str
    created: bool
    whistles: int
    streets: int = 0
    past: int = 0  # raised more than PAST ago
    days: int = 0  # how far back the oldest whistle goes
    statuses: dict[str, int] = field(default_factory=dict)
    tasks: dict[str, int] = field(default_factory=dict)
    lights: dict[str, int] = field(default_factory=dict)  # of the open tasks: green, yellow, red
    calls: dict[str, int] = field(default_factory=dict)  # service calls, by the verb of the event each writes
    swept: dict[str, int] = field(default_factory=dict)  # ladder steps the sweeps fired
    totals: dict[str, int] = field(default_factory=dict)


@transaction.atomic
def demo_activity_seed(
    *,
    district: District | None = None,
    count: int = DEFAULT_COUNT,
    streets: Iterable[str] | None = None,
    now: datetime | None = None,
) -> DemoActivityResult:
    """Play a month of demo work in the demo district (or `district`), ending now; nothing if it has whistles.

    Refuses unless DEBUG is on, like seed_demo: it acts as the demo users, whose password is published.
    `streets` (codes) narrows it to some streets.
    """
    if not settings.DEBUG:
        raise DemoSeedError(
            _("Demo activity is only added with DEBUG on: it acts as the demo users, who share a published password.")
        )
    now = now or timezone.now()
    district = district or _demo_district()
    existing = Whistle.objects.filter(street__district=district).count()
    if existing:
        return DemoActivityResult(district=district.name, created=False, whistles=existing)
    world = DemoWorld.load(district=district, codes=streets)
    replay = _Replay(world=world, stories=plan_stories(world=world, count=count, now=now), now=now)
    replay.run()
    return _summary(district=district, streets=len(world.streets), replay=replay, now=now)


def _demo_district() -> District:
    code = demo_district_data()["district"]["code"]
    district = District.objects.filter(code=code).first()
    if district is None:
        raise DemoSeedError(_("The demo district %(code)s is not there: run seed_demo first.") % {"code": code})
    return district


# Playing the stories ---------------------------------------------------------------------------


class _Replay:
    """Play every story's steps in time order through the services, sweeping as the beat would."""

    def __init__(self, *, world: DemoWorld, stories: list[Story], now: datetime):
        self.world, self.stories, self.now = world, stories, now
        self.queue: list[tuple[datetime, int, Callable[[datetime], None]]] = []
        self.order = itertools.count()
        self.clock: datetime | None = None  # the moment of the last step or sweep played
        self.calls: Counter = Counter()
        self.swept: Counter = Counter()
        self.rng = random.Random(f"{SEED}:orders")  # nosec B311 # repeatable demo activity, not a secret

    def run(self) -> None:
        for story in self.stories:
            for step in story.steps:
                self._push(step.at, self._step(story, step))
        while self.queue:
            at, _order, action = heapq.heappop(self.queue)
            self._catch_up(until=at)
            action(at)
            self.clock = at
        # The beat's sweep and count at the present, as the dashboards read them.
        self._catch_up(until=self.now)
        self._sweep(self.now)
        open_tasks_tally(now=self.now)

    def _push(self, at: datetime, action: Callable[[datetime], None]) -> None:
        if at > self.now:
            raise DemoSeedError(f"a demo step at {at} lies in the future")  # a bug in a script, never the data
        heapq.heappush(self.queue, (at, next(self.order), action))

    def _sweep_soon(self, at: datetime) -> None:
        """The beat's next sweep, for what is not a deadline: a whistle returned for the third time."""
        tick = _beat(at + timedelta(microseconds=1))
        if tick <= self.now:
            self._push(tick, self._sweep)

    def _step(self, story: Story, step: Step) -> Callable[[datetime], None]:
        method = getattr(self, f"_{step.action}")
        return lambda at: method(story, at, **step.args)

    def _catch_up(self, *, until: datetime) -> None:
        """Sweep at each moment up to `until` when a ladder step or a reply-by date falls due, as the beat would.

        The beat sweeps every minute, nights and holidays included; sweeping
        at the first minute after each due moment fires the same steps at the
        same times, for a few hundred sweeps instead of tens of thousands.
        """
        last = None
        while True:
            due = [
                Task.objects.filter(next_deadline_at__lte=until).aggregate(at=Min("next_deadline_at"))["at"],
                SupervisionOrder.objects.filter(
                    status=SupervisionOrder.Status.OPEN, unanswered_at=None, reply_by__lte=until
                ).aggregate(at=Min("reply_by"))["at"],
            ]
            due = min((moment for moment in due if moment is not None), default=None)
            if due is None:
                return
            tick = max(_beat(due), self.clock or due)
            if tick > until:
                return
            if (due, tick) == last:
                raise DemoSeedError(f"the sweep at {tick} left a step due at {due}")  # never expected
            last = due, tick
            self._sweep(tick)

    def _sweep(self, at: datetime) -> None:
        result = deadlines_sweep(now=at)
        self.swept.update(result.steps)
        self.clock = at
        if result.steps.get("supervision"):
            self._answer_orders(at)

    def _answer_orders(self, at: datetime) -> None:
        """Most departments answer a supervision order within the day; supervisors close some answered ones."""
        for order in SupervisionOrder.objects.filter(created_at=at, automatic=True).select_related("task"):
            if self.rng.random() < 0.35:
                continue  # unanswered: the sweep records it once its reply-by date passes
            replied = at + timedelta(minutes=self.rng.uniform(HOUR, 20 * HOUR))
            if replied <= self.now:
                self._push(replied, lambda when, order=order: self._answer(order, when))
                closed = replied + timedelta(minutes=self.rng.uniform(4 * HOUR, 30 * HOUR))
                if self.rng.random() < 0.5 and closed <= self.now and self.world.supervisor is not None:
                    self._push(closed, lambda when, order=order: self._close_order(order, when))

    def _answer(self, order: SupervisionOrder, at: datetime) -> None:
        actor = self.world.department_user(order.task.department_id)
        supervision_order_reply(order=order, actor=actor, reply=self.rng.choice(texts.ORDER_REPLIES), now=at)
        self.calls["order_answered"] += 1

    def _close_order(self, order: SupervisionOrder, at: datetime) -> None:
        supervision_order_close(order=order, actor=self.world.supervisor, note=texts.ORDER_CLOSE_NOTE, now=at)
        self.calls["order_closed"] += 1

    # Raising and approval

    def _submit(self, story: Story, at: datetime) -> None:
        intro = texts.INTROS[story.source]
        description = (
            f"{intro}{story.street.name}{story.community.name}{story.place}"
            f"{story.problem.detail.format(category=story.category.name)}。"
            f"{story.rng.choice(texts.IMPACTS)}{texts.ASK.format(category=story.category.name)}"
        )
        extra = {}
        if story.source == Source.HOTLINE:
            extra = {
                "caller_name": story.caller,
                "caller_phone": f"1{story.rng.choice('3589')}{story.rng.randrange(10**9):09d}",
                "external_id": f"12345-{timezone.localtime(at):%Y%m%d}-{story.index:04d}",
            }
        if story.mode == Whistle.Mode.QUICK:
            extra["appointed_checkin_at"] = story.marks["appointed"]
        result = whistle_submit(
            reporter=story.reporter,
            title=story.title,
            description=description,
            category=story.category.code,
            grade=story.grade,
            source=story.source,
            mode=story.mode,
            lon=story.point[0],
            lat=story.point[1],
            address=story.address,
            now=at,
            **extra,
        )
        story.whistle = result.whistle
        self.calls["drafted" if story.whistle.status == S.DRAFT else "submitted"] += 1

    def _request_signature(self, story: Story, at: datetime) -> None:
        whistle_request_signature(whistle=story.whistle, actor=story.reporter, now=at)
        self.calls["signature_requested"] += 1

    def _sign(self, story: Story, at: datetime) -> None:
        whistle_sign(whistle=story.whistle, actor=self.world.street_user(story.street, R.STREET_DEPUTY), now=at)
        self.calls["signed"] += 1

    def _approve(self, story: Story, at: datetime) -> None:
        whistle_approve(whistle=story.whistle, actor=self.world.street_user(story.street, R.STREET_HEAD), now=at)
        self.calls["approved"] += 1

    def _issue(self, story: Story, at: datetime) -> None:
        whistle_issue(whistle=story.whistle, actor=story.reporter, now=at)
        self.calls["issued"] += 1

    def _reject(self, story: Story, at: datetime) -> None:
        deputy = self.world.street_user(story.street, R.STREET_DEPUTY)
        whistle_reject(whistle=story.whistle, actor=deputy, reason=texts.REJECT_REASON, now=at)
        self.calls["rejected"] += 1

    def _route(self, story: Story, at: datetime) -> None:
        whistles_route_waiting(now=at)  # routes whatever is waiting, as the Celery task does

    # The departments

    def _tasks(self, story: Story, who: str, statuses: Iterable[str]) -> list[Task]:
        tasks = story.whistle.tasks.filter(status__in=list(statuses)).select_related("department").order_by("pk")
        if who == "lead":
            tasks = tasks.filter(role=LEAD)
        elif who == "co":
            tasks = tasks.exclude(role=LEAD)
        return list(tasks)

    def _actor(self, story: Story, task: Task):
        # A quick whistle summons the department heads themselves.
        return self.world.department_user(task.department_id, head=story.mode == Whistle.Mode.QUICK)

    def _acknowledge(self, story: Story, at: datetime, *, who: str) -> None:
        for task in self._tasks(story, who, [T.PENDING]):
            task_acknowledge(task=task, actor=self._actor(story, task), now=at)
            self.calls["acknowledged"] += 1

    def _check_in(self, story: Story, at: datetime, *, who: str) -> None:
        for task in self._tasks(story, who, [T.PENDING, T.ACKNOWLEDGED]):
            self._check_in_task(story, task, at)

    def _check_in_task(self, story: Story, task: Task, at: datetime) -> None:
        lon, lat = story.point
        task_check_in(
            task=task,
            actor=self._actor(story, task),
            lon=round(lon + story.rng.uniform(-0.0003, 0.0003), 6),
            lat=round(lat + story.rng.uniform(-0.0003, 0.0003), 6),
            note=story.rng.choice(texts.CHECKIN_NOTES),
            now=at,
        )
        self.calls["checked_in"] += 1

    def _progress(self, story: Story, at: datetime, *, who: str) -> None:
        for task in self._tasks(story, who, Task.OPEN_STATUSES):
            task_progress(
                task=task, actor=self._actor(story, task), note=story.rng.choice(texts.PROGRESS_NOTES), now=at
            )
            self.calls["progress"] += 1

    def _extension(self, story: Story, at: datetime) -> None:
        for task in self._tasks(story, "lead", Task.OPEN_STATUSES):
            until = max(task.resolve_due_at, at) + timedelta(days=story.rng.randint(3, 7))
            task_request_extension(
                task=task,
                actor=self._actor(story, task),
                until=until,
                reason=story.rng.choice(texts.EXTENSION_REASONS),
                now=at,
            )
            self.calls["extension_requested"] += 1

    def _decide(self, story: Story, at: datetime, *, decision: str) -> None:
        head = self.world.street_users.get((story.street.pk, R.STREET_HEAD)) or self.world.supervisor
        note = texts.EXTENSION_APPROVED if decision == "approve" else texts.EXTENSION_REFUSED
        for extension in Extension.objects.filter(task__whistle=story.whistle, status=Extension.Status.PENDING):
            extension_decide(extension=extension, actor=head, decision=decision, note=note, now=at)
            self.calls["extension_approved" if decision == "approve" else "extension_refused"] += 1

    def _return(self, story: Story, at: datetime, *, who: str, code: str) -> None:
        # A whistle without co-operating departments: its lead returns it.
        tasks = self._tasks(story, who, Task.OPEN_STATUSES) or self._tasks(story, "lead", Task.OPEN_STATUSES)
        for task in tasks[:1]:
            suggested = None if code == Task.ReturnReason.WRONG_LOCATION else self._candidate(story)
            reason = texts.RETURN_REASONS[code].format(suggested=suggested.name if suggested else "")
            task_return(
                task=task,
                actor=self._actor(story, task),
                reason_code=code,
                reason=reason,
                suggested_department=suggested.code if suggested else "",
                now=at,
            )
            self.calls["returned"] += 1
        self._sweep_soon(at)

    def _candidate(self, story: Story) -> Department | None:
        """A department not on the whistle yet that could plausibly lead it: one leading a related category first."""
        taken = set(story.whistle.tasks.values_list("department_id", flat=True))
        street, prefix = story.street, story.category.code.split("-")[0]
        catalogue = current_catalogue()
        related = {
            catalogue.match(category_id=category.pk, street_id=street.pk)[0].department.pk
            for category in self.world.ruled[street.pk]
            if category.code.split("-")[0] == prefix
        }
        leads = [d for d in self.world.leads[street.pk] if d.pk not in taken]
        others = [
            d
            for d in self.world.departments
            if d.pk not in taken
            and d not in leads
            and (d.kind != Department.Kind.GRASSROOTS_STATION or street in d.streets.all())
        ]
        ordered = sorted(leads, key=lambda d: (d.pk not in related, d.code)) + others
        return ordered[story.rng.randrange(min(2, len(ordered)))] if ordered else None

    def _dispatch(self, story: Story, at: datetime) -> None:
        whistle = story.whistle
        open_lead = whistle.tasks.filter(status__in=Task.OPEN_STATUSES, role=LEAD).exists()
        departments, note = [], texts.DISPATCH_CONTINUE
        if not open_lead:
            returned = (
                whistle.tasks.filter(status=T.RETURNED).exclude(suggested_department=None).order_by("-returned_at")
            )
            taken = set(whistle.tasks.values_list("department_id", flat=True))
            suggestion = next(
                (t.suggested_department for t in returned if t.suggested_department_id not in taken), None
            )
            lead = suggestion or self._candidate(story)
            if lead is None:
                return  # nobody left to route it to: it stays in the dispatcher's queue
            departments, note = [{"code": lead.code, "role": LEAD}], texts.DISPATCH_NOTE.format(department=lead.name)
        dispatcher = self.world.street_user(story.street, R.DISPATCHER)
        whistle_dispatch(whistle=whistle, actor=dispatcher, departments=departments, note=note, now=at)
        self.calls["dispatched"] += 1

    def _close(self, story: Story, at: datetime, *, who: str) -> None:
        for task in self._tasks(story, who, [T.CHECKED_IN]):
            partly = story.rng.random() < 0.1
            if task.role == LEAD:
                actions = story.problem.remedy
            else:
                actions = f"{story.rng.choice(texts.CO_OPERATION)}：{story.topic}"
            task_close(
                task=task,
                actor=self._actor(story, task),
                actions=actions,
                result="partly_solved" if partly else "solved",
                note=texts.PARTLY_SOLVED_NOTE if partly else "",
                now=at,
            )
            self.calls["closed"] += 1

    # The street

    def _decider(self, story: Story):
        return self.world.street_user(story.street, R.STREET_STAFF, R.STREET_DEPUTY, R.STREET_HEAD, R.DISPATCHER)

    def _confirm(self, story: Story, at: datetime) -> None:
        whistle_confirm(whistle=story.whistle, actor=self._decider(story), now=at)
        self.calls["confirmed"] += 1

    def _reopen(self, story: Story, at: datetime) -> None:
        whistle_reopen(whistle=story.whistle, actor=self._decider(story), reason=texts.REOPEN_REASON, now=at)
        self.calls["reopened"] += 1

    def _rate(self, story: Story, at: datetime) -> None:
        rateable = story.whistle.tasks.filter(checked_in_at__isnull=False) | story.whistle.tasks.filter(status=T.CLOSED)
        for code in sorted(set(rateable.values_list("department__code", flat=True))):
            scores = [story.rng.choices((3, 4, 5), weights=(1, 3, 4))[0] for _score in range(3)]
            whistle_rate(
                whistle=story.whistle,
                actor=self._decider(story),
                department=code,
                response=scores[0],
                attitude=scores[1],
                result=scores[2],
                comment=story.rng.choice(texts.RATING_COMMENTS),
                now=at,
            )
            self.calls["rated"] += 1

    def _callback(self, story: Story, at: datetime, *, satisfaction: str) -> None:
        actor = self.world.hotline if story.source == Source.HOTLINE else self._decider(story)
        whistle_callback(
            whistle=story.whistle,
            actor=actor,
            satisfaction=satisfaction,
            solved=satisfaction != Callback.Satisfaction.DISSATISFIED,
            note=texts.CALLBACK_NOTES[satisfaction],
            now=at,
        )
        dissatisfied = satisfaction == Callback.Satisfaction.DISSATISFIED
        self.calls["callback_reopened" if dissatisfied else "callback"] += 1

    # Joint meetings

    def _schedule_meeting(self, story: Story, at: datetime) -> None:
        kind = "rural" if story.rural else "urban"
        story.meeting = meeting_schedule(
            whistle=story.whistle,
            actor=self.world.street_user(story.street, R.STREET_DEPUTY, R.STREET_STAFF, R.STREET_HEAD),
            scheduled_at=story.marks["meeting"],
            place=texts.MEETING_PLACE[kind].format(community=story.community.name),
            agenda=texts.MEETING_AGENDA.format(title=story.title),
            now=at,
        )
        self.calls["meeting_scheduled"] += 1

    def _attend(self, story: Story, at: datetime, *, late: bool) -> None:
        """The lead and most co-operating departments come on time; of several, one is late and one stays away."""
        attendance = list(story.meeting.attendance.order_by("department__code"))
        lead_id = story.whistle.tasks.get(role=LEAD).department_id
        others = [row.department_id for row in attendance if row.department_id != lead_id]
        late_ids = set(others[:1]) if len(others) >= 1 else set()
        absent_ids = set(others[1:2]) if len(others) >= 2 else set()
        coming = {row.department_id for row in attendance} - absent_ids
        coming = (coming & late_ids) if late else (coming - late_ids)
        tasks = {task.department_id: task for task in story.whistle.tasks.select_related("department")}
        for department_id in sorted(coming):
            actor = self.world.department_user(department_id)
            meeting_check_in(meeting=story.meeting, actor=actor, now=at)
            self.calls["meeting_attended"] += 1
            self._check_in_task(story, tasks[department_id], at)  # at the meeting: reported in

    def _close_meeting(self, story: Story, at: datetime) -> None:
        actor = self.world.street_user(story.street, R.STREET_DEPUTY, R.STREET_STAFF, R.STREET_HEAD)
        meeting_close(meeting=story.meeting, actor=actor, now=at)
        self.calls["meeting_held"] += 1


def _beat(moment: datetime) -> datetime:
    """The first whole minute at or after the moment: when the beat's sweep sees it."""
    whole = moment.replace(second=0, microsecond=0)
    return whole if whole == moment else whole + MINUTE


# The summary ---------------------------------------------------------------------------------


def _summary(*, district: District, streets: int, replay: _Replay, now: datetime) -> DemoActivityResult:
    whistles = Whistle.objects.filter(street__district=district)
    tasks = Task.objects.filter(whistle__street__district=district)
    oldest = whistles.aggregate(oldest=Min("created_at"))["oldest"] or now
    lights = with_stage(tasks.filter(status__in=Task.OPEN_STATUSES), now=now).values_list("light", flat=True)
    return DemoActivityResult(
        district=district.name,
        created=True,
        whistles=whistles.count(),
        streets=streets,
        past=whistles.filter(created_at__lt=now - PAST).count(),
        days=(now - oldest).days + 1,
        statuses=dict(Counter(whistles.values_list("status", flat=True))),
        tasks=dict(Counter(tasks.values_list("status", flat=True))),
        lights=dict(Counter(lights)),
        calls=dict(replay.calls),
        swept=dict(replay.swept),
        totals={
            "tasks": tasks.count(),
            "events": Event.objects.filter(whistle__in=whistles).count(),
            "notifications": Notification.objects.filter(whistle__in=whistles).count(),
            "meetings": JointMeeting.objects.filter(whistle__in=whistles).count(),
            "extensions": Extension.objects.filter(task__in=tasks).count(),
            "ratings": Rating.objects.filter(whistle__in=whistles).count(),
            "callbacks": Callback.objects.filter(whistle__in=whistles).count(),
            "supervision_orders": SupervisionOrder.objects.filter(task__in=tasks).count(),
            "accountability_records": AccountabilityRecord.objects.filter(whistle__in=whistles).count(),
        },
    )
