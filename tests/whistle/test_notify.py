"""Notices: an inbox row with the change; one mail run after the commit for a burst; each e-mailed once."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from tests.factories import submit_whistle
from whistle.models import Doorbell, Notification
from whistle.services import whistle_route
from whistle.services.doorbell import STALE, doorbell_ring, doorbell_silence
from whistle.services.notify import notifications_email_due, notify
from whistle.tasks import email_notifications


@pytest.fixture
def whistle(cast):
    return submit_whistle(cast.s01_staff).whistle


@pytest.fixture
def mail_runs():
    """The mail runs called for (messages that would go to the worker)."""
    calls = []
    with mock.patch.object(email_notifications, "apply_async", lambda *args, **options: calls.append(1)):
        yield calls


def test_a_notice_reaches_a_department_a_street_and_a_person_and_is_mailed_after_the_commit(
    cast, whistle, mail_runs, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        rows = notify(
            whistle=whistle,
            verb="reopened",
            now=timezone.now(),
            departments=[cast.d13.pk],
            streets=[cast.s01.pk],
            recipients=[cast.supervisor.pk],
        )
        assert mail_runs == []  # nothing leaves before the commit

    assert [(n.department_id, n.street_id, n.recipient_id, n.mail_due) for n in rows] == [
        (cast.d13.pk, None, None, True),
        (None, cast.s01.pk, None, True),
        (None, None, cast.supervisor.pk, True),
    ]
    assert mail_runs == [1]

    assert notifications_email_due() == 3
    recipients = sorted(address for message in mail.outbox for address in message.to)
    # The department's members; the street's dispatcher and head, not its staff; the one person.
    assert recipients == sorted(
        f"{name}@example.gov.cn" for name in ("d13_staff", "s01_dispatcher", "s01_head", "supervisor")
    )
    assert whistle.number in mail.outbox[0].subject
    assert f"/whistles/{whistle.number}/" in mail.outbox[0].body
    assert not Notification.objects.filter(mail_due=True).exists()


def test_a_burst_of_notices_calls_one_mail_run(cast, whistle, mail_runs, django_capture_on_commit_callbacks):
    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            notify(whistle=whistle, verb="summoned", now=timezone.now(), departments=[cast.d13.pk])

    assert mail_runs == [1]  # the bell rang once; the run, when it comes, takes all five
    assert notifications_email_due(batch=2) == 5
    assert Doorbell.objects.get(name=Doorbell.MAIL).rung_at is None


def test_a_notice_is_mailed_once_even_when_two_runs_come(cast, whistle):
    notify(whistle=whistle, verb="summoned", now=timezone.now(), departments=[cast.d13.pk])

    assert notifications_email_due() == 1
    assert notifications_email_due() == 0
    assert len(mail.outbox) == 1
    assert Notification.objects.get().emailed_at is not None


def test_a_mail_server_failure_leaves_the_notice_due_for_the_retry(cast, whistle):
    notify(whistle=whistle, verb="summoned", now=timezone.now(), departments=[cast.d13.pk])

    with mock.patch("whistle.services.notify.send_mail", side_effect=ConnectionRefusedError):
        with pytest.raises(ConnectionRefusedError):
            notifications_email_due()

    assert Notification.objects.get().mail_due is True
    assert notifications_email_due() == 1


def test_only_notices_worth_a_mail_are_due(cast, whistle, mail_runs, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify(whistle=whistle, verb="resolved", now=timezone.now(), streets=[cast.s01.pk])
    assert mail_runs == []

    with django_capture_on_commit_callbacks(execute=True):
        whistle_route(whistle_id=whistle.pk)

    assert mail_runs == [1]
    due = Notification.objects.filter(mail_due=True)
    assert sorted(due.values_list("department__code", flat=True)) == ["D12", "D13", "E06"]


def test_a_broker_outage_leaves_the_notice_due_and_the_bell_silent(
    cast, whistle, django_capture_on_commit_callbacks, caplog
):
    with mock.patch.object(email_notifications, "apply_async", side_effect=ConnectionRefusedError):
        with django_capture_on_commit_callbacks(execute=True):
            notify(whistle=whistle, verb="summoned", now=timezone.now(), departments=[cast.d13.pk])

    assert Notification.objects.get().mail_due is True
    assert Doorbell.objects.get(name=Doorbell.MAIL).rung_at is None  # the next notice tries again
    assert "wait in the inbox" in caplog.text


def test_a_doorbell_calls_one_run_for_a_burst_and_again_once_it_is_stale(db):
    now = timezone.now()
    assert [doorbell_ring(Doorbell.ROUTING, now=now) for _ in range(3)] == [True, False, False]
    assert doorbell_ring(Doorbell.MAIL, now=now) is True  # another bell
    assert doorbell_ring(Doorbell.ROUTING, now=now + STALE + timedelta(seconds=1)) is True  # its message was lost
    doorbell_silence(Doorbell.ROUTING)
    assert doorbell_ring(Doorbell.ROUTING, now=now) is True
