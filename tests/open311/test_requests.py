"""GET requests, GET requests/{id}, tokens/{token}: who reads what, every filter, the default window, both formats."""

from datetime import timedelta
from xml.etree import ElementTree as ET

import pytest
import time_machine
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from open311 import selectors
from tests.factories import submit_whistle
from tests.open311.conftest import ROOT, assert_error
from whistle.models import Task
from whistle.services import whistle_merge, whistle_route

pytestmark = pytest.mark.django_db

NOW = "2026-06-30 10:00 +08:00"
CALLER = {"caller_name": "王秀英", "caller_phone": "13800001111", "caller_email": "wang@example.cn"}


def hotline(cast, **fields):
    return submit_whistle(cast.hotline, **{"attributes": {"kind": "junk"}, **CALLER, **fields}).whistle


def street(cast, **fields):
    return submit_whistle(cast.s01_staff, **{"attributes": {"kind": "junk"}, **fields}).whistle


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.content.decode()
    return [request["service_request_id"] for request in response.json()]


@pytest.fixture
def world(o311):
    """Hotline whistles of S01 and S02 and a street whistle, routed, raised over the last 100 days."""
    cast = o311.cast
    made = {}
    with time_machine.travel(NOW, tick=False) as traveller:
        now = timezone.now()
        for name, days, maker, fields in (
            ("old_hotline", 100, hotline, {}),
            ("hotline_s01", 80, hotline, {}),
            ("street_s01", 30, street, {}),
            ("hotline_s02", 10, hotline, {"category": "ORDER-PUBLIC", "lon": 115.955, "lat": 40.445, "attributes": {}}),
            ("fresh", 0, hotline, {"address": "3号楼"}),
        ):
            traveller.move_to(now - timedelta(days=days))
            made[name] = maker(cast, **fields)
            whistle_route(whistle_id=made[name].pk)
        traveller.move_to(now)
        for whistle in made.values():
            whistle.refresh_from_db()
        yield o311, made


def test_without_a_key_only_hotline_requests_of_the_last_90_days_are_read(client, world):
    o311, made = world
    with time_machine.travel(NOW, tick=False):
        listed = numbers(client.get(f"{ROOT}/requests.json"))

    assert listed == [made["fresh"].number, made["hotline_s02"].number, made["hotline_s01"].number]


def test_a_request_as_the_spec_describes_it(client, world):
    o311, made = world
    whistle = made["fresh"]
    lead = Task.objects.get(whistle=whistle, role="lead")

    (request,) = client.get(f"{ROOT}/requests/{whistle.number}.json").json()

    assert request == {
        "service_request_id": whistle.number,
        "status": "open",
        "status_notes": "routed to departments",
        "service_name": "老旧小区环境",
        "service_code": "ENV-COMPOUND",
        "description": whistle.description,
        "agency_responsible": "区城市管理委员会",
        "service_notice": None,
        "requested_datetime": "2026-06-30T10:00:00+08:00",
        "updated_datetime": "2026-06-30T10:00:00+08:00",
        "expected_datetime": timezone.localtime(lead.resolve_due_at).isoformat(timespec="seconds"),
        "address": "3号楼",
        "lat": 40.465,
        "long": 115.975,
        "media_url": None,
    }
    assert parse_datetime(request["expected_datetime"]) == lead.resolve_due_at


def test_no_personal_data_is_ever_read_out(client, world):
    o311, made = world
    key = o311.keys["hotline"]
    for path in (
        f"{ROOT}/requests.json",
        f"{ROOT}/requests.xml",
        f"{ROOT}/requests.json?api_key={key}",
        f"{ROOT}/requests/{made['fresh'].number}.xml?api_key={key}",
    ):
        with time_machine.travel(NOW, tick=False):
            body = client.get(path).content.decode()
        assert made["fresh"].number in body
        for secret in (*CALLER.values(), "hotline", "s01_staff", "13800001111"):
            assert secret not in body, (path, secret)


def test_without_a_place_in_the_address_the_units_describe_it(client, world):
    o311, made = world

    (request,) = client.get(f"{ROOT}/requests/{made['hotline_s01'].number}.json").json()

    assert request["address"] == f"{o311.cast.grids.g1.name}, 百泉第1社区, 百泉街道"


def test_a_key_reads_its_users_scope(client, world):
    o311, made = world

    def listed(name):
        with time_machine.travel(NOW, tick=False):
            return set(numbers(client.get(f"{ROOT}/requests.json", {"api_key": o311.keys[name]})))

    s01 = {made[name].number for name in ("fresh", "street_s01", "hotline_s01")}
    assert listed("s01_staff") == s01
    assert listed("s02_staff") == {made["hotline_s02"].number}
    assert listed("d13_staff") == s01  # the whistles it is summoned to
    assert listed("hotline") == {made[name].number for name in ("fresh", "hotline_s02", "hotline_s01")}
    assert listed("supervisor") == s01 | {made["hotline_s02"].number}
    assert listed("outsider") == set()


