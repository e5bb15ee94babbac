"""The department's pages: task list, task page and its forms, extension decisions, attachment downloads."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import submit_whistle
from whistle.models import Attachment, Event, Extension, Feedback, Task, Whistle
from whistle.services import task_check_in, task_close, task_request_extension, whistle_route

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


@pytest.fixture(autouse=True)
def monday_morning():
    with time_machine.travel(MONDAY_10, tick=False):
        yield


def routed(user, **fields) -> Whistle:
    whistle = submit_whistle(user, **fields).whistle
    whistle_route(whistle_id=whistle.pk)
    whistle.refresh_from_db()
    return whistle


@pytest.fixture
def whistle(cast):
    return routed(cast.s01_staff)


def task_of(whistle, code) -> Task:
    return Task.objects.select_related("whistle", "department").get(whistle=whistle, department__code=code)


def signed_in(client, user):
    client.force_login(user)
    return client


def snapshot():
    return [list(m.objects.order_by("pk").values()) for m in (Task, Whistle, Event, Extension, Feedback, Attachment)]


# The task list ---------------------------------------------------------------------------------


@pytest.mark.parametrize("many", [False, True])
def test_the_task_list_shows_the_departments_tasks_in_a_fixed_number_of_queries(
    client, cast, django_assert_max_num_queries, many
):
    for _ in range(25 if many else 2):
        routed(cast.s01_staff)
    other = routed(cast.s02_staff, category="ORDER-PUBLIC", lon=115.955, lat=40.445)
    client = signed_in(client, cast.d13_staff)

    # session, user with membership, the user's task grants, the counts (by status, then the
    # lights; they give the page count), the header's unread notices, streets and categories of
    # the filter, and the page: the same for 3 tasks or 26
    with django_assert_max_num_queries(9):
        response = client.get(reverse("whistle:tasks"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "S01-2026-000001" in html and other.number not in html
    assert html.count('data-light="green"') == (25 if many else 2)
    counts = html[html.index('id="task-counts"') :]
    assert f'data-count="pending">{25 if many else 2}<' in counts


def test_the_task_list_filters_by_light_and_status(client, cast, whistle):
    task_check_in(task=task_of(whistle, "D13"), actor=cast.d13_staff)
    later = routed(cast.s01_staff, title="第二件")
    client = signed_in(client, cast.d13_staff)

    with time_machine.travel(MONDAY_10 + timedelta(hours=3), tick=False):
        red = client.get(reverse("whistle:tasks"), {"light": "red"}).content.decode()
        checked_in = client.get(reverse("whistle:tasks"), {"status": "checked_in"}).content.decode()

    assert later.number in red and whistle.number not in red
    assert whistle.number in checked_in and later.number not in checked_in
    assert "overdue" in red


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"status": "pending"},
        {"status": "checked_in"},
        {"status": "closed"},
        {"light": "red"},
        {"light": "yellow"},
        {"light": "green"},
        {"status": "pending", "street": "S02"},  # not among the counts: counted on its own
        {"status": "lost"},  # a filter that does not parse filters nothing
    ],
)
def test_the_number_of_tasks_shown_is_that_of_the_filtered_list(client, cast, whistle, query):
    task_check_in(task=task_of(whistle, "D13"), actor=cast.d13_staff)
    routed(cast.s01_staff, title="第二件")
    routed(cast.s02_staff, title="夜间噪音", category="ORDER-PUBLIC", lon=115.955, lat=40.445)
    client = signed_in(client, cast.supervisor)

    with time_machine.travel(MONDAY_10 + timedelta(minutes=100), tick=False):  # yellow: 80 % of 2 h gone
        html = client.get(reverse("whistle:tasks"), query).content.decode()

    rows = len(re.findall(r'<tr id="task-\d+"', html))
    assert re.search(rf">{rows} tasks?<", html)


def test_the_navigation_links_the_task_list_and_for_heads_the_extension_requests(client, cast, whistle):
    d13 = signed_in(client, cast.d13_staff).get(reverse("whistle:list")).content.decode()
    assert reverse("whistle:tasks") in d13 and reverse("whistle:extensions") not in d13

    head = signed_in(client, cast.s01_head).get(reverse("whistle:list")).content.decode()
    assert reverse("whistle:extensions") in head


# The task page and its actions -----------------------------------------------------------------


def test_the_task_page_offers_the_next_step_and_acknowledging_works(client, cast, whistle):
    d13 = task_of(whistle, "D13")
    client = signed_in(client, cast.d13_staff)

    html = client.get(reverse("whistle:task", args=[d13.pk])).content.decode()
    assert 'id="action-acknowledge"' in html and 'id="action-return"' in html and 'id="action-close"' not in html

    response = client.post(reverse("whistle:task_act", args=[d13.pk, "acknowledge"]), follow=True)

    d13.refresh_from_db()
    assert d13.status == Task.Status.ACKNOWLEDGED
    assert "The task is acknowledged." in response.content.decode()


def test_a_task_one_may_not_see_is_a_404_and_one_may_not_act_on_a_403(client, cast, whistle):
    d13 = task_of(whistle, "D13")
    before = snapshot()

    assert signed_in(client, cast.d12_staff).get(reverse("whistle:task", args=[d13.pk])).status_code == 404
    assert signed_in(client, cast.s02_staff).get(reverse("whistle:task", args=[d13.pk])).status_code == 404
    street = signed_in(client, cast.s01_staff)
    assert street.get(reverse("whistle:task", args=[d13.pk])).status_code == 200
    assert street.post(reverse("whistle:task_act", args=[d13.pk, "acknowledge"])).status_code == 403
    assert street.post(reverse("whistle:task_act", args=[d13.pk, "fly"])).status_code == 404
    garbage = {"lon": "east", "lat": "north"}
    assert street.post(reverse("whistle:task_act", args=[d13.pk, "check-in"]), garbage).status_code == 403
    assert snapshot() == before


def test_a_bad_check_in_shows_the_error_beside_the_field_and_changes_nothing(client, cast, whistle):
    d13 = task_of(whistle, "D13")
    before = snapshot()

    response = signed_in(client, cast.d13_staff).post(
        reverse("whistle:task_act", args=[d13.pk, "check-in"]), {"lon": "200", "lat": "40.46", "note": ""}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Must be between -180 and 180." in html
    assert snapshot() == before
    garbage = signed_in(client, cast.d13_staff).post(
        reverse("whistle:task_act", args=[d13.pk, "check-in"]), {"lon": "east", "lat": "40.46"}
    )
    assert garbage.status_code == 200 and "Enter a number." in garbage.content.decode()
    assert snapshot() == before


def test_a_return_without_a_reason_is_refused_in_place(client, cast, whistle):
    d13 = task_of(whistle, "D13")

    response = signed_in(client, cast.d13_staff).post(
        reverse("whistle:task_act", args=[d13.pk, "return"]), {"reason_code": "", "reason": ""}
    )

    html = response.content.decode()
    assert "Choose the reason for returning the task." in html and "Explain why the task is returned." in html
    d13.refresh_from_db()
    assert d13.status == Task.Status.PENDING


def test_closing_with_photos_through_the_page_and_a_wrong_file_refused(client, cast, whistle):
    d12 = task_of(whistle, "D12")
    task_check_in(task=d12, actor=cast.d12_staff)
    client = signed_in(client, cast.d12_staff)
    url = reverse("whistle:task_act", args=[d12.pk, "close"])

    refused = client.post(
        url, {"actions": "已清理", "result": "solved", "files": [SimpleUploadedFile("x.jpg", b"just text")]}
    )
    assert "not a JPEG, PNG or WebP photo or a PDF" in refused.content.decode()
    assert not Feedback.objects.exists()

    client.post(url, {"actions": "已清理", "result": "solved", "files": [SimpleUploadedFile("现场.jpg", JPEG)]})

    d12.refresh_from_db()
    assert d12.status == Task.Status.CLOSED
    assert Attachment.objects.get().name == "现场.jpg"


def test_closing_in_the_wrong_state_is_a_message_not_an_error_page(client, cast, whistle):
    d13 = task_of(whistle, "D13")

    response = signed_in(client, cast.d13_staff).post(
        reverse("whistle:task_act", args=[d13.pk, "close"]), {"actions": "已清理", "result": "solved"}, follow=True
    )

    assert response.status_code == 200
    assert "cannot become closed" in response.content.decode()


def test_the_dispatcher_releases_a_co_operating_department_from_the_task_page(client, cast, whistle):
    e06 = task_of(whistle, "E06")
    client = signed_in(client, cast.s01_dispatcher)
    assert 'id="action-release"' in client.get(reverse("whistle:task", args=[e06.pk])).content.decode()

    client.post(reverse("whistle:task_act", args=[e06.pk, "release"]), {"note": "无需环卫"})

    e06.refresh_from_db()
    assert e06.status == Task.Status.RELEASED


def test_the_whistle_page_links_each_visible_task_with_its_light(client, cast, whistle):
    d13, d12 = task_of(whistle, "D13"), task_of(whistle, "D12")

    html = signed_in(client, cast.d13_staff).get(reverse("whistle:detail", args=[whistle.number])).content.decode()

    assert reverse("whistle:task", args=[d13.pk]) in html
    assert reverse("whistle:task", args=[d12.pk]) not in html
    assert "on time" in html


# Extensions ------------------------------------------------------------------------------------


def test_the_street_head_decides_an_extension_from_the_list(client, cast, whistle):
    d13 = task_of(whistle, "D13")
    until = MONDAY_10 + timedelta(days=20)
    extension = task_request_extension(task=d13, actor=cast.d13_staff, until=until, reason="需协调产权单位")
    client = signed_in(client, cast.s01_head)

    listed = client.get(reverse("whistle:extensions")).content.decode()
    assert "需协调产权单位" in listed

    refused = client.post(
        reverse("whistle:extension_decide", args=[extension.pk]), {f"x{extension.pk}-decision": "refuse"}, follow=True
    )
    assert "Say why the request is refused." in refused.content.decode()
    client.post(
        reverse("whistle:extension_decide", args=[extension.pk]),
        {f"x{extension.pk}-decision": "approve", f"x{extension.pk}-note": "同意"},
    )

    d13.refresh_from_db()
    assert d13.resolve_due_at == until
    assert "No extension request waits for you." in client.get(reverse("whistle:extensions")).content.decode()


def test_only_deciders_have_the_extension_list_and_the_decision(client, cast, whistle):
    d13 = task_of(whistle, "D13")
    extension = task_request_extension(
        task=d13, actor=cast.d13_staff, until=MONDAY_10 + timedelta(days=20), reason="需协调"
    )

    assert signed_in(client, cast.d13_staff).get(reverse("whistle:extensions")).status_code == 403
    decide = reverse("whistle:extension_decide", args=[extension.pk])
    assert signed_in(client, cast.s01_staff).post(decide, {f"x{extension.pk}-decision": "approve"}).status_code == 403
    assert signed_in(client, cast.s02_head).post(decide, {f"x{extension.pk}-decision": "approve"}).status_code == 404
    extension.refresh_from_db()
    assert extension.status == Extension.Status.PENDING


# Attachments -----------------------------------------------------------------------------------


def test_an_attachment_is_served_only_to_those_who_see_its_task(client, cast, whistle):
    d12 = task_of(whistle, "D12")
    task_check_in(task=d12, actor=cast.d12_staff)
    feedback = task_close(
        task=d12,
        actor=cast.d12_staff,
        actions="已清理",
        result="solved",
        files=[SimpleUploadedFile("现场.jpg", JPEG)],
    )
    url = reverse("whistle:attachment", args=[feedback.attachments.get().pk])

    for user in (cast.d12_staff, cast.s01_staff, cast.supervisor):
        response = signed_in(client, user).get(url)
        assert response.status_code == 200, user
        assert b"".join(response.streaming_content) == JPEG
        assert response["Content-Type"] == "image/jpeg" and response["X-Content-Type-Options"] == "nosniff"
    for user in (cast.d13_staff, cast.s02_staff, cast.hotline, cast.outsider):
        assert signed_in(client, user).get(url).status_code == 404, user
    client.logout()
    assert client.get(url).status_code == 302
    assert signed_in(client, cast.d12_staff).get(reverse("whistle:attachment", args=[999999])).status_code == 404
