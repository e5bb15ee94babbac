"""The department's workbench: its open tasks with lights and countdowns, one-click acknowledge and check-in,
and its supervision orders."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from escalation.services import deadlines_sweep
from tests.factories import submit_whistle
from tests.whistle.lifecycle import routed
from tests.workbench.conftest import MONDAY_10
from whistle.models import Event, Task, Whistle
from whistle.services import task_acknowledge, task_check_in, whistle_route

HX = {"HTTP_HX_REQUEST": "true"}


def signed_in(client, user):
    client.force_login(user)
    return client


def task_of(whistle, code) -> Task:
    return Task.objects.select_related("whistle", "department").get(whistle=whistle, department__code=code)


def page(client, user) -> str:
    response = signed_in(client, user).get(reverse("workbench:department"))
    assert response.status_code == 200
    return response.content.decode()


def row_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr id="wb-task-(\d+)"', html)]


def row(html: str, pk: int) -> str:
    start = html.index(f'<tr id="wb-task-{pk}"')
    return html[start : html.index("</tr>", start)]


def act(client, task, action: str, **headers):
    return client.post(reverse("workbench:task_act", args=[task.pk, action]), **headers)


def s02_whistle(cast) -> Whistle:
    whistle = submit_whistle(cast.s02_staff, title="夜间噪音", category="ORDER-PUBLIC", lon=115.955, lat=40.445).whistle
    whistle_route(whistle_id=whistle.pk)
    return whistle


@pytest.fixture
def whistle(cast):
    return routed(cast)


def test_the_department_sees_its_own_open_tasks_nearest_deadline_first(client, cast, whistle):
    priority = routed(cast, title="消防通道", grade="priority")
    done = routed(cast, title="已报到")
    task_check_in(task=task_of(done, "D13"), actor=cast.d13_staff)
    other = s02_whistle(cast)

    html = page(client, cast.d13_staff)

    # priority: acknowledge by 10:30; ordinary: by 12:00; the checked-in one: resolve in 7 working days
    assert row_ids(html) == [task_of(priority, "D13").pk, task_of(whistle, "D13").pk, task_of(done, "D13").pk]
    assert task_of(whistle, "D12").pk not in row_ids(html)
    assert other.number not in html
    assert 'data-count="open">3<' in html and 'data-count="pending">2<' in html
    assert row_ids(page(client, cast.t04_staff)) == [task_of(other, "T04").pk]


def test_a_row_shows_the_light_the_due_time_and_the_time_left_or_late(client, cast, whistle, monday_morning):
    pk = task_of(whistle, "D13").pk

    on_time = row(page(client, cast.d13_staff), pk)
    assert "acknowledge by" in on_time and 'data-light="green"' in on_time
    assert 'data-due="2026-03-02T12:00:00+08:00"' in on_time
    assert "2 h 0 min left" in on_time

    monday_morning.move_to(MONDAY_10 + timedelta(hours=4, minutes=15))
    late = row(page(client, cast.d13_staff), pk)
    assert 'data-light="red"' in late and "overdue by 2 h 15 min" in late

    monday_morning.move_to(MONDAY_10 + timedelta(days=1, hours=5, minutes=1))
    assert "overdue by 1 d 3 h" in row(page(client, cast.d13_staff), pk)


def test_the_page_gives_the_script_its_translated_countdown_words(client, cast, whistle):
    html = page(client, cast.d13_staff)

    assert 'data-countdown-left="%(time)s left"' in html and 'data-countdown-late="overdue by %(time)s"' in html
    assert 'data-countdown-minute="%(n)s min"' in html
    assert "js/workbench.js" in html and "<script>" not in html and " onclick=" not in html


def test_acknowledging_by_htmx_swaps_the_row_and_writes_the_event(client, cast, whistle):
    task = task_of(whistle, "D13")
    client = signed_in(client, cast.d13_staff)
    assert f'id="wb-acknowledge-{task.pk}"' in client.get(reverse("workbench:department")).content.decode()

    response = act(client, task, "acknowledge", **HX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith(f'<tr id="wb-task-{task.pk}"') and html.rstrip().endswith("</tr>")
    assert 'data-status="acknowledged"' in html and "The task is acknowledged." in html
    assert "check in by" in html and f'id="wb-acknowledge-{task.pk}"' not in html
    assert f'id="wb-check-in-{task.pk}"' in html
    task.refresh_from_db()
    assert task.status == Task.Status.ACKNOWLEDGED
    event = Event.objects.get(task=task, verb="acknowledged")
    assert event.actor == cast.d13_staff and event.created_at == MONDAY_10


def test_a_refused_action_shows_its_message_in_the_row(client, cast, whistle):
    task = task_of(whistle, "D13")
    task_acknowledge(task=task, actor=cast.d13_staff)  # a colleague was quicker
    events = Event.objects.count()

    response = act(signed_in(client, cast.d13_staff), task, "acknowledge", **HX)

    html = response.content.decode()
    assert response.status_code == 409
    assert html.startswith(f'<tr id="wb-task-{task.pk}"')
    assert "is acknowledged: it cannot become acknowledged." in html and 'role="alert"' in html
    assert 'data-status="acknowledged"' in html
    assert Event.objects.count() == events


def test_one_click_check_in_without_a_place(client, cast, whistle):
    task = task_of(whistle, "D12")

    response = act(signed_in(client, cast.d12_staff), task, "check-in", **HX)

    assert response.status_code == 200 and "You are checked in." in response.content.decode()
    assert "resolve by" in response.content.decode()
    task.refresh_from_db()
    assert task.status == Task.Status.CHECKED_IN and task.checkin_lon is None and task.checkin_lat is None
    assert Event.objects.filter(task=task, verb="checked_in", actor=cast.d12_staff).count() == 1


def test_the_row_links_the_task_pages_forms(client, cast, whistle):
    task = task_of(whistle, "D13")
    task_check_in(task=task, actor=cast.d13_staff)

    html = row(page(client, cast.d13_staff), task.pk)

    url = reverse("whistle:task", args=[task.pk])
    for anchor in ("action-close", "action-extension", "action-return"):
        assert f'href="{url}#{anchor}"' in html
    assert "wb-acknowledge" not in html and "wb-check-in" not in html


def test_without_htmx_the_action_returns_to_the_workbench_with_a_message(client, cast, whistle):
    task = task_of(whistle, "D13")

    response = act(signed_in(client, cast.d13_staff), task, "acknowledge")

    assert response.status_code == 302 and response.url == reverse("workbench:department")
    task.refresh_from_db()
    assert task.status == Task.Status.ACKNOWLEDGED
    assert "The task is acknowledged." in client.get(response.url).content.decode()


def test_acting_on_another_departments_task_or_from_another_role_changes_nothing(client, cast, whistle):
    task = task_of(whistle, "D13")
    events = Event.objects.count()

    invisible = act(signed_in(client, cast.t04_staff), task, "acknowledge", **HX)
    assert invisible.status_code == 404 and "does not exist or is not visible to you" in invisible.content.decode()
    assert invisible.content.decode().startswith(f'<tr id="wb-task-{task.pk}"')
    assert act(signed_in(client, cast.s01_staff), task, "acknowledge", **HX).status_code == 403
    assert act(signed_in(client, cast.d13_staff), task, "close", **HX).status_code == 404
    assert client.get(reverse("workbench:task_act", args=[task.pk, "acknowledge"])).status_code == 405
    task.refresh_from_db()
    assert task.status == Task.Status.PENDING and Event.objects.count() == events


def test_the_departments_open_supervision_orders_are_listed(client, cast):
    mine = routed(cast, title="消防通道", grade="priority")
    other = s02_whistle(cast)  # a priority public-order whistle of S02, for T04
    with time_machine.travel(MONDAY_10 + timedelta(minutes=40), tick=False):
        deadlines_sweep()  # priority: overdue at 10:30, a supervision order at once

        html = page(client, cast.d13_staff)

    orders = html[html.index('id="wb-orders"') :]
    assert mine.number in orders and other.number not in orders
    assert 'data-count="orders-open">1<' in orders
    assert f'href="{reverse("escalation:orders")}?status=open"' in orders


@pytest.mark.parametrize("many", [False, True])
def test_the_department_workbench_costs_the_same_queries_for_few_or_many_tasks(
    client, cast, django_assert_num_queries, many
):
    for n in range(8 if many else 1):
        routed(cast, title=f"楼道堆物{n}")
    client = signed_in(client, cast.d13_staff)
    client.get(reverse("workbench:department"))  # what a process reads once

    # session, user (with membership and unit), the user's task grants, the task rows and their
    # pending extensions, the counts (by status, then the lights), the order counts, the header's
    # unread notices and the open orders
    with django_assert_num_queries(10):
        response = client.get(reverse("workbench:department"))

    assert len(row_ids(response.content.decode())) == (8 if many else 1)
