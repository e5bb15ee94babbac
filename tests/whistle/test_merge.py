import pytest

from config.errors import Conflict, InvalidInput, NotAllowed
from tests.factories import submit_whistle
from whistle.models import Event, Whistle
from whistle.services import whistle_merge, whistle_route


def test_a_duplicate_is_closed_into_its_primary_and_never_summons_anyone(cast):
    primary = submit_whistle(cast.s01_staff).whistle
    whistle_route(whistle_id=primary.pk)
    duplicate = submit_whistle(cast.s01_grid, description="路灯不亮已三天", address="3号楼").whistle

    whistle_merge(whistle=duplicate, into=primary, actor=cast.s01_staff)
    whistle_route(whistle_id=duplicate.pk)

    duplicate.refresh_from_db()
    assert duplicate.status == Whistle.Status.MERGED and duplicate.merged_into == primary
    assert duplicate.tasks.count() == 0
    attached = Event.objects.get(whistle=primary, verb="duplicate_attached")
    assert attached.new["number"] == duplicate.number and attached.new["reporter"] == "s01_grid"
    assert attached.new["description"] == "路灯不亮已三天"


def test_merge_refuses_itself_a_closed_primary_and_a_routed_duplicate(cast):
    primary = submit_whistle(cast.s01_staff).whistle
    other = submit_whistle(cast.s01_staff).whistle

    with pytest.raises(InvalidInput):
        whistle_merge(whistle=other, into=other, actor=cast.s01_staff)
    Whistle.objects.filter(pk=primary.pk).update(status=Whistle.Status.CLOSED)
    with pytest.raises(InvalidInput):
        whistle_merge(whistle=other, into=primary, actor=cast.s01_staff)
    Whistle.objects.filter(pk=primary.pk).update(status=Whistle.Status.ROUTED)
    whistle_route(whistle_id=other.pk)
    with pytest.raises(Conflict):
        whistle_merge(whistle=other, into=primary, actor=cast.s01_staff)


def test_only_the_streets_own_officials_merge(cast):
    primary, duplicate = submit_whistle(cast.s01_staff).whistle, submit_whistle(cast.s01_staff).whistle

    for user in (cast.s02_staff, cast.d13_staff, cast.s01_grid, cast.hotline):
        with pytest.raises(NotAllowed):
            whistle_merge(whistle=duplicate, into=primary, actor=user)
