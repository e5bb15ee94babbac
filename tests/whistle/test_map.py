"""The map page (/map/), its GeoJSON endpoints and grid panel, and the whistle page's small map."""

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from tests.factories import submit_whistle
from tests.whistle.lifecycle import closed, routed
from whistle import map_selectors
from whistle.models import Task, Whistle
from whistle.services import whistle_route
from whistle.services.tasks import task_acknowledge

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
# Points inside the cast's grids (each a 0.01° square from its south-west corner).
IN_G1 = {"lon": 115.975, "lat": 40.465}
IN_G2 = {"lon": 115.985, "lat": 40.465}
IN_G3 = {"lon": 115.955, "lat": 40.445}


def signed_in(client, user):
    client.force_login(user)
    return client


def get_json(client, name, **params):
    response = client.get(reverse(name), params)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/geo+json")
    return response.json()


def grids_by_code(client, **params) -> dict[str, dict]:
    data = get_json(client, "map:grids", **params)
    assert data["type"] == "FeatureCollection"
    return {f["properties"]["code"]: f for f in data["features"]}


def markers_by_number(client, **params) -> dict[str, dict]:
    data = get_json(client, "map:whistles", **params)
    return {f["properties"]["number"]: f["properties"] for f in data["features"]}


def panel(client, code, hx=True, **params):
    headers = {"HTTP_HX_REQUEST": "true"} if hx else {}
    return client.get(reverse("map:grid_whistles", args=[code]), params, **headers)


def raised(user, **fields) -> Whistle:
    return submit_whistle(user, **fields).whistle


def s02_order_whistle(cast) -> Whistle:
    """A public-order whistle of S02 in its grid, routed to S02's police station T04."""
    whistle = raised(cast.s02_staff, category="ORDER-PUBLIC", title="夜间噪音", **IN_G3)
    whistle_route(whistle_id=whistle.pk)
    return whistle


# The page -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "grids"),
    [
        ("s01_staff", {"S01C01G01", "S01C01G02"}),
        ("s01_grid", {"S01C01G01", "S01C01G02"}),
        ("s01_dispatcher", {"S01C01G01", "S01C01G02"}),
        ("s02_head", {"S02C01G01"}),
        ("d13_staff", {"S01C01G01", "S01C01G02", "S02C01G01"}),
        ("t01_staff", {"S01C01G01", "S01C01G02", "S02C01G01"}),
        ("supervisor", {"S01C01G01", "S01C01G02", "S02C01G01"}),
        ("hotline", {"S01C01G01", "S01C01G02", "S02C01G01"}),
    ],
)
def test_the_map_page_renders_for_each_role_with_the_grids_of_its_unit(client, cast, username, grids):
    response = signed_in(client, getattr(cast, username)).get(reverse("map:overview"))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="grid-map"' in html and 'data-map-kind="overview"' in html
    assert f'data-grids-url="{reverse("map:grids")}"' in html
    assert f'data-whistles-url="{reverse("map:whistles")}"' in html
    assert 'id="grid-panel"' in html and 'id="grid-list"' in html
    assert "js/whistle-map.js" in html and "vendor/leaflet/leaflet.js" in html
    # No tile server configured: the map draws outlines on a plain background.
    assert 'data-tile-url=""' in html
    listed = {code for code in ("S01C01G01", "S01C01G02", "S02C01G01") if f'id="grid-row-{code}"' in html}
    assert listed == grids


def test_the_map_page_has_no_inline_script_or_handler(client, cast):
    html = signed_in(client, cast.s01_staff).get(reverse("map:overview")).content.decode()

    assert "<script>" not in html and "<script >" not in html
    for handler in ("onclick=", "onload=", "onchange=", 'style="'):
        assert handler not in html


def test_the_tile_layer_is_the_configured_one(client, cast, settings):
    settings.MAP_TILE_URL = "https://tiles.example.gov.cn/{z}/{x}/{y}.png"

    html = signed_in(client, cast.s01_staff).get(reverse("map:overview")).content.decode()

    assert 'data-tile-url="https://tiles.example.gov.cn/{z}/{x}/{y}.png"' in html