def test_a_street_request_is_found_with_a_key_and_not_without(client, world):
    o311, made = world
    number = made["street_s01"].number

    assert_error(client.get(f"{ROOT}/requests/{number}.json"), 404, number)
    assert numbers(client.get(f"{ROOT}/requests/{number}.json", {"api_key": o311.keys["s01_staff"]})) == [number]
    assert_error(client.get(f"{ROOT}/requests/{number}.xml", {"api_key": o311.keys["s02_staff"]}), 404, number)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_wrong_key_is_refused_on_reads_too(client, world, fmt):
    assert_error(client.get(f"{ROOT}/requests.{fmt}", {"api_key": "nope"}), 403, "api_key")
    assert_error(client.get(f"{ROOT}/tokens/X.{fmt}", {"api_key": "nope"}), 403, "api_key")


def test_an_empty_key_is_no_key(client, world):
    with time_machine.travel(NOW, tick=False):
        assert len(numbers(client.get(f"{ROOT}/requests.json", {"api_key": ""}))) == 3


@pytest.mark.parametrize("number", ["S01-2026-999999", "nothing", "x" * 300, "%01", "'; DROP TABLE x; --"])
def test_an_unknown_request_is_a_404(client, world, number):
    assert_error(client.get(f"{ROOT}/requests/{number}.json"), 404)
    assert_error(client.get(f"{ROOT}/requests/{number}.xml"), 404)


@pytest.mark.parametrize(
    "path",
    [
        "requests/S01%00.json",
        "tokens/%00.xml",
        "services/ENV%00.json",
        "requests.xml?service_code=%00",
        "requests.json?api_key=%00",
        "requests.json?%00=1",
        "services.json?jurisdiction_id=YQ%00",
    ],
)
def test_a_nul_character_anywhere_is_a_400(client, world, path):
    assert_error(client.get(f"{ROOT}/{path}"), 400, "NUL")


def test_the_xml_list_says_the_same_as_the_json(client, world):
    with time_machine.travel(NOW, tick=False):
        as_json = client.get(f"{ROOT}/requests.json").json()
        response = client.get(f"{ROOT}/requests.xml")

    assert response["Content-Type"] == "text/xml; charset=utf-8"
    root = ET.fromstring(response.content)
    assert root.tag == "service_requests"
    as_xml = [{child.tag: child.text for child in request} for request in root.findall("request")]
    expected = [{key: None if value is None else str(value) for key, value in item.items()} for item in as_json]
    assert as_xml == expected


def test_a_closed_request_tells_why(client, world):
    o311, made = world
    duplicate = hotline(o311.cast, description="又有人反映3号楼楼道堆物。")
    whistle_merge(whistle=duplicate, into=made["fresh"], actor=o311.cast.s01_staff)

    (request,) = client.get(f"{ROOT}/requests/{duplicate.number}.json").json()

    assert (request["status"], request["status_notes"]) == ("closed", "merged into another whistle")
    assert made["fresh"].number in request["service_notice"]
    assert request["agency_responsible"] is None and request["expected_datetime"] is None


def test_a_request_no_rule_routes_waits_for_the_dispatcher(client, o311):
    whistle = hotline(o311.cast, category="MISC-OTHER", attributes={})
    whistle_route(whistle_id=whistle.pk)

    (request,) = client.get(f"{ROOT}/requests/{whistle.number}.json").json()

    assert (request["status"], request["status_notes"]) == ("open", "awaiting manual dispatch")
    assert "dispatcher" in request["service_notice"]
    assert request["agency_responsible"] is None


def test_a_returned_lead_is_no_longer_responsible(client, world):
    o311, made = world
    Task.objects.filter(whistle=made["fresh"], role="lead").update(status=Task.Status.RETURNED)

    (request,) = client.get(f"{ROOT}/requests/{made['fresh'].number}.json").json()

    assert request["agency_responsible"] is None and request["expected_datetime"] is None


# Tokens --------------------------------------------------------------------------------------


def test_a_token_is_the_request_number(client, world):
    o311, made = world
    number = made["fresh"].number

    assert client.get(f"{ROOT}/tokens/{number}.json").json() == [{"service_request_id": number, "token": number}]
    root = ET.fromstring(client.get(f"{ROOT}/tokens/{number}.xml").content)
    assert [(child.tag, child.text) for child in root.find("request")] == [
        ("service_request_id", number),
        ("token", number),
    ]
    assert_error(client.get(f"{ROOT}/tokens/NO-SUCH.json"), 404, "token", "NO-SUCH")
    assert_error(client.get(f"{ROOT}/tokens/{made['street_s01'].number}.xml"), 404, "token")


# Filters -------------------------------------------------------------------------------------


def search(client, **params) -> list[str]:
    with time_machine.travel(NOW, tick=False):
        return numbers(client.get(f"{ROOT}/requests.json", params))


def test_ids_override_every_other_filter_and_the_window(client, world):
    o311, made = world
    wanted = [made["old_hotline"].number, made["fresh"].number, made["street_s01"].number, "S09-2026-000001"]

    listed = search(client, service_request_id=",".join(wanted), status="closed", service_code="ORDER-PUBLIC")

    assert listed == [made["fresh"].number, made["old_hotline"].number]  # the street's is not public


