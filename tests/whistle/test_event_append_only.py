"""Events are append-only: PostgreSQL refuses to change or delete one, and the admin only shows them."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from tests.factories import UserFactory, submit_whistle
from whistle.models import Event, Whistle

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the append-only trigger is PostgreSQL's (whistle/migrations/0012_event_append_only.py); "
    "SQLite's test runner empties tables with DELETE, which such a trigger would refuse",
)


@pytest.fixture
def event(cast):
    return submit_whistle(cast.s01_staff).whistle.events.get()


@postgresql_only
def test_an_event_cannot_be_updated(event):
    with pytest.raises(IntegrityError, match="events are append-only: UPDATE"), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(reason="rewritten")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        event.reason = "rewritten"
        event.save()

    event.refresh_from_db()
    assert event.reason != "rewritten"


@postgresql_only
def test_an_event_cannot_be_deleted(event):
    with pytest.raises(IntegrityError, match="events are append-only: DELETE"), transaction.atomic():
        Event.objects.filter(pk=event.pk).delete()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM whistle_event")

    assert Event.objects.filter(pk=event.pk).exists()


@postgresql_only
def test_a_whistle_cannot_be_deleted_with_its_events(event):
    # The ORM cascades a whistle's deletion to its events (their foreign key has no database constraint).
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Whistle.objects.filter(pk=event.whistle_id).delete()

    assert Whistle.objects.filter(pk=event.whistle_id).exists()


@postgresql_only
def test_new_events_are_still_written(event):
    Event.objects.create(whistle_id=event.whistle_id, system_actor="sweeper", verb="warned")

    assert Event.objects.filter(whistle_id=event.whistle_id).count() == 2


# The admin -------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(username="admin", is_staff=True, is_superuser=True))
    return client


def test_the_admin_shows_an_event_read_only(admin_client, event):
    url = reverse("admin:whistle_event_change", args=[event.pk])

    response = admin_client.get(url)

    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="_save"' not in page and 'name="_continue"' not in page
    assert 'name="reason"' not in page and 'name="verb"' not in page  # shown, not editable
    assert event.verb in page


def test_the_admin_refuses_to_change_or_delete_an_event(admin_client, event):
    change = reverse("admin:whistle_event_change", args=[event.pk])
    before = Event.objects.values().get(pk=event.pk)

    assert admin_client.post(change, {"verb": "x", "reason": "rewritten", "_save": "Save"}).status_code == 403
    assert admin_client.get(reverse("admin:whistle_event_delete", args=[event.pk])).status_code == 403
    assert admin_client.post(reverse("admin:whistle_event_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    bulk = {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"}
    admin_client.post(reverse("admin:whistle_event_changelist"), bulk)
    assert Event.objects.values().get(pk=event.pk) == before


def test_the_admin_refuses_to_delete_a_whistle_and_so_its_events(admin_client, event):
    url = reverse("admin:whistle_whistle_delete", args=[event.whistle_id])

    assert admin_client.get(url).status_code == 403
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    bulk = {"action": "delete_selected", "_selected_action": [event.whistle_id], "post": "yes"}
    admin_client.post(reverse("admin:whistle_whistle_changelist"), bulk)
    assert Whistle.objects.filter(pk=event.whistle_id).exists() and Event.objects.filter(pk=event.pk).exists()
