"""The street's workbench: its whistles by state, and what waits for the user's role."""

import re

import pytest
from django.urls import reverse

from tests.factories import submit_whistle
from tests.whistle.lifecycle import close_all, closed, resolved, routed
from whistle.models import Task, Whistle
from whistle.services import task_return, whistle_rate, whistle_route

S = Whistle.Status


def signed_in(client, user):
    client.force_login(user)
    return client


def page(client, user) -> str:
    response = signed_in(client, user).get(reverse("workbench:street"))
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, section_id: str) -> str:
    """The HTML of one section of the page (empty when the page has none)."""
    start = html.find(f'id="{section_id}"')
    if start < 0:
        return ""
    return html[start : html.index("</section>", start)]


def numbers(html: str) -> list[str]:
    return re.findall(r'data-number="([^"]+)"', html)


def state_counts(html: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-count="(\w+)">(\d+)<', section(html, "wb-street-counts"))}


def rate_all(cast, whistle):
    for code in ("D12", "D13", "E06"):
        whistle_rate(whistle=whistle, actor=cast.s01_staff, department=code, response=5, attitude=5, result=5)


@pytest.fixture
def street_cases(cast):
    """S01: a routed, a resolved, a closed unrated, a closed rated whistle and a draft; S02: a resolved one."""
    done = closed(cast, title="已办结未评价")
    rated = closed(cast, title="已评价")
    rate_all(cast, rated)
    draft = submit_whistle(cast.s01_staff, title="党建办草稿", source="party_office", grid="S01C01G01").whistle
    return {
        "routed": routed(cast, title="在办"),
        "resolved": resolved(cast, title="待确认"),
        "closed": done,
        "rated": rated,
        "draft": draft,
        "s02": close_all(cast, _routed_s02(cast)),
    }


def _routed_s02(cast) -> Whistle:
    whistle = submit_whistle(cast.s02_staff, title="香水园", category="ORDER-PUBLIC", lon=115.955, lat=40.445).whistle
    whistle_route(whistle_id=whistle.pk)
    return whistle


def test_the_street_sees_its_whistles_counted_by_state_each_linking_to_the_list(client, cast, street_cases):
    html = page(client, cast.s01_staff)

    counts = state_counts(html)
    assert counts[S.ROUTED] == 1 and counts[S.RESOLVED] == 1 and counts[S.CLOSED] == 2 and counts[S.DRAFT] == 1
    assert counts[S.MERGED] == 0 and sum(counts.values()) == 5  # S02's whistle is not counted
    assert f'href="{reverse("whistle:list")}?status=resolved"' in html
    assert 'id="wb-raise"' in html and f'href="{reverse("whistle:new")}"' in html


def test_confirmation_and_rating_lists_show_the_streets_own_whistles_only(client, cast, street_cases):
    html = page(client, cast.s01_staff)

    assert numbers(section(html, "wb-confirm")) == [street_cases["resolved"].number]
    assert numbers(section(html, "wb-rate")) == [street_cases["closed"].number]
    assert street_cases["s02"].number not in html
    s02 = page(client, cast.s02_staff)
    assert numbers(section(s02, "wb-confirm")) == [street_cases["s02"].number]


def test_drafts_and_approvals_wait_for_the_role_whose_step_is_due(client, cast, street_cases):
    draft = street_cases["draft"].number

    assert numbers(section(page(client, cast.s01_staff), "wb-approvals")) == [draft]
    assert numbers(section(page(client, cast.s01_head), "wb-approvals")) == []  # the head approves later
    grid = page(client, cast.s01_grid)
    assert 'id="wb-approvals"' not in grid and 'id="wb-confirm"' not in grid and 'id="wb-rate"' not in grid


def test_the_dispatcher_sees_returned_and_unroutable_whistles(client, cast):
    unroutable = submit_whistle(cast.s01_staff, title="无规则", category="MISC-OTHER").whistle
    whistle_route(whistle_id=unroutable.pk)
    returned = routed(cast, title="被退回")
    task = Task.objects.get(whistle=returned, department__code="D13")
    task_return(task=task, actor=cast.d13_staff, reason_code="not_ours", reason="不属于本部门")

    html = page(client, cast.s01_dispatcher)

    queue = section(html, "wb-queue")
    assert numbers(queue) == [unroutable.number, returned.number]
    assert "returned 1 time" in queue and "no rule matched" in queue
    assert f'href="{reverse("whistle:queue")}"' in queue
    assert 'id="wb-queue"' not in page(client, cast.s01_staff)
    assert 'id="wb-queue"' in page(client, cast.s02_dispatcher)
    assert numbers(section(page(client, cast.s02_dispatcher), "wb-queue")) == []


def test_a_rated_whistle_leaves_the_rating_list_and_its_full_page(client, cast, street_cases):
    rate_all(cast, street_cases["closed"])

    assert numbers(section(page(client, cast.s01_staff), "wb-rate")) == []
    full = signed_in(client, cast.s01_staff).get(reverse("workbench:to_rate")).content.decode()
    assert street_cases["closed"].number not in full and "Every department that reported in is rated." in full


def test_the_rating_page_lists_every_whistle_to_rate_and_is_for_the_deciders(client, cast, street_cases):
    full = signed_in(client, cast.s01_head).get(reverse("workbench:to_rate"))
    assert full.status_code == 200 and street_cases["closed"].number in full.content.decode()

    assert signed_in(client, cast.s01_grid).get(reverse("workbench:to_rate")).status_code == 403
    assert signed_in(client, cast.d13_staff).get(reverse("workbench:to_rate")).status_code == 403


def test_each_list_shows_its_first_ten_with_a_link_to_all(client, cast):
    for n in range(12):
        submit_whistle(cast.s01_staff, title=f"草稿{n}", source="party_office", grid="S01C01G01")

    approvals = section(page(client, cast.s01_staff), "wb-approvals")

    assert len(numbers(approvals)) == 10
    assert 'data-count="wb-approvals">12<' in approvals
    assert f'href="{reverse("whistle:approvals")}"' in approvals


@pytest.mark.parametrize("many", [False, True])
def test_the_street_workbench_costs_the_same_queries_for_few_or_many_whistles(
    client, cast, django_assert_num_queries, many
):
    for n in range(6 if many else 1):
        closed(cast, title=f"已办结{n}")
        resolved(cast, title=f"待确认{n}")
        submit_whistle(cast.s01_staff, title=f"草稿{n}", source="party_office", grid="S01C01G01")
        submit_whistle(cast.s01_staff, title=f"无规则{n}", category="MISC-OTHER")
    for whistle in Whistle.objects.filter(status=S.SUBMITTED):
        whistle_route(whistle_id=whistle.pk)
    client = signed_in(client, cast.s01_dispatcher)
    client.get(reverse("workbench:street"))  # what a process reads once (content types)

    # session, user (with its membership and unit), the state counts, one query per list
    # (confirmation, rating, dispatch queue) and the header's unread notices
    with django_assert_num_queries(7):
        response = client.get(reverse("workbench:street"))

    html = response.content.decode()
    assert len(numbers(section(html, "wb-confirm"))) == (6 if many else 1)
    assert len(numbers(section(html, "wb-queue"))) == (6 if many else 1)
