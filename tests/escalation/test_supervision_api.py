"""The supervisor API: the overdue dashboard, supervision orders and the ledger, and every refusal in the error shape."""

from datetime import datetime

import pytest
import time_machine

from escalation.models import AccountabilityNote, AccountabilityRecord, SupervisionOrder
from escalation.services import deadlines_sweep
from tests.escalation.supervision import AT_1140, SHANGHAI, late_set, routed, task_of
from tests.factories import DistrictFactory, MembershipFactory, UserFactory
from tests.whistle.test_api import assert_error, session_client, token_client
from whistle.models import Event

DASHBOARD = "/api/v1/dashboard/overdue/"
ORDERS = "/api/v1/supervision-orders/"
LEDGER = "/api/v1/accountability/"
LATER = datetime(2026, 3, 20, 12, 0, tzinfo=SHANGHAI)


@pytest.fixture
def late(cast):
    return late_set(cast)


@pytest.fixture(autouse=True)
def at_1140():
    with time_machine.travel(AT_1140, tick=False):
        yield


@pytest.fixture
def swept(late):
    deadlines_sweep()
    return late


@pytest.fixture
def other_supervisor(db):
    return MembershipFactory(
        user=UserFactory(username="other_supervisor"),
        role="supervisor",
        street=None,
        district=DistrictFactory(code="HD", name="海淀区"),
    ).user


def post(client, path, data=None):
    return client.post(path, data if data is not None else {}, format="json")


def snapshot():
    return [list(m.objects.order_by("pk").values()) for m in (SupervisionOrder, AccountabilityNote, Event)]


# The overdue dashboard ---------------------------------------------------------------------


def test_the_dashboard_counts_and_lists_the_late_tasks(cast, late):
    response = token_client(cast.supervisor).get(DASHBOARD)

    assert response.status_code == 200
    body = response.json()
    assert body["totals"] == {"open": 7, "warning": 2, "overdue": 4, "overdue_share": pytest.approx(4 / 7, abs=1e-4)}
    departments = {
        row["code"]: (row["open"], row["warning"], row["overdue"], row["overdue_share"])
        for row in body["by_department"]
    }
    assert departments == {"D12": (2, 1, 1, 0.5), "E06": (2, 1, 1, 0.5), "T04": (1, 0, 1, 1.0), "D13": (2, 0, 1, 0.5)}
    assert [row["code"] for row in body["by_department"]] == ["D12", "E06", "T04", "D13"]
    streets = {row["code"]: (row["open"], row["warning"], row["overdue"]) for row in body["by_street"]}
    assert streets == {"S01": (6, 2, 3), "S02": (1, 0, 1)}
    tasks = body["tasks"]
    assert tasks["count"] == 6 and tasks["next"] is None
    assert [row["light"] for row in tasks["results"]] == ["red"] * 4 + ["yellow"] * 2
    dues = [row["stage_due_at"] for row in tasks["results"]]
    assert dues == sorted(dues) and dues[0] == "2026-03-02T10:30:00+08:00"
    assert body["orders"] == {"total": 0, "open": 0, "answered": 0, "overdue": 0, "closed": 0}
    assert body["accountability"] == {"total": 0, "overdue": 0, "unanswered_order": 0, "buck_passing": 0}


def test_the_dashboard_reports_the_orders_and_each_late_tasks_open_order(cast, swept):
    body = token_client(cast.supervisor).get(DASHBOARD, {"light": "red"}).json()

    assert body["orders"]["open"] == 4 and body["orders"]["total"] == 4
    orders = {row["id"]: row["open_order"] for row in body["tasks"]["results"]}
    assert len(orders) == 4 and all(orders.values())
    assert set(orders.values()) == set(SupervisionOrder.objects.values_list("pk", flat=True))


def test_the_dashboard_filters_and_pages(cast, late):
    client = token_client(cast.supervisor)

    s02 = client.get(DASHBOARD, {"street": "S02"}).json()
    assert [row["code"] for row in s02["by_department"]] == ["T04"] and s02["tasks"]["count"] == 1
    period = client.get(DASHBOARD, {"created_from": "2026-03-03"}).json()
    assert period["totals"]["open"] == 0 and period["tasks"]["results"] == []
    paged = client.get(DASHBOARD, {"page_size": 4, "page": 2}).json()
    assert paged["tasks"]["count"] == 6 and len(paged["tasks"]["results"]) == 2
    assert paged["tasks"]["previous"] is not None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"grade": "urgent"}, "grade"),
        ({"street": "S99"}, "street"),
        ({"department": "D99"}, "department"),
        ({"category": "NOPE"}, "category"),
        ({"light": "blue"}, "light"),
        ({"created_from": "yesterday"}, "created_from"),
        ({"created_from": "2026-03-05", "created_to": "2026-03-01"}, "created_to"),
    ],
)
def test_a_bad_dashboard_filter_is_a_400_naming_it(cast, late, query, field):
    assert_error(token_client(cast.supervisor).get(DASHBOARD, query), 400, "invalid", field)


