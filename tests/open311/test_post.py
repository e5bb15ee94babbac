"""POST requests: a hotline (or any role that raises whistles) raises a whistle through Open311.

Form-encoded as the spec says (multipart too); the same intake as the web
form and the v1 API, so every rule of whistle_submit holds, named by the
Open311 field; a refused request stores nothing.
"""

from xml.etree import ElementTree as ET

import pytest
from django.test import Client

from open311.models import ServiceRequestOrigin
from tests.open311.conftest import ROOT, assert_error
from whistle.models import Event, Whistle

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded; charset=utf-8"
REQUEST = {
    "service_code": "ENV-COMPOUND",
    "lat": "40.465",
    "long": "115.975",
    "description": "3号楼楼道堆满杂物，堵塞消防通道。\n已持续一周。",
    "attribute[kind]": "junk",
}


def post(client, key, data, fmt="json", **extra):
    body = {**data, **({"api_key": key} if key is not None else {})}
    return client.post(f"{ROOT}/requests.{fmt}", _urlencode(body), content_type=FORM, **extra)


def _urlencode(data) -> str:
    from urllib.parse import urlencode

    pairs = []
    for key, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((key, item))
    return urlencode(pairs)


def test_the_hotline_raises_a_whistle_and_gets_its_number_at_once(client, o311):
    data = {
        **REQUEST,
        "address_string": "百泉街道3号楼",
        "first_name": "秀英",
        "last_name": "王",
        "phone": "138 0000 0000",
        "email": "wang@example.cn",
        "device_id": "dev-1",
        "account_id": "acc-9",
        "media_url": "https://photos.example.cn/1.jpg",
        "attribute[floors]": ["2", "3"],
        "attribute[count]": "12",
        "attribute[seen_at]": "2026-05-06T09:30:00+08:00",
    }

    response = post(client, o311.keys["hotline"], data)

    assert response.status_code == 201, response.content.decode()
    (answer,) = response.json()
    assert set(answer) == {"service_request_id", "service_notice", "account_id"}
    assert answer["account_id"] == "acc-9"
    whistle = Whistle.objects.get(number=answer["service_request_id"])
    assert answer["service_notice"] and whistle.number in answer["service_notice"]
    assert (whistle.source, whistle.reporter, whistle.category.code) == ("hotline", o311.cast.hotline, "ENV-COMPOUND")
    assert (whistle.lon, whistle.lat, whistle.grid.code, whistle.street.code) == (115.975, 40.465, "S01C01G01", "S01")
    assert whistle.title == "3号楼楼道堆满杂物，堵塞消防通道。"
    assert whistle.description == data["description"]
    assert whistle.address == "百泉街道3号楼"
    assert (whistle.caller_name, whistle.caller_phone, whistle.caller_email) == (
        "王秀英",
        "138 0000 0000",
        "wang@example.cn",
    )
    assert whistle.attributes == {
        "kind": "junk",
        "floors": ["2", "3"],
        "count": 12,
        "seen_at": "2026-05-06T09:30:00+08:00",
    }
    assert whistle.status == Whistle.Status.SUBMITTED
    origin = ServiceRequestOrigin.objects.get(whistle=whistle)
    assert (origin.account_id, origin.device_id, origin.media_url) == ("acc-9", "dev-1", data["media_url"])
    assert list(Event.objects.filter(whistle=whistle).values_list("verb", flat=True)) == ["submitted"]


def test_the_answer_in_xml(client, o311):
    response = post(client, o311.keys["hotline"], REQUEST, fmt="xml")

    assert response.status_code == 201
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    root = ET.fromstring(response.content)
    assert root.tag == "service_requests"
    (request,) = root.findall("request")
    assert [child.tag for child in request] == ["service_request_id", "service_notice", "account_id"]
    assert Whistle.objects.filter(number=request.findtext("service_request_id")).exists()
    assert request.find("account_id").text is None


def test_a_multipart_body_works_too(client, o311):
    response = client.post(f"{ROOT}/requests.json", {**REQUEST, "api_key": o311.keys["hotline"]})

    assert response.status_code == 201, response.content.decode()
    assert Whistle.objects.filter(number=response.json()[0]["service_request_id"]).exists()


