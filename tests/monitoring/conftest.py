import os
import subprocess
import sys

import pytest
from django.conf import settings
from prometheus_client.parser import text_string_to_metric_families

METRICS_TOKEN = "metrics-token-for-the-tests-0123456789"


@pytest.fixture(autouse=True)
def monitoring_settings(settings):
    settings.METRICS_TOKEN = METRICS_TOKEN
    settings.METRICS_PUBLIC = False
    settings.HEALTHZ_BEAT_STALE_S = 120
    settings.HEALTHZ_WORKER_STALE_S = 120
    return settings


@pytest.fixture(autouse=True)
def fresh_worker_throttle():
    """Every test starts as a worker process that has not stored its heartbeat yet."""
    from monitoring import signals

    signals._last_worker_beat["at"] = float("-inf")


def parse(text: str) -> dict:
    """{(sample name, ((label, value), …)): value} of a Prometheus text exposition."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(client) -> dict:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
    assert response.status_code == 200, response.content
    return parse(response.content.decode())


def value(samples: dict, name: str, **labels) -> float:
    """A sample's value; 0 when absent (a counter not moved yet)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    """Run `code` in a fresh Python process with these environment variables added."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(settings.VAR_DIR), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
