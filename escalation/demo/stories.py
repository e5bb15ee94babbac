"""The stories the demo activity tells (escalation.demo): one per whistle, planned before anything is written.

A story says what is raised, where, by whom, and what happens to it: a
script of steps (service calls by name) at moments of the past month. Its
fate is where it ends — waiting for acknowledgement, checked in, back with
the dispatcher, closed with a callback … — and every script ends before
the present, at least its slack earlier, so the fates come out as planned.
People act between 07:30 and 21:00; the routing run picks a whistle up
seconds after it is submitted, at any hour.

Planning reads the database (the district, its catalogue and demo users)
but writes nothing; escalation.demo.replay plays the steps.
"""

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

import shapely
from django.utils import timezone

from departments.demo import DemoSeedError
from departments.models import Category, Grade, Membership
from escalation.demo import texts
from escalation.demo.world import DemoWorld
from grids.models import Community, Grid, Street
from whistle.models import Callback, JointMeeting, Task, Whistle

SEED = "demo-activity"
R = Membership.Role
Source = Whistle.Source
HOUR, DAY = 60, 1440  # in minutes, the unit of every wait below

# Where the stories end, and the share of the whistles each ending gets: ~30 % waiting for
# acknowledgement, ~20 % acknowledged or checked in, ~10 % back with the dispatcher, ~25 %
# resolved, confirmed and rated, the rest closed with a citizen's callback, and a few
# party-office whistles in the approval chain.
FATES = (
    ("draft", 0.03),
    ("pending", 0.28),
    ("acknowledged", 0.17),
    ("redispatched", 0.02),
    ("meeting_upcoming", 0.01),
    ("returned", 0.09),
    ("buck_passing", 0.005),
    ("no_rule", 0.02),  # only where some category has no rule in the street
    ("resolved", 0.08),
    ("confirmed", 0.14),
    ("meeting_held", 0.02),
    ("quick", 0.015),
    ("street_reopened", 0.01),
    ("callback_reopened", 0.01),
)
REST = "callback"
# Each fate's variants, taken in turn, so that even a small demo shows each of them.
VARIANTS = {
    "draft": ("awaiting_signature", "awaiting_approval", "drafted", "approved", "rejected"),
    "pending": ("fresh", "fresh", "co_acknowledged", "fresh", "overdue", "fresh"),
    "acknowledged": (
        "acknowledged",
        "checked_in",
        "extension_pending",
        "late",
        "checked_in",
        "extension_approved",
        "acknowledged",
        "extension_refused",
    ),
    "returned": ("not_ours", "after_ack", "co_operating", "wrong_location"),
    "no_rule": ("waiting", "dispatched"),
    "callback": ("satisfied", "satisfied", "basically_satisfied", "satisfied", "basically_satisfied"),
}
# How long before the present a story's last step happens at least (minutes), by variant or fate.
SLACK = {
    "draft": (30, 10 * HOUR),
    "fresh": (3, 110),
    "fresh:priority": (3, 40),  # a priority whistle is overdue after half an hour
    "co_acknowledged": (30, 6 * HOUR),
    "overdue": (DAY, 5 * DAY),
    "acknowledged": (10, 26 * HOUR),
    "late": (3 * DAY, 9 * DAY),
    "redispatched": (10, 10 * HOUR),
    "meeting_upcoming": (60, 15 * HOUR),
    "returned": (10, 2 * DAY),
    "buck_passing": (30, DAY),
    "no_rule": (10, DAY),
    "resolved": (20, 20 * HOUR),
    "confirmed": (HOUR, 12 * DAY),
    "meeting_held": (HOUR, 5 * DAY),
    "quick": (HOUR, 5 * DAY),
    "street_reopened": (10, 10 * HOUR),
    "callback_reopened": (10, 10 * HOUR),
    "callback": (HOUR, 10 * DAY),
}
DAY_STARTS, DAY_ENDS = time(7, 30), time(21, 0)
MEETING_SLOTS = (time(9, 0), time(9, 30), time(10, 0), time(14, 0), time(14, 30), time(15, 30))
# Stories whose whistle is reopened: an ordinary whistle handled on time in its first round, so the
# reopening is the story (a reopened task keeps its supervision and accountability marks, as they come
# once per task: whistle.services.routing.RESTARTED).
REOPENED = ("street_reopened", "callback_reopened")
# A script that still ends after its latest moment is moved this many times before planning gives up.
FIT_ATTEMPTS = 20