@pytest.mark.parametrize(
    ("first_name", "last_name", "caller_name"),
    [("秀英", "王", "王秀英"), ("John", "", "John"), ("", "Smith", "Smith"), ("", "", "")],
)
def test_the_callers_name_is_family_name_first_when_both_are_given(client, o311, first_name, last_name, caller_name):
    data = {**REQUEST, "first_name": first_name, "last_name": last_name}

    response = post(client, o311.keys["hotline"], data)

    assert Whistle.objects.get(number=response.json()[0]["service_request_id"]).caller_name == caller_name


def test_a_street_raises_its_own_whistle_through_open311(client, o311):
    response = post(client, o311.keys["s01_staff"], REQUEST)

    whistle = Whistle.objects.get(number=response.json()[0]["service_request_id"])
    assert (whistle.source, whistle.reporter.username) == ("street", "s01_staff")


def test_a_description_without_text_takes_the_service_name_as_title_and_is_refused(client, o311):
    response = post(client, o311.keys["hotline"], {**REQUEST, "description": ""})

    assert_error(response, 400, "description: A description is required.")
    assert not Whistle.objects.exists()


def test_a_long_first_line_is_shortened_for_the_title(client, o311):
    response = post(client, o311.keys["hotline"], {**REQUEST, "description": "很" * 80})

    title = Whistle.objects.get(number=response.json()[0]["service_request_id"]).title
    assert len(title) == 50 and title.endswith("…")


# Places by name ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "street", "community", "grid"),
    [
        ("百泉街道百泉第1社区网格1号楼", "S01", "S01C01", None),
        ("香水园街道幸福里5号", "S02", None, None),
        ("香水园第1社区东门", "S02", "S02C01", None),
        ("延庆区 百泉第１社区", "S01", "S01C01", None),  # spaces and full-width digits
    ],
)
def test_an_address_alone_is_matched_to_a_street_or_community(client, o311, address, street, community, grid):
    data = {key: value for key, value in REQUEST.items() if key not in ("lat", "long")}

    response = post(client, o311.keys["hotline"], {**data, "address_string": address})

    assert response.status_code == 201, response.content.decode()
    whistle = Whistle.objects.get(number=response.json()[0]["service_request_id"])
    assert whistle.street.code == street
    assert getattr(whistle.community, "code", None) == community
    assert getattr(whistle.grid, "code", None) == grid
    assert (whistle.lon, whistle.lat, whistle.address) == (None, None, address)


def test_an_address_naming_a_grid_places_the_whistle_in_that_grid(client, o311):
    o311.cast.grids.g2.name = "百泉第1社区第2网格"
    o311.cast.grids.g2.save(update_fields=["name"])
    data = {key: value for key, value in REQUEST.items() if key not in ("lat", "long")}

    response = post(client, o311.keys["hotline"], {**data, "address_string": "百泉第1社区第2网格内的自行车棚"})

    whistle = Whistle.objects.get(number=response.json()[0]["service_request_id"])
    assert (whistle.grid.code, whistle.community.code, whistle.street.code) == ("S01C01G02", "S01C01", "S01")


def test_an_address_id_is_the_code_of_a_grid_community_or_street(client, o311):
    data = {key: value for key, value in REQUEST.items() if key not in ("lat", "long")}

    whistle_number = post(client, o311.keys["hotline"], {**data, "address_id": "S02C01G01"}).json()[0]
    assert Whistle.objects.get(number=whistle_number["service_request_id"]).grid.code == "S02C01G01"
    assert_error(post(client, o311.keys["hotline"], {**data, "address_id": "NOWHERE"}), 400, "address_id")


def test_an_address_naming_no_unit_is_refused_asking_for_lat_and_long(client, o311):
    data = {key: value for key, value in REQUEST.items() if key not in ("lat", "long")}

    response = post(client, o311.keys["hotline"], {**data, "address_string": "北京市朝阳区建国路1号"})

    errors = assert_error(response, 400, "address_string", "lat and long")
    assert len(errors) == 1
    assert not Whistle.objects.exists()


def test_a_street_may_not_place_a_whistle_in_another_street_by_address(client, o311):
    data = {key: value for key, value in REQUEST.items() if key not in ("lat", "long")}

    response = post(client, o311.keys["s01_staff"], {**data, "address_string": "香水园街道幸福里5号"})

    assert_error(response, 400, "address_string: The place lies in 香水园街道, not in your street.")


def test_without_any_place_the_request_is_refused(client, o311):
    data = {key: value for key, value in REQUEST.items() if key not in ("lat", "long")}

    assert_error(post(client, o311.keys["hotline"], data), 400, "lat: Give the place")


# Refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_without_an_api_key_nothing_is_raised(client, o311, fmt):
    assert_error(post(client, None, REQUEST, fmt=fmt), 403, "api_key")
    assert_error(post(client, "", REQUEST, fmt=fmt), 403, "api_key")
    assert not Whistle.objects.exists()


@pytest.mark.parametrize("key", ["not-a-key", "x" * 500, "' OR 1=1 --"])
def test_a_wrong_api_key_is_refused(client, o311, key):
    assert_error(post(client, key, REQUEST), 403, "api_key")
    assert not Whistle.objects.exists()


def test_an_api_key_in_the_query_string_counts_too(client, o311):
    response = client.post(
        f"{ROOT}/requests.json?api_key={o311.keys['hotline']}", _urlencode(REQUEST), content_type=FORM
    )

    assert response.status_code == 201


def test_the_key_of_an_inactive_user_is_refused(client, o311):
    o311.cast.hotline.is_active = False
    o311.cast.hotline.save(update_fields=["is_active"])

    assert_error(post(client, o311.keys["hotline"], REQUEST), 403, "api_key")


@pytest.mark.parametrize("name", ["d13_staff", "supervisor", "outsider"])
def test_a_role_that_may_not_raise_whistles_is_refused(client, o311, name):
    assert_error(post(client, o311.keys[name], REQUEST), 403, "api_key")
    assert not Whistle.objects.exists()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unknown_service_code_is_a_404(client, o311, fmt):
    assert_error(post(client, o311.keys["hotline"], {**REQUEST, "service_code": "NO-SUCH"}, fmt=fmt), 404, "NO-SUCH")


def test_a_missing_service_code_is_a_400_naming_it(client, o311):
    errors = assert_error(post(client, o311.keys["hotline"], {**REQUEST, "service_code": ""}), 400, "service_code")

    assert sum("service_code" in error["description"] for error in errors) == 1


@pytest.mark.parametrize(
    ("lat", "long", "field"),
    [
        ("north", "115.975", "lat"),
        ("40.465", "nan", "long"),
        ("40.465", "inf", "long"),
        ("91", "115.975", "lat"),
        ("40.465", "-181", "long"),
        ("40.465", "", "long"),
        ("1e400", "115.975", "lat"),
        ("0", "0", "lat"),  # on no grid of the district
    ],
)
def test_a_bad_point_is_a_400_naming_lat_or_long(client, o311, lat, long, field):
    response = post(client, o311.keys["hotline"], {**REQUEST, "lat": lat, "long": long})

    assert_error(response, 400, f"{field}: ")
    assert not Whistle.objects.exists()


@pytest.mark.parametrize(
    ("attributes", "fragment"),
    [
        ({}, "attribute[kind]: An answer is required: 堆放物类型"),
        ({"attribute[kind]": "gold"}, "attribute[kind]: gold is not a choice: choose among junk, bikes."),
        ({"attribute[kind]": ["junk", "bikes"]}, "attribute[kind]: Choose only one of junk, bikes."),
        ({"attribute[kind]": "junk", "attribute[floors][]": ["1", "9"]}, "attribute[floors]: 9 is not a choice"),
        ({"attribute[kind]": "junk", "attribute[count]": "twelve"}, "attribute[count]: Give a number"),
        ({"attribute[kind]": "junk", "attribute[seen_at]": "2026-05-06 09:30"}, "attribute[seen_at]: Give a date"),
        ({"attribute[kind]": "junk", "attribute[colour]": "red"}, "attribute[colour]: The category ENV-COMPOUND"),
        ({"attribute[kind]": "junk", "attribute[notice]": "ok"}, "attribute[notice]: This is a notice"),
    ],
)
def test_a_bad_attribute_is_a_400_naming_it_and_the_rule(client, o311, attributes, fragment):
    data = {key: value for key, value in REQUEST.items() if not key.startswith("attribute[")}

    response = post(client, o311.keys["hotline"], {**data, **attributes})

    assert_error(response, 400, fragment)
    assert not Whistle.objects.exists()


def test_every_broken_rule_is_one_error(client, o311):
    data = {
        **REQUEST,
        "attribute[kind]": "gold",
        "phone": "call me",
        "email": "not-an-address",
        "media_url": "javascript:alert(1)",
        "device_id": "d" * 65,
    }

    errors = assert_error(post(client, o311.keys["hotline"], data), 400)

    fields = sorted(error["description"].split(":")[0] for error in errors)
    assert fields == ["attribute[kind]", "device_id", "email", "media_url", "phone"]
    assert not Whistle.objects.exists()


