from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from config.errors import Conflict, InvalidInput, NotAllowed
from tests.factories import submit_whistle
from whistle.models import Event, Notification, Task, Whistle
from whistle.services import whistle_dispatch, whistle_route, whistles_route_waiting

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)


@time_machine.travel(MONDAY_10, tick=False)
def test_routing_summons_the_lead_and_the_co_operating_departments_with_deadlines_and_reasons(cast):
    whistle = submit_whistle(cast.s01_staff).whistle

    whistle_route(whistle_id=whistle.pk)

    whistle.refresh_from_db()
    assert whistle.status == Whistle.Status.ROUTED
    tasks = {t.department.code: t for t in whistle.tasks.select_related("department")}
    assert {code: t.role for code, t in tasks.items()} == {"D13": "lead", "D12": "co_operating", "E06": "co_operating"}
    lead = tasks["D13"]
    # Ordinary: acknowledge in 2 working hours, check in within 1 working day, resolve in 7 working days.
    assert lead.acknowledge_due_at == datetime(2026, 3, 2, 12, 0, tzinfo=SHANGHAI)
    assert lead.checkin_due_at == datetime(2026, 3, 3, 10, 0, tzinfo=SHANGHAI)
    assert lead.resolve_due_at == datetime(2026, 3, 11, 10, 0, tzinfo=SHANGHAI)
    assert whistle.routing[0] == {
        "department": "D13",
        "department_name": "区城市管理委员会",
        "role": "lead",
        "rule": whistle.routing[0]["rule"],
        "scope": "district",
    }
    assert {n.department.code for n in Notification.objects.filter(whistle=whistle)} == {"D13", "D12", "E06"}
    assert Event.objects.filter(whistle=whistle, verb="routed", system_actor="router").count() == 1


def test_a_street_scoped_rule_picks_the_streets_own_station(cast):
    s01 = submit_whistle(cast.s01_staff, category="ORDER-PUBLIC").whistle
    s02 = submit_whistle(cast.s02_staff, category="ORDER-PUBLIC", lon=115.955, lat=40.445).whistle

    whistle_route(whistle_id=s01.pk)
    whistle_route(whistle_id=s02.pk)

    assert [t.department.code for t in s01.tasks.all()] == ["T01"]
    assert [t.department.code for t in s02.tasks.all()] == ["T04"]
    s01.refresh_from_db()
    assert s01.routing[0]["scope"] == "street"


def test_a_street_lead_takes_precedence_over_a_district_wide_one_and_says_so(cast):
    from departments.services import responsibility_create

    responsibility_create(category=cast.order, department=cast.d13, role="lead")
    whistle = submit_whistle(cast.s01_staff, category="ORDER-PUBLIC").whistle

    whistle_route(whistle_id=whistle.pk)

    whistle.refresh_from_db()
    assert whistle.routing[0]["department"] == "T01" and whistle.routing[0]["overrides"] == "D13"
    assert whistle.tasks.count() == 1


def test_routing_twice_changes_nothing(cast):
    whistle = submit_whistle(cast.s01_staff).whistle
    whistle_route(whistle_id=whistle.pk)
    before = list(Task.objects.values_list("pk", "department_id", "acknowledge_due_at"))

    whistle_route(whistle_id=whistle.pk)

    assert list(Task.objects.values_list("pk", "department_id", "acknowledge_due_at")) == before
    assert Event.objects.filter(verb="routed").count() == 1


def test_a_whistle_without_a_matching_rule_waits_for_the_dispatcher(cast):
    whistle = submit_whistle(cast.s01_staff, category="MISC-OTHER").whistle

    whistle_route(whistle_id=whistle.pk)

    whistle.refresh_from_db()
    assert whistle.status == Whistle.Status.AWAITING_DISPATCH
    assert whistle.tasks.count() == 0
    assert Notification.objects.get(whistle=whistle).street == cast.s01


@time_machine.travel(MONDAY_10, tick=False)
def test_the_dispatcher_routes_by_hand_with_exactly_one_lead(cast):
    whistle = submit_whistle(cast.s01_staff, category="MISC-OTHER").whistle
    whistle_route(whistle_id=whistle.pk)

    whistle_dispatch(
        whistle=whistle,
        actor=cast.s01_dispatcher,
        note="辖区内事项",
        departments=[{"code": "D12", "role": "co_operating"}, {"code": "D13", "role": "lead"}],
    )

    whistle.refresh_from_db()
    assert whistle.status == Whistle.Status.ROUTED
    assert {t.department.code: t.role for t in whistle.tasks.all()} == {"D13": "lead", "D12": "co_operating"}
    assert [entry["scope"] for entry in whistle.routing] == ["none", "manual", "manual"]
    assert whistle.routing[1]["by"] == "s01_dispatcher"


@pytest.mark.parametrize(
    "departments, message",
    [
        ([], "Choose at least one department."),
        ([{"code": "D13", "role": "co_operating"}], "Choose exactly one lead department."),
        ([{"code": "D13", "role": "lead"}, {"code": "D12", "role": "lead"}], "Choose exactly one lead department."),
        ([{"code": "X99", "role": "lead"}], "Unknown department X99."),
        ([{"code": "D13", "role": "boss"}], "Role must be lead or co_operating"),
        ([{"code": "D13", "role": "lead"}, {"code": "D13", "role": "co_operating"}], "only once"),
    ],
)
def test_manual_dispatch_refuses_bad_choices(cast, departments, message):
    whistle = submit_whistle(cast.s01_staff, category="MISC-OTHER").whistle
    whistle_route(whistle_id=whistle.pk)

    with pytest.raises(InvalidInput) as caught:
        whistle_dispatch(whistle=whistle, actor=cast.s01_dispatcher, departments=departments)

    assert any(message in m for m in caught.value.fields["departments"])
    assert Task.objects.count() == 0