# Stories ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    at: datetime
    action: str  # the name of a method of the replay (escalation.demo.replay)
    args: dict


@dataclass(eq=False)
class Story:
    """One whistle's life: what is raised, where and by whom, and the script of what happens to it."""

    index: int
    fate: str
    variant: str
    rng: random.Random
    now: datetime  # the present: the script ends before it
    street: Street
    community: Community
    grid: Grid
    point: tuple[float, float]
    place: str
    category: Category
    problem: texts.Problem
    grade: str
    source: str
    mode: str
    reporter: object
    caller: str = ""
    prompt: bool = False  # every wait on time (REOPENED)
    t: datetime | None = None  # the script's clock
    steps: list[Step] = field(default_factory=list)
    marks: dict[str, datetime] = field(default_factory=dict)  # the appointed check-in time, the meeting's time
    whistle: Whistle | None = None
    meeting: JointMeeting | None = None

    def do(self, action: str, **args) -> None:
        if self.steps and self.t < self.steps[-1].at:
            raise DemoSeedError(f"demo story {self.index}: {action} before {self.steps[-1].action}")  # a script bug
        self.steps.append(Step(self.t, action, args))

    def wait(self, low: float, high: float) -> None:
        """Let `low` to `high` minutes pass; someone who would act at night does it the next morning."""
        self.t = daytime(self.t + timedelta(minutes=self.rng.uniform(low, high)))

    @property
    def rural(self) -> bool:
        return self.community.kind == Community.Kind.VILLAGERS

    @property
    def topic(self) -> str:
        return self.problem.title.format(category=self.category.name)

    @property
    def title(self) -> str:
        return f"{self.community.name}{self.place}{self.topic}"[:200]

    @property
    def address(self) -> str:
        return f"{self.street.name}{self.community.name}{self.place}"


def daytime(moment: datetime) -> datetime:
    """The moment itself between 07:30 and 21:00 local time, else a moment early the next morning."""
    local = timezone.localtime(moment)
    if DAY_STARTS <= local.time() < DAY_ENDS:
        return moment
    day = local.date() if local.time() < DAY_STARTS else local.date() + timedelta(days=1)
    # Spread over the first 90 minutes of the day, the same way for the same moment (planning runs a script again).
    spread = timedelta(minutes=(local.hour * 7 + local.minute) % 90, seconds=local.second)
    return datetime.combine(day, DAY_STARTS, tzinfo=local.tzinfo) + spread


def meeting_time(earliest: datetime, rng: random.Random) -> datetime:
    """A meeting slot (morning or afternoon, on the half hour) at or after `earliest`."""
    local = timezone.localtime(earliest)
    slot = datetime.combine(local.date(), rng.choice(MEETING_SLOTS), tzinfo=local.tzinfo)
    return slot if slot >= earliest else slot + timedelta(days=1)


def plan_stories(*, world: DemoWorld, count: int, now: datetime) -> list[Story]:
    """`count` stories over the world's streets in turn, every step of them before `now`."""
    rng = random.Random(SEED)  # nosec B311 # repeatable demo activity, not a secret
    fates = fate_list(count, no_rule=any(world.unruled[street.pk] for street in world.streets))
    rng.shuffle(fates)
    taken = Counter()
    stories = []
    for index, fate in enumerate(fates):
        variants = VARIANTS.get(fate, (fate,))
        variant = variants[taken[fate] % len(variants)]
        taken[fate] += 1
        street = world.streets[index % len(world.streets)]
        stories.append(_fitted(world=world, index=index, fate=fate, variant=variant, street=street, now=now))
    return stories


