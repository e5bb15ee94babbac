"""End to end: a request posted through Open311 is routed by the real pipeline (a live Celery worker),
and read back with the georeport client from PyPI against a live server, in JSON and in XML.

Like tests/whistle/test_pipeline.py these commit for real (the worker is another process on the test
database) and poll, with a bound, for what the worker did.
"""

import pytest
import requests
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from georeport import GeoReport

from tests.live_worker import wait_until, worker_log
from tests.open311.conftest import ROOT
from whistle.models import Task, Whistle

pytestmark = [pytest.mark.live_worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

FORM = {
    "service_code": "ENV-COMPOUND",
    "lat": "40.465",
    "long": "115.975",
    "address_string": "百泉街道3号楼",
    "description": "3号楼楼道堆满杂物，堵塞消防通道。",
    "first_name": "秀英",
    "last_name": "王",
    "phone": "13800001111",
    "attribute[kind]": "junk",
    "attribute[floors]": ["2", "3"],
}


def routed(number: str, queue: str) -> Whistle:
    def probe():
        return Whistle.objects.filter(number=number, status=Whistle.Status.ROUTED).first()

    try:
        return wait_until(probe, what=f"routing of {number}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}. Worker log:\n{worker_log(queue)}") from None


def test_a_posted_request_is_routed_and_shows_its_agency_and_expected_time(client, o311, live_worker):
    response = client.post(f"{ROOT}/requests.json", {**FORM, "api_key": o311.keys["hotline"]})
    assert response.status_code == 201, response.content.decode()
    number = response.json()[0]["service_request_id"]

    whistle = routed(number, live_worker)

    lead = Task.objects.select_related("department").get(whistle=whistle, role="lead")
    assert lead.department.code == "D13"
    (request,) = client.get(f"{ROOT}/requests/{number}.json").json()
    assert request["agency_responsible"] == "区城市管理委员会"
    assert parse_datetime(request["expected_datetime"]) == lead.resolve_due_at
    assert request["expected_datetime"] == timezone.localtime(lead.resolve_due_at).isoformat(timespec="seconds")
    assert (request["status"], request["status_notes"]) == ("open", "routed to departments")


def test_a_round_trip_with_the_georeport_client(o311, live_worker, live_server):
    root = live_server.url + ROOT
    posted = requests.post(f"{root}/requests.xml", data={**FORM, "api_key": o311.keys["hotline"]}, timeout=30)
    assert posted.status_code == 201, posted.text
    assert posted.headers["Content-Type"] == "text/xml; charset=utf-8"
    number = requests.post(f"{root}/requests.json", data={**FORM, "api_key": o311.keys["hotline"]}, timeout=30)
    number = number.json()[0]["service_request_id"]
    whistle = routed(number, live_worker)
    lead = Task.objects.select_related("department").get(whistle=whistle, role="lead")

    as_json = GeoReport(root_address=root, jurisdiction="YQ")
    as_xml = GeoReport(root_address=root, jurisdiction="YQ", output_format="xml")

    services = as_json.get_service_list()
    assert {s["service_code"] for s in services} == {"ENV-COMPOUND", "MISC-OTHER", "ORDER-PUBLIC"}
    xml_services = as_xml.get_service_list()
    assert [s["service_code"] for s in xml_services] == [s["service_code"] for s in services]
    assert [s["metadata"] for s in xml_services] == [str(s["metadata"]).lower() for s in services]

    definition = as_json.get_service_definition("ENV-COMPOUND")
    xml_definition = as_xml.get_service_definition("ENV-COMPOUND")
    assert [a["code"] for a in definition["attributes"]] == ["notice", "kind", "floors", "count", "seen_at"]
    assert [a["code"] for a in xml_definition["attributes"]["attribute"]] == [
        a["code"] for a in definition["attributes"]
    ]
    kind = xml_definition["attributes"]["attribute"][1]
    assert kind["values"]["value"] == [{"key": "junk", "name": "杂物"}, {"key": "bikes", "name": "电动车"}]

    request = as_json.get_service_request(number)
    xml_request = as_xml.get_service_request(number)
    assert request["service_request_id"] == xml_request["service_request_id"] == number
    assert request["agency_responsible"] == xml_request["agency_responsible"] == lead.department.name
    assert parse_datetime(request["expected_datetime"]) == lead.resolve_due_at
    assert xml_request["expected_datetime"] == request["expected_datetime"]
    assert xml_request["lat"] == "40.465" and request["long"] == 115.975
    assert "王" not in str(request) and "13800001111" not in str(xml_request)

    listed = as_json.get_service_requests(service_request_id=number)
    assert [r["service_request_id"] for r in listed] == [number]
    recent = as_xml.get_service_requests(status="open", service_code="ENV-COMPOUND")
    assert len(recent) == 2 and {r["service_request_id"] for r in recent} >= {number}
