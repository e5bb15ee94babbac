"""What the fault tests look at: the private database through SQL, the web server through HTTP.

The test process's own Django database is the suite's test database, not the
private one the processes write to, so these read the private database with
plain SQL (table names from the models) and talk to the web server over HTTP.
"""

import json
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass

from escalation.models import AccountabilityRecord, SupervisionOrder
from tests.faults.servers import Platform
from whistle.models import Event, Notification, Task, Whistle

WHISTLE = Whistle._meta.db_table
TASK = Task._meta.db_table
EVENT = Event._meta.db_table
NOTIFICATION = Notification._meta.db_table
ORDER = SupervisionOrder._meta.db_table
RECORD = AccountabilityRecord._meta.db_table


def query(platform: Platform, sql: str, params=()) -> list[tuple]:
    with platform.postgres.connect(platform.database, autocommit=True) as connection:
        return connection.execute(sql, params).fetchall()


def statuses(platform: Platform) -> dict[str, int]:
    return dict(query(platform, f"SELECT status, count(*) FROM {WHISTLE} GROUP BY status"))


def all_routed(platform: Platform, count: int) -> bool:
    return statuses(platform) == {Whistle.Status.ROUTED: count}


def routing_per_whistle(platform: Platform) -> dict[str, dict]:
    """Per whistle number: its tasks' departments (a list: a duplicate would show) and its `routed` events."""
    facts = defaultdict(lambda: {"departments": [], "routed_events": 0})
    for number, department in query(
        platform,
        f"SELECT w.number, t.department_id FROM {TASK} t JOIN {WHISTLE} w ON w.id = t.whistle_id",
    ):
        facts[number]["departments"].append(department)
    for number, routed in query(
        platform,
        f"SELECT w.number, count(*) FROM {EVENT} e JOIN {WHISTLE} w ON w.id = e.whistle_id "
        "WHERE e.verb = 'routed' GROUP BY w.number",
    ):
        facts[number]["routed_events"] = routed
    return facts


def assert_routed_once(platform: Platform, numbers: list[str], departments_each: int = 3) -> None:
    """Every whistle routed: one task per department it needs, none twice, and exactly one `routed` event."""
    facts = routing_per_whistle(platform)
    problems = {
        number: facts.get(number)
        for number in numbers
        if facts.get(number) is None
        or len(facts[number]["departments"]) != departments_each
        or len(set(facts[number]["departments"])) != departments_each
        or facts[number]["routed_events"] != 1
    }
    assert not problems, f"whistles not routed exactly once: {problems}"
    assert sum(len(f["departments"]) for f in facts.values()) == departments_each * len(numbers)


def backends_waiting_for_a_lock(platform: Platform) -> list[tuple]:
    """The private database's sessions blocked on a lock: (pid, query)."""
    return query(
        platform,
        "SELECT pid, query FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
        [platform.database],
    )


def other_backends(platform: Platform) -> int:
    """Sessions on the private database besides the one asking."""
    return query(
        platform,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        [platform.database],
    )[0][0]


def unacknowledged(platform: Platform) -> int:
    """Messages a worker took and has not acknowledged (kombu's Redis transport keeps them in `unacked`)."""
    return platform.redis.client().hlen("unacked")


def sweeper_steps(platform: Platform) -> Counter:
    """How often each (task, event verb, ladder step) was written by the sweeper."""
    return Counter(
        {
            (task, verb, step): count
            for task, verb, step, count in query(
                platform,
                f"SELECT task_id, verb, new->>'step', count(*) FROM {EVENT} "
                "WHERE system_actor = 'sweeper' GROUP BY task_id, verb, new->>'step'",
            )
        }
    )


@dataclass
class Answer:
    status: int
    headers: dict
    body: bytes
    seconds: float

    def json(self):
        return json.loads(self.body)


def http(
    platform: Platform,
    method: str,
    path: str,
    *,
    body: dict | None = None,
    token: str = "",
    session: str = "",
    headers: dict | None = None,
    timeout: float = 20,
) -> Answer:
    """One request to the platform's web server; the answer whatever its status, with how long it took."""
    sent = {"Accept-Language": "en", **(headers or {})}
    if token:
        sent["Authorization"] = f"Token {token}"
    if session:
        sent["Cookie"] = f"sessionid={session}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    request = urllib.request.Request(
        f"http://127.0.0.1:{platform.web_port}{path}", data=data, method=method, headers=sent
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Answer(response.status, dict(response.headers), response.read(), time.monotonic() - started)
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers), error.read(), time.monotonic() - started)
