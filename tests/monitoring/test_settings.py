"""The monitoring settings come from the environment and refuse junk."""

import pytest

from tests.monitoring.conftest import run_python

SETTINGS = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps([s.MONITOR_HEARTBEAT_EVERY_S, s.HEALTHZ_BEAT_STALE_S, s.HEALTHZ_WORKER_STALE_S, "
    "s.HEALTHZ_TIMEOUT_S, s.METRICS_PUBLIC, s.METRICS_TOKEN, s.LOG_FORMAT, "
    "s.CELERY_BEAT_SCHEDULE['monitor-heartbeat']['schedule']]))"
)


def test_the_defaults_are_safe():
    result = run_python(SETTINGS, METRICS_TOKEN="", METRICS_PUBLIC="", LOG_FORMAT="", MONITOR_HEARTBEAT_EVERY_S="")

    assert result.stdout.strip().splitlines()[-1] == '[30, 120, 120, 2.0, false, "", "plain", 30.0]', result.stderr


def test_a_slower_heartbeat_moves_the_default_staleness_with_it():
    result = run_python(SETTINGS, MONITOR_HEARTBEAT_EVERY_S="60", METRICS_TOKEN="x" * 32, LOG_FORMAT="json")

    assert result.stdout.strip().splitlines()[-1] == f'[60, 240, 240, 2.0, false, "{"x" * 32}", "json", 60.0]'


@pytest.mark.parametrize(
    "env, message",
    [
        ({"METRICS_TOKEN": "short"}, "METRICS_TOKEN must be at least 24 characters"),
        ({"METRICS_PUBLIC": "maybe"}, "METRICS_PUBLIC='maybe' is not a boolean"),
        ({"MONITOR_HEARTBEAT_EVERY_S": "60", "HEALTHZ_BEAT_STALE_S": "30"}, "HEALTHZ_BEAT_STALE_S=30 is below"),
        ({"HEALTHZ_TIMEOUT_S": "0"}, "HEALTHZ_TIMEOUT_S=0.0 is below the minimum of 0.1"),
    ],
)
def test_junk_stops_the_process_with_the_variable_named(env, message):
    result = run_python("import django; django.setup()", **env)

    assert result.returncode != 0 and message in result.stderr
