import pytest
import time_machine

from config.errors import InvalidInput, NotAllowed
from tests.factories import submit_whistle as submit
from whistle.models import Event, Whistle

NOW = "2026-03-02 10:00 +08:00"  # a Monday


@time_machine.travel(NOW, tick=False)
def test_a_street_official_raises_a_whistle_that_is_stored_numbered_and_audited(cast):
    result = submit(cast.s01_staff)

    whistle = result.whistle
    assert result.created is True
    assert whistle.number == "S01-2026-000001"
    assert whistle.status == Whistle.Status.SUBMITTED
    assert (whistle.grid, whistle.community.code, whistle.street) == (cast.grids.g1, "S01C01", cast.s01)
    assert whistle.grade == "ordinary" and whistle.source == "street"
    event = Event.objects.get(whistle=whistle)
    assert (event.verb, event.actor) == ("submitted", cast.s01_staff)
    assert submit(cast.s01_staff).whistle.number == "S01-2026-000002"


@time_machine.travel(NOW, tick=False)
def test_the_reporter_may_choose_the_grid_instead_of_a_point(cast):
    whistle = submit(cast.s01_grid, lon=None, lat=None, grid="S01C01G02").whistle

    assert whistle.grid == cast.grids.g2 and whistle.source == "grid_worker"


def test_the_same_external_id_returns_the_existing_whistle(cast):
    first = submit(cast.hotline, external_id="12345-0001", caller_name="张女士", caller_phone="138 0000 0000")
    again = submit(cast.hotline, external_id="12345-0001")

    assert first.created and not again.created
    assert again.whistle.pk == first.whistle.pk
    assert Whistle.objects.count() == 1


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"category": "NOPE"}, "category", "Unknown category NOPE."),
        ({"category": ""}, "category", "A category is required."),
        ({"lon": 116.9, "lat": 40.9}, "grid", "lies on no grid of the district"),
        ({"lon": None, "lat": None}, "grid", "Mark the place on the map or choose a grid."),
        ({"grid": "S09C01G01"}, "grid", "Unknown grid S09C01G01."),
        ({"description": "x" * 4001}, "description", "at most 4000 characters (it has 4001)"),
        ({"description": "  "}, "description", "A description is required."),
        ({"title": ""}, "title", "A title is required."),
        ({"grade": "difficult"}, "grade", "may not raise a difficult whistle"),
        ({"grade": "urgent"}, "grade", "Grade must be one of"),
        ({"source": "hotline"}, "source", "may not raise whistles from the source 12345 hotline"),
        ({"lon": 181.0}, "lon", "Must be between -180 and 180."),
        ({"lat": -91.0}, "lat", "Must be between -90 and 90."),
        ({"lat": None}, "lat", "Give both longitude and latitude, or neither."),
        ({"lon": float("nan")}, "lon", "Must be a number."),
        ({"mode": "quick"}, "appointed_checkin_at", "needs the appointed check-in time"),
        ({"caller_phone": "call me"}, "caller_phone", "may only have digits"),
        ({"lon": 115.955, "lat": 40.445}, "lon", "lies in 香水园街道, not in your street"),
    ],
)
def test_bad_input_names_the_field_and_the_rule_and_saves_nothing(cast, fields, field, message):
    with pytest.raises(InvalidInput) as caught:
        submit(cast.s01_staff, **fields)

    assert any(message in text for text in caught.value.fields[field]), caught.value.fields
    assert Whistle.objects.count() == 0 and Event.objects.count() == 0


def test_every_broken_rule_is_reported_at_once(cast):
    with pytest.raises(InvalidInput) as caught:
        submit(cast.s01_staff, title="", category="NOPE", lon=500.0)

    assert set(caught.value.fields) == {"title", "category", "lon"}


def test_users_without_a_unit_or_with_a_department_role_cannot_raise_whistles(cast):
    for user in (cast.outsider, cast.d13_staff, cast.supervisor):
        with pytest.raises(NotAllowed):
            submit(user)


@time_machine.travel(NOW, tick=False)
def test_a_quick_whistle_keeps_its_appointed_check_in_time(cast):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    appointed = datetime(2026, 3, 2, 14, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    whistle = submit(cast.s01_staff, mode="quick", appointed_checkin_at=appointed).whistle

    assert whistle.mode == "quick" and whistle.appointed_checkin_at == appointed


def test_a_party_office_whistle_starts_as_a_draft_unless_the_head_raises_it(cast):
    draft = submit(cast.s01_staff, source="party_office", grade="ordinary").whistle
    own = submit(cast.s01_head, source="party_office", grade="difficult").whistle

    assert draft.status == Whistle.Status.DRAFT and draft.submitted_at is None
    assert own.status == Whistle.Status.SUBMITTED
