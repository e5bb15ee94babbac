"""Notices: an inbox row with the change, an e-mail after the commit, each e-mailed once."""

from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from tests.factories import submit_whistle
from whistle.models import Notification
from whistle.services import whistle_route
from whistle.services.notify import notifications_email, notify
from whistle.tasks import email_notifications


@pytest.fixture
def whistle(cast):
    return submit_whistle(cast.s01_staff).whistle


def test_a_notice_reaches_a_department_a_street_and_a_person_and_is_mailed_after_the_commit(
    cast, whistle, django_capture_on_commit_callbacks
):
    queued = []
    with mock.patch.object(email_notifications, "apply_async", lambda args, **options: queued.append(args[0])):
        with django_capture_on_commit_callbacks(execute=True):
            rows = notify(
                whistle=whistle,
                verb="reopened",
                now=timezone.now(),
                departments=[cast.d13.pk],
                streets=[cast.s01.pk],
                recipients=[cast.supervisor.pk],
            )
            assert queued == []  # nothing leaves before the commit

    assert [(n.department_id, n.street_id, n.recipient_id) for n in rows] == [
        (cast.d13.pk, None, None),
        (None, cast.s01.pk, None),
        (None, None, cast.supervisor.pk),
    ]
    assert queued == [[row.pk for row in rows]]

    assert notifications_email(ids=queued[0]) == 3
    recipients = sorted(address for message in mail.outbox for address in message.to)
    # The department's members; the street's dispatcher and head, not its staff; the one person.
    assert recipients == sorted(
        f"{name}@example.gov.cn" for name in ("d13_staff", "s01_dispatcher", "s01_head", "supervisor")
    )
    assert whistle.number in mail.outbox[0].subject
    assert f"/whistles/{whistle.number}/" in mail.outbox[0].body


def test_a_notice_is_mailed_once_even_when_the_job_runs_twice(cast, whistle):
    [row] = notify(whistle=whistle, verb="summoned", now=timezone.now(), departments=[cast.d13.pk])

    assert notifications_email(ids=[row.pk]) == 1
    assert notifications_email(ids=[row.pk]) == 0
    assert len(mail.outbox) == 1
    assert Notification.objects.get(pk=row.pk).emailed_at is not None


def test_a_mail_server_failure_leaves_the_notice_to_the_retry(cast, whistle):
    [row] = notify(whistle=whistle, verb="summoned", now=timezone.now(), departments=[cast.d13.pk])

    with mock.patch("whistle.services.notify.send_mail", side_effect=ConnectionRefusedError):
        with pytest.raises(ConnectionRefusedError):
            notifications_email(ids=[row.pk])

    assert Notification.objects.get(pk=row.pk).emailed_at is None
    assert notifications_email(ids=[row.pk]) == 1


def test_only_notices_worth_a_mail_are_queued(cast, whistle, django_capture_on_commit_callbacks):
    queued = []
    with mock.patch.object(email_notifications, "apply_async", lambda args, **options: queued.append(args[0])):
        with django_capture_on_commit_callbacks(execute=True):
            notify(whistle=whistle, verb="resolved", now=timezone.now(), streets=[cast.s01.pk])
        with django_capture_on_commit_callbacks(execute=True):
            whistle_route(whistle_id=whistle.pk)

    assert len(queued) == 1  # the routing's "summoned" notices, not "resolved"
    assert sorted(Notification.objects.filter(pk__in=queued[0]).values_list("department__code", flat=True)) == [
        "D12",
        "D13",
        "E06",
    ]


def test_a_broker_outage_leaves_the_notice_in_the_inbox(cast, whistle, django_capture_on_commit_callbacks, caplog):
    with mock.patch.object(email_notifications, "apply_async", side_effect=ConnectionRefusedError):
        with django_capture_on_commit_callbacks(execute=True):
            notify(whistle=whistle, verb="summoned", now=timezone.now(), departments=[cast.d13.pk])

    assert Notification.objects.filter(verb="summoned", department=cast.d13).exists()
    assert "not e-mailed" in caplog.text
