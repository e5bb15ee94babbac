"""The deadline sweep: warnings, overdues, supervision orders and accountability, each once, on the work calendar."""

from datetime import timedelta

import pytest
import time_machine

from config.errors import Conflict, InvalidInput, NotAllowed
from escalation.models import AccountabilityNote, AccountabilityRecord, SupervisionOrder
from escalation.services import (
    RETRY_BAD_ROW,
    accountability_annotate,
    deadlines_sweep,
    supervision_order_close,
    supervision_order_open,
    supervision_order_reply,
)
from tests.escalation.conftest import at
from tests.factories import MembershipFactory, UserFactory, submit_whistle
from whistle.models import Event, Notification, Task
from whistle.services import task_acknowledge, task_request_extension, task_return, whistle_dispatch, whistle_route
from whistle.services.tasks import extension_decide

NEW_YEAR_EVE = at("2025-12-31 16:00")  # Wednesday; Jan 1–3 off, Sunday Jan 4 a working day (调休)


def routed(user, **fields):
    whistle = submit_whistle(user, **fields).whistle
    whistle_route(whistle_id=whistle.pk)
    return whistle


def sweep(moment):
    with time_machine.travel(moment, tick=False):
        return deadlines_sweep()


def verbs(task):
    return list(Event.objects.filter(task=task, system_actor="sweeper").values_list("verb", flat=True))


@pytest.fixture
def d13_head(cast):
    return MembershipFactory(
        user=UserFactory(username="d13_head"), role="dept_head", street=None, department=cast.d13
    ).user


@pytest.fixture
def lead(cast, d13_head):
    with time_machine.travel(NEW_YEAR_EVE, tick=False):
        whistle = routed(cast.s01_staff)
    return whistle.tasks.get(department=cast.d13)


def test_the_ladder_counts_working_hours_across_new_year_and_the_working_sunday(cast, lead, d13_head):
    # Acknowledge within 2 working hours from Wed 16:00: 1.5 h on Wednesday, then Sunday Jan 4 (调休) from 08:30.
    assert (lead.acknowledge_warn_at, lead.acknowledge_due_at) == (at("2026-01-04 08:36"), at("2026-01-04 09:00"))
    assert (lead.next_step, lead.next_deadline_at) == ("acknowledge_warning", at("2026-01-04 08:36"))

    for quiet in ("2025-12-31 17:40", "2026-01-01 10:00", "2026-01-03 12:00", "2026-01-04 08:35"):
        assert sweep(at(quiet)).total == 0, quiet
    assert verbs(lead) == []

    assert sweep(at("2026-01-04 08:40")).steps == {"acknowledge_warning": 3}  # the three departments' tasks
    assert verbs(lead) == ["warning"]
    warning = Event.objects.get(task=lead, verb="warning")
    assert warning.new == {"step": "acknowledge_warning", "due": lead.acknowledge_warn_at.isoformat()}
    assert Notification.objects.filter(task=lead, verb="warning", department=cast.d13).count() == 1
    lead.refresh_from_db()
    assert (lead.acknowledge_warned_at, lead.next_step) == (at("2026-01-04 08:40"), "acknowledge_overdue")
    assert lead.next_deadline_at == lead.acknowledge_due_at

    sweep(at("2026-01-04 09:01"))
    assert verbs(lead) == ["warning", "overdue"]
    overdue = Notification.objects.filter(task=lead, verb="overdue")
    # The department's head, and the street.
    assert sorted((n.recipient_id or 0, n.street_id or 0) for n in overdue) == [(0, cast.s01.pk), (d13_head.pk, 0)]

    # A supervision order one working day after the deadline: Monday 09:00.
    assert sweep(at("2026-01-05 08:59")).total == 0
    sweep(at("2026-01-05 09:01"))
    order = SupervisionOrder.objects.get(task=lead)
    assert order.automatic and order.status == "open"
    assert order.reply_by == at("2026-01-07 09:01")  # two working days to answer
    assert Notification.objects.filter(task=lead, verb="supervision_order", recipient=cast.supervisor).count() == 1

    # Accountability three working days after the deadline: Wednesday 09:00.
    sweep(at("2026-01-07 08:59"))
    assert not AccountabilityRecord.objects.filter(task=lead, kind="overdue").exists()
    sweep(at("2026-01-07 09:01"))
    record = AccountabilityRecord.objects.get(task=lead, kind="overdue")
    assert record.department == cast.d13 and list(record.events.values_list("verb", flat=True)) == [
        "accountability_recorded"
    ]
    # The order's reply-by passed at the same minute, unanswered: a second record, of its own kind.
    assert verbs(lead) == ["warning", "overdue", "supervision_ordered", "accountability_recorded", "order_unanswered"]
    lead.refresh_from_db()
    assert (lead.next_deadline_at, lead.next_step) == (None, "")


