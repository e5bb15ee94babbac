"""manage.py seed_demo_activity: a month of demo work played through the real services, once, only with DEBUG.

The module plays a small demo (3 of the 18 streets, 45 whistles) once, at a
fixed present, and the tests read what it left: every intended state, an
event for every change, the sweep's steps at the moments they fell due.
"""

import datetime as dt
from collections import Counter
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import override_settings

from departments.demo import demo_district_data, demo_district_seed
from escalation.demo import demo_activity_seed
from escalation.models import AccountabilityRecord, OpenTaskTally, SupervisionOrder
from escalation.policy import stage_deadlines
from whistle.models import (
    Callback,
    Event,
    Extension,
    Feedback,
    JointMeeting,
    MeetingAttendance,
    Rating,
    Task,
    Whistle,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 25, 15, 0, tzinfo=SHANGHAI)  # a Wednesday afternoon
STREETS = {"S01", "S05", "S12"}  # two streets and a township
COUNT = 45
S, T = Whistle.Status, Task.Status
APPROVAL_CHAIN = (S.DRAFT, S.AWAITING_SIGNATURE, S.AWAITING_APPROVAL, S.APPROVED)


def district_data(codes: set[str]) -> dict:
    """The demo district's data for some of its streets only, with the stations serving them."""
    data = dict(demo_district_data())
    data["streets"] = [street for street in data["streets"] if street["code"] in codes]
    data["stations"] = [
        {**station, "streets": [code for code in station["streets"] if code in codes]}
        for station in data["stations"]
        if set(station["streets"]) & codes
    ]
    return data


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """A small demo district with its activity, for the whole module, rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        with override_settings(DEBUG=True):
            demo_district_seed(data=district_data(STREETS))
            result = demo_activity_seed(count=COUNT, now=NOW)
        yield result
        transaction.set_rollback(True)


def model_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def status_events():
    """Events that record a status change of a whistle (task None) or a task; not of meetings or orders."""
    for event in Event.objects.exclude(new=None).order_by("created_at", "pk"):
        if "status" in event.new and not event.new.keys() & {"meeting", "order"}:
            yield event


@pytest.mark.django_db
def test_whistles_end_in_every_intended_state(demo):
    statuses = Counter(Whistle.objects.values_list("status", flat=True))
    assert demo.whistles == sum(statuses.values()) == COUNT
    assert sum(statuses[status] for status in APPROVAL_CHAIN) >= 1
    assert statuses[S.AWAITING_DISPATCH] >= 3  # returned by a department, buck-passing included
    assert statuses[S.ROUTED] >= 15
    assert statuses[S.RESOLVED] >= 2
    assert statuses[S.CLOSED] >= 8
    tasks = Counter(Task.objects.values_list("status", flat=True))
    assert {T.PENDING, T.ACKNOWLEDGED, T.CHECKED_IN, T.CLOSED, T.RETURNED} <= set(tasks)
    waiting = Whistle.objects.filter(status=S.ROUTED).exclude(tasks__status__in=[T.ACKNOWLEDGED, T.CHECKED_IN])
    assert waiting.count() >= 10  # waiting for acknowledgement
    assert Whistle.objects.filter(status=S.ROUTED, tasks__status=T.CHECKED_IN).exists()
    assert Counter(Extension.objects.values_list("status", flat=True)).keys() == {"pending", "approved", "refused"}
    assert Callback.objects.exists() and Rating.objects.exists()
    meetings = JointMeeting.objects.all()
    assert meetings.filter(status=JointMeeting.Status.HELD).exists()
    assert meetings.filter(status=JointMeeting.Status.SCHEDULED, scheduled_at__gt=NOW).exists()
    # One co-operating department comes late; of two or more, another stays away (not in every small demo).
    assert set(MeetingAttendance.objects.values_list("status", flat=True)) >= {"present", "late"}
    assert Whistle.objects.filter(mode=Whistle.Mode.QUICK).exists()
    assert Whistle.objects.filter(grade="difficult").exists()
    assert set(Whistle.objects.values_list("source", flat=True)) == set(Whistle.Source.values)
    assert Whistle.objects.filter(reopens__gt=0).exists()


@pytest.mark.django_db
def test_every_service_call_wrote_its_event(demo):
    by_verb = Counter(Event.objects.values_list("verb", flat=True))
    whistle_level = Counter(Event.objects.filter(task=None).values_list("verb", flat=True))
    for verb, calls in demo.calls.items():
        written = whistle_level[verb] if verb in ("reopened", "callback_reopened") else by_verb[verb]
        assert (verb, written) == (verb, calls)
    assert by_verb["closed"] == Feedback.objects.count()
    assert by_verb["rated"] == Rating.objects.count()
    assert by_verb["callback"] + by_verb["callback_reopened"] == Callback.objects.count()
    assert by_verb["extension_requested"] == Extension.objects.count()
    assert by_verb["meeting_scheduled"] == JointMeeting.objects.count()
    assert by_verb["meeting_attended"] == MeetingAttendance.objects.filter(status__in=["present", "late"]).count()


@pytest.mark.django_db
def test_every_status_is_the_one_its_last_event_set(demo):
    last_whistle, last_task = {}, {}
    for event in status_events():
        (last_task if event.task_id else last_whistle)[event.task_id or event.whistle_id] = event.new["status"]
    for pk, status in Whistle.objects.values_list("pk", "status"):
        assert last_whistle[pk] == status
    for pk, status in Task.objects.values_list("pk", "status"):
        assert last_task.get(pk, T.PENDING) == status  # a task routing created has no event of its own yet
    # Routed once each (by the routing run), unless still in the approval chain.
    routed = Counter(Event.objects.filter(system_actor="router").values_list("whistle_id", flat=True))
    raised = Whistle.objects.exclude(status__in=APPROVAL_CHAIN).values_list("pk", flat=True)
    assert routed == dict.fromkeys(raised, 1)


@pytest.mark.django_db
def test_stage_facts_have_their_events_at_the_same_moment(demo):
    for task in Task.objects.exclude(acknowledged_at=None):
        verbs = set(task.events.filter(created_at=task.acknowledged_at).values_list("verb", flat=True))
        assert verbs & {"acknowledged", "checked_in"}, task
    for task in Task.objects.exclude(checked_in_at=None):
        assert task.events.filter(verb="checked_in", created_at=task.checked_in_at).exists()
    for task in Task.objects.exclude(closed_at=None):
        assert task.events.filter(verb="closed", created_at=task.closed_at).exists()


@pytest.mark.django_db
def test_the_past_is_replayed_with_deadlines_counted_from_then(demo):
    assert Event.objects.filter(created_at__gt=NOW).count() == 0
    raised = list(Whistle.objects.values_list("created_at", flat=True))
    assert 0.2 <= sum(moment < NOW - dt.timedelta(days=3) for moment in raised) / len(raised) <= 0.6
    assert min(raised) > NOW - dt.timedelta(days=35)
    reopened = Event.objects.filter(verb="reopened").values("task_id")
    for task in Task.objects.exclude(pk__in=reopened).select_related("whistle"):
        due = stage_deadlines(grade=task.whistle.grade, start=task.created_at)
        assert task.created_at == task.whistle.routed_at or task.whistle.events.filter(verb="dispatched").exists()
        assert (task.acknowledge_due_at, task.acknowledge_warn_at) == (due.acknowledge_due, due.acknowledge_warning_at)


@pytest.mark.django_db
def test_the_sweep_fired_the_ladder_as_the_beat_would(demo):
    verbs = Counter(Event.objects.filter(system_actor="sweeper").values_list("verb", flat=True))
    steps = Counter()
    for step, count in demo.swept.items():
        steps[step.rsplit("_", 1)[-1] if step.endswith(("_warning", "_overdue")) else step] += count
    assert verbs["warning"] == steps["warning"] > 0
    assert verbs["overdue"] == steps["overdue"] > 0
    assert (
        verbs["supervision_ordered"] == steps["supervision"] == SupervisionOrder.objects.filter(automatic=True).count()
    )
    assert verbs["accountability_recorded"] == steps["accountability"]
    assert AccountabilityRecord.objects.filter(kind="buck_passing").count() == steps["buck_passing"] > 0
    # Each warning fired within a minute of the moment it was due, nights included.
    for event in Event.objects.filter(verb__in=["warning", "overdue"]):
        late = event.created_at - dt.datetime.fromisoformat(event.new["due"])
        assert dt.timedelta(0) <= late <= dt.timedelta(minutes=1), event
    assert SupervisionOrder.objects.filter(status="answered").exists()
    assert OpenTaskTally.objects.filter(counted_at=NOW).exists()
    assert demo.lights.get("red", 0) > 0 and demo.lights.get("green", 0) > 0


@pytest.mark.django_db
def test_a_second_run_changes_nothing(demo):
    before = model_counts()
    out = StringIO()
    with override_settings(DEBUG=True):
        call_command("seed_demo_activity", stdout=out)
    assert model_counts() == before
    assert f"{COUNT} whistles already" in out.getvalue()


@pytest.mark.django_db
def test_refuses_when_debug_is_off(settings):
    settings.DEBUG = False
    before = model_counts()
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo_activity", stdout=StringIO())
    assert model_counts() == before
