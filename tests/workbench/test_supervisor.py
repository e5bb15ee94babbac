"""The supervisor's workbench: overdue and warning charts by department and street, the daily trend, orders and records."""

import json
import re
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from escalation.models import AccountabilityRecord
from escalation.services import deadlines_sweep
from tests.escalation.supervision import AT_1140, late_set
from tests.factories import DepartmentFactory, DistrictFactory, MembershipFactory, UserFactory, submit_whistle
from tests.whistle.lifecycle import close_all
from tests.workbench.conftest import MONDAY_10, SHANGHAI
from whistle.models import Event, Task, Whistle
from whistle.services import whistle_confirm, whistle_dispatch, whistle_route

TODAY = datetime(2026, 3, 20, 12, 0, tzinfo=SHANGHAI)
FIRST_DAY = date(2026, 2, 19)  # 30 days up to and including 20 March


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def signed_in(client, user):
    client.force_login(user)
    return client


def page(client, user) -> str:
    response = signed_in(client, user).get(reverse("workbench:supervisor"))
    assert response.status_code == 200
    return response.content.decode()


def chart_data(html: str) -> dict:
    found = re.search(r'<script id="wb-chart-data" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


def bars(html: str) -> dict[str, dict[str, int]]:
    return {bar["key"]: {row["code"]: row["value"] for row in bar["rows"]} for bar in chart_data(html)["bars"]}


def raised_at(cast, moment: datetime, *, user=None, **fields) -> Whistle:
    with time_machine.travel(moment, tick=False):
        whistle = submit_whistle(user or cast.s01_staff, **fields).whistle
        whistle_route(whistle_id=whistle.pk)
    whistle.refresh_from_db()
    return whistle


def went_overdue(task: Task, **marks: datetime) -> None:
    """The sweep's overdue marks on the task, e.g. acknowledge=<when its acknowledgement went overdue>."""
    Task.objects.filter(pk=task.pk).update(**{f"{stage}_overdue_at": moment for stage, moment in marks.items()})


@pytest.fixture
def other_supervisor(db):
    return MembershipFactory(
        user=UserFactory(username="other_supervisor"),
        role="supervisor",
        street=None,
        district=DistrictFactory(code="HD", name="海淀区"),
    ).user


# The bar charts ------------------------------------------------------------------------------


def test_the_bar_charts_count_overdue_and_warning_tasks_by_department_and_street(client, cast, monday_morning):
    late_set(cast)
    monday_morning.move_to(AT_1140)

    html = page(client, cast.supervisor)

    assert bars(html) == {
        "overdue-department": {"D12": 1, "D13": 1, "E06": 1, "T04": 1},
        "warning-department": {"D12": 1, "E06": 1},
        "overdue-street": {"S01": 3, "S02": 1},
        "warning-street": {"S01": 2},
    }
    overdue_streets = next(bar for bar in chart_data(html)["bars"] if bar["key"] == "overdue-street")
    assert overdue_streets["title"] == "Overdue tasks by street" and overdue_streets["kind"] == "overdue"
    assert [row["code"] for row in overdue_streets["rows"]] == ["S01", "S02"]  # the most overdue first
    # The table behind the chart carries the same numbers, for readers without the chart.
    table = html[html.index('id="wb-table-overdue-street"') :]
    assert re.search(r'data-unit="S01">.*?data-count="overdue">3<', table, re.S)
    assert 'data-count="overdue">4<' in html[html.index('id="wb-totals"') :]


def test_a_bar_chart_shows_the_top_fifteen_units(client, cast, monday_morning):
    for n in range(17):
        department = DepartmentFactory(district=cast.district, code=f"D{50 + n}")
        whistle = raised_at(cast, MONDAY_10, title=f"无规则{n}", category="MISC-OTHER")  # to the dispatcher
        whistle_dispatch(
            whistle=whistle, actor=cast.s01_dispatcher, departments=[{"code": department.code, "role": "lead"}]
        )
    monday_morning.move_to(at("2026-03-02 15:00"))  # every acknowledgement was due at 12:00

    overdue = bars(page(client, cast.supervisor))["overdue-department"]

    assert list(overdue) == [f"D{50 + n}" for n in range(15)]  # one overdue task each: by code


def test_the_trend_counts_each_local_day_and_shows_days_without_any_as_zero(client, cast, monday_morning):
    first = raised_at(cast, at("2026-03-02 10:00"), title="第一")
    raised_at(cast, at("2026-03-03 23:30"), title="深夜")  # 15:30 UTC: still the 3rd in Beijing
    raised_at(cast, at("2026-03-04 00:10"), title="凌晨")  # 16:10 UTC on the 3rd: the 4th in Beijing
    raised_at(cast, at("2026-02-18 23:50"), title="窗口之前")  # before the 30 days
    s02 = raised_at(cast, at("2026-03-04 09:00"), user=cast.s02_staff, category="ORDER-PUBLIC", lon=115.955, lat=40.445)
    with time_machine.travel(at("2026-03-05 16:00"), tick=False):
        close_all(cast, first)
        whistle_confirm(whistle=first, actor=cast.s01_staff)
    d13 = Task.objects.get(whistle=first, department__code="D13")
    t04 = Task.objects.get(whistle=s02)
    # The same task late at a second stage the same day counts once; on another day, once more.
    went_overdue(d13, acknowledge=at("2026-03-02 12:05"), checkin=at("2026-03-02 17:31"))
    went_overdue(t04, acknowledge=at("2026-03-04 10:31"), checkin=at("2026-03-05 00:01"))
    went_overdue(Task.objects.get(whistle=first, department__code="E06"), resolve=at("2026-02-18 23:59"))  # too early
    # Only the tasks' own marks count: not the log, not a warning.
    Event.objects.create(
        whistle=s02, task=t04, verb="overdue", system_actor="sweeper", created_at=at("2026-03-06 10:00")
    )
    Task.objects.filter(pk=t04.pk).update(acknowledge_warned_at=at("2026-03-07 10:00"))
    monday_morning.move_to(TODAY)

    trend = chart_data(page(client, cast.supervisor))["trend"]

    days = [FIRST_DAY + timedelta(days=n) for n in range(30)]
    assert trend["days"] == [day.isoformat() for day in days]
    series = {s["key"]: dict(zip(trend["days"], s["values"], strict=True)) for s in trend["series"]}
    nonzero = {key: {day: n for day, n in values.items() if n} for key, values in series.items()}
    assert nonzero == {
        "raised": {"2026-03-02": 1, "2026-03-03": 1, "2026-03-04": 2},
        "closed": {"2026-03-05": 1},
        "overdue": {"2026-03-02": 1, "2026-03-04": 1, "2026-03-05": 1},
    }
    assert series["raised"]["2026-03-10"] == 0 and series["raised"]["2026-02-19"] == 0
    assert [s["name"] for s in trend["series"]] == ["Whistles raised", "Whistles closed", "Tasks gone overdue"]


def test_the_trend_table_carries_the_same_numbers_newest_day_first(client, cast, monday_morning):
    raised_at(cast, at("2026-03-19 09:00"))
    monday_morning.move_to(TODAY)

    html = page(client, cast.supervisor)

    table = html[html.index('id="wb-table-trend"') :]
    table = table[: table.index("</table>")]
    days = re.findall(r'<tr data-day="([\d-]+)">', table)
    assert len(days) == 30 and days[0] == "2026-03-20" and days[-1] == "2026-02-19"
    yesterday = re.search(r'<tr data-day="2026-03-19">(.*?)</tr>', table, re.S).group(1)
    assert re.findall(r'<td class="text-end">(\d+)</td>', yesterday) == ["1", "0", "0"]


def test_another_districts_supervisor_sees_none_of_it(client, cast, other_supervisor, monday_morning):
    late_set(cast)
    monday_morning.move_to(AT_1140)

    html = page(client, other_supervisor)

    assert all(not rows for rows in bars(html).values())
    assert all(not any(s["values"]) for s in chart_data(html)["trend"]["series"])


def test_open_orders_and_the_latest_records_are_listed_with_links(client, cast, monday_morning):
    late = late_set(cast)
    monday_morning.move_to(AT_1140)
    deadlines_sweep()  # the priority tasks get their supervision orders at once
    monday_morning.move_to(datetime(2026, 3, 20, 12, 0, tzinfo=SHANGHAI))
    deadlines_sweep()  # by now every ladder has reached accountability

    html = page(client, cast.supervisor)

    orders = html[html.index('id="wb-orders"') :]
    assert late.priority.number in orders and 'data-count="orders-open">' in orders
    ledger = html[html.index('id="wb-ledger"') :]
    assert f'data-count="records">{AccountabilityRecord.objects.count()}<' in ledger
    assert len(re.findall(r'class="list-group-item wb-record"', ledger)) == min(
        10, AccountabilityRecord.objects.count()
    )
    for name in ("escalation:dashboard", "escalation:orders", "escalation:ledger"):
        assert f'href="{reverse(name)}"' in html


def test_the_charts_are_drawn_by_the_pages_script_from_json_never_by_inline_script(client, cast):
    html = page(client, cast.supervisor)

    scripts = re.findall(r"<script([^>]*)>", html)
    assert all("src=" in attrs or 'type="application/json"' in attrs for attrs in scripts)
    assert "vendor/echarts/echarts.min.js" in html and "js/workbench.js" in html
    assert " onclick=" not in html and " onload=" not in html


@pytest.mark.parametrize("many", [False, True])
def test_the_supervisor_workbench_costs_the_same_queries_for_few_or_many_tasks(
    client, cast, settings, django_assert_num_queries, monday_morning, many
):
    for n in range(5 if many else 1):
        raised_at(cast, at("2026-03-02 09:00"), title=f"楼道{n}")
        raised_at(cast, at("2026-03-02 09:00"), title=f"消防{n}", grade="priority")
    monday_morning.move_to(AT_1140)
    deadlines_sweep()
    settings.DASHBOARD_TALLY_MAX_AGE_S = 180
    client = signed_in(client, cast.supervisor)
    client.get(reverse("workbench:supervisor"))  # counts the tally, and what a process reads once

    # session, user (with membership and unit), the tally's age, its sums by department and by
    # street, the district's streets, three trend queries, the order counts, the record counts,
    # the header's unread notices, the calendar's version, the open orders and the latest records
    with django_assert_num_queries(15):
        response = client.get(reverse("workbench:supervisor"))

    assert response.status_code == 200