def test_every_step_fires_once_when_the_sweep_runs_twice_or_days_late(cast, lead):
    first = sweep(at("2026-01-08 12:00"))  # everything at once: the sweep was down for days

    assert first.steps["acknowledge_warning"] == 3 and first.steps["supervision"] == 3
    assert first.steps["accountability"] == 3
    assert sweep(at("2026-01-08 12:00")).total == 0
    assert sweep(at("2026-01-20 12:00")).steps == {"order_unanswered": 3}  # the orders' reply-by passed
    assert sweep(at("2026-01-20 12:00")).total == 0
    assert verbs(lead) == ["warning", "overdue", "supervision_ordered", "accountability_recorded", "order_unanswered"]
    assert SupervisionOrder.objects.filter(task=lead).count() == 1


def test_a_priority_task_gets_its_supervision_order_at_once(cast, d13_head):
    with time_machine.travel(at("2026-03-02 10:00"), tick=False):
        task = routed(cast.s01_staff, grade="priority").tasks.get(department=cast.d13)
    # Priority: acknowledge within 30 minutes.
    assert task.acknowledge_due_at == at("2026-03-02 10:30")

    sweep(at("2026-03-02 10:31"))

    assert verbs(task) == ["warning", "overdue", "supervision_ordered"]


def test_acknowledging_starts_the_next_stage_and_a_finished_task_never_escalates(cast, lead):
    sweep(at("2026-01-04 08:40"))
    with time_machine.travel(at("2026-01-04 08:45"), tick=False):
        task_acknowledge(task=lead, actor=cast.d13_staff)
    lead.refresh_from_db()
    assert lead.acknowledged_on_time is True
    assert lead.next_step == "checkin_warning" and lead.next_deadline_at == lead.checkin_warn_at

    released = Task.objects.get(whistle=lead.whistle, department=cast.e06)
    from whistle.services import task_release

    with time_machine.travel(at("2026-01-04 08:50"), tick=False):
        task_release(task=released, actor=cast.s01_dispatcher)
    released.refresh_from_db()
    assert released.next_deadline_at is None

    sweep(at("2026-02-01 12:00"))
    assert verbs(released) == ["warning"]  # before it was released, never after
    assert "acknowledge_overdue" not in [e.new["step"] for e in Event.objects.filter(task=lead, verb="overdue")]


def test_an_approved_extension_moves_the_deadline_and_cancels_the_pending_warning(cast):
    with time_machine.travel(at("2026-03-02 10:00"), tick=False):
        whistle = routed(cast.s01_staff)
        task = whistle.tasks.get(department=cast.d13)
        from whistle.services import task_check_in

        task_check_in(task=task, actor=cast.d13_staff)
    task.refresh_from_db()
    assert task.next_step == "resolve_warning"
    old_warning = task.next_deadline_at

    with time_machine.travel(at("2026-03-03 10:00"), tick=False):
        extension = task_request_extension(
            task=task, actor=cast.d13_staff, until=at("2026-03-31 17:00"), reason="需协调产权单位"
        )
        extension_decide(extension=extension, actor=cast.s01_head, decision="approve", note="同意")
    task.refresh_from_db()

    assert task.resolve_due_at == at("2026-03-31 17:00")
    assert task.next_step == "resolve_warning" and task.next_deadline_at > old_warning
    assert sweep(old_warning + timedelta(minutes=1)).steps.get("resolve_warning", 0) == 0
    assert verbs(task) == []


