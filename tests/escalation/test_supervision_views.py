"""The supervisor pages: the overdue dashboard, supervision orders and the accountability ledger."""

import re
from datetime import datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from escalation.models import AccountabilityNote, AccountabilityRecord, SupervisionOrder
from escalation.services import deadlines_sweep, supervision_order_open
from tests.escalation.supervision import AT_1025, AT_1140, SHANGHAI, late_set, routed, signed_in, task_of
from tests.factories import DistrictFactory, MembershipFactory, UserFactory
from whistle.models import Event, Task

LATER = datetime(2026, 3, 20, 12, 0, tzinfo=SHANGHAI)  # every step of every ladder has fired by then


@pytest.fixture
def late(cast):
    return late_set(cast)


@pytest.fixture
def at_1140():
    with time_machine.travel(AT_1140, tick=False):
        yield


@pytest.fixture
def swept(late, at_1140):
    """The sweep at 11:40: the four priority tasks get their supervision orders at once."""
    deadlines_sweep()
    return late


@pytest.fixture
def other_supervisor(db):
    return MembershipFactory(
        user=UserFactory(username="other_supervisor"),
        role="supervisor",
        street=None,
        district=DistrictFactory(code="HD", name="海淀区"),
    ).user


def unit_counts(html: str, table: str) -> dict[str, tuple[int, int, int, str]]:
    """{code: (open, warning, overdue, share)} of a count table of the dashboard."""
    body = html[html.index(f'id="{table}"') :]
    body = body[: body.index("</table>")]
    rows = {}
    for code, cells in re.findall(r'<tr data-unit="([^"]+)">(.*?)</tr>', body, re.S):
        found = dict(re.findall(r'data-count="(\w+)">([^<]*)<', cells))
        rows[code] = (int(found["open"]), int(found["warning"]), int(found["overdue"]), found["share"])
    return rows


def totals(html: str) -> dict[str, str]:
    body = html[html.index('id="dashboard-totals"') :]
    return dict(re.findall(r'data-count="(\w+)">([^<]*)<', body[: body.index("</ul>")]))


def row_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr id="task-(\d+)"', html)]


# The overdue dashboard ---------------------------------------------------------------------


def test_the_dashboard_counts_warning_and_overdue_tasks_by_department_and_street(client, cast, late, at_1140):
    html = signed_in(client, cast.supervisor).get(reverse("escalation:dashboard")).content.decode()

    assert unit_counts(html, "department-counts") == {
        "T04": (1, 0, 1, "100%"),
        "D12": (2, 1, 1, "50%"),
        "E06": (2, 1, 1, "50%"),
        "D13": (2, 0, 1, "50%"),
    }
    assert unit_counts(html, "street-counts") == {"S01": (6, 2, 3, "50%"), "S02": (1, 0, 1, "100%")}
    assert totals(html) == {"open": "7", "warning": "2", "overdue": "4", "share": "57%"}
    # The late rows, oldest deadline first: the priority ones (10:30) before the ordinary ones (12:00).
    priority = [task_of(late.priority, code).pk for code in ("D13", "D12", "E06")]
    s02 = task_of(late.s02, "T04").pk
    ordinary = [task_of(late.ordinary, code).pk for code in ("D12", "E06")]
    rows = row_ids(html)
    assert sorted(rows[:4]) == sorted([*priority, s02]) and sorted(rows[4:]) == sorted(ordinary)
    assert task_of(late.ordinary, "D13").pk not in rows


def test_before_any_deadline_the_dashboard_shows_the_warnings_only(client, cast, late):
    with time_machine.travel(AT_1025, tick=False):
        html = signed_in(client, cast.supervisor).get(reverse("escalation:dashboard")).content.decode()

    assert totals(html) == {"open": "7", "warning": "4", "overdue": "0", "share": "0%"}
    assert unit_counts(html, "street-counts") == {"S01": (6, 3, 0, "0%"), "S02": (1, 1, 0, "0%")}