@pytest.mark.parametrize("who", ["d13_staff", "s01_staff", "hotline", "outsider"])
def test_the_dashboard_is_for_supervisors_only(cast, who):
    assert_error(token_client(getattr(cast, who)).get(DASHBOARD), 403, "permission_denied")


def test_the_dashboard_needs_credentials(db):
    from rest_framework.test import APIClient

    assert APIClient().get(DASHBOARD).status_code == 401


@pytest.mark.parametrize("many", [False, True])
def test_the_dashboard_takes_a_fixed_number_of_queries(cast, django_assert_max_num_queries, settings, many):
    settings.DASHBOARD_TALLY_MAX_AGE_S = 600  # the sweep's tally serves the counts
    with time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI), tick=False):
        for _ in range(12 if many else 1):
            routed(cast.s01_staff, grade="priority")
    deadlines_sweep()
    client = token_client(cast.supervisor)
    client.get(DASHBOARD)

    # token with user, membership, the district's streets, the tally's age, its two count tables, page count,
    # page, order counts, record counts
    with django_assert_max_num_queries(10):
        response = client.get(DASHBOARD)

    assert response.json()["tasks"]["count"] == (12 if many else 1) * 3


# Supervision orders ------------------------------------------------------------------------


def test_the_orders_list_by_scope_and_status(cast, swept):
    supervisor = token_client(cast.supervisor)

    body = supervisor.get(ORDERS).json()
    assert body["count"] == 4
    row = body["results"][0]
    assert row["number"].startswith("DB-2026-") and row["status"] == "open" and row["automatic"] is True
    assert row["task"]["department"]["code"] in {"D13", "D12", "E06", "T04"}
    assert supervisor.get(ORDERS, {"status": "answered"}).json()["count"] == 0
    assert supervisor.get(ORDERS, {"status": "overdue"}).json()["count"] == 0
    with time_machine.travel(LATER, tick=False):
        overdue = supervisor.get(ORDERS, {"status": "overdue"}).json()
    assert overdue["count"] == 4 and all(row["overdue"] for row in overdue["results"])

    assert token_client(cast.d13_staff).get(ORDERS).json()["count"] == 1
    assert token_client(cast.s01_staff).get(ORDERS).json()["count"] == 3
    assert token_client(cast.s02_staff).get(ORDERS).json()["count"] == 1


def test_a_bad_status_is_a_400_naming_it_and_roles_without_orders_a_403(cast, swept):
    assert_error(token_client(cast.supervisor).get(ORDERS, {"status": "lost"}), 400, "invalid", "status")
    assert_error(token_client(cast.hotline).get(ORDERS), 403, "permission_denied")
    assert_error(token_client(cast.outsider).get(ORDERS), 403, "permission_denied")


@pytest.mark.parametrize("many", [False, True])
def test_the_orders_list_takes_a_fixed_number_of_queries(cast, django_assert_max_num_queries, many):
    with time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI), tick=False):
        for _ in range(10 if many else 1):
            routed(cast.s01_staff, grade="priority")
    deadlines_sweep()
    client = token_client(cast.supervisor)

    # token with user, membership, the district's streets, page count, page
    with django_assert_max_num_queries(5):
        response = client.get(ORDERS)

    assert response.json()["count"] == (10 if many else 1) * 3


def test_one_order_with_its_tasks_log(cast, swept):
    order = SupervisionOrder.objects.get(task=task_of(swept.priority, "D13"))

    body = token_client(cast.s01_staff).get(f"{ORDERS}{order.pk}/").json()

    assert body["id"] == order.pk and body["number"] == order.number and body["light"] == "red"
    assert [event["verb"] for event in body["events"]][-3:] == ["warning", "overdue", "supervision_ordered"]
    assert body["events"][-1]["actor"] == "sweeper"
    assert body["records"] == []