def test_a_service_code_filter_takes_a_comma_list(client, world):
    o311, made = world

    assert search(client, service_code="ORDER-PUBLIC") == [made["hotline_s02"].number]
    assert len(search(client, service_code="ORDER-PUBLIC,ENV-COMPOUND")) == 3
    assert_error(client.get(f"{ROOT}/requests.json", {"service_code": "ENV-COMPOUND,NOPE"}), 404, "NOPE")


def test_a_status_filter_takes_open_closed_or_both(client, world):
    o311, made = world
    duplicate = hotline(o311.cast)
    whistle_merge(whistle=duplicate, into=made["fresh"], actor=o311.cast.s01_staff)

    with time_machine.travel(timezone.now() + timedelta(seconds=1), tick=False):
        closed = numbers(client.get(f"{ROOT}/requests.json", {"status": "closed"}))
        both = numbers(client.get(f"{ROOT}/requests.json", {"status": "open,closed"}))
        open_ = numbers(client.get(f"{ROOT}/requests.json", {"status": "open"}))
    assert closed == [duplicate.number]
    assert set(both) == set(open_) | {duplicate.number} and duplicate.number not in open_
    assert_error(client.get(f"{ROOT}/requests.json", {"status": "pending"}), 400, "status")


def test_dates_choose_the_window(client, world):
    o311, made = world

    assert search(client, start_date="2026-03-23T00:00:00+08:00", end_date="2026-05-01T00:00:00Z") == [
        made["hotline_s01"].number
    ]
    # One date alone: 90 days from it, or up to it.
    assert search(client, start_date="2026-03-23T00:00:00Z") == [
        made["hotline_s02"].number,
        made["hotline_s01"].number,
    ]
    assert search(client, end_date="2026-06-29T00:00:00+08:00") == [
        made["hotline_s02"].number,
        made["hotline_s01"].number,
    ]
    # A bare date is that whole local day.
    assert search(client, start_date="2026-06-30", end_date="2026-06-30") == [made["fresh"].number]
    assert search(client, start_date="2026-03-22", end_date="2026-03-22") == [made["old_hotline"].number]
    assert search(client, start_date="2026-03-21", end_date="2026-03-21") == []


def test_the_default_window_is_the_last_90_days(client, world):
    o311, made = world

    assert made["old_hotline"].number not in search(client)
    with time_machine.travel("2026-09-20 10:00 +08:00", tick=False):
        assert numbers(client.get(f"{ROOT}/requests.json")) == [made["fresh"].number]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-05-01T00:00:00Z"}, "end_date: The dates may span"),
        ({"start_date": "2026-05-01T00:00:00Z", "end_date": "2026-04-01T00:00:00Z"}, "end_date: The end_date lies"),
        ({"start_date": "2026-05-01T00:00:00"}, "start_date: Give a w3 date-time"),
        ({"end_date": "yesterday"}, "end_date: Give a w3 date-time"),
        ({"start_date": "9999-12-31T23:59:59-14:00"}, "start_date"),
        ({"start_date": "0001-01-01T00:00:00+14:00"}, "start_date"),
        ({"end_date": "2026-02-30"}, "end_date"),
        ({"start_date": "2" * 500}, "start_date"),
        ({"service_request_id": ",".join(["S01"] * 1001)}, "service_request_id: At most 1000"),
    ],
)
def test_bad_filters_are_400s_naming_them(client, world, params, field):
    with time_machine.travel(NOW, tick=False):
        assert_error(client.get(f"{ROOT}/requests.xml", params), 400, field)


def test_at_most_the_limit_newest_first(client, world, monkeypatch):
    o311, made = world
    monkeypatch.setattr(selectors, "REQUEST_LIMIT", 2)

    assert search(client) == [made["fresh"].number, made["hotline_s02"].number]


def test_the_list_costs_a_fixed_number_of_queries(client, world, django_assert_max_num_queries):
    o311, made = world
    for _n in range(5):
        whistle_route(whistle_id=hotline(o311.cast).pk)
    key = o311.keys["s01_staff"]
    client.get(f"{ROOT}/requests.json", {"api_key": key})  # warm the per-process caches

    with django_assert_max_num_queries(4):
        response = client.get(f"{ROOT}/requests.json", {"api_key": key})
    assert len(response.json()) == 8


def test_a_jurisdiction_limits_the_requests(client, world):
    o311, made = world

    assert len(search(client, jurisdiction_id="YQ")) == 3
    assert_error(client.get(f"{ROOT}/requests.json", {"jurisdiction_id": "nowhere"}), 404, "jurisdiction_id")
    assert_error(client.get(f"{ROOT}/requests/{made['fresh'].number}.json", {"jurisdiction_id": "Z"}), 404)


def test_too_many_requests_are_refused_in_the_spec_format(client, world, settings):
    settings.API_RATE_ANON = (2, 60)

    for _n in range(2):
        assert client.get(f"{ROOT}/services.json").status_code == 200
    response = client.get(f"{ROOT}/requests.xml")

    assert_error(response, 429)
    assert int(response["Retry-After"]) >= 1