def test_the_most_overdue_department_comes_first(client, cast, late, at_1140):
    html = signed_in(client, cast.supervisor).get(reverse("escalation:dashboard")).content.decode()

    # One overdue each; D12 and E06 also have a warning, then the share decides (T04 100 %, D13 50 %).
    assert list(unit_counts(html, "department-counts")) == ["D12", "E06", "T04", "D13"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"street": "S02"}, {"T04"}),
        ({"department": "D12"}, {"D12"}),
        ({"grade": "ordinary"}, {"D12", "E06"}),
        ({"category": "ORDER-PUBLIC"}, {"T04"}),
        ({"light": "yellow"}, {"D12", "E06"}),
        ({"created_from": "2026-03-02", "created_to": "2026-03-02"}, {"D13", "D12", "E06", "T04"}),
        ({"created_from": "2026-03-03"}, set()),
        ({"created_to": "2026-03-01"}, set()),
    ],
)
def test_the_dashboard_filters_the_rows_and_counts(client, cast, late, at_1140, query, expected):
    html = signed_in(client, cast.supervisor).get(reverse("escalation:dashboard"), query).content.decode()

    table = html[html.index('id="late-tasks"') :]
    departments = set(re.findall(r"<td>(\w\d\d) ", table))
    assert departments == expected
    if "light" not in query:
        assert set(unit_counts(html, "department-counts")) == expected


def test_a_filter_that_does_not_parse_is_shown_beside_its_field(client, cast, late, at_1140):
    client = signed_in(client, cast.supervisor)

    bad_grade = client.get(reverse("escalation:dashboard"), {"grade": "urgent"})
    backwards = client.get(reverse("escalation:dashboard"), {"created_from": "2026-03-05", "created_to": "2026-03-01"})
    unknown = client.get(reverse("escalation:dashboard"), {"street": "S99"})

    assert bad_grade.status_code == 200
    assert "Select a valid choice. urgent is not one of the available choices." in bad_grade.content.decode()
    assert "The period must not end before it starts." in backwards.content.decode()
    assert "Select a valid choice" in unknown.content.decode()


def test_the_dashboard_offers_only_the_districts_streets_and_departments(client, cast, other_supervisor, late):
    with time_machine.travel(AT_1140, tick=False):
        html = signed_in(client, other_supervisor).get(reverse("escalation:dashboard")).content.decode()
        refused = client.get(reverse("escalation:dashboard"), {"street": "S01"})

    assert totals(html)["open"] == "0" and row_ids(html) == []
    assert 'value="S01"' not in html
    assert "Select a valid choice" in refused.content.decode()


@pytest.mark.parametrize("who", ["d13_staff", "s01_staff", "s01_head", "hotline", "outsider"])
def test_the_dashboard_is_for_supervisors_only(client, cast, who):
    response = signed_in(client, getattr(cast, who)).get(reverse("escalation:dashboard"))

    assert response.status_code == 403


def test_the_pages_ask_to_sign_in(client, db):
    for name in ("escalation:dashboard", "escalation:orders", "escalation:ledger"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("many", [False, True])
def test_the_dashboard_takes_a_fixed_number_of_queries(client, cast, django_assert_max_num_queries, settings, many):
    settings.DASHBOARD_TALLY_MAX_AGE_S = 600  # the sweep's tally serves the counts
    with time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI), tick=False):
        for _ in range(12 if many else 1):
            routed(cast.s01_staff, grade="priority")
        routed(cast.s02_staff, category="ORDER-PUBLIC", lon=115.955, lat=40.445)
    with time_machine.travel(AT_1140, tick=False):
        deadlines_sweep()
        client = signed_in(client, cast.supervisor)
        client.get(reverse("escalation:dashboard"))  # content types of guardian's grants, cached from now on

        # session, user with membership, page count, the tally's age, its two count tables, order counts, record counts,
        # the header's unread notices, the snapshot's stamp (calendar warning), the streets, departments and
        # categories of the filters, the page of rows, the overdue orders, the latest records: 3 tasks or 37
        with django_assert_max_num_queries(16):
            response = client.get(reverse("escalation:dashboard"))

    html = response.content.decode()
    assert html.count('data-light="red"') == (12 if many else 1) * 3 + 1
    assert html.count("open order</a>") == (12 if many else 1) * 3 + 1


# Supervision orders ------------------------------------------------------------------------


