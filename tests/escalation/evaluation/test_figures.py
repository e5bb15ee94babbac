"""Bottom-up ratings (下对上) and the side figures per department (escalation.evaluation.department_figures)."""

from escalation.evaluation import Period, Ratio, department_figures
from escalation.models import AccountabilityRecord, SupervisionOrder
from tests.escalation.evaluation.facts import at, task, whistle
from whistle.models import JointMeeting, MeetingAttendance, Rating, Task

MARCH = Period.month(2026, 3)


def figures(cast, period=MARCH):
    return {row.unit.code: row for row in department_figures(district=cast.district, period=period)}


def rate(cast, department, when, scores):
    response, attitude, result = scores
    return Rating.objects.create(
        whistle=whistle(cast),
        department=department,
        rated_by=cast.s01_staff,
        response=response,
        attitude=attitude,
        result=result,
        created_at=at(when),
    )


def test_the_ratings_of_the_period_are_averaged_per_count(cast):
    rate(cast, cast.d13, "2026-03-03 10:00", (5, 4, 3))
    rate(cast, cast.d13, "2026-03-31 23:59", (3, 4, 5))
    rate(cast, cast.d13, "2026-02-28 23:59", (1, 1, 1))  # February
    rate(cast, cast.d13, "2026-04-01 00:00", (1, 1, 1))  # April
    rate(cast, cast.d12, "2026-03-05 10:00", (5, 5, 4))

    found = figures(cast)

    d13, d12, e06 = found["D13"], found["D12"], found["E06"]
    assert (d13.ratings, d13.response, d13.attitude, d13.result, d13.overall) == (2, 4.0, 4.0, 4.0, 4.0)
    assert (d12.ratings, d12.overall) == (1, 4.67)
    assert (e06.ratings, e06.response, e06.overall) == (0, None, None)


def test_absences_overdues_returns_orders_and_records_count_in_the_period_they_happened(cast):
    difficult = whistle(cast, grade="difficult")
    for held, absent in (("2026-03-10 15:00", [cast.d13, cast.e06]), ("2026-04-02 15:00", [cast.d13])):
        meeting = JointMeeting.objects.create(
            whistle=difficult,
            scheduled_at=at(held),
            place="社区会议室",
            status=JointMeeting.Status.HELD,
            held_at=at(held),
            created_by=cast.s01_staff,
        )
        for department in (cast.d13, cast.d12, cast.e06):
            MeetingAttendance.objects.create(
                meeting=meeting,
                department=department,
                status="absent" if department in absent else "present",
            )
    late = task(
        whistle(cast),
        cast.d13,
        due="2026-03-02 10:00",
        acknowledge_overdue_at=at("2026-03-02 10:01"),
        resolve_overdue_at=at("2026-04-01 10:00"),  # April's
    )
    task(
        whistle(cast),
        cast.d13,
        due="2026-02-27 10:00",
        acknowledged="2026-02-27 09:00",
        status=Task.Status.ACKNOWLEDGED,
        checkin_overdue_at=at("2026-03-01 00:30"),
    )
    task(
        whistle(cast),
        cast.d12,
        due="2026-03-05 10:00",
        status=Task.Status.RETURNED,
        returned_at=at("2026-03-05 09:00"),
        return_reason_code="not_ours",
    )
    SupervisionOrder.objects.create(
        task=late, reason="超期未签收", reply_by=at("2026-03-05 17:30"), created_at=at("2026-03-03 10:00")
    )
    SupervisionOrder.objects.create(
        task=late, reason="再督", reply_by=at("2026-04-05 17:30"), created_at=at("2026-04-01 10:00")
    )
    AccountabilityRecord.objects.create(
        department=cast.d13,
        whistle=late.whistle,
        task=late,
        kind="overdue",
        facts="超期",
        created_at=at("2026-03-06 10:00"),
    )

    found = figures(cast)

    d13, d12, e06 = found["D13"], found["D12"], found["E06"]
    assert (d13.meeting_absences, e06.meeting_absences, d12.meeting_absences) == (1, 1, 0)
    assert (d13.overdue_acknowledge, d13.overdue_checkin, d13.overdue_resolve, d13.overdue) == (1, 1, 0, 2)
    assert (d13.supervision_orders, d13.accountability_records) == (1, 1)
    assert (d12.returns, d12.overdue, d12.supervision_orders) == (1, 0, 0)
    assert figures(cast, Period.month(2026, 4))["D13"].overdue_resolve == 1


def test_closed_on_time_is_over_the_tasks_closed_in_the_period(cast):
    for closed, on_time in (("2026-03-05 10:00", True), ("2026-03-06 10:00", False), ("2026-04-01 10:00", True)):
        task(
            whistle(cast),
            cast.d13,
            due="2026-03-02 10:00",
            acknowledged="2026-03-02 09:00",
            status=Task.Status.CLOSED,
            closed_at=at(closed),
            closed_on_time=on_time,
        )

    assert figures(cast)["D13"].closed_on_time == Ratio(1, 2)
    assert figures(cast)["E06"].closed_on_time.rate is None


def test_the_figures_take_seven_queries_whatever_the_rows(cast, django_assert_num_queries):
    for n in range(5):
        rate(cast, cast.d13, f"2026-03-0{n + 1} 10:00", (5, 4, 3))
        task(whistle(cast), cast.d12, due="2026-03-02 10:00", acknowledge_overdue_at=at("2026-03-02 11:00"))

    # departments, ratings, absences, overdues and returns, closings, orders, records
    with django_assert_num_queries(7):
        department_figures(district=cast.district, period=MARCH)