def test_the_department_replies_and_the_supervisor_closes(cast, swept):
    order = SupervisionOrder.objects.get(task=task_of(swept.priority, "D13"))
    url = f"{ORDERS}{order.pk}/"

    assert_error(post(token_client(cast.d13_staff), f"{url}reply/", {"reply": ""}), 400, "invalid", "reply", "Write")
    assert_error(post(token_client(cast.d13_staff), f"{url}reply/", {"reply": 5}), 400, "invalid", "reply")
    replied = post(token_client(cast.d13_staff), f"{url}reply/", {"reply": "已派人清理"})
    assert replied.status_code == 200, replied.json()
    assert replied.json()["status"] == "answered" and replied.json()["replied_by"] == "d13_staff"
    assert_error(post(token_client(cast.d13_staff), f"{url}reply/", {"reply": "再次"}), 409, "conflict")

    supervisor = session_client(cast.supervisor)
    assert_error(post(supervisor, f"{url}close/", {}), 400, "invalid", "note")
    closed = post(supervisor, f"{url}close/", {"note": "部门已到场"})
    assert closed.status_code == 200
    assert (closed.json()["status"], closed.json()["close_note"]) == ("closed", "部门已到场")
    assert_error(post(supervisor, f"{url}close/", {"note": "again"}), 409, "conflict")


def test_orders_are_404_outside_the_scope_and_403_beyond_the_role(cast, swept, other_supervisor):
    order = SupervisionOrder.objects.get(task=task_of(swept.priority, "D13"))
    url = f"{ORDERS}{order.pk}/"
    before = snapshot()

    for who in (cast.d12_staff, cast.s02_staff, other_supervisor, cast.hotline):
        client = token_client(who)
        assert_error(client.get(url), 404, "not_found")
        assert_error(post(client, f"{url}reply/", {"reply": "x"}), 404, "not_found")
        assert_error(post(client, f"{url}close/", {"note": "x"}), 404, "not_found")
    assert_error(post(token_client(cast.d13_staff), f"{url}close/", {"note": "x"}), 403, "permission_denied")
    assert_error(post(token_client(cast.s01_staff), f"{url}reply/", {"reply": "x"}), 403, "permission_denied")
    assert_error(post(token_client(cast.supervisor), f"{url}reply/", {"reply": "x"}), 403, "permission_denied")
    assert_error(token_client(cast.supervisor).get(f"{ORDERS}999999/"), 404, "not_found")
    assert snapshot() == before


def test_the_supervisor_opens_an_order_by_hand(cast, late):
    task = task_of(late.ordinary, "D12")
    client = token_client(cast.supervisor)

    response = post(client, ORDERS, {"task": task.pk, "reason": "请说明进度", "reply_by": "2026-03-03T17:00:00+08:00"})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["task"]["id"], body["automatic"], body["opened_by"]) == (task.pk, False, "supervisor")
    assert body["reply_by"] == "2026-03-03T17:00:00+08:00" and body["events"][-1]["verb"] == "supervision_ordered"
    default = post(client, ORDERS, {"task": task.pk, "reason": "再次督办"}).json()
    assert default["reply_by"] > "2026-03-02T11:40:00+08:00"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": "x"}, "task"),
        ({"task": "12", "reason": "x"}, "task"),
        ({"task": True, "reason": "x"}, "task"),
        ({"task": 999999, "reason": "x"}, "task"),
        ({"task": None, "reason": ""}, "task"),
        ("TASK", "reason"),
        ("REASONLESS", "reason"),
        ("PAST", "reply_by"),
        ("NAIVE", "reply_by"),
    ],
)
def test_opening_an_order_with_bad_input_is_a_400_naming_the_field(cast, late, body, field):
    task = task_of(late.ordinary, "D12")
    bodies = {
        "TASK": {"task": task.pk, "reason": 7},
        "REASONLESS": {"task": task.pk, "reason": "  "},
        "PAST": {"task": task.pk, "reason": "x", "reply_by": "2026-03-01T09:00:00+08:00"},
        "NAIVE": {"task": task.pk, "reason": "x", "reply_by": "tomorrow"},
    }

    response = post(token_client(cast.supervisor), ORDERS, bodies.get(body, body) if isinstance(body, str) else body)

    assert_error(response, 400, "invalid", field)
    assert not SupervisionOrder.objects.exists()