def fate_list(count: int, *, no_rule: bool) -> list[str]:
    fates: list[str] = []
    for fate, share in FATES:
        if fate == "no_rule" and not no_rule:
            continue
        least = len(VARIANTS.get(fate, ())) if fate == "no_rule" else 1  # both: waiting, and routed by hand
        fates += [fate] * min(max(least, round(share * count)), count - len(fates))
    return fates + [REST] * (count - len(fates))


def _fitted(*, world: DemoWorld, index: int, fate: str, variant: str, street: Street, now: datetime) -> Story:
    """The story, started early enough that its last step comes its slack before the present.

    Written out again from an earlier start until it fits: a shift of the start
    moves the night-time waits, so the length of the script changes a little.
    The same seed each time gives the same choices and waits.
    """
    start = None
    for attempt in range(FIT_ATTEMPTS):
        story = _story(world=world, index=index, fate=fate, variant=variant, street=street, now=now)
        if start is None:
            low, high = SLACK.get(f"{variant}:{story.grade}") or SLACK.get(variant) or SLACK[fate]
            slack = random.Random(f"{SEED}:{index}:slack")  # nosec B311 # repeatable demo activity, not a secret
            latest = now - timedelta(minutes=slack.uniform(low, high))
            start = latest
        story.t = daytime(start)
        SCRIPTS[fate](story)
        overflow = story.t - latest
        if overflow <= timedelta(0):
            return story
        start -= overflow if attempt < FIT_ATTEMPTS // 2 else overflow + timedelta(hours=attempt)
    raise DemoSeedError(f"demo story {index} ({fate}) does not fit before {now}")  # a bug in a script


def _story(*, world: DemoWorld, index: int, fate: str, variant: str, street: Street, now: datetime) -> Story:
    rng = random.Random(f"{SEED}:{index}")  # nosec B311 # repeatable demo activity, not a secret
    difficult = fate in ("meeting_held", "meeting_upcoming") or (fate == "pending" and index % 9 == 0)
    source, reporter = _reporter(world, street, fate=fate, difficult=difficult, rng=rng)
    own = world.worker_grids.get(reporter.pk, []) if source == Source.GRID_WORKER else []
    communities = world.communities[street.pk]
    own = [grid for grid in own if any(c.pk == grid.community_id for c in communities)]
    if own:
        grid = rng.choice(own)
        community = next(c for c in communities if c.pk == grid.community_id)
    else:
        community = rng.choice(communities)
        grid = rng.choice(world.grids[community.pk])
    rural = community.kind == Community.Kind.VILLAGERS
    if fate == "no_rule":
        category = rng.choice(world.unruled[street.pk])
    else:
        category = _category(world.ruled[street.pk], rural=rural, difficult=difficult, quick=fate == "quick", rng=rng)
    # The reporter picks the grade; the category only proposes one. Most whistles are ordinary.
    grade = category.default_grade
    if difficult:
        grade = Grade.DIFFICULT
    elif fate in REOPENED:
        grade = Grade.ORDINARY
    elif fate == "quick" or grade == Grade.DIFFICULT:
        grade = Grade.PRIORITY
    elif rng.random() < (0.4 if grade == Grade.PRIORITY else 0.08):
        grade = Grade.ORDINARY if grade == Grade.PRIORITY else Grade.PRIORITY
    places = texts.RURAL_PLACES if rural else texts.URBAN_PLACES
    return Story(
        index=index,
        fate=fate,
        variant=variant,
        rng=rng,
        now=now,
        street=street,
        community=community,
        grid=grid,
        point=_point_in(world.shapes[grid.pk], rng),
        place=rng.choice(places).format(n=rng.randint(1, 24), u=rng.randint(1, 4)),
        category=category,
        problem=rng.choice(texts.TOPICS.get(category.code, texts.GENERIC).problems),
        grade=grade,
        source=source,
        mode=Whistle.Mode.QUICK if fate == "quick" else Whistle.Mode.REGULAR,
        reporter=reporter,
        caller=rng.choice(texts.SURNAMES) + rng.choice(texts.CALLER_TITLES) if source == Source.HOTLINE else "",
        prompt=fate in REOPENED,
    )


