import pytest

from config.errors import Conflict
from whistle.models import Event, Task, Whistle
from whistle.services import whistle_submit
from whistle.services.transitions import ALLOWED_TRANSITIONS, TASK_TRANSITIONS, whistle_transition

S = Whistle.Status
T = Task.Status


def test_the_state_machine_is_exactly_this():
    assert {k: set(v) for k, v in ALLOWED_TRANSITIONS.items()} == {
        S.DRAFT: {S.AWAITING_SIGNATURE},
        S.AWAITING_SIGNATURE: {S.AWAITING_APPROVAL, S.DRAFT},
        S.AWAITING_APPROVAL: {S.APPROVED, S.DRAFT},
        S.APPROVED: {S.SUBMITTED, S.DRAFT},
        S.SUBMITTED: {S.ROUTED, S.AWAITING_DISPATCH, S.MERGED},
        S.AWAITING_DISPATCH: {S.ROUTED, S.MERGED},
        S.ROUTED: {S.AWAITING_DISPATCH, S.RESOLVED},
        S.RESOLVED: {S.CLOSED, S.ROUTED},
        S.CLOSED: {S.ROUTED},
        S.MERGED: set(),
    }
    assert set(ALLOWED_TRANSITIONS) == set(S.values)


def test_the_task_state_machine_is_exactly_this():
    assert {k: set(v) for k, v in TASK_TRANSITIONS.items()} == {
        T.PENDING: {T.ACKNOWLEDGED, T.CHECKED_IN, T.RETURNED, T.RELEASED},
        T.ACKNOWLEDGED: {T.CHECKED_IN, T.RETURNED, T.RELEASED},
        T.CHECKED_IN: {T.CLOSED, T.RETURNED, T.RELEASED},
        T.CLOSED: {T.PENDING},
        T.RETURNED: {T.PENDING},
        T.RELEASED: {T.PENDING},
    }
    assert set(TASK_TRANSITIONS) == set(T.values)


def test_a_transition_outside_the_table_is_refused_and_writes_nothing(cast):
    whistle = whistle_submit(
        reporter=cast.s01_staff, title="t", description="d", category="ENV-COMPOUND", grid="S01C01G01"
    ).whistle

    with pytest.raises(Conflict):
        whistle_transition(whistle=whistle, to=S.CLOSED, verb="closed", now=whistle.created_at, actor=cast.s01_staff)

    assert Whistle.objects.get(pk=whistle.pk).status == S.SUBMITTED
    assert Event.objects.filter(verb="closed").count() == 0


def test_a_transition_that_lost_a_race_is_a_conflict(cast):
    whistle = whistle_submit(
        reporter=cast.s01_staff, title="t", description="d", category="ENV-COMPOUND", grid="S01C01G01"
    ).whistle
    Whistle.objects.filter(pk=whistle.pk).update(status=S.AWAITING_DISPATCH)  # someone else moved it

    with pytest.raises(Conflict):
        whistle_transition(whistle=whistle, to=S.ROUTED, verb="routed", now=whistle.created_at, system_actor="router")
    assert Event.objects.filter(verb="routed").count() == 0
