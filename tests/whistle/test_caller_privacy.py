"""A hotline caller's name, phone and e-mail reach only the roles that need them (whistle.permissions.sees_caller).

Everywhere else they are masked (the whistle's page) or absent (task pages, lists, the map,
notices and their e-mails, events, the admin for staff without such a role).
"""

import json

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core import mail
from django.urls import reverse

from tests.factories import UserFactory, submit_whistle
from tests.whistle.lifecycle import MONDAY_10, routed
from whistle.models import Event, Task
from whistle.services import whistle_merge
from whistle.services.notify import notifications_email_due

CALLER = {"caller_name": "张女士", "caller_phone": "13800001234", "caller_email": "zhang.li@example.com"}
SECRETS = ("张女士", "13800001234", "zhang.li@example.com", "zhang.li")


@pytest.fixture
def hotline_whistle(cast):
    with time_machine.travel(MONDAY_10, tick=False):
        return routed(cast, user=cast.hotline, source="hotline", external_id="12345-2026-000001", **CALLER)


def page(client, user, url) -> str:
    client.force_login(user)
    response = client.get(url, follow=True)  # a workbench address leads on to the role's own
    assert response.status_code == 200, (user, url, response.status_code)
    return response.content.decode()


def assert_no_caller(text: str, where: str) -> None:
    leaked = [secret for secret in SECRETS if secret in text]
    assert leaked == [], f"{where} shows {leaked}"


def test_the_whistle_page_masks_all_three_for_roles_that_may_not_see_them(client, cast, hotline_whistle):
    url = reverse("whistle:detail", args=[hotline_whistle.number])

    for user in (cast.s01_staff, cast.s01_grid, cast.d13_staff):
        text = page(client, user, url)
        assert_no_caller(text, f"the whistle's page for {user}")
        assert "张**" in text and "138****1234" in text and "z*******@example.com" in text
    for user in (cast.s01_dispatcher, cast.s01_head, cast.supervisor, cast.hotline):
        text = page(client, user, url)
        assert all(secret in text for secret in SECRETS[:3]), user


def test_lists_task_pages_and_the_map_never_show_the_caller(client, cast, hotline_whistle):
    task = Task.objects.get(whistle=hotline_whistle, department=cast.d13)
    for user, url in (
        (cast.s01_staff, reverse("whistle:list")),
        (cast.s01_staff, reverse("whistle:queue")),
        (cast.d13_staff, reverse("whistle:tasks")),
        (cast.d13_staff, reverse("whistle:task", args=[task.pk])),
        (cast.s01_staff, reverse("map:overview")),
        (cast.s01_staff, reverse("map:whistles")),
        (cast.s01_staff, reverse("map:grid_whistles", args=["S01C01G01"])),
        (cast.d13_staff, reverse("whistle:inbox")),
        (cast.s01_staff, "/workbench/"),
        (cast.d13_staff, "/workbench/"),
        (cast.supervisor, "/workbench/"),
    ):
        assert_no_caller(page(client, user, url), f"{url} for {user}")


def test_the_api_lists_and_task_details_never_show_the_caller(client, cast, hotline_whistle):
    task = Task.objects.get(whistle=hotline_whistle, department=cast.d13)
    for user, url in (
        (cast.s01_staff, "/api/v1/whistles/"),
        (cast.d13_staff, "/api/v1/tasks/"),
        (cast.d13_staff, f"/api/v1/tasks/{task.pk}/"),
        (cast.d13_staff, "/api/v1/notifications/"),
    ):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, url
        assert_no_caller(response.content.decode(), f"{url} for {user}")


def test_notice_emails_never_carry_the_caller(cast, hotline_whistle):
    for user in (cast.d13_staff, cast.d12_staff, cast.s01_staff):
        user.email = f"{user.username}@example.gov.cn"
        user.save(update_fields=["email"])

    assert notifications_email_due() > 0

    for message in mail.outbox:
        assert_no_caller(message.subject + message.body, f"the mail to {message.to}")


def test_a_merge_keeps_the_duplicates_caller_out_of_the_primarys_events(cast, hotline_whistle):
    with time_machine.travel(MONDAY_10, tick=False):
        fields = {"source": "hotline", "external_id": "12345-2026-000002", **CALLER}
        duplicate = submit_whistle(cast.hotline, **fields).whistle
        whistle_merge(whistle=duplicate, into=hotline_whistle, actor=cast.s01_staff)

    attached = Event.objects.get(whistle=hotline_whistle, verb="duplicate_attached")
    assert attached.new["number"] == duplicate.number
    assert_no_caller(json.dumps(attached.new, ensure_ascii=False), "the duplicate_attached event")


# The admin --------------------------------------------------------------------------------------


@pytest.fixture
def staff_viewer(db):
    """An administrator's assistant: may look at whistles and events in the admin, has no role that sees callers."""
    user = UserFactory(username="records_clerk", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="whistle", codename__in=["view_whistle", "view_event"])
    )
    return user


def test_the_admin_leaves_the_caller_out_for_staff_without_such_a_role(client, cast, hotline_whistle, staff_viewer):
    event = hotline_whistle.events.first()
    # As merges once recorded it: a caller named in an event's facts.
    Event.objects.create(
        whistle=hotline_whistle,
        actor=cast.s01_staff,
        verb="duplicate_attached",
        new={"number": "S01-2026-000099", **CALLER},
    )
    urls = (
        reverse("admin:whistle_whistle_change", args=[hotline_whistle.pk]),
        reverse("admin:whistle_whistle_changelist"),
        reverse("admin:whistle_event_changelist"),
        reverse("admin:whistle_event_change", args=[Event.objects.latest("pk").pk]),
        reverse("admin:whistle_event_change", args=[event.pk]),
    )
    for url in urls:
        assert_no_caller(page(client, staff_viewer, url), f"{url} for a staff viewer")
    assert "S01-2026-000099" in page(client, staff_viewer, urls[3])  # the rest of the facts still show

    superuser = UserFactory(username="admin", is_staff=True, is_superuser=True)
    text = page(client, superuser, urls[0])
    assert "13800001234" in text and "zhang.li@example.com" in text
    assert "13800001234" in page(client, superuser, urls[3])