def _reporter(world: DemoWorld, street: Street, *, fate: str, difficult: bool, rng: random.Random):
    """The source and the demo user who raises the whistle: only a role that may raise such a whistle."""
    has = {role for (street_id, role) in world.street_users if street_id == street.pk}
    if fate == "draft":
        return Source.PARTY_OFFICE, world.street_user(street, R.PARTY_OFFICE)
    if fate == "quick":
        return Source.STREET, world.street_user(street, R.STREET_HEAD, R.STREET_DEPUTY)
    pick = rng.random()
    if difficult:
        # Only the street's leadership and the party-building office raise difficult whistles.
        if pick < 0.3 and R.PARTY_OFFICE in has:
            return Source.PARTY_OFFICE, world.street_user(street, R.PARTY_OFFICE)
        return Source.STREET, world.street_user(street, R.STREET_DEPUTY if pick < 0.7 else R.STREET_HEAD)
    if pick < 0.30 and world.hotline is not None:
        return Source.HOTLINE, world.hotline
    if pick < 0.55 and R.GRID_WORKER in has:
        return Source.GRID_WORKER, world.street_user(street, R.GRID_WORKER)
    if pick < 0.63 and R.PARTY_OFFICE in has:
        return Source.PARTY_OFFICE, world.street_user(street, R.PARTY_OFFICE)
    return Source.STREET, world.street_user(street, R.STREET_STAFF, R.STREET_DEPUTY, R.STREET_HEAD)


def _category(categories: list[Category], *, rural: bool, difficult: bool, quick: bool, rng: random.Random):
    preferred = texts.DIFFICULT_TOPICS if difficult else texts.QUICK_TOPICS if quick else ()
    chosen = [category for category in categories if category.code in preferred]
    if chosen:
        return rng.choice(chosen)
    here = ("", "rural" if rural else "urban")
    fits = [c for c in categories if texts.TOPICS.get(c.code, texts.GENERIC).where in here] or categories
    return rng.choices(fits, weights=[texts.TOPICS.get(c.code, texts.GENERIC).weight for c in fits])[0]


def _point_in(shape: shapely.Geometry, rng: random.Random) -> tuple[float, float]:
    """A random point well inside the grid (about 20 m from its edges), so that locate() finds this grid.

    Not always the grid's representative point: whistles of one grid would hide each other on the map.
    """
    inner = shape.buffer(-0.0002)
    area = shape if inner.is_empty else inner
    min_x, min_y, max_x, max_y = area.bounds
    for _attempt in range(100):
        x, y = round(rng.uniform(min_x, max_x), 6), round(rng.uniform(min_y, max_y), 6)
        if shapely.contains_xy(area, x, y):
            return x, y
    point = shape.representative_point()
    return round(point.x, 6), round(point.y, 6)


# Scripts: what happens to a whistle of each fate. Waits are in minutes. ------------------------


def _raise(story: Story) -> None:
    story.do("submit")
    if story.source == Source.PARTY_OFFICE and story.reporter.membership.role != R.STREET_HEAD:
        story.wait(5, 30)
        story.do("request_signature")
        story.wait(30, 4 * HOUR)
        story.do("sign")
        story.wait(30, 6 * HOUR)
        story.do("approve")
        story.wait(10, HOUR)
        story.do("issue")
    # The routing run picks it up within seconds, at any hour.
    story.t += timedelta(seconds=story.rng.uniform(2, 20))
    story.do("route")


def _wait_acknowledge(story: Story) -> None:
    late = story.rng.random() < (0.1 if story.grade == Grade.PRIORITY else 0.2) and not story.prompt
    if story.grade == Grade.PRIORITY:
        story.wait(*((40, 2 * HOUR) if late else (3, 25)))
    else:
        story.wait(*((3 * HOUR, 9 * HOUR) if late else (10, 90)))


def _wait_check_in(story: Story) -> None:
    story.wait(*((15, 90) if story.grade == Grade.PRIORITY else (HOUR, 20 * HOUR)))


