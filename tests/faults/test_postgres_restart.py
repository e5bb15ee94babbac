"""PostgreSQL restarted under a running web server: 503 while it is away, 200 again once it is back.

No restart of the web server: its processes keep their database connections
(CONN_MAX_AGE) and must find out by themselves that those died, and connect
again (config.middleware, CONN_HEALTH_CHECKS).
"""

import uuid

from tests.faults.checks import http
from tests.faults.servers import wait_for

# An outage is answered promptly, not after a hang.
ANSWER_WITHIN_S = 5.0
# Enough requests that both gunicorn workers (the Procfile's --workers 2) answer each kind.
ROUNDS = 6


def test_the_web_answers_503_while_postgres_is_down_and_recovers_by_itself_when_it_is_back(platform):
    session = platform.scenario("session", "--user", "s01_staff")["sessionid"]
    web = platform.web()

    def page():
        return http(platform, "GET", "/whistles/", session=session)

    def api():
        return http(platform, "GET", "/api/v1/whistles/", token=platform.token)

    def submit():
        # A POST with an Idempotency-Key reads the database in a middleware, before any view.
        return http(
            platform,
            "POST",
            "/api/v1/whistles/",
            token=platform.token,
            headers={"Idempotency-Key": str(uuid.uuid4())},
            body={
                "title": "停电",
                "description": "小区停电。",
                "category": "ENV-COMPOUND",
                "lon": 115.975,
                "lat": 40.465,
            },
        )

    # Every gunicorn worker holds a connection before the outage.
    assert [page().status for _ in range(ROUNDS)] == [200] * ROUNDS
    assert [api().status for _ in range(ROUNDS)] == [200] * ROUNDS

    platform.postgres.stop(mode="fast")
    down = [call() for _ in range(ROUNDS) for call in (page, api, submit)]
    platform.postgres.start()

    assert [a.status for a in down] == [503] * len(down), [(a.status, a.body[:200]) for a in down if a.status != 503]
    assert max(a.seconds for a in down) < ANSWER_WITHIN_S
    assert all(a.headers.get("Retry-After") for a in down)
    for answer in down[0::3]:  # the page
        assert answer.headers["Content-Type"].startswith("text/html")
        assert b"Service unavailable" in answer.body
    for answer in down[1::3] + down[2::3]:  # the API
        assert answer.json()["code"] == "unavailable" and answer.json()["fields"] == {}
        assert answer.json()["message"]

    # Back without a restart of the web server: the first requests after the outage already succeed.
    after = [call().status for _ in range(ROUNDS) for call in (page, api)]
    assert after == [200] * len(after)
    created = submit()
    assert created.status == 201, created.body[:300]
    assert web.process.poll() is None
    # The requests during the outage stored nothing half-way: only the whistle submitted afterwards exists.
    listed = wait_for(lambda: api().json(), timeout=5, what="the list")
    assert [w["number"] for w in listed["results"]] == [created.json()["number"]]