def test_a_whistle_returned_three_times_records_buck_passing_for_each_department_that_returned_it(cast):
    whistle = routed(cast.s01_staff, category="ORDER-PUBLIC")  # T01 leads in S01
    returns = [("T01", cast.t01_staff), ("T04", cast.t04_staff), ("T01", cast.t01_staff)]
    for n, (code, user) in enumerate(returns):
        task = whistle.tasks.get(department__code=code)
        task_return(task=task, actor=user, reason_code="not_ours", reason=f"不属本单位职责 {n}")
        if n < 2:
            other = "T04" if code == "T01" else "T01"
            whistle_dispatch(
                whistle=whistle, actor=cast.s01_dispatcher, departments=[{"code": other, "role": "lead"}], note="再派"
            )
    whistle.refresh_from_db()
    assert whistle.returns == 3

    deadlines_sweep()
    deadlines_sweep()

    records = AccountabilityRecord.objects.filter(whistle=whistle, kind="buck_passing")
    assert sorted(records.values_list("department__code", flat=True)) == ["T01", "T04"]
    t01 = records.get(department__code="T01")
    assert t01.events.count() == 2 and "2" in t01.facts


def test_an_unanswered_order_becomes_an_accountability_record_and_an_answered_one_does_not(cast, lead):
    sweep(at("2026-01-05 09:01"))  # orders for D13, D12 and E06, reply by Wednesday 09:01
    d12_order = SupervisionOrder.objects.get(task__department=cast.d12)
    with time_machine.travel(at("2026-01-06 10:00"), tick=False):
        supervision_order_reply(order=d12_order, actor=cast.d12_staff, reply="已安排人员，周三前完成")

    sweep(at("2026-01-07 09:02"))
    sweep(at("2026-01-07 09:03"))

    unanswered = AccountabilityRecord.objects.filter(kind="unanswered_order")
    assert sorted(unanswered.values_list("department__code", flat=True)) == ["D13", "E06"]
    assert SupervisionOrder.objects.get(pk=d12_order.pk).unanswered_at is None


def test_one_bad_row_is_logged_and_put_off_while_the_others_fire(cast, lead, monkeypatch, caplog):
    import escalation.services as services

    sweep(at("2026-01-04 08:40"))  # the warnings
    ladder_next = services.ladder_next

    def choking(task, **kwargs):
        if task.pk == lead.pk:
            raise ValueError("corrupt deadline")
        return ladder_next(task, **kwargs)

    monkeypatch.setattr(services, "ladder_next", choking)

    result = sweep(at("2026-01-04 09:01"))

    assert result.failed == 1 and result.steps == {"acknowledge_overdue": 2}
    lead.refresh_from_db()
    assert lead.acknowledge_overdue_at is None
    assert lead.next_deadline_at == at("2026-01-04 09:01") + RETRY_BAD_ROW
    assert verbs(lead) == ["warning"] and f"task {lead.pk} failed" in caplog.text


def test_a_task_summoned_again_after_its_supervision_order_is_not_supervised_twice(cast, lead):
    sweep(at("2026-01-05 09:01"))  # overdue since Sunday: the supervision orders
    with time_machine.travel(at("2026-01-05 10:00"), tick=False):
        task_return(task=lead, actor=cast.d13_staff, reason_code="not_ours", reason="请核实职责")
        whistle_dispatch(
            whistle=lead.whistle,
            actor=cast.s01_dispatcher,
            departments=[{"code": "D13", "role": "lead"}],
            note="经核实属区城管委职责",
        )
    lead.refresh_from_db()
    assert lead.status == "pending" and lead.supervised_at is not None and lead.acknowledge_overdue_at is None

    # Overdue again, days later: the new round's warning and overdue, then accountability, never a second order.
    result = sweep(at("2026-01-20 12:00"))

    assert result.failed == 0
    assert verbs(lead) == [
        *("warning", "overdue", "supervision_ordered"),  # the first round
        *("warning", "overdue", "accountability_recorded"),  # the second
        "order_unanswered",  # the first round's order, never answered
    ]
    assert SupervisionOrder.objects.filter(task=lead, automatic=True).count() == 1