def _wait_work(story: Story) -> None:
    if story.grade == Grade.PRIORITY:
        story.wait(2 * HOUR, 18 * HOUR)
    elif story.grade == Grade.DIFFICULT:
        story.wait(3 * DAY, 10 * DAY)
    else:
        late = story.rng.random() < 0.2 and not story.prompt
        story.wait(*((6 * DAY, 10 * DAY) if late else (DAY, 5 * DAY)))


def _others_acknowledge(story: Story) -> None:
    """The co-operating departments take their part as usual while the story is about the lead."""
    _wait_acknowledge(story)
    story.do("acknowledge", who="co")


def _close_all(story: Story) -> None:
    """The co-operating departments close their part first; the lead closes last, which resolves the whistle."""
    _wait_work(story)
    story.do("close", who="co")
    story.wait(HOUR, 8 * HOUR)
    story.do("close", who="lead")


def _to_resolved(story: Story) -> None:
    _raise(story)
    _wait_acknowledge(story)
    story.do("acknowledge", who="all")
    _wait_check_in(story)
    story.do("check_in", who="all")
    if story.rng.random() < 0.5:
        story.wait(HOUR, 10 * HOUR)
        story.do("progress", who="lead")
    _close_all(story)


def _confirm_and_rate(story: Story) -> None:
    story.wait(2 * HOUR, 30 * HOUR)
    story.do("confirm")
    story.wait(5, 90)
    story.do("rate")


def _confirmed(story: Story) -> None:
    _to_resolved(story)
    _confirm_and_rate(story)


def _callback(story: Story, satisfaction: str | None = None) -> None:
    _confirmed(story)
    story.wait(DAY, 3 * DAY)
    story.do("callback", satisfaction=satisfaction or story.variant)


def _callback_reopened(story: Story) -> None:
    """The citizen is not satisfied: the callback reopens the whistle, and the lead takes it again."""
    _callback(story, Callback.Satisfaction.DISSATISFIED)
    story.wait(15, 3 * HOUR)
    story.do("acknowledge", who="lead")


def _street_reopened(story: Story) -> None:
    _to_resolved(story)
    story.wait(2 * HOUR, 20 * HOUR)
    story.do("reopen")
    story.wait(15, 3 * HOUR)
    story.do("acknowledge", who="lead")


def _draft(story: Story) -> None:
    """A party-office whistle somewhere in its approval chain (or rejected back to the draft)."""
    story.do("submit")
    steps = {
        "drafted": (),
        "awaiting_signature": ("request_signature",),
        "awaiting_approval": ("request_signature", "sign"),
        "approved": ("request_signature", "sign", "approve"),
        "rejected": ("request_signature", "reject"),
    }[story.variant]
    for action in steps:
        story.wait(10, 5 * HOUR)
        story.do(action)


def _pending(story: Story) -> None:
    _raise(story)
    if story.variant == "co_acknowledged":
        _others_acknowledge(story)


def _acknowledged(story: Story) -> None:
    """Acknowledged, or checked in with progress notes and perhaps an extension request (pending or decided)."""
    _raise(story)
    _wait_acknowledge(story)
    story.do("acknowledge", who="all")
    if story.variant == "acknowledged":
        return
    _wait_check_in(story)
    story.do("check_in", who="all")
    story.wait(HOUR, 10 * HOUR)
    story.do("progress", who="lead")
    if story.variant.startswith("extension"):
        story.wait(HOUR, DAY)
        story.do("extension")
        if story.variant != "extension_pending":
            story.wait(HOUR, 8 * HOUR)
            story.do("decide", decision="approve" if story.variant == "extension_approved" else "refuse")


def _returned(story: Story) -> None:
    """A department returns its task (the lead, or a co-operating one) and the whistle waits for the dispatcher."""
    _raise(story)
    _wait_acknowledge(story)
    story.do("acknowledge", who="all" if story.variant in ("after_ack", "co_operating") else "co")
    story.wait(30, 5 * HOUR)
    who = "co" if story.variant == "co_operating" else "lead"
    code = {
        "wrong_location": Task.ReturnReason.WRONG_LOCATION,
        "co_operating": Task.ReturnReason.NEEDS_OTHER,
    }.get(story.variant, Task.ReturnReason.NOT_OURS)
    story.do("return", who=who, code=code)


