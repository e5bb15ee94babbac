"""Structured logs: one JSON object per line with LOG_FORMAT=json; routing and sweeps log their figures."""

import json
import logging
import sys
from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone

from config.celery import app as celery_app
from escalation.services import deadlines_sweep
from monitoring.logs import JsonFormatter
from tests.factories import submit_whistle
from tests.monitoring.conftest import run_python
from whistle.services import whistle_route


def record(message="whistle %s routed", args=("W1",), level=logging.INFO, exc_info=None, **extra):
    entry = logging.LogRecord("whistle.routing", level, __file__, 1, message, args, exc_info)
    entry.__dict__.update(extra)
    return entry


def test_a_line_is_one_json_object_with_time_level_logger_message_and_the_extra_fields():
    line = JsonFormatter().format(record(whistle="W2026-000001", task_id=17, request_id="req-9", latency_s=1.25))

    entry = json.loads(line)
    assert "\n" not in line
    assert entry == {
        "time": entry["time"],
        "level": "INFO",
        "logger": "whistle.routing",
        "message": "whistle W1 routed",
        "whistle": "W2026-000001",
        "task_id": 17,
        "request_id": "req-9",
        "latency_s": 1.25,
    }
    assert entry["time"].endswith("+00:00") and "T" in entry["time"]


def test_chinese_text_exceptions_and_values_json_does_not_know_stay_one_parsable_line():
    try:
        raise ValueError("第一行\n第二行")
    except ValueError:
        exc_info = sys.exc_info()
    line = JsonFormatter().format(
        record("派出所 %s 超期", ("T01",), logging.ERROR, exc_info, when=timezone.now(), ids={1, 2}, time="not mine")
    )

    entry = json.loads(line)
    assert line.count("\n") == 0
    assert entry["message"] == "派出所 T01 超期" and entry["level"] == "ERROR"
    assert "ValueError: 第一行\n第二行" in entry["exception"]
    assert entry["ids"] in ("{1, 2}", "{2, 1}") and entry["when"].startswith(str(timezone.now().year))
    assert entry["time"] != "not mine"  # an extra field never replaces one of the four


def test_a_django_request_in_the_record_is_its_method_and_path():
    request = RequestFactory().get("/whistles/?page=2")

    entry = json.loads(
        JsonFormatter().format(record("Not Found: %s", ("/whistles/",), status_code=404, request=request))
    )

    assert entry["request"] == {"method": "GET", "path": "/whistles/?page=2"} and entry["status_code"] == 404


def test_a_line_logged_inside_a_celery_task_names_the_task():
    lines = []

    @celery_app.task(name="tests.monitoring.log_something")
    def log_something():
        lines.append(JsonFormatter().format(record()))

    result = log_something.apply()

    entry = json.loads(lines[0])
    assert (entry["celery_task"], entry["celery_task_id"]) == ("tests.monitoring.log_something", result.id)


PROBE = (
    "import django, logging; django.setup(); "
    "logging.getLogger('probe').warning('hello %s', 'world', extra={'whistle': 'W1', 'request_id': 'r-1'})"
)


def test_log_format_json_makes_the_console_write_json_lines():
    result = run_python(PROBE, LOG_FORMAT="json")

    lines = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    probe = [line for line in lines if line["logger"] == "probe"]
    assert probe == [
        {
            "time": probe[0]["time"],
            "level": "WARNING",
            "logger": "probe",
            "message": "hello world",
            "whistle": "W1",
            "request_id": "r-1",
        }
    ], result.stderr


def test_plain_logs_stay_the_default_and_a_wrong_format_stops_the_process():
    plain = run_python(PROBE, LOG_FORMAT="")
    wrong = run_python(PROBE, LOG_FORMAT="xml")

    assert "WARNING probe hello world" in plain.stderr and "{" not in plain.stderr.splitlines()[-1]
    assert wrong.returncode != 0 and "LOG_FORMAT='xml' must be one of plain, json" in wrong.stderr


@pytest.mark.django_db
def test_routing_logs_each_whistle_with_its_number_outcome_and_latency(
    cast, caplog, django_capture_on_commit_callbacks
):
    submitted = timezone.now() - timedelta(seconds=10)
    routed = submit_whistle(cast.s01_staff, now=submitted).whistle
    unruled = submit_whistle(cast.s01_staff, category="MISC-OTHER", now=submitted).whistle

    with caplog.at_level(logging.INFO, logger="monitoring.routing"), django_capture_on_commit_callbacks(execute=True):
        whistle_route(whistle_id=routed.pk, now=submitted + timedelta(seconds=2.5))
        whistle_route(whistle_id=unruled.pk, now=submitted + timedelta(seconds=3))

    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "monitoring.routing"]
    assert [(line["whistle"], line["outcome"], line.get("latency_s")) for line in lines] == [
        (routed.number, "routed", 2.5),
        (unruled.number, "no_rule", None),
    ]


@pytest.mark.django_db
def test_a_sweep_logs_how_long_it_took_and_what_it_fired(caplog, django_capture_on_commit_callbacks):
    with caplog.at_level(logging.INFO, logger="monitoring.sweep"), django_capture_on_commit_callbacks(execute=True):
        deadlines_sweep()

    (line,) = [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "monitoring.sweep"]
    assert line["message"].startswith("sweep finished in ")
    assert (line["fired"], line["steps"], line["failed_rows"]) == (0, {}, 0) and line["duration_s"] >= 0
