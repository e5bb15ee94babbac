"""The API against its own OpenAPI schema: generated requests for every operation (schemathesis).

Every answer must be no 5xx, with a status, content type, headers and body
the schema documents. A bounded number of examples per operation keeps the
run short (API_FUZZ_EXAMPLES, 12 by default); the signed-in user is a street
official with whistles and tasks around, so the lookups find real objects too.
"""

import json
import os

import pytest
import schemathesis
import time_machine
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token

from tests.whistle.test_api import routed

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "12"))
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
]


def _load_schema():
    """The schema /api/schema/ serves, generated at collection (it needs no database)."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    from config.wsgi import application

    document = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    loaded = schemathesis.openapi.from_dict(document)
    loaded.app = application
    loaded.config.generation.update(modes=["positive"], max_examples=EXAMPLES, deterministic=True, database="none")
    loaded.config.checks.update(included_check_names=CHECKS)
    return loaded


schema = _load_schema()


@pytest.fixture
def wsgi_requests_keep_the_connection(db):
    """As Django's test client does: the test's transaction must outlive each request."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(cast):
    with time_machine.travel("2026-03-02 10:00 +08:00", tick=False):
        routed(cast.s01_staff)
        routed(cast.s01_staff, category="MISC-OTHER")
    return Token.objects.create(user=cast.s01_staff).key


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_answers_as_its_schema_says(case, token, settings, wsgi_requests_keep_the_connection):
    settings.API_RATE_USER = settings.API_RATE_TOKEN = (0, 60)
    case.call_and_validate(headers={"Authorization": f"Token {token}"})