def test_a_write_the_database_refuses_for_one_task_does_not_hold_up_its_batch(cast, lead, caplog):
    # An automatic order already on file for a task whose mark says it has none: its order cannot be written twice.
    SupervisionOrder.objects.create(task=lead, automatic=True, reason="已存在", reply_by=at("2026-01-07 09:00"))

    result = sweep(at("2026-01-05 09:01"))

    assert result.failed == 1 and result.steps["supervision"] == 2  # D12's and E06's
    lead.refresh_from_db()
    assert lead.supervised_at is None and lead.next_deadline_at == at("2026-01-05 09:01") + RETRY_BAD_ROW
    assert "supervision_ordered" not in verbs(lead) and f"task {lead.pk} failed" in caplog.text
    others = Task.objects.filter(whistle=lead.whistle).exclude(pk=lead.pk)
    assert all(task.supervised_at == at("2026-01-05 09:01") for task in others)


def test_supervisors_open_and_close_orders_by_hand_and_annotate_records_never_delete_them(cast, lead):
    with pytest.raises(NotAllowed):
        supervision_order_open(task=lead, actor=cast.s01_head, reason="请说明")
    with pytest.raises(InvalidInput) as caught:
        supervision_order_open(task=lead, actor=cast.supervisor, reason=" ")
    assert list(caught.value.fields) == ["reason"]

    order = supervision_order_open(task=lead, actor=cast.supervisor, reason="请说明进展")
    assert not order.automatic and order.opened_by == cast.supervisor
    with pytest.raises(NotAllowed):
        supervision_order_reply(order=order, actor=cast.d12_staff, reply="不是我们")
    supervision_order_reply(order=order, actor=cast.d13_staff, reply="已到场处置")
    with pytest.raises(Conflict):
        supervision_order_reply(order=order, actor=cast.d13_staff, reply="again")
    supervision_order_close(order=order, actor=cast.supervisor, note="答复属实")
    order.refresh_from_db()
    assert (order.status, order.reply, order.close_note) == ("closed", "已到场处置", "答复属实")
    assert list(Event.objects.filter(task=lead).exclude(system_actor="sweeper").values_list("verb", flat=True))[
        -3:
    ] == [
        "supervision_ordered",
        "order_answered",
        "order_closed",
    ]

    sweep(at("2026-01-08 12:00"))
    record = AccountabilityRecord.objects.get(task=lead, kind="overdue")
    accountability_annotate(record=record, actor=cast.supervisor, text="约谈部门负责人")
    assert list(AccountabilityNote.objects.filter(record=record).values_list("text", flat=True)) == ["约谈部门负责人"]
    with pytest.raises(NotAllowed):
        accountability_annotate(record=record, actor=cast.d13_staff, text="我们有意见")


def test_the_tally_counts_open_tasks_by_light_and_a_page_renews_a_stale_one(cast, lead, settings):
    from escalation.models import OpenTaskTally
    from escalation.services import open_tasks_tally_fresh
    from escalation.tasks import tally_open_tasks

    sweep(at("2026-01-04 09:01"))
    with time_machine.travel(at("2026-01-04 09:01"), tick=False):
        assert tally_open_tasks() == 3  # one row per department of the whistle
    tally = OpenTaskTally.objects.get(department=cast.d13)
    assert (tally.open, tally.warning, tally.overdue) == (1, 0, 1)
    assert tally.counted_at == at("2026-01-04 09:01") and tally.created_on.isoformat() == "2025-12-31"

    settings.DASHBOARD_TALLY_MAX_AGE_S = 180
    with time_machine.travel(at("2026-01-04 09:02"), tick=False):
        task_acknowledge(task=lead, actor=cast.d13_staff)
        open_tasks_tally_fresh()  # a minute old: still good
    assert OpenTaskTally.objects.get(department=cast.d13).counted_at == at("2026-01-04 09:01")
    with time_machine.travel(at("2026-01-04 09:05"), tick=False):
        open_tasks_tally_fresh()  # four minutes old: counted again
    tally = OpenTaskTally.objects.get(department=cast.d13)
    assert (tally.counted_at, tally.open, tally.overdue) == (at("2026-01-04 09:05"), 1, 0)
