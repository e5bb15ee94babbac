"""The inbox: what reaches each user, the unread count in the header, marking read, on the web and in the API."""

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import submit_whistle
from whistle.models import Notification
from whistle.services import whistle_route
from whistle.services.notify import notify


@pytest.fixture
def routed(cast):
    whistle = submit_whistle(cast.s01_staff).whistle
    whistle_route(whistle_id=whistle.pk)  # "summoned" to D13, D12 and E06
    notify(whistle=whistle, verb="escalated", now=timezone.now(), recipients=[cast.supervisor.pk])
    notify(whistle=whistle, verb="returned", now=timezone.now(), streets=[cast.s01.pk])
    return whistle


def test_each_user_sees_the_notices_of_their_unit_street_or_person_and_nobody_elses(cast, client, routed):
    expected = {"d13_staff": ["summoned"], "s01_dispatcher": ["returned"], "supervisor": ["escalated"]}
    for username, verbs in {**expected, "s02_staff": [], "t01_staff": [], "outsider": []}.items():
        client.force_login(getattr(cast, username))

        body = client.get("/api/v1/notifications/").json()

        assert [n["verb"] for n in body["results"]] == verbs, username
    d13 = Notification.objects.get(department=cast.d13)
    client.force_login(cast.s02_staff)
    assert client.post(reverse("whistle:inbox_open", args=[d13.pk])).status_code == 404


def test_the_header_counts_unread_notices_and_opening_one_reads_it_for_the_department(cast, client, routed):
    client.force_login(cast.d13_staff)
    page = client.get(reverse("whistle:inbox")).content.decode()
    assert 'id="header-inbox"' in page and 'text-bg-danger">1</span>' in page
    assert "New task for your department" in page and routed.number in page

    notice = Notification.objects.get(department=cast.d13)
    response = client.post(reverse("whistle:inbox_open", args=[notice.pk]))

    assert response.status_code == 302 and response["Location"] == reverse("whistle:detail", args=[routed.number])
    notice.refresh_from_db()
    assert notice.read_at is not None
    assert 'text-bg-danger">' not in client.get(reverse("whistle:inbox") + "?unread=1").content.decode()


def test_mark_read_through_the_api_by_ids_or_all_and_bad_ids_are_a_field_error(cast, client, routed):
    client.force_login(cast.s01_dispatcher)
    other = notify(whistle=routed, verb="awaiting_dispatch", now=timezone.now(), streets=[cast.s01.pk])[0]

    refused = client.post("/api/v1/notifications/read/", {"ids": ["x"]}, content_type="application/json")
    assert refused.status_code == 400 and "ids.0" in refused.json()["fields"]

    # Someone else's notice among the ids is left alone.
    d13 = Notification.objects.get(department=cast.d13)
    one = client.post("/api/v1/notifications/read/", {"ids": [other.pk, d13.pk]}, content_type="application/json")
    assert one.json() == {"marked": 1, "unread": 1}
    assert Notification.objects.get(pk=d13.pk).read_at is None

    rest = client.post("/api/v1/notifications/read/", {}, content_type="application/json")
    assert rest.json() == {"marked": 1, "unread": 0}
    assert client.get("/api/v1/notifications/?unread=1").json()["results"] == []


def test_the_inbox_page_mark_all_read(cast, client, routed):
    client.force_login(cast.supervisor)

    client.post(reverse("whistle:inbox_read_all"))

    assert not Notification.objects.filter(recipient=cast.supervisor, read_at=None).exists()


def test_the_inbox_needs_a_signed_in_user(client):
    assert client.get(reverse("whistle:inbox")).status_code == 302
    assert client.get("/api/v1/notifications/").status_code in (401, 403)