def _redispatched(story: Story) -> None:
    _raise(story)
    _others_acknowledge(story)
    story.wait(30, 5 * HOUR)
    story.do("return", who="lead", code=Task.ReturnReason.NOT_OURS)
    story.wait(20, 3 * HOUR)
    story.do("dispatch")
    story.wait(10, HOUR)
    story.do("acknowledge", who="lead")
    if story.rng.random() < 0.5:
        _wait_check_in(story)
        story.do("check_in", who="lead")


def _buck_passing(story: Story) -> None:
    """Three leads in a row say it is not theirs: the sweep records buck-passing (推诿)."""
    _raise(story)
    _others_acknowledge(story)
    for round_ in range(3):
        story.wait(30, 4 * HOUR)
        story.do("return", who="lead", code=Task.ReturnReason.NOT_OURS)
        if round_ < 2:
            story.wait(30, 2 * HOUR)
            story.do("dispatch")


def _no_rule(story: Story) -> None:
    _raise(story)  # the routing run finds no rule: the whistle waits for the dispatcher
    if story.variant == "dispatched":
        story.wait(20, 2 * HOUR)
        story.do("dispatch")
        _wait_acknowledge(story)
        story.do("acknowledge", who="lead")


def _meeting_upcoming(story: Story) -> None:
    _raise(story)
    _wait_acknowledge(story)
    story.do("acknowledge", who="all")
    story.wait(30, 4 * HOUR)
    earliest = max(story.t + timedelta(hours=20), story.now + timedelta(hours=1))
    story.marks["meeting"] = meeting_time(earliest, story.rng)
    story.do("schedule_meeting")


def _meeting_held(story: Story) -> None:
    """The joint meeting of a difficult whistle: most come on time, one late, one not at all; then the work."""
    _raise(story)
    _wait_acknowledge(story)
    story.do("acknowledge", who="all")
    story.wait(30, 2 * HOUR)
    meeting = story.marks["meeting"] = meeting_time(story.t + timedelta(hours=20), story.rng)
    story.do("schedule_meeting")
    story.t = meeting - timedelta(minutes=story.rng.uniform(5, 15))
    story.do("attend", late=False)
    story.t = meeting + timedelta(minutes=story.rng.uniform(20, 40))
    story.do("attend", late=True)
    story.wait(60, 100)
    story.do("close_meeting")
    story.wait(HOUR, 4 * HOUR)
    story.do("check_in", who="all")  # the department that stayed away comes on site after all
    _close_all(story)
    _confirm_and_rate(story)


def _quick(story: Story) -> None:
    """A quick whistle: the heads are summoned to the site for an appointed time, and it is done that day."""
    appointed = story.marks["appointed"] = story.t + timedelta(minutes=story.rng.uniform(HOUR, 2 * HOUR))
    _raise(story)
    story.t += timedelta(minutes=story.rng.uniform(3, 20))  # the heads answer the call at once, day or night
    story.do("acknowledge", who="all")
    story.t = appointed - timedelta(minutes=story.rng.uniform(10, 30))
    story.do("check_in", who="lead")
    story.t = appointed + timedelta(minutes=story.rng.uniform(-5, 25))
    story.do("check_in", who="co")
    story.wait(HOUR, 3 * HOUR)
    story.do("close", who="co")
    story.wait(30, 2 * HOUR)
    story.do("close", who="lead")
    _confirm_and_rate(story)


SCRIPTS: dict[str, Callable[[Story], None]] = {
    "draft": _draft,
    "pending": _pending,
    "acknowledged": _acknowledged,
    "redispatched": _redispatched,
    "meeting_upcoming": _meeting_upcoming,
    "returned": _returned,
    "buck_passing": _buck_passing,
    "no_rule": _no_rule,
    "resolved": _to_resolved,
    "confirmed": _confirmed,
    "meeting_held": _meeting_held,
    "quick": _quick,
    "street_reopened": _street_reopened,
    "callback_reopened": _callback_reopened,
    "callback": _callback,
}
