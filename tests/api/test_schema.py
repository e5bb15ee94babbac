"""The OpenAPI schema is complete: generated without a warning, every body typed, every shared error documented."""

import yaml
from django.core.management import call_command

METHODS = ("get", "post", "put", "patch", "delete")


def operations(schema):
    for path, items in schema["paths"].items():
        for method in METHODS:
            if method in items:
                yield f"{method.upper()} {path}", method, items[method]


def test_the_schema_is_generated_without_a_warning_and_validates(tmp_path):
    # --fail-on-warn: an endpoint whose body drf-spectacular cannot type, or an enum clash, fails here.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))

    assert yaml.safe_load((tmp_path / "schema.yaml").read_text())["openapi"].startswith("3.")


def test_every_operation_documents_its_bodies_and_the_shared_errors(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    problems = []
    for name, method, operation in operations(schema):
        responses = operation["responses"]
        for status, response in responses.items():
            content = response.get("content")
            if not content:
                problems.append(f"{name} {status}: no body type")
                continue
            for media_type, body in content.items():
                if not body.get("schema"):
                    problems.append(f"{name} {status} {media_type}: untyped")
            if not status.startswith("2") and "application/json" in content:
                if content["application/json"]["schema"] != {"$ref": "#/components/schemas/Error"}:
                    problems.append(f"{name} {status}: not the error shape")
        if "429" not in responses:
            problems.append(f"{name}: no 429")
        if operation.get("security") and {} not in operation["security"] and "401" not in responses:
            problems.append(f"{name}: no 401")
        if method == "post":
            headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            if "Idempotency-Key" not in headers or "409" not in responses:
                problems.append(f"{name}: no Idempotency-Key and its 409")

    assert problems == []