def test_the_supervisor_lists_the_orders_by_status(client, cast, swept):
    client = signed_in(client, cast.supervisor)

    html = client.get(reverse("escalation:orders")).content.decode()
    assert html.count('data-status="open"') == 4
    assert 'data-count="open">4<' in html and 'data-count="overdue">0<' in html
    assert 'data-status="' not in client.get(reverse("escalation:orders"), {"status": "answered"}).content.decode()

    with time_machine.travel(AT_1140 + timedelta(days=3), tick=False):
        overdue = client.get(reverse("escalation:orders"), {"status": "overdue"}).content.decode()
    assert overdue.count('data-overdue="1"') == 4


def test_a_department_and_a_street_see_only_the_orders_on_their_tasks(client, cast, swept):
    d13 = signed_in(client, cast.d13_staff).get(reverse("escalation:orders")).content.decode()
    assert d13.count('data-status="open"') == 1 and swept.priority.number in d13

    s02 = signed_in(client, cast.s02_staff).get(reverse("escalation:orders")).content.decode()
    assert s02.count('data-status="open"') == 1 and swept.s02.number in s02 and swept.priority.number not in s02


def test_a_bad_status_filter_is_shown_beside_the_field(client, cast, swept):
    html = signed_in(client, cast.supervisor).get(reverse("escalation:orders"), {"status": "lost"}).content.decode()

    assert "Select a valid choice. lost is not one of the available choices." in html


@pytest.mark.parametrize("who", ["hotline", "outsider"])
def test_roles_without_orders_are_refused_the_list(client, cast, who):
    assert signed_in(client, getattr(cast, who)).get(reverse("escalation:orders")).status_code == 403


@pytest.mark.parametrize("many", [False, True])
def test_the_orders_list_takes_a_fixed_number_of_queries(client, cast, django_assert_max_num_queries, many):
    with time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI), tick=False):
        for _ in range(10 if many else 1):
            routed(cast.s01_staff, grade="priority")
    with time_machine.travel(AT_1140, tick=False):
        deadlines_sweep()
        client = signed_in(client, cast.supervisor)
        # session, user with membership, the district's streets, counts (which give the page count),
        # unread notices, the snapshot's stamp, page
        with django_assert_max_num_queries(7):
            response = client.get(reverse("escalation:orders"))

    assert response.content.decode().count('data-status="open"') == (10 if many else 1) * 3


def test_the_order_page_shows_the_order_and_the_tasks_timeline(client, cast, swept):
    order = SupervisionOrder.objects.get(task=task_of(swept.priority, "D13"))

    html = signed_in(client, cast.supervisor).get(reverse("escalation:order", args=[order.pk])).content.decode()

    assert order.number in html and order.reason in html
    timeline = html[html.index('id="task-timeline"') :]
    verbs = re.findall(r'data-verb="(\w+)"', timeline)
    assert verbs[-3:] == ["warning", "overdue", "supervision_ordered"]
    assert "warning (yellow light): acknowledgement" in timeline
    assert 'id="action-close"' in html and 'id="action-reply"' not in html


def test_the_department_answers_the_order_from_its_page(client, cast, swept):
    order = SupervisionOrder.objects.get(task=task_of(swept.priority, "D13"))
    client = signed_in(client, cast.d13_staff)
    page = client.get(reverse("escalation:order", args=[order.pk])).content.decode()
    assert 'id="action-reply"' in page and 'id="action-close"' not in page

    empty = client.post(reverse("escalation:order_reply", args=[order.pk]), {"reply": "  "})
    assert empty.status_code == 200 and "Write the reply." in empty.content.decode()
    order.refresh_from_db()
    assert order.status == "open"

    response = client.post(reverse("escalation:order_reply", args=[order.pk]), {"reply": "已派人清理"}, follow=True)

    order.refresh_from_db()
    assert (order.status, order.reply, order.replied_by) == ("answered", "已派人清理", cast.d13_staff)
    html = response.content.decode()
    assert "The reply is sent to the supervisors." in html and 'id="order-reply"' in html
    again = client.post(reverse("escalation:order_reply", args=[order.pk]), {"reply": "再次"}, follow=True)
    assert "The order is answered already." in again.content.decode()