def test_only_the_streets_own_dispatcher_dispatches_and_only_a_waiting_whistle(cast):
    waiting = submit_whistle(cast.s01_staff, category="MISC-OTHER").whistle
    whistle_route(whistle_id=waiting.pk)
    routed = submit_whistle(cast.s01_staff).whistle
    whistle_route(whistle_id=routed.pk)
    choice = [{"code": "D13", "role": "lead"}]

    for user in (cast.s01_staff, cast.s02_dispatcher, cast.d13_staff):
        with pytest.raises(NotAllowed):
            whistle_dispatch(whistle=waiting, actor=user, departments=choice)
    with pytest.raises(Conflict):
        whistle_dispatch(whistle=routed, actor=cast.s01_dispatcher, departments=choice)


@time_machine.travel(MONDAY_10, tick=False)
def test_a_quick_whistle_sets_the_check_in_deadline_to_the_appointed_time(cast):
    appointed = datetime(2026, 3, 2, 11, 0, tzinfo=SHANGHAI)
    whistle = submit_whistle(cast.s01_staff, mode="quick", appointed_checkin_at=appointed).whistle

    whistle_route(whistle_id=whistle.pk)

    assert {t.checkin_due_at for t in whistle.tasks.all()} == {appointed}


def test_routing_a_missing_or_draft_whistle_does_nothing(cast):
    draft = submit_whistle(cast.s01_staff, source="party_office").whistle

    assert whistle_route(whistle_id=10**9) is None
    assert whistle_route(whistle_id=draft.pk).status == Whistle.Status.DRAFT
    assert Task.objects.count() == 0


def test_a_routing_run_routes_every_waiting_whistle_batch_by_batch_and_silences_the_doorbell(cast):
    from whistle.models import Doorbell
    from whistle.services.doorbell import doorbell_ring

    whistles = [submit_whistle(cast.s01_staff).whistle for _ in range(5)]
    draft = submit_whistle(cast.s01_staff, source="party_office").whistle
    assert doorbell_ring(Doorbell.ROUTING) is True

    assert whistles_route_waiting(batch=2) == 5

    for whistle in whistles:
        assert sorted(whistle.tasks.values_list("department__code", flat=True)) == ["D12", "D13", "E06"]
        assert list(Event.objects.filter(whistle=whistle).values_list("verb", flat=True)) == ["submitted", "routed"]
        assert Notification.objects.filter(whistle=whistle, verb="summoned").count() == 3
    draft.refresh_from_db()
    assert draft.status == Whistle.Status.DRAFT
    assert Doorbell.objects.get(name=Doorbell.ROUTING).rung_at is None
    assert whistles_route_waiting() == 0


def test_a_batch_sends_whistles_without_a_rule_to_the_dispatcher_and_routes_the_rest(cast):
    unmatched = submit_whistle(cast.s01_staff, category="MISC-OTHER").whistle
    matched = submit_whistle(cast.s01_staff).whistle

    assert whistles_route_waiting() == 2

    unmatched.refresh_from_db()
    matched.refresh_from_db()
    assert (unmatched.status, matched.status) == (Whistle.Status.AWAITING_DISPATCH, Whistle.Status.ROUTED)
    event = Event.objects.get(whistle=unmatched, verb="awaiting_dispatch")
    assert event.reason == "No responsibility rule matches this category in this street."
    assert Notification.objects.get(whistle=unmatched).street == cast.s01


def test_a_whistle_the_router_chokes_on_goes_to_the_dispatcher_and_the_batch_goes_on(cast, monkeypatch, caplog):
    from departments.catalogue import Catalogue

    bad = submit_whistle(cast.s01_staff, category="ORDER-PUBLIC").whistle
    good = submit_whistle(cast.s01_staff).whistle
    match = Catalogue.match

    def choking(self, *, category_id, street_id):
        if category_id == cast.order.pk:
            raise ValueError("corrupt rule")
        return match(self, category_id=category_id, street_id=street_id)

    monkeypatch.setattr(Catalogue, "match", choking)

    assert whistles_route_waiting() == 2

    bad.refresh_from_db()
    good.refresh_from_db()
    assert (bad.status, good.status) == (Whistle.Status.AWAITING_DISPATCH, Whistle.Status.ROUTED)
    assert bad.routing == [{"scope": "failed"}]
    assert Event.objects.get(whistle=bad, verb="awaiting_dispatch").reason.startswith("Automatic routing failed")
    assert f"routing whistle {bad.number} failed" in caplog.text


def test_a_routing_run_costs_the_same_statements_for_two_whistles_as_for_six(cast):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    whistle_route(whistle_id=submit_whistle(cast.s01_staff).whistle.pk)  # the process's caches are built once
    counts = []
    for size in (2, 6):  # 18 tasks: SQLite splits a bulk insert of tasks past 999 parameters (about 28 tasks)
        for _ in range(size):
            submit_whistle(cast.s01_staff)
        with CaptureQueriesContext(connection) as queries:
            assert whistles_route_waiting() == size
        counts.append(len(queries))

    assert counts[0] == counts[1] <= 10