def test_the_map_needs_a_signed_in_user(client, cast):
    for url in (
        reverse("map:overview"),
        reverse("map:grids"),
        reverse("map:whistles"),
        reverse("map:grid_whistles", args=["S01C01G01"]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_user_without_a_unit_has_no_map(client, cast):
    client = signed_in(client, cast.outsider)

    assert client.get(reverse("map:overview")).status_code == 403
    for name in ("map:grids", "map:whistles"):
        response = client.get(reverse(name))
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
    assert panel(client, "S01C01G01").status_code == 403
    assert panel(client, "S01C01G01", hx=False).status_code == 403


def test_the_grid_list_shows_the_counts_busiest_grid_first_and_links_each_grid_to_its_panel(client, cast):
    raised(cast.s01_staff, **IN_G2)
    raised(cast.s01_staff, **IN_G2)
    raised(cast.s01_staff, **IN_G1)

    html = signed_in(client, cast.s01_staff).get(reverse("map:overview")).content.decode()

    assert html.index('id="grid-row-S01C01G02"') < html.index('id="grid-row-S01C01G01"')
    assert 'data-grid-code="S01C01G02" data-count="2"' in html
    assert 'data-grid-code="S01C01G01" data-count="1"' in html
    panel_url = reverse("map:grid_whistles", args=["S01C01G02"])
    assert f'href="{panel_url}"' in html and f'hx-get="{panel_url}"' in html and 'hx-target="#grid-panel"' in html


def test_the_filters_reach_the_endpoints_and_the_panel_links(client, cast):
    html = (
        signed_in(client, cast.s01_staff)
        .get(reverse("map:overview"), {"status": "all", "category": "ORDER-PUBLIC"})
        .content.decode()
    )

    query = "status=all&amp;category=ORDER-PUBLIC"
    assert f'data-grids-url="{reverse("map:grids")}?{query}"' in html
    assert f'data-whistles-url="{reverse("map:whistles")}?{query}"' in html
    assert f'hx-get="{reverse("map:grid_whistles", args=["S01C01G01"])}?{query}"' in html


def test_a_bad_filter_is_named_on_the_page_and_refused_by_the_endpoints(client, cast):
    client = signed_in(client, cast.s01_staff)

    response = client.get(reverse("map:overview"), {"category": "NO-SUCH"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()

    response = client.get(reverse("map:grids"), {"status": "sometimes"})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"status"}


def test_the_cut_off_notice_is_on_the_page_for_the_script_to_show(client, cast):
    html = signed_in(client, cast.s01_staff).get(reverse("map:overview")).content.decode()

    assert 'id="grid-map-cut"' in html
    assert f"Only the newest {map_selectors.MARKER_LIMIT} whistles with a point are marked" in html


# The grids endpoint -------------------------------------------------------------------------


def test_the_grids_geojson_counts_the_open_whistles_of_each_grid(client, cast):
    raised(cast.s01_staff, **IN_G1)
    raised(cast.s01_staff, category="ORDER-PUBLIC", **IN_G1)
    raised(cast.s01_staff, **IN_G2)
    closed(cast, **IN_G1)  # closed: not open

    grids = grids_by_code(signed_in(client, cast.s01_staff))

    assert set(grids) == {"S01C01G01", "S01C01G02"}
    g1 = grids["S01C01G01"]
    assert g1["geometry"] == cast.grids.g1.boundary
    assert g1["properties"] == {
        "code": "S01C01G01",
        "name": cast.grids.g1.name,
        "community": "百泉第1社区",
        "street": "百泉街道",
        "open_count": 2,
        "count": 2,
        "shade": 2,
    }
    assert (grids["S01C01G02"]["properties"]["open_count"], grids["S01C01G02"]["properties"]["shade"]) == (1, 1)


def test_all_whistles_and_a_category_change_the_counts_and_the_legend(client, cast):
    raised(cast.s01_staff, **IN_G1)
    raised(cast.s01_staff, category="ORDER-PUBLIC", **IN_G1)
    closed(cast, **IN_G1)
    client = signed_in(client, cast.s01_staff)

    everything = grids_by_code(client, status="all")["S01C01G01"]["properties"]
    assert (everything["count"], everything["open_count"]) == (3, 2)
    order = grids_by_code(client, category="ORDER-PUBLIC")
    assert order["S01C01G01"]["properties"]["count"] == 1
    assert order["S01C01G02"]["properties"] == {**order["S01C01G02"]["properties"], "count": 0, "shade": 0}

    legend = get_json(client, "map:grids", status="all")["legend"]
    assert legend == [
        {"shade": 1, "low": 1, "high": 1},
        {"shade": 2, "low": 2, "high": 2},
        {"shade": 3, "low": 3, "high": 3},
    ]


def test_the_legend_has_at_most_five_classes_in_equal_steps(client, cast):
    for _n in range(12):
        raised(cast.s01_staff, **IN_G1)
    raised(cast.s01_staff, **IN_G2)

    data = get_json(signed_in(client, cast.s01_staff), "map:grids")

    assert [(c["low"], c["high"]) for c in data["legend"]] == [(1, 3), (4, 6), (7, 9), (10, 12)]
    shades = {f["properties"]["code"]: f["properties"]["shade"] for f in data["features"]}
    assert shades == {"S01C01G01": 4, "S01C01G02": 1}


# Scope: the map never shows what its viewer could not open --------------------------------------


def test_a_street_sees_only_its_own_grids_and_whistles(client, cast):
    ours = raised(cast.s01_staff, **IN_G1)
    theirs = s02_order_whistle(cast)

    client = signed_in(client, cast.s01_staff)
    assert set(grids_by_code(client)) == {"S01C01G01", "S01C01G02"}
    assert set(markers_by_number(client, status="all")) == {ours.number}
    assert panel(client, "S02C01G01").status_code == 404
    assert panel(client, "S02C01G01", hx=False).status_code == 404

    client = signed_in(client, cast.s02_staff)
    assert set(grids_by_code(client)) == {"S02C01G01"}
    assert set(markers_by_number(client)) == {theirs.number}


def test_a_department_sees_the_district_but_counts_and_marks_only_its_own_whistles(client, cast):
    compound = routed(cast, **IN_G1)  # D13 leads
    order = raised(cast.s01_staff, category="ORDER-PUBLIC", **IN_G1)
    whistle_route(whistle_id=order.pk)  # T01 leads
    s02_order_whistle(cast)

    client = signed_in(client, cast.d13_staff)
    grids = grids_by_code(client)
    assert set(grids) == {"S01C01G01", "S01C01G02", "S02C01G01"}
    assert grids["S01C01G01"]["properties"]["open_count"] == 1
    assert grids["S02C01G01"]["properties"]["open_count"] == 0
    assert set(markers_by_number(client)) == {compound.number}
    assert [w.number for w in panel(client, "S01C01G01").context["page"]] == [compound.number]

    client = signed_in(client, cast.t01_staff)
    assert set(markers_by_number(client)) == {order.number}


def test_a_supervisor_sees_the_district_and_the_hotline_only_its_own_whistles(client, cast):
    street = raised(cast.s01_staff, **IN_G1)
    hotline = raised(cast.hotline, caller_name="张女士", caller_phone="13800000000", **IN_G2)
    other = s02_order_whistle(cast)

    client = signed_in(client, cast.supervisor)
    assert set(markers_by_number(client)) == {street.number, hotline.number, other.number}
    counts = {code: f["properties"]["open_count"] for code, f in grids_by_code(client).items()}
    assert counts == {"S01C01G01": 1, "S01C01G02": 1, "S02C01G01": 1}

    client = signed_in(client, cast.hotline)
    assert set(markers_by_number(client)) == {hotline.number}
    counts = {code: f["properties"]["open_count"] for code, f in grids_by_code(client).items()}
    assert counts == {"S01C01G01": 0, "S01C01G02": 1, "S02C01G01": 0}


def test_a_grid_not_on_the_map_is_not_found_in_the_panel(client, cast):
    client = signed_in(client, cast.s01_staff)

    response = panel(client, "NO-SUCH-GRID")
    assert response.status_code == 404
    assert "does not exist or is not on your map" in response.content.decode()
    assert "<html" not in response.content.decode()  # a message inside the panel, not a page in it


# Markers and their lights ----------------------------------------------------------------------


def test_markers_are_the_open_whistles_with_a_point(client, cast):
    with_point = raised(cast.s01_staff, **IN_G1)
    raised(cast.s01_staff, lon=None, lat=None, grid="S01C01G01")  # a grid chosen, no point
    done = closed(cast, **IN_G2)

    client = signed_in(client, cast.s01_staff)
    markers = markers_by_number(client)
    assert set(markers) == {with_point.number}
    marker = markers[with_point.number]
    assert marker == {
        "number": with_point.number,
        "title": "楼道堆物",
        "status": "submitted",
        "status_label": "submitted, being routed",
        "light": "grey",
        "url": reverse("whistle:detail", args=[with_point.number]),
    }
    data = get_json(client, "map:whistles")
    assert data["features"][0]["geometry"] == {"type": "Point", "coordinates": [115.975, 40.465]}
    assert data["truncated"] is False
    assert set(markers_by_number(client, status="all")) == {with_point.number, done.number}


def test_a_whistle_has_the_worst_light_of_its_open_tasks_or_grey_without_one(client, cast):
    """Red past a stage's deadline, yellow past its warning, green before: the rule of the task list."""
    with time_machine.travel(MONDAY_10, tick=False):
        late = routed(cast, title="早", **IN_G1)
        # One task of the late whistle moves on to a later deadline: the whistle stays as red as its worst.
        task_acknowledge(task=late.tasks.get(department=cast.d12), actor=cast.d12_staff)
    with time_machine.travel(MONDAY_10 + timedelta(hours=3), tick=False):
        warned = routed(cast, title="中", **IN_G1)
    warn_at, due_at = warned.tasks.values_list("acknowledge_warn_at", "acknowledge_due_at").first()
    now = warn_at + timedelta(minutes=1)
    with time_machine.travel(now, tick=False):
        fresh = routed(cast, title="晚", **IN_G2)
        unrouted = raised(cast.s01_staff, category="MISC-OTHER", **IN_G2)
        whistle_route(whistle_id=unrouted.pk)  # no rule: waits for the dispatcher, no task
        assert late.tasks.filter(status=Task.Status.PENDING).first().acknowledge_due_at < now < due_at

        markers = markers_by_number(signed_in(client, cast.s01_staff))
        rows = {w.number: w.light for w in panel(client, "S01C01G01").context["page"]}

    assert {n: m["light"] for n, m in markers.items()} == {
        late.number: "red",
        warned.number: "yellow",
        fresh.number: "green",
        unrouted.number: "grey",
    }
    assert rows == {late.number: "red", warned.number: "yellow"}


def test_the_newest_markers_are_drawn_and_the_cut_is_said(client, cast, monkeypatch):
    monkeypatch.setattr(map_selectors, "MARKER_LIMIT", 2)
    with time_machine.travel(MONDAY_10, tick=False):
        oldest = raised(cast.s01_staff, **IN_G1)
    with time_machine.travel(MONDAY_10 + timedelta(minutes=1), tick=False):
        middle = raised(cast.s01_staff, **IN_G1)
    with time_machine.travel(MONDAY_10 + timedelta(minutes=2), tick=False):
        newest = raised(cast.s01_staff, **IN_G2)
    client = signed_in(client, cast.s01_staff)

    data = get_json(client, "map:whistles")
    assert [f["properties"]["number"] for f in data["features"]] == [newest.number, middle.number]
    assert (data["truncated"], data["limit"]) == (True, 2)
    # The counts still include every whistle.
    assert grids_by_code(client)["S01C01G01"]["properties"]["open_count"] == 2
    assert oldest.number not in markers_by_number(client)
    assert "Only the newest 2 whistles with a point are marked" in client.get(reverse("map:overview")).content.decode()


# The grid panel ------------------------------------------------------------------------------


def test_the_panel_lists_the_grids_open_whistles_with_status_light_and_link(client, cast):
    first = raised(cast.s01_staff, title="第一", **IN_G1)
    second = routed(cast, title="第二", **IN_G1)
    closed(cast, title="已办结", **IN_G1)
    raised(cast.s01_staff, title="别的网格", **IN_G2)

    response = panel(signed_in(client, cast.s01_staff), "S01C01G01")

    assert response.status_code == 200
    assert "HX-Request" in response["Vary"]
    html = response.content.decode()
    assert "<html" not in html and 'data-grid-code="S01C01G01"' in html
    assert [w.number for w in response.context["page"]] == [second.number, first.number]
    assert f'href="{reverse("whistle:detail", args=[first.number])}"' in html
    assert "第一" in html and "第二" in html and "已办结" not in html and "别的网格" not in html
    assert "submitted, being routed" in html and "routed to departments" in html
    assert 'data-light="grey"' in html and 'data-light="green"' in html
    assert "2 open whistles" in html


def test_the_panel_follows_the_filters(client, cast):
    raised(cast.s01_staff, title="治安", category="ORDER-PUBLIC", **IN_G1)
    raised(cast.s01_staff, title="环境", **IN_G1)
    done = closed(cast, title="已办结", **IN_G1)
    client = signed_in(client, cast.s01_staff)

    assert [w.title for w in panel(client, "S01C01G01", category="ORDER-PUBLIC").context["page"]] == ["治安"]
    assert done.number in [w.number for w in panel(client, "S01C01G01", status="all").context["page"]]
    assert panel(client, "S01C01G01", status="sometimes").status_code == 400


def test_the_panel_is_paginated_with_links_that_stay_in_the_panel(client, cast):
    for n in range(23):
        raised(cast.s01_staff, title=f"第{n}件", **IN_G1)
    client = signed_in(client, cast.s01_staff)

    first = panel(client, "S01C01G01", category="ENV-COMPOUND")
    assert len(first.context["page"]) == 20
    link = f"{reverse('map:grid_whistles', args=['S01C01G01'])}?category=ENV-COMPOUND&amp;page=2"
    html = first.content.decode()
    assert f'hx-get="{link}"' in html and f'href="{link}"' in html
    assert len(panel(client, "S01C01G01", category="ENV-COMPOUND", page=2).context["page"]) == 3


def test_without_javascript_the_panel_is_a_page_of_its_own(client, cast):
    raised(cast.s01_staff, title="第一", **IN_G1)

    response = panel(signed_in(client, cast.s01_staff), "S01C01G01", hx=False)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html and 'id="grid-panel"' in html and "第一" in html
    assert f'href="{reverse("map:overview")}"' in html


# Query counts ----------------------------------------------------------------------------------


def many_whistles(cast, count: int) -> None:
    for n in range(count):
        routed(cast, title=f"第{n}件", **(IN_G1 if n % 2 else IN_G2))
        raised(cast.s01_staff, category="ORDER-PUBLIC", title=f"治安{n}", **IN_G1)


# The session and the user with their membership come first; a page adds the header's unread notices.
@pytest.mark.parametrize(
    ("username", "url", "params", "queries"),
    [
        ("s01_staff", "map:overview", {}, 6),  # + counts, grids, the filter's categories
        # + the category asked for, and the calendar version behind the header warning of supervisors
        ("supervisor", "map:overview", {"category": "ENV-COMPOUND"}, 8),
        ("s01_staff", "map:grids", {}, 4),  # + grids, counts
        ("d13_staff", "map:grids", {}, 4),
        ("s01_staff", "map:whistles", {}, 3),  # + the markers with their light
        ("supervisor", "map:whistles", {"status": "all"}, 3),
        ("s01_staff", "panel", {}, 6),  # + the grid, the count, the page with its lights
    ],
)
def test_the_query_count_does_not_grow_with_the_whistles(
    client, cast, django_assert_num_queries, username, url, params, queries
):
    client = signed_in(client, getattr(cast, username))
    address = reverse("map:grid_whistles", args=["S01C01G01"]) if url == "panel" else reverse(url)
    headers = {"HTTP_HX_REQUEST": "true"} if url == "panel" else {}
    for count in (1, 6):
        many_whistles(cast, count)
        with django_assert_num_queries(queries):
            response = client.get(address, params, **headers)
        assert response.status_code == 200


def test_the_map_page_loads_no_whistle(client, cast, django_assert_num_queries):
    many_whistles(cast, 2)
    client = signed_in(client, cast.s01_staff)

    with django_assert_num_queries(6) as captured:
        client.get(reverse("map:overview"))

    whistle_table = Whistle._meta.db_table
    reads_rows = [q["sql"] for q in captured.captured_queries if whistle_table in q["sql"] and "COUNT(" not in q["sql"]]
    assert reads_rows == []


# The whistle page's map -------------------------------------------------------------------------


def test_the_whistle_page_shows_its_point_and_its_grids_outline(client, cast):
    whistle = raised(cast.s01_staff, **IN_G1)

    html = signed_in(client, cast.s01_staff).get(reverse("whistle:detail", args=[whistle.number])).content.decode()

    assert 'id="whistle-location-map"' in html and 'data-map-kind="whistle"' in html
    assert 'data-lon="115.975" data-lat="40.465"' in html
    boundary = html.split('data-boundary="', 1)[1].split('"', 1)[0].replace("&quot;", '"')
    assert json.loads(boundary) == cast.grids.g1.boundary
    assert "js/whistle-map.js" in html and "vendor/leaflet/leaflet.js" in html


def test_the_whistle_page_map_works_with_a_grid_and_no_point(client, cast):
    whistle = raised(cast.s01_staff, lon=None, lat=None, grid="S01C01G02")

    html = signed_in(client, cast.s01_staff).get(reverse("whistle:detail", args=[whistle.number])).content.decode()

    assert 'data-lon="" data-lat=""' in html
    boundary = html.split('data-boundary="', 1)[1].split('"', 1)[0].replace("&quot;", '"')
    assert json.loads(boundary) == cast.grids.g2.boundary


def test_a_whistle_without_point_or_grid_has_no_map(client, cast):
    whistle = raised(cast.s01_staff)
    # Every intake path asks for a point or a grid; older or imported whistles may have neither.
    Whistle.objects.filter(pk=whistle.pk).update(lon=None, lat=None, grid=None, community=None)

    response = signed_in(client, cast.s01_staff).get(reverse("whistle:detail", args=[whistle.number]))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="whistle-location-map"' not in html and "leaflet.js" not in html