def test_only_a_supervisor_of_the_district_opens_an_order(cast, late, other_supervisor):
    task = task_of(late.ordinary, "D12")
    body = {"task": task.pk, "reason": "请说明"}

    assert_error(post(token_client(cast.d12_staff), ORDERS, body), 403, "permission_denied")
    assert_error(post(token_client(cast.s01_head), ORDERS, body), 403, "permission_denied")
    # Outside the district the task is not visible at all.
    assert_error(post(token_client(other_supervisor), ORDERS, body), 400, "invalid", "task", "not visible")
    assert not SupervisionOrder.objects.exists()


# The accountability ledger -------------------------------------------------------------------


@pytest.fixture
def recorded(late):
    """Every ladder run to its end: overdue records, and (a sweep later) the unanswered orders' records."""
    with time_machine.travel(datetime(2026, 3, 10, 12, 0, tzinfo=SHANGHAI), tick=False):
        deadlines_sweep()
    with time_machine.travel(LATER, tick=False):
        deadlines_sweep()
    return late


def test_the_ledger_by_scope_kind_and_department(cast, recorded):
    supervisor = token_client(cast.supervisor)

    body = supervisor.get(LEDGER).json()
    assert body["count"] == AccountabilityRecord.objects.count() > 0
    kinds = {row["kind"] for row in body["results"]}
    assert kinds == {"overdue", "unanswered_order"}
    unanswered = supervisor.get(LEDGER, {"kind": "unanswered_order"}).json()["results"]
    assert unanswered and all(row["order"]["number"].startswith("DB-") for row in unanswered)
    d13_count = AccountabilityRecord.objects.filter(department=cast.d13).count()
    assert supervisor.get(LEDGER, {"department": "D13"}).json()["count"] == d13_count
    assert token_client(cast.d13_staff).get(LEDGER).json()["count"] == d13_count
    assert_error(supervisor.get(LEDGER, {"kind": "lazy"}), 400, "invalid", "kind")
    assert_error(token_client(cast.s01_staff).get(LEDGER), 403, "permission_denied")
    assert_error(token_client(cast.outsider).get(LEDGER), 403, "permission_denied")


@pytest.mark.parametrize("many", [False, True])
def test_the_ledger_takes_a_fixed_number_of_queries(cast, django_assert_max_num_queries, many):
    with time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI), tick=False):
        for _ in range(6 if many else 1):
            routed(cast.s01_staff)
    with time_machine.travel(LATER, tick=False):
        deadlines_sweep()
    client = token_client(cast.supervisor)

    # token with user, membership, the district's streets, page count, page
    with django_assert_max_num_queries(5):
        response = client.get(LEDGER)

    assert response.json()["count"] == AccountabilityRecord.objects.count() > 0


def test_the_supervisor_annotates_a_record(cast, recorded):
    record = AccountabilityRecord.objects.get(task=task_of(recorded.priority, "D13"), kind="overdue")
    url = f"{LEDGER}{record.pk}/notes/"
    client = token_client(cast.supervisor)

    assert_error(post(client, url, {"text": ""}), 400, "invalid", "text", "Write the note.")
    response = post(client, url, {"text": "已约谈"})

    assert response.status_code == 201
    body = response.json()
    assert body["note_count"] == 1 and body["notes"][0]["text"] == "已约谈"
    assert body["notes"][0]["author"] == "supervisor"
    assert [event["verb"] for event in body["events"]] == ["accountability_recorded"]
    assert client.get(f"{LEDGER}{record.pk}/").json()["notes"] == body["notes"]


def test_records_are_404_outside_the_scope_and_403_beyond_the_role(cast, recorded, other_supervisor):
    record = AccountabilityRecord.objects.get(task=task_of(recorded.priority, "D13"), kind="overdue")
    before = snapshot()

    for who in (cast.d12_staff, cast.s01_staff, other_supervisor, cast.outsider):
        client = token_client(who)
        assert_error(client.get(f"{LEDGER}{record.pk}/"), 404, "not_found")
        assert_error(post(client, f"{LEDGER}{record.pk}/notes/", {"text": "x"}), 404, "not_found")
    d13 = token_client(cast.d13_staff)
    assert d13.get(f"{LEDGER}{record.pk}/").status_code == 200
    assert_error(post(d13, f"{LEDGER}{record.pk}/notes/", {"text": "申辩"}), 403, "permission_denied")
    assert snapshot() == before
