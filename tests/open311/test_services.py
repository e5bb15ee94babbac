"""Discovery, the service list and service definitions, in both formats, public; unknown things are 404s."""

from xml.etree import ElementTree as ET

import pytest
import xmltodict

from departments.models import Category
from tests.open311.conftest import ROOT, assert_error

pytestmark = pytest.mark.django_db

XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>'


def xml_of(response) -> ET.Element:
    assert response.status_code == 200, response.content.decode()
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(XML_DECLARATION)
    return ET.fromstring(response.content)


def json_of(response):
    assert response.status_code == 200, response.content.decode()
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return response.json()


def test_discovery_names_the_endpoint_the_spec_and_both_formats(client, o311):
    body = json_of(client.get(f"{ROOT}/discovery.json"))
    root = xml_of(client.get(f"{ROOT}/discovery.xml"))

    (endpoint,) = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert endpoint["type"] in {"production", "test"}
    assert body["changeset"] and body["contact"] and body["key_service"]
    assert root.tag == "discovery"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == endpoint["formats"]
    assert root.findtext("endpoints/endpoint/url") == endpoint["url"]
    assert root.findtext("changeset") == body["changeset"]


def test_the_service_list_has_one_service_per_category(client, o311):
    parent = Category.objects.create(code="ENV", name="环境")
    Category.objects.filter(code="ENV-COMPOUND").update(parent=parent, description="楼道堆物、私搭乱建")

    services = json_of(client.get(f"{ROOT}/services.json"))

    by_code = {service["service_code"]: service for service in services}
    assert sorted(by_code) == ["ENV", "ENV-COMPOUND", "MISC-OTHER", "ORDER-PUBLIC"]
    assert by_code["ENV-COMPOUND"] == {
        "service_code": "ENV-COMPOUND",
        "service_name": "老旧小区环境",
        "description": "楼道堆物、私搭乱建",
        "metadata": True,
        "type": "realtime",
        "keywords": "老旧小区环境, env, compound, 环境",
        "group": "环境",
    }
    assert by_code["MISC-OTHER"]["metadata"] is False
    assert by_code["MISC-OTHER"]["group"] is None
    assert by_code["MISC-OTHER"]["description"] == "其他事项"  # the name when the category has no description
    assert by_code["ORDER-PUBLIC"]["metadata"] is True


def test_the_service_list_in_xml_says_the_same_as_in_json(client, o311):
    services = json_of(client.get(f"{ROOT}/services.json"))
    root = xml_of(client.get(f"{ROOT}/services.xml"))

    assert root.tag == "services"
    as_xml = [{child.tag: child.text for child in service} for service in root.findall("service")]
    as_json = [
        {key: ("true" if value is True else "false" if value is False else value) for key, value in service.items()}
        for service in services
    ]
    assert as_xml == as_json


def test_a_service_definition_lists_the_attributes_in_order(client, o311):
    body = json_of(client.get(f"{ROOT}/services/ENV-COMPOUND.json"))

    assert body["service_code"] == "ENV-COMPOUND"
    assert [a["code"] for a in body["attributes"]] == ["notice", "kind", "floors", "count", "seen_at"]
    assert [a["order"] for a in body["attributes"]] == [1, 2, 3, 4, 5]
    notice, kind, floors, count, seen_at = body["attributes"]
    assert (notice["variable"], notice["required"], notice["datatype"]) == (False, False, "text")
    assert kind == {
        "variable": True,
        "code": "kind",
        "datatype": "singlevaluelist",
        "required": True,
        "datatype_description": None,
        "order": 2,
        "description": "堆放物类型",
        "values": [{"key": "junk", "name": "杂物"}, {"key": "bikes", "name": "电动车"}],
    }
    assert floors["datatype"] == "multivaluelist" and len(floors["values"]) == 6
    assert (count["datatype"], count["datatype_description"], count["values"]) == ("number", "估计值", [])
    assert seen_at["datatype"] == "datetime"


def test_a_service_definition_in_xml_says_the_same_as_in_json(client, o311):
    body = json_of(client.get(f"{ROOT}/services/ENV-COMPOUND.json"))
    root = xml_of(client.get(f"{ROOT}/services/ENV-COMPOUND.xml"))

    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "ENV-COMPOUND"
    attributes = root.findall("attributes/attribute")
    assert len(attributes) == len(body["attributes"])
    for element, expected in zip(attributes, body["attributes"], strict=True):
        for name in ("code", "datatype", "description"):
            assert element.findtext(name) == expected[name]
        assert element.findtext("variable") == str(expected["variable"]).lower()
        assert element.findtext("required") == str(expected["required"]).lower()
        assert int(element.findtext("order")) == expected["order"]
        assert (element.findtext("datatype_description") or None) == expected["datatype_description"]
        values = [{"key": v.findtext("key"), "name": v.findtext("name")} for v in element.findall("values/value")]
        assert values == expected["values"]


def test_a_category_without_attributes_has_an_empty_definition(client, o311):
    assert json_of(client.get(f"{ROOT}/services/MISC-OTHER.json")) == {"service_code": "MISC-OTHER", "attributes": []}
    parsed = xmltodict.parse(client.get(f"{ROOT}/services/MISC-OTHER.xml").content)
    assert parsed == {"service_definition": {"service_code": "MISC-OTHER", "attributes": None}}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unknown_service_code_is_a_404_in_the_spec_format(client, o311, fmt):
    response = client.get(f"{ROOT}/services/NO-SUCH.{fmt}")

    assert_error(response, 404, "service_code", "NO-SUCH")
    assert response["Content-Type"].startswith("application/json" if fmt == "json" else "text/xml")


@pytest.mark.parametrize(
    "path",
    [
        "services.html",
        "services.yaml",
        "services",
        "services/",
        "services/ENV-COMPOUND",
        "requests.csv",
        "nothing.json",
        "",
        "services.json/extra",
    ],
)
def test_any_other_address_or_format_is_a_404_in_the_spec_format(client, o311, path):
    response = client.get(f"{ROOT}/{path}")

    assert_error(response, 404)
    expected = "application/json" if path.endswith(".json") else "text/xml"
    assert response["Content-Type"].startswith(expected)


def test_a_jurisdiction_is_the_districts_code(client, o311):
    assert len(json_of(client.get(f"{ROOT}/services.json", {"jurisdiction_id": "YQ"}))) == 3
    assert len(json_of(client.get(f"{ROOT}/services.json", {"jurisdiction_id": ""}))) == 3
    assert_error(client.get(f"{ROOT}/services.xml", {"jurisdiction_id": "sfgov.org"}), 404, "jurisdiction_id")
    assert_error(client.get(f"{ROOT}/services/ENV-COMPOUND.json", {"jurisdiction_id": "X"}), 404, "jurisdiction_id")


def test_a_method_the_resource_does_not_have_is_refused_in_the_spec_format(client, o311):
    assert_error(client.post(f"{ROOT}/services.json"), 405)
    assert_error(client.delete(f"{ROOT}/requests.xml"), 405)


@pytest.mark.parametrize("accept", ["application/xml", "application/json", "application/pdf", "*/*", "text/html"])
def test_the_suffix_alone_picks_the_format(client, o311, accept):
    assert json_of(client.get(f"{ROOT}/services.json?format=xml", HTTP_ACCEPT=accept))
    assert xml_of(client.get(f"{ROOT}/services.xml", HTTP_ACCEPT=accept)).tag == "services"
    assert_error(client.get(f"{ROOT}/services/NO-SUCH.xml", HTTP_ACCEPT=accept), 404)
