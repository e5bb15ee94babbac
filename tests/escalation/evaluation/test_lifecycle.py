"""The rates over whistles taken through their real life by the services: reopened, extended, merged."""

import time_machine

from escalation.evaluation import DEPARTMENT, STREET, Period, Ratio, department_figures, ranking
from escalation.services import deadlines_sweep
from tests.escalation.evaluation.facts import at
from tests.whistle.lifecycle import close_all, routed, staff_of
from whistle.models import Task, Whistle
from whistle.services import whistle_callback, whistle_confirm, whistle_merge
from whistle.services.tasks import extension_decide, task_check_in, task_close, task_request_extension

MARCH, APRIL = Period.month(2026, 3), Period.month(2026, 4)
AFTER = at("2026-04-10 12:00")


def travel(text: str):
    return time_machine.travel(at(text), tick=False)


def rates(cast, code, period, level=DEPARTMENT):
    result = ranking(district=cast.district, period=period, level=level, now=AFTER)
    return next(row.rates for row in result.rows if row.unit.code == code)


def test_a_whistle_reopened_by_the_citizen_counts_once_in_the_period_of_its_latest_closing(cast):
    with travel("2026-03-27 10:00"):
        whistle = routed(cast)
    with travel("2026-03-27 10:30"):
        close_all(cast, whistle)
    with travel("2026-03-30 10:00"):
        whistle_confirm(whistle=whistle, actor=cast.s01_staff)
    with travel("2026-04-01 10:00"):  # dissatisfied and not solved: reopened, every task pending again
        whistle_callback(whistle=whistle, actor=cast.s01_staff, satisfaction="dissatisfied", solved=False)
    with travel("2026-04-01 11:00"):
        close_all(cast, whistle)
    with travel("2026-04-02 10:00"):
        whistle_confirm(whistle=whistle, actor=cast.s01_staff)
    with travel("2026-04-03 10:00"):
        whistle_callback(whistle=whistle, actor=cast.s01_staff, satisfaction="satisfied", solved=True)

    march, april = rates(cast, "D13", MARCH), rates(cast, "D13", APRIL)
    # The March closing was undone by the reopening; the task's first round is only in its events.
    assert (march.response, march.resolution, march.satisfaction) == (Ratio(0, 0), Ratio(0, 0), Ratio(0, 0))
    # April: the second round, the latest closing, and of the two April callbacks the later one.
    assert (april.response, april.resolution, april.satisfaction) == (Ratio(1, 1), Ratio(1, 1), Ratio(1, 1))
    street = rates(cast, "S01", APRIL, level=STREET)
    assert (street.response, street.resolution, street.satisfaction) == (Ratio(3, 3), Ratio(1, 1), Ratio(1, 1))


def test_a_dissatisfied_callback_after_a_second_closing_leaves_the_whistle_closed_and_unsolved(cast):
    with travel("2026-03-02 10:00"):
        whistle = routed(cast)
    with travel("2026-03-02 10:30"):
        close_all(cast, whistle)
    with travel("2026-03-03 10:00"):
        whistle_confirm(whistle=whistle, actor=cast.s01_staff)
    with travel("2026-03-04 10:00"):
        whistle_callback(whistle=whistle, actor=cast.s01_staff, satisfaction="dissatisfied", solved=False)
    with travel("2026-03-04 11:00"):
        close_all(cast, whistle)
    with travel("2026-03-05 10:00"):
        whistle_confirm(whistle=whistle, actor=cast.s01_staff)
    with travel("2026-03-06 10:00"):  # the second time it is escalated to the supervisors, not reopened
        whistle_callback(whistle=whistle, actor=cast.s01_staff, satisfaction="dissatisfied", solved=False)

    whistle.refresh_from_db()
    assert whistle.status == Whistle.Status.CLOSED and whistle.escalated_at is not None
    march = rates(cast, "D13", MARCH)
    assert (march.resolution, march.satisfaction) == (Ratio(0, 1), Ratio(0, 1))


def test_an_extension_moves_the_resolve_by_date_and_withdraws_the_overdue(cast):
    with travel("2026-03-02 10:00"):  # resolve by 11 March 10:00 (seven working days)
        whistle = routed(cast)
    tasks = {task.department.code: task for task in whistle.tasks.select_related("department")}
    with travel("2026-03-02 10:30"):
        task_check_in(task=tasks["D13"], actor=cast.d13_staff)
    with travel("2026-03-12 09:00"):  # D13 overdue to resolve; D12 and E06 never acknowledged
        deadlines_sweep()
    assert Task.objects.get(pk=tasks["D13"].pk).resolve_overdue_at is not None
    with travel("2026-03-12 09:30"):
        extension = task_request_extension(
            task=tasks["D13"], actor=cast.d13_staff, until=at("2026-03-20 17:00"), reason="需协调产权单位"
        )
    with travel("2026-03-12 09:40"):
        extension_decide(extension=extension, actor=cast.s01_head, decision="approve")
    for code in ("D12", "E06"):
        with travel("2026-03-12 10:00"):
            task_check_in(task=tasks[code], actor=staff_of(cast, tasks[code]))
        with travel("2026-03-13 10:00"):
            task_close(task=tasks[code], actor=staff_of(cast, tasks[code]), actions="已配合", result="solved")
    with travel("2026-03-18 10:00"):  # after the first resolve-by date, before the extended one
        task_close(task=tasks["D13"], actor=cast.d13_staff, actions="已清理", result="solved")

    figures = {row.unit.code: row for row in department_figures(district=cast.district, period=MARCH)}
    d13, d12 = figures["D13"], figures["D12"]
    assert (d13.overdue, d13.closed_on_time, d13.supervision_orders) == (0, Ratio(1, 1), 0)
    assert (d12.overdue_acknowledge, d12.overdue, d12.closed_on_time) == (1, 1, Ratio(0, 1))
    assert (d12.supervision_orders, d12.accountability_records) == (1, 1)
    assert [rates(cast, code, MARCH).response for code in ("D13", "D12", "E06")] == [
        Ratio(1, 1),
        Ratio(0, 1),
        Ratio(0, 1),
    ]


def test_a_merged_whistle_is_counted_once_as_the_whistle_it_was_merged_into(cast):
    from escalation.statistics import whistle_counts

    with travel("2026-03-02 10:00"):
        kept = routed(cast)
        duplicate = routed(cast, category="MISC-OTHER")  # no rule: it waits for the dispatcher
        whistle_merge(whistle=duplicate, into=kept, actor=cast.s01_staff)

    counts = {row.key: row.count for row in whistle_counts(district=cast.district, period=MARCH, by="street")}
    assert counts == {"S01": 1, "S02": 0}
    assert rates(cast, "S01", MARCH, level=STREET).response == Ratio(0, 3)  # the kept whistle's three tasks
