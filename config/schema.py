"""What every operation of the OpenAPI schema shares, added once (SPECTACULAR_SETTINGS' POSTPROCESSING_HOOKS).

Each endpoint documents its own answers and errors; the ones every endpoint
can give come from here, so none can be forgotten: 429 beyond the rate limit
(with Retry-After), 401 without credentials where credentials are needed,
404 for a page past the last on every paginated list,
and on every POST the Idempotency-Key header and its 409s.
"""

ERROR = {"$ref": "#/components/schemas/Error"}
METHODS = ("get", "post", "put", "patch", "delete")


def _error(description: str, headers: dict | None = None) -> dict:
    response = {"description": description, "content": {"application/json": {"schema": ERROR}}}
    if headers:
        response["headers"] = headers
    return response


THROTTLED = _error(
    "Too many requests for this token, user or address; try again after Retry-After seconds.",
    {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds until the limit allows a request."}},
)
UNAUTHENTICATED = _error("No credentials, or credentials that are not valid (a session or `Authorization: Token …`).")
CONFLICT = _error(
    "Not allowed in the current state; or the Idempotency-Key was used for another request "
    "(idempotency_key_reused), or its first request is still running (idempotency_in_progress)."
)
NO_SUCH_PAGE = _error("No such page: `page` is past the last one, or not a page number.")
IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"},
    "description": "Any unique string (a UUID): a repeat with the same key and body answers the first answer "
    "and changes nothing (header Idempotent-Replayed: true). Kept 24 hours.",
}


def add_shared_answers(result, generator, request, public):
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method in METHODS:
            operation = operations.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            responses.setdefault("429", THROTTLED)
            if {} not in operation.get("security", [{}]):
                responses.setdefault("401", UNAUTHENTICATED)
            if any(parameter.get("name") == "page" for parameter in operation.get("parameters", [])):
                responses.setdefault("404", NO_SUCH_PAGE)
            if method == "post":
                responses.setdefault("409", CONFLICT)
                parameters = operation.setdefault("parameters", [])
                if not any(p.get("name") == "Idempotency-Key" for p in parameters):
                    parameters.append(IDEMPOTENCY_KEY)
    return result