def test_the_supervisor_closes_the_order_with_a_note(client, cast, swept):
    order = SupervisionOrder.objects.get(task=task_of(swept.priority, "D13"))
    client = signed_in(client, cast.supervisor)

    empty = client.post(reverse("escalation:order_close", args=[order.pk]), {"note": ""})
    assert empty.status_code == 200 and "Say why the order is closed." in empty.content.decode()

    client.post(reverse("escalation:order_close", args=[order.pk]), {"note": "部门已到场"})

    order.refresh_from_db()
    assert (order.status, order.close_note, order.closed_by) == ("closed", "部门已到场", cast.supervisor)
    assert Event.objects.filter(task=order.task, verb="order_closed").count() == 1


def test_orders_are_404_outside_the_scope_and_403_beyond_the_role(client, cast, swept, other_supervisor):
    order = SupervisionOrder.objects.get(task=task_of(swept.priority, "D13"))
    before = list(SupervisionOrder.objects.values())

    for who in (cast.d12_staff, cast.s02_staff, other_supervisor, cast.hotline, cast.outsider):
        client = signed_in(client, who)
        assert client.get(reverse("escalation:order", args=[order.pk])).status_code == 404, who
        assert client.post(reverse("escalation:order_close", args=[order.pk]), {"note": "x"}).status_code == 404
    assert signed_in(client, cast.s01_staff).get(reverse("escalation:order", args=[order.pk])).status_code == 200
    d13 = signed_in(client, cast.d13_staff)
    assert d13.post(reverse("escalation:order_close", args=[order.pk]), {"note": "自行关闭"}).status_code == 403
    supervisor = signed_in(client, cast.supervisor)
    assert supervisor.post(reverse("escalation:order_reply", args=[order.pk]), {"reply": "x"}).status_code == 403
    assert supervisor.get(reverse("escalation:order", args=[999999])).status_code == 404
    assert list(SupervisionOrder.objects.values()) == before


def test_the_supervisor_issues_an_order_by_hand(client, cast, late, at_1140):
    task = task_of(late.ordinary, "D12")
    client = signed_in(client, cast.supervisor)
    assert 'id="action-open"' in client.get(reverse("escalation:order_open", args=[task.pk])).content.decode()

    empty = client.post(reverse("escalation:order_open", args=[task.pk]), {"reason": "", "reply_by": ""})
    assert "Say what the department must answer." in empty.content.decode()
    past = client.post(
        reverse("escalation:order_open", args=[task.pk]), {"reason": "尽快签收", "reply_by": "2026-03-01T09:00"}
    )
    assert "Give a time in the future" in past.content.decode()
    garbage = client.post(reverse("escalation:order_open", args=[task.pk]), {"reason": "尽快签收", "reply_by": "soon"})
    assert "Enter a valid date/time." in garbage.content.decode()
    assert not SupervisionOrder.objects.exists()

    response = client.post(
        reverse("escalation:order_open", args=[task.pk]), {"reason": "尽快签收", "reply_by": "2026-03-03T17:00"}
    )

    order = SupervisionOrder.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("escalation:order", args=[order.pk])
    assert (order.task, order.automatic, order.opened_by) == (task, False, cast.supervisor)
    assert order.reply_by == datetime(2026, 3, 3, 17, 0, tzinfo=SHANGHAI)


def test_only_a_supervisor_of_the_district_issues_an_order(client, cast, late, at_1140, other_supervisor):
    task = task_of(late.ordinary, "D12")
    url = reverse("escalation:order_open", args=[task.pk])

    assert signed_in(client, cast.d12_staff).post(url, {"reason": "x"}).status_code == 403
    assert signed_in(client, cast.s01_head).get(url).status_code == 403
    assert signed_in(client, other_supervisor).post(url, {"reason": "x"}).status_code == 404
    assert signed_in(client, cast.s02_staff).get(url).status_code == 404
    assert not SupervisionOrder.objects.exists()


