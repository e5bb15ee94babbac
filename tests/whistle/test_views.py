"""The whistle pages: intake form, duplicate suggestions, whistle page and its actions, lists."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from departments.services import responsibility_create
from whistle.models import Event, Task, Whistle
from whistle.services import whistle_merge, whistle_route, whistle_submit

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)  # a Monday
# Inside grid S01C01G01 (115.97–115.98, 40.46–40.47).
POINT = {"lon": 115.975, "lat": 40.465}


def raise_whistle(user, **fields) -> Whistle:
    data = {"title": "楼道堆物", "description": "3号楼楼道堆满杂物。", "category": "ENV-COMPOUND", **POINT}
    return whistle_submit(reporter=user, **{**data, **fields}).whistle


def form_data(**fields) -> dict:
    data = {
        "category": "ENV-COMPOUND",
        "grade": "",
        "source": "",
        "mode": "regular",
        "appointed_checkin_at": "",
        "title": "楼道堆物",
        "description": "3号楼楼道堆满杂物，堵塞消防通道。",
        "address": "百泉小区3号楼",
        "lon": str(POINT["lon"]),
        "lat": str(POINT["lat"]),
        "grid": "",
    }
    return {**data, **fields}


def page_of(whistle) -> str:
    return reverse("whistle:detail", args=[whistle.number])


def signed_in(client, user):
    client.force_login(user)
    return client


# Landing ----------------------------------------------------------------------------


def test_the_landing_sends_anonymous_users_to_sign_in_and_everyone_else_to_their_workbench(client, cast):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")

    for user in (cast.s01_staff, cast.d13_staff, cast.supervisor):
        response = signed_in(client, user).get("/")
        assert (response.status_code, response["Location"]) == (302, reverse("workbench:home"))


# The intake form --------------------------------------------------------------------


def test_the_form_offers_street_staff_only_their_grades_and_sources(client, cast):
    response = signed_in(client, cast.s01_staff).get(reverse("whistle:new"))

    assert response.status_code == 200
    html = response.content.decode()
    assert '<option value="ENV-COMPOUND">' in html
    assert '<option value="priority">' in html and '<option value="difficult">' not in html
    assert '<option value="party_office">' in html and '<option value="hotline">' not in html
    # The grid picker lists the street's grids only.
    assert '<option value="S01C01G02">' in html and "S02C01G01" not in html
    assert 'data-grids-url="/whistles/grids.geojson"' in html


def test_the_form_renders_for_grid_workers_with_their_one_source_hidden(client, cast):
    response = signed_in(client, cast.s01_grid).get(reverse("whistle:new"))

    assert response.status_code == 200
    html = response.content.decode()
    assert '<input type="hidden" name="source" value="grid_worker"' in html
    assert '<option value="difficult">' not in html


def test_a_street_head_may_choose_a_difficult_grade(client, cast):
    response = signed_in(client, cast.s01_head).get(reverse("whistle:new"))

    assert '<option value="difficult">' in response.content.decode()


@pytest.mark.parametrize("username", ["d13_staff", "supervisor", "hotline", "outsider"])
def test_the_form_is_not_allowed_for_roles_that_do_not_raise_whistles_on_the_web(client, cast, username):
    client = signed_in(client, getattr(cast, username))

    assert client.get(reverse("whistle:new")).status_code == 403
    response = client.post(reverse("whistle:new"), form_data())
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()
    assert Whistle.objects.count() == 0


def test_the_form_needs_a_signed_in_user(client, cast):
    response = client.get(reverse("whistle:new"))

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@time_machine.travel(NOW, tick=False)
def test_a_valid_post_creates_the_whistle_and_redirects_to_its_page(client, cast):
    response = signed_in(client, cast.s01_staff).post(reverse("whistle:new"), form_data())

    whistle = Whistle.objects.get()
    assert response.status_code == 302 and response["Location"] == page_of(whistle)
    assert whistle.number == "S01-2026-000001"
    assert (whistle.status, whistle.source, whistle.grade) == ("submitted", "street", "ordinary")
    assert (whistle.grid, whistle.reporter, whistle.address) == (cast.grids.g1, cast.s01_staff, "百泉小区3号楼")
    page = client.get(response["Location"]).content.decode()
    assert "Whistle S01-2026-000001 is submitted and is being routed to the departments." in page


@time_machine.travel(NOW, tick=False)
def test_a_grid_worker_raises_a_whistle_on_a_chosen_grid_without_a_point(client, cast):
    response = signed_in(client, cast.s01_grid).post(
        reverse("whistle:new"), form_data(lon="", lat="", grid="S01C01G02", source="grid_worker")
    )

    whistle = Whistle.objects.get()
    assert response.status_code == 302
    assert (whistle.grid, whistle.source, whistle.lon) == (cast.grids.g2, "grid_worker", None)


@time_machine.travel(NOW, tick=False)
def test_a_quick_whistle_keeps_the_appointed_time_typed_in_local_time(client, cast):
    signed_in(client, cast.s01_staff).post(
        reverse("whistle:new"), form_data(mode="quick", appointed_checkin_at="2026-03-02T14:00")
    )

    assert Whistle.objects.get().appointed_checkin_at == datetime(2026, 3, 2, 14, 0, tzinfo=SHANGHAI)


@time_machine.travel(NOW, tick=False)
def test_an_appointed_time_left_in_the_hidden_field_of_a_regular_whistle_does_not_count(client, cast):
    response = signed_in(client, cast.s01_staff).post(
        reverse("whistle:new"), form_data(mode="regular", appointed_checkin_at="2026-03-02T14:00")
    )

    assert response.status_code == 302
    assert Whistle.objects.get().appointed_checkin_at is None


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"category": "NOPE"}, "Unknown category NOPE."),
        ({"lon": "116.9", "lat": "40.9"}, "lies on no grid of the district: choose a grid."),
        ({"lon": "", "lat": ""}, "Mark the place on the map or choose a grid."),
        ({"description": "x" * 4001}, "The description may have at most 4000 characters (it has 4001)."),
        ({"grade": "difficult"}, "Your role (street staff) may not raise a difficult whistle."),
        ({"title": ""}, "A title is required."),
        ({"mode": "quick"}, "A quick whistle needs the appointed check-in time."),
        ({"lon": "abc"}, "Enter a number."),
    ],
)
def test_a_bad_post_shows_the_fields_message_keeps_the_input_and_saves_nothing(client, cast, fields, message):
    data = form_data(**{"title": "请保留我的标题", **fields})

    response = signed_in(client, cast.s01_staff).post(reverse("whistle:new"), data)

    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert 'class="invalid-feedback d-block"' in html
    if data["title"]:
        assert 'value="请保留我的标题"' in html
    assert Whistle.objects.count() == 0 and Event.objects.count() == 0


def test_every_broken_rule_is_shown_at_once(client, cast):
    response = signed_in(client, cast.s01_staff).post(
        reverse("whistle:new"), form_data(title="", category="NOPE", lon="", lat="")
    )

    html = response.content.decode()
    for message in ("A title is required.", "Unknown category NOPE.", "Mark the place on the map or choose a grid."):
        assert message in html


# Duplicate suggestions ----------------------------------------------------------------


def duplicates(client, *, category="ENV-COMPOUND", lon=POINT["lon"], lat=POINT["lat"]) -> str:
    response = client.get(reverse("whistle:duplicates"), {"category": category, "lon": lon, "lat": lat})
    assert response.status_code == 200
    return response.content.decode()


def test_the_suggestions_list_a_nearby_open_whistle_of_the_same_category_and_nothing_else(client, cast):
    with time_machine.travel(NOW - timedelta(days=31), tick=False):
        old = raise_whistle(cast.s01_staff, title="旧的")
    with time_machine.travel(NOW - timedelta(days=2), tick=False):
        near = raise_whistle(cast.s01_staff, title="近的", lon=115.9755, lat=40.4652)  # about 48 m away
        far = raise_whistle(cast.s01_staff, title="远的", lon=115.975, lat=40.4665)  # about 167 m away
        other_category = raise_whistle(cast.s01_staff, title="别的事项", category="ORDER-PUBLIC")
        closed = raise_whistle(cast.s01_staff, title="已并案")
        whistle_merge(whistle=closed, into=near, actor=cast.s01_staff)
        # On S02's side of the street boundary, about 28 m from the point asked about below.
        other_street = raise_whistle(cast.s02_staff, title="别的街道", lon=115.9599, lat=40.4499)

    with time_machine.travel(NOW, tick=False):
        html = duplicates(signed_in(client, cast.s01_staff))
        assert near.number in html and "48 m away" in html
        for whistle in (old, far, other_category, closed):
            assert whistle.number not in html
        assert f'name="duplicate_of" value="{near.number}"' in html

        assert other_street.number not in duplicates(client, lon=115.9601, lat=40.4501)
        assert other_street.number in duplicates(signed_in(client, cast.s02_staff), lon=115.9601, lat=40.4501)


@time_machine.travel(NOW, tick=False)
def test_the_suggestions_are_nearest_first_and_only_for_a_category_and_a_point(client, cast):
    farther = raise_whistle(cast.s01_staff, lon=115.9755, lat=40.4655)  # about 70 m
    nearer = raise_whistle(cast.s01_staff, lon=115.9752, lat=40.4651)  # about 20 m
    client = signed_in(client, cast.s01_staff)

    html = duplicates(client)
    assert html.index(nearer.number) < html.index(farther.number)
    assert duplicates(client, lon="").strip() == ""
    assert duplicates(client, category="").strip() == ""
    assert duplicates(client, lon="nan").strip() == ""
    assert "No open whistle of this category within 100 m in the last 30 days." in duplicates(
        client, category="MISC-OTHER"
    )


@time_machine.travel(NOW, tick=False)
def test_the_suggestions_follow_the_configured_radius(client, cast, settings):
    settings.WHISTLE_DUPLICATE_RADIUS_M = 200
    far = raise_whistle(cast.s01_staff, lon=115.975, lat=40.4665)  # about 167 m

    assert far.number in duplicates(signed_in(client, cast.s01_staff))


@time_machine.travel(NOW, tick=False)
def test_grid_workers_see_the_suggestions_but_cannot_mark_a_duplicate(client, cast):
    near = raise_whistle(cast.s01_staff)

    html = duplicates(signed_in(client, cast.s01_grid))

    assert near.number in html and 'name="duplicate_of"' not in html


@time_machine.travel(NOW, tick=False)
def test_submitting_as_a_duplicate_creates_a_merged_whistle_that_summons_nobody(client, cast):
    primary = raise_whistle(cast.s01_staff)
    whistle_route(whistle_id=primary.pk)
    tasks_before = Task.objects.count()

    response = signed_in(client, cast.s01_staff).post(
        reverse("whistle:new"), form_data(title="同一处堆物", duplicate_of=primary.number)
    )

    duplicate = Whistle.objects.get(title="同一处堆物")
    assert response.status_code == 302 and response["Location"] == page_of(duplicate)
    assert (duplicate.status, duplicate.merged_into) == ("merged", primary)
    whistle_route(whistle_id=duplicate.pk)  # what the queued routing does once the request commits
    duplicate.refresh_from_db()
    assert duplicate.status == "merged" and duplicate.tasks.count() == 0
    assert Task.objects.count() == tasks_before
    assert Event.objects.filter(whistle=primary, verb="duplicate_attached").count() == 1
    page = client.get(page_of(duplicate)).content.decode()
    assert f"is stored as a duplicate of {primary.number}" in page
    assert f'href="{page_of(primary)}"' in page
    assert f'href="{page_of(duplicate)}"' in client.get(page_of(primary)).content.decode()


@time_machine.travel(NOW, tick=False)
def test_a_duplicate_that_cannot_be_merged_saves_nothing(client, cast):
    closed = raise_whistle(cast.s01_staff)
    primary = raise_whistle(cast.s01_staff)
    whistle_merge(whistle=closed, into=primary, actor=cast.s01_staff)
    other_street = raise_whistle(cast.s02_staff, lon=115.955, lat=40.445)
    count = Whistle.objects.count()
    client = signed_in(client, cast.s01_staff)

    response = client.post(reverse("whistle:new"), form_data(duplicate_of=closed.number))
    assert response.status_code == 200
    assert f"Whistle {closed.number} is merged into another whistle: merge into an open whistle." in (
        response.content.decode()
    )
    response = client.post(reverse("whistle:new"), form_data(duplicate_of=other_street.number))
    assert f"Whistle {other_street.number} does not exist or is not visible to you." in response.content.decode()
    # A grid worker may not merge: refused, and the whistle is not left behind half-done.
    response = signed_in(client, cast.s01_grid).post(reverse("whistle:new"), form_data(duplicate_of=primary.number))
    assert response.status_code == 403
    assert Whistle.objects.count() == count


# The whistle page -------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_the_page_explains_a_district_wide_routing_and_lists_the_tasks_with_local_deadlines(client, cast):
    whistle = raise_whistle(cast.s01_staff)
    whistle_route(whistle_id=whistle.pk)

    html = signed_in(client, cast.s01_staff).get(page_of(whistle)).content.decode()

    assert "D13 区城市管理委员会</strong> · lead — District-wide rule." in html
    assert "D12 区住房和城乡建设委员会</strong> · co-operating — District-wide rule." in html
    # Resolve within 7 working days, shown in Beijing time.
    assert 'datetime="2026-03-11T10:00:00+08:00"' in html
    assert "routed" in html and "the router" in html


@time_machine.travel(NOW, tick=False)
def test_the_page_says_when_a_street_rule_overrides_the_district_wide_lead(client, cast):
    responsibility_create(category=cast.order, department=cast.d13, role="lead")
    whistle = raise_whistle(cast.s01_staff, category="ORDER-PUBLIC")
    whistle_route(whistle_id=whistle.pk)

    html = signed_in(client, cast.s01_staff).get(page_of(whistle)).content.decode()

    assert "T01 百泉派出所</strong> · lead — Street-scoped rule for 百泉街道." in html
    assert "Overrides the district-wide lead D13 区城市管理委员会." in html


@time_machine.travel(NOW, tick=False)
def test_only_the_dispatcher_gets_the_dispatch_form_and_the_choice_is_explained(client, cast):
    whistle = raise_whistle(cast.s01_staff, category="MISC-OTHER")
    whistle_route(whistle_id=whistle.pk)

    staff_page = signed_in(client, cast.s01_staff).get(page_of(whistle)).content.decode()
    assert "No rule matched: waiting for the dispatcher." in staff_page
    assert 'id="action-dispatch"' not in staff_page
    assert 'id="action-merge"' in staff_page
    assert (
        signed_in(client, cast.s01_staff)
        .post(reverse("whistle:dispatch", args=[whistle.number]), {"lead": "D13"})
        .status_code
        == 403
    )

    client = signed_in(client, cast.s01_dispatcher)
    assert 'id="action-dispatch"' in client.get(page_of(whistle)).content.decode()
    response = client.post(
        reverse("whistle:dispatch", args=[whistle.number]),
        {"lead": "D13", "co_operating": ["D12"], "note": "辖区内事项"},
        follow=True,
    )

    whistle.refresh_from_db()
    assert whistle.status == "routed"
    assert {t.department.code: t.role for t in whistle.tasks.all()} == {"D13": "lead", "D12": "co_operating"}
    html = response.content.decode()
    assert "is dispatched to the departments you chose" in html
    assert "Chosen by the dispatcher s01_dispatcher: 辖区内事项" in html
    assert "No rule matched: the dispatcher chose the departments by hand." in html
    assert 'id="action-dispatch"' not in html


@time_machine.travel(NOW, tick=False)
def test_a_dispatch_without_a_lead_is_refused_with_the_rule(client, cast):
    whistle = raise_whistle(cast.s01_staff, category="MISC-OTHER")
    whistle_route(whistle_id=whistle.pk)

    response = signed_in(client, cast.s01_dispatcher).post(
        reverse("whistle:dispatch", args=[whistle.number]), {"co_operating": ["D12"]}, follow=True
    )

    assert "Choose exactly one lead department." in response.content.decode()
    whistle.refresh_from_db()
    assert whistle.status == "awaiting_dispatch" and whistle.tasks.count() == 0


@time_machine.travel(NOW, tick=False)
def test_a_routed_whistle_offers_no_action_to_anyone(client, cast):
    whistle = raise_whistle(cast.s01_staff)
    whistle_route(whistle_id=whistle.pk)

    for user in (cast.s01_staff, cast.s01_dispatcher, cast.s01_head):
        html = signed_in(client, user).get(page_of(whistle)).content.decode()
        assert "Nothing for you to do on this whistle now." in html
        assert 'id="action-' not in html


@time_machine.travel(NOW, tick=False)
def test_a_whistle_is_merged_from_its_page(client, cast):
    primary = raise_whistle(cast.s01_staff)
    duplicate = raise_whistle(cast.s01_staff, lon=115.9752, lat=40.4651)
    client = signed_in(client, cast.s01_staff)
    assert f'name="into" value="{primary.number}"' in client.get(page_of(duplicate)).content.decode()

    response = client.post(reverse("whistle:merge", args=[duplicate.number]), {"into": "S02-2026-000099"}, follow=True)
    assert "Whistle S02-2026-000099 does not exist or is not visible to you." in response.content.decode()
    response = client.post(reverse("whistle:merge", args=[duplicate.number]), {"into": primary.number}, follow=True)

    duplicate.refresh_from_db()
    assert duplicate.merged_into == primary
    assert "is merged as a duplicate" in response.content.decode()


@time_machine.travel(NOW, tick=False)
def test_caller_data_is_masked_unless_the_role_needs_it(client, cast):
    whistle = raise_whistle(cast.hotline, caller_name="张女士", caller_phone="13800001234", external_id="W-1")

    staff_page = signed_in(client, cast.s01_staff).get(page_of(whistle)).content.decode()
    assert "138****1234" in staff_page and "13800001234" not in staff_page and "张女士" not in staff_page
    assert "13800001234" in signed_in(client, cast.s01_dispatcher).get(page_of(whistle)).content.decode()


def test_another_streets_user_gets_404_for_the_page_and_its_actions(client, cast):
    whistle = raise_whistle(cast.s01_staff, category="MISC-OTHER")
    whistle_route(whistle_id=whistle.pk)
    client = signed_in(client, cast.s02_staff)

    assert client.get(page_of(whistle)).status_code == 404
    assert client.post(reverse("whistle:merge", args=[whistle.number]), {"into": "x"}).status_code == 404
    signed_in(client, cast.s02_dispatcher)
    assert client.post(reverse("whistle:dispatch", args=[whistle.number]), {"lead": "D13"}).status_code == 404
    assert client.get(reverse("whistle:detail", args=["S01-2026-999999"])).status_code == 404


# The approval chain through the web ------------------------------------------------------


def test_the_approval_chain_walked_through_the_web_ends_in_submitted(client, cast):
    signed_in(client, cast.s01_staff).post(reverse("whistle:new"), form_data(source="party_office"))
    whistle = Whistle.objects.get()
    assert whistle.status == "draft"
    page = page_of(whistle)

    chain = [
        (cast.s01_staff, "request_signature", "awaiting_signature"),
        (cast.s01_deputy, "sign", "awaiting_approval"),
        (cast.s01_head, "approve", "approved"),
        (cast.s01_party, "issue", "submitted"),
    ]
    for user, step, status in chain:
        client = signed_in(client, user)
        assert f'id="action-{step}"' in client.get(page).content.decode()
        assert whistle.number in client.get(reverse("whistle:approvals")).content.decode()
        response = client.post(reverse("whistle:step", args=[whistle.number, step]))
        assert response.status_code == 302 and response["Location"] == page
        whistle.refresh_from_db()
        assert whistle.status == status
        # The step done, this role has nothing left to do on it.
        assert f'id="action-{step}"' not in client.get(page).content.decode()

    assert list(whistle.events.values_list("verb", flat=True)) == [
        "drafted",
        "signature_requested",
        "signed",
        "approved",
        "issued",
    ]


def test_only_the_role_whose_step_is_due_sees_it_and_may_take_it(client, cast):
    whistle = raise_whistle(cast.s01_staff, source="party_office", grade="ordinary")
    signed_in(client, cast.s01_staff).post(reverse("whistle:step", args=[whistle.number, "request_signature"]))

    for user in (cast.s01_staff, cast.s01_head, cast.s01_party):
        html = signed_in(client, user).get(page_of(whistle)).content.decode()
        assert 'id="action-sign"' not in html and 'id="action-reject"' not in html
    assert client.post(reverse("whistle:step", args=[whistle.number, "sign"])).status_code == 403
    # A step that is not due is a message, not a change.
    response = signed_in(client, cast.s01_head).post(
        reverse("whistle:step", args=[whistle.number, "approve"]), follow=True
    )
    assert "this step is not due" in response.content.decode()
    assert client.post(reverse("whistle:step", args=[whistle.number, "fly"])).status_code == 404
    whistle.refresh_from_db()
    assert whistle.status == "awaiting_signature"


def test_a_reject_needs_a_reason_and_sends_the_whistle_back_to_its_draft(client, cast):
    whistle = raise_whistle(cast.s01_staff, source="party_office", grade="ordinary")
    signed_in(client, cast.s01_staff).post(reverse("whistle:step", args=[whistle.number, "request_signature"]))
    client = signed_in(client, cast.s01_deputy)
    assert 'id="action-reject"' in client.get(page_of(whistle)).content.decode()

    response = client.post(reverse("whistle:reject", args=[whistle.number]), {"reason": "  "}, follow=True)
    assert "Say why the whistle goes back to its draft." in response.content.decode()
    whistle.refresh_from_db()
    assert whistle.status == "awaiting_signature"

    response = client.post(reverse("whistle:reject", args=[whistle.number]), {"reason": "地址不详"}, follow=True)
    whistle.refresh_from_db()
    assert whistle.status == "draft"
    assert Event.objects.get(whistle=whistle, verb="rejected").reason == "地址不详"
    html = response.content.decode()
    assert "is sent back to its draft" in html and "地址不详" in html


# Lists -----------------------------------------------------------------------------------------


def fill(user, count, **fields):
    for _ in range(count):
        raise_whistle(user, **fields)


@pytest.mark.parametrize("many", [False, True])
def test_the_list_shows_the_users_scope_newest_first_in_a_fixed_number_of_queries(
    client, cast, django_assert_num_queries, many
):
    fill(cast.s01_staff, 30 if many else 2)
    other = raise_whistle(cast.s02_staff, lon=115.955, lat=40.445)
    client = signed_in(client, cast.s01_staff)

    # session, user with membership and unit, unread notices in the header, count, page, categories of the filter
    with django_assert_num_queries(6):
        response = client.get(reverse("whistle:list"))

    html = response.content.decode()
    assert other.number not in html
    assert html.index("S01-2026-000002") < html.index("S01-2026-000001")


def test_the_list_filters_and_paginates(client, cast):
    fill(cast.s01_staff, 51)
    raise_whistle(cast.s01_staff, category="ORDER-PUBLIC", title="治安")
    client = signed_in(client, cast.s01_staff)

    first = client.get(reverse("whistle:list")).content.decode()
    assert "52 whistles" in first and "Page 1 of 2" in first and "?page=2" in first
    filtered = client.get(reverse("whistle:list"), {"category": "ORDER-PUBLIC", "grade": "priority"}).content.decode()
    assert "1 whistle" in filtered and "治安" in filtered and "S01-2026-000001<" not in filtered
    assert "0 whistles" in client.get(reverse("whistle:list"), {"status": "routed"}).content.decode()


@pytest.mark.parametrize("many", [False, True])
def test_the_dispatch_queue_lists_the_streets_unrouted_whistles_in_a_fixed_number_of_queries(
    client, cast, django_assert_num_queries, many
):
    for _ in range(20 if many else 1):
        whistle_route(whistle_id=raise_whistle(cast.s01_staff, category="MISC-OTHER").pk)
    routed = raise_whistle(cast.s01_staff)
    whistle_route(whistle_id=routed.pk)
    elsewhere = raise_whistle(cast.s02_staff, category="MISC-OTHER", lon=115.955, lat=40.445)
    whistle_route(whistle_id=elsewhere.pk)
    client = signed_in(client, cast.s01_dispatcher)

    with django_assert_num_queries(5):
        response = client.get(reverse("whistle:queue"))

    html = response.content.decode()
    assert "S01-2026-000001" in html and routed.number not in html and elsewhere.number not in html
    assert signed_in(client, cast.d13_staff).get(reverse("whistle:queue")).status_code == 403


def test_the_approvals_list_shows_what_waits_for_the_users_role(client, cast, django_assert_num_queries):
    draft = raise_whistle(cast.s01_staff, source="party_office", grade="ordinary", title="草稿")
    signing = raise_whistle(cast.s01_staff, source="party_office", grade="ordinary", title="待签")
    signed_in(client, cast.s01_staff).post(reverse("whistle:step", args=[signing.number, "request_signature"]))
    raise_whistle(cast.s02_staff, source="party_office", grade="ordinary", lon=115.955, lat=40.445)

    client = signed_in(client, cast.s01_deputy)
    with django_assert_num_queries(5):
        deputy = client.get(reverse("whistle:approvals")).content.decode()
    assert draft.number in deputy and signing.number in deputy and "S02-" not in deputy
    head = signed_in(client, cast.s01_head).get(reverse("whistle:approvals")).content.decode()
    assert draft.number not in head and signing.number not in head
    staff = signed_in(client, cast.s01_staff).get(reverse("whistle:approvals")).content.decode()
    assert draft.number in staff and signing.number not in staff
    assert signed_in(client, cast.s01_dispatcher).get(reverse("whistle:approvals")).status_code == 403


# The map's grids ------------------------------------------------------------------------------


def test_the_grids_geojson_is_scoped_to_the_users_street(client, cast):
    def codes(user):
        response = signed_in(client, user).get(reverse("whistle:grids_geojson"))
        assert response.status_code == 200 and response["Content-Type"].startswith("application/geo+json")
        data = response.json()
        assert data["type"] == "FeatureCollection"
        return {feature["properties"]["code"] for feature in data["features"]}

    assert codes(cast.s01_staff) == {"S01C01G01", "S01C01G02"}
    assert codes(cast.s02_grid) == {"S02C01G01"}
    assert codes(cast.d13_staff) == set()
    feature = signed_in(client, cast.s01_staff).get(reverse("whistle:grids_geojson")).json()["features"][0]
    assert feature["geometry"]["type"] == "Polygon" and feature["properties"]["community"] == "百泉第1社区"


@pytest.mark.parametrize("duplicates", [1, 5])
def test_the_whistle_page_loads_in_a_fixed_number_of_queries(client, cast, django_assert_num_queries, duplicates):
    whistle = raise_whistle(cast.s01_staff)
    for _ in range(duplicates):
        whistle_merge(whistle=raise_whistle(cast.s01_staff), into=whistle, actor=cast.s01_staff)
    whistle_route(whistle_id=whistle.pk)
    client = signed_in(client, cast.s01_staff)

    # session, user with membership and unit, unread notices, whistle, tasks, events, duplicates, ratings,
    # callbacks, meetings
    with django_assert_num_queries(10):
        response = client.get(page_of(whistle))

    assert response.status_code == 200