def test_a_rule_only_open311_has_leaves_nothing_behind(client, o311):
    """The whistle would be valid; the media URL is not: neither is stored, and no number is used up."""
    response = post(client, o311.keys["hotline"], {**REQUEST, "media_url": "ftp://example.cn/x.jpg"})

    assert_error(response, 400, "media_url")
    assert not Whistle.objects.exists() and not ServiceRequestOrigin.objects.exists() and not Event.objects.exists()
    number = post(client, o311.keys["hotline"], REQUEST).json()[0]["service_request_id"]
    assert number.endswith("-000001")


def test_a_json_body_is_refused_in_the_spec_format(client, o311):
    response = client.post(
        f"{ROOT}/requests.json?api_key={o311.keys['hotline']}", REQUEST, content_type="application/json"
    )

    assert_error(response, 415)


@pytest.mark.parametrize(
    "data",
    [
        {"service_code": "ENV-COMPOUND", "lat": "40.465", "long": "115.975", "description": "x" * 5000},
        {"service_code": "\x00\x01", "lat": "40.465", "long": "115.975"},
        {"service_code": "ENV-COMPOUND", "address_string": "\ufeff\u202e百泉街道\x07"},
        {"service_code": "ENV-COMPOUND", "address_string": "x" * 20000},
        {"service_code": "ENV-COMPOUND", "lat": "4" * 400, "long": "1" * 400},
        {"service_code": "ENV-COMPOUND", "lat": "40.465", "long": "115.975", "attribute[]": "x", "attribute[": "y"},
        {"service_code": "ENV-COMPOUND", "lat": "40.465", "long": "115.975", "attribute[kind]": ""},
        {"service_code": "ENV-COMPOUND", "lat": "40.465", "long": "115.975", "first_name": "名" * 60},
        {"service_code": "ENV-COMPOUND", "lat": "40.465", "long": "115.975", "jurisdiction_id": "x" * 300},
        {"service_code": "x" * 10000},
        {"service_code": "ENV-COMPOUND", "lat": "40.465", "long": "115.975", "description": "楼道\x00堆物"},
        {"service_code": "ENV-COMPOUND", "address_string": "百泉街道\x00"},
        {"service_code": "ENV-COMPOUND", "lat": "40.465", "long": "115.975", "attribute[ki\x00nd]": "junk"},
    ],
)
def test_garbage_never_breaks_the_server(client, o311, data):
    for fmt in ("json", "xml"):
        response = post(client, o311.keys["hotline"], data, fmt=fmt)
        assert response.status_code in (201, 400, 404), response.content.decode(errors="replace")
        if response.status_code != 201:
            assert_error(response, response.status_code)


def test_raw_garbage_bodies_never_break_the_server(client, o311):
    url = f"{ROOT}/requests.xml?api_key={o311.keys['hotline']}"
    for body, content_type in (
        (b"\xff\xfe\x00garbage", FORM),
        (b"--x\r\nnot multipart", "multipart/form-data; boundary=x"),
        (b"a=1&a=2&%%%", FORM),
        (b"service_code=ENV-COMPOUND&address_string=%ED%A0%80%E7%99%BE", FORM),
        (b"<xml/>", "text/xml"),
    ):
        response = client.generic("POST", url, body, content_type=content_type)
        assert response.status_code in (400, 404, 415), response.content.decode(errors="replace")
        assert_error(response, response.status_code)
        ET.fromstring(response.content)


def test_a_messages_language_is_the_users(o311):
    """Errors the platform already speaks Chinese for come out in Chinese for a Chinese client."""
    response = post(Client(HTTP_ACCEPT_LANGUAGE="zh-hans"), o311.keys["hotline"], {**REQUEST, "long": ""}, fmt="xml")

    assert_error(response, 400, "long: 经度和纬度须同时填写或同时不填。")


def test_posting_is_exempt_from_csrf_and_needs_no_session(o311):
    browser = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(o311.cast.hotline)

    assert_error(post(browser, None, REQUEST), 403, "api_key")  # the session is no credential here
    assert post(browser, o311.keys["hotline"], REQUEST).status_code == 201  # and no CSRF token is needed