def test_an_order_on_a_finished_task_is_refused_in_place(client, cast, late, at_1140):
    from whistle.services import task_check_in, task_close

    task = task_of(late.ordinary, "E06")
    task_check_in(task=task, actor=cast.e06_staff)
    task_close(task=task_of(late.ordinary, "E06"), actor=cast.e06_staff, actions="已清运", result="solved")

    response = signed_in(client, cast.supervisor).post(
        reverse("escalation:order_open", args=[task.pk]), {"reason": "补充说明"}
    )

    assert response.status_code == 200 and "only an open task is supervised" in response.content.decode()
    assert not SupervisionOrder.objects.exists()


# The accountability ledger -----------------------------------------------------------------


@pytest.fixture
def recorded(late):
    with time_machine.travel(LATER, tick=False):
        deadlines_sweep()
        yield late


def test_the_supervisor_reads_the_ledger_and_a_department_its_own(client, cast, recorded):
    total = AccountabilityRecord.objects.count()
    d13_total = AccountabilityRecord.objects.filter(department=cast.d13).count()
    assert total > d13_total > 0

    supervisor = signed_in(client, cast.supervisor).get(reverse("escalation:ledger")).content.decode()
    assert supervisor.count('<tr id="record-') == total
    only_overdue = client.get(reverse("escalation:ledger"), {"kind": "overdue"}).content.decode()
    assert only_overdue.count('data-kind="overdue"') == only_overdue.count('<tr id="record-') > 0
    by_department = client.get(reverse("escalation:ledger"), {"department": "d13"}).content.decode()
    assert by_department.count('<tr id="record-') == d13_total

    d13 = signed_in(client, cast.d13_staff).get(reverse("escalation:ledger")).content.decode()
    assert d13.count('<tr id="record-') == d13_total


@pytest.mark.parametrize("who", ["s01_staff", "s01_head", "hotline", "outsider"])
def test_roles_without_a_ledger_are_refused(client, cast, who):
    assert signed_in(client, getattr(cast, who)).get(reverse("escalation:ledger")).status_code == 403


def test_the_supervisor_annotates_a_record_and_never_changes_it(client, cast, recorded):
    record = AccountabilityRecord.objects.get(task=task_of(recorded.priority, "D13"), kind="overdue")
    facts = record.facts
    client = signed_in(client, cast.supervisor)
    page = client.get(reverse("escalation:record", args=[record.pk])).content.decode()
    assert facts in page and 'id="action-annotate"' in page and "accountability recorded" in page

    empty = client.post(reverse("escalation:record_annotate", args=[record.pk]), {"text": ""})
    assert empty.status_code == 200 and "Write the note." in empty.content.decode()

    response = client.post(reverse("escalation:record_annotate", args=[record.pk]), {"text": "已约谈"}, follow=True)

    assert "已约谈" in response.content.decode()
    assert list(AccountabilityNote.objects.values_list("record", "author", "text")) == [
        (record.pk, cast.supervisor.pk, "已约谈")
    ]
    record.refresh_from_db()
    assert record.facts == facts


def test_records_are_404_outside_the_scope_and_403_beyond_the_role(client, cast, recorded, other_supervisor):
    record = AccountabilityRecord.objects.get(task=task_of(recorded.priority, "D13"), kind="overdue")

    for who in (cast.d12_staff, cast.s01_staff, other_supervisor, cast.outsider):
        client = signed_in(client, who)
        assert client.get(reverse("escalation:record", args=[record.pk])).status_code == 404
        assert client.post(reverse("escalation:record_annotate", args=[record.pk]), {"text": "x"}).status_code == 404
    d13 = signed_in(client, cast.d13_staff)
    page = d13.get(reverse("escalation:record", args=[record.pk])).content.decode()
    assert 'id="action-annotate"' not in page
    assert d13.post(reverse("escalation:record_annotate", args=[record.pk]), {"text": "申辩"}).status_code == 403
    assert not AccountabilityNote.objects.exists()


@pytest.mark.parametrize("many", [False, True])
def test_the_ledger_takes_a_fixed_number_of_queries(client, cast, django_assert_max_num_queries, many):
    with time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI), tick=False):
        for _ in range(6 if many else 1):
            routed(cast.s01_staff)
    with time_machine.travel(LATER, tick=False):
        deadlines_sweep()
        client = signed_in(client, cast.supervisor)
        # session, user with membership, the district's streets, counts (which give the page count),
        # unread notices, the snapshot's stamp, page
        with django_assert_max_num_queries(7):
            response = client.get(reverse("escalation:ledger"))

    assert response.content.decode().count('<tr id="record-') == AccountabilityRecord.objects.count() > 0


# Navigation ----------------------------------------------------------------------------------


def test_the_header_nav_links_supervisors_to_the_dashboard_and_departments_to_their_orders(client, cast):
    supervisor = signed_in(client, cast.supervisor).get(reverse("whistle:list")).content.decode()
    assert reverse("escalation:dashboard") in supervisor

    d13 = signed_in(client, cast.d13_staff).get(reverse("whistle:list")).content.decode()
    assert reverse("escalation:orders") in d13 and f'href="{reverse("escalation:dashboard")}"' not in d13

    street = signed_in(client, cast.s01_staff).get(reverse("whistle:list")).content.decode()
    assert "/supervision/" not in street


def test_an_order_issued_by_hand_is_listed_for_its_department(client, cast, late, at_1140):
    supervision_order_open(task=task_of(late.ordinary, "D12"), actor=cast.supervisor, reason="请说明进度")

    html = signed_in(client, cast.d12_staff).get(reverse("escalation:orders")).content.decode()

    assert html.count('data-status="open"') == 1 and "请说明进度" in html


def test_with_two_districts_each_supervisor_sees_only_its_own_tasks_orders_and_records(
    client, cast, recorded, other_supervisor
):
    # S02 belongs to the other district now: its whistle's task, orders and records are that district's.
    cast.s02.district = other_supervisor.membership.district
    cast.s02.save(update_fields=["district"])
    theirs = {
        "tasks": set(Task.objects.filter(whistle__street=cast.s02).values_list("pk", flat=True)),
        "orders": set(SupervisionOrder.objects.filter(task__whistle__street=cast.s02).values_list("pk", flat=True)),
        "records": set(AccountabilityRecord.objects.filter(whistle__street=cast.s02).values_list("pk", flat=True)),
    }
    everything = {
        "tasks": set(Task.objects.values_list("pk", flat=True)),
        "orders": set(SupervisionOrder.objects.values_list("pk", flat=True)),
        "records": set(AccountabilityRecord.objects.values_list("pk", flat=True)),
    }
    assert all(theirs.values()) and all(everything[kind] - theirs[kind] for kind in theirs)
    pages = {"tasks": "whistle:tasks", "orders": "escalation:orders", "records": "escalation:ledger"}
    prefix = {"tasks": "task", "orders": "order", "records": "record"}

    for user, expected in (
        (cast.supervisor, {k: everything[k] - theirs[k] for k in theirs}),
        (other_supervisor, theirs),
    ):
        client = signed_in(client, user)
        for kind, name in pages.items():
            html = client.get(reverse(name)).content.decode()
            assert {int(pk) for pk in re.findall(rf'<tr id="{prefix[kind]}-(\d+)"', html)} == expected[kind]
            if kind == "tasks":  # the counts, which give the page count too
                assert f"{len(expected[kind])} task" in html
        order = SupervisionOrder.objects.filter(pk__in=theirs["orders"]).first()
        assert client.get(reverse("escalation:order", args=[order.pk])).status_code == (
            200 if user == other_supervisor else 404
        )


@pytest.mark.parametrize(
    "name, query",
    [
        ("escalation:orders", {}),
        ("escalation:orders", {"status": "open"}),
        ("escalation:orders", {"status": "overdue"}),
        ("escalation:orders", {"status": "closed"}),
        ("escalation:orders", {"status": "lost"}),
        ("escalation:ledger", {}),
        ("escalation:ledger", {"kind": "overdue"}),
        ("escalation:ledger", {"kind": "unanswered_order"}),
        ("escalation:ledger", {"department": "D13"}),
    ],
)
def test_the_page_count_is_that_of_the_listed_rows(client, cast, recorded, name, query):
    with time_machine.travel(LATER, tick=False):
        response = signed_in(client, cast.supervisor).get(reverse(name), query)

    page = response.context["page"]
    assert page.paginator.count == len(page.object_list) == len(list(page.paginator.object_list))
