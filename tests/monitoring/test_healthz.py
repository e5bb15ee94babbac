"""/healthz, /healthz/live and `manage.py healthz`: each part checked, the failing one named, never a hang or a 500."""

import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from celery.signals import after_task_publish
from django.core.management import call_command
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper

from monitoring.models import Heartbeat
from monitoring.signals import worker_ran
from monitoring.tasks import HEARTBEAT, heartbeat
from tests.live_worker import broker_unreachable, wait_until, worker_log

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def beat_sends_heartbeat():
    """What beat's publication of the heartbeat task does in beat's process."""
    after_task_publish.send(sender=HEARTBEAT, headers={}, body=((), {}, {}), exchange="", routing_key="whistle")


def worker_runs_heartbeat():
    heartbeat.apply()


def task_run_by(hostname: str, *, eager: bool = False) -> SimpleNamespace:
    """What task_postrun passes as `task`: its request says which worker ran it."""
    return SimpleNamespace(request=SimpleNamespace(is_eager=eager, called_directly=False, hostname=hostname))


@pytest.fixture
def database_down(monkeypatch):
    """Every statement of this process fails as when the database server is unreachable."""

    def refuse(self, *args, **kwargs):
        raise OperationalError('connection to server at "10.0.0.9", port 5432 failed: Connection refused')

    with monkeypatch.context() as patch:
        patch.setattr(BaseDatabaseWrapper, "cursor", refuse)
        yield


@pytest.mark.live_worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_healthz_is_200_with_a_live_worker_and_beats_heartbeat(client, live_worker):
    heartbeat.delay()  # as beat sends it: the publication is beat's heartbeat, the worker's run its own

    try:
        row = wait_until(lambda: Heartbeat.objects.filter(kind=Heartbeat.Kind.WORKER).first(), what="the heartbeat")
    except AssertionError as exc:
        raise AssertionError(f"{exc}. Worker log:\n{worker_log(live_worker)}") from None
    response = client.get("/healthz")

    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert list(body["checks"]) == ["database", "broker", "beat", "worker"]
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["worker"]["workers"] == 1 and body["checks"]["beat"]["age_s"] < 30
    assert row.name.startswith(f"{live_worker}@")
    assert "no-cache" in response["Cache-Control"] and "max-age=0" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_needs_no_sign_in_and_shows_no_host_names(client):
    beat_sends_heartbeat()
    worker_ran(task=task_run_by("celery@db-host-in-room-42"))

    response = client.get("/healthz")

    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["worker"]["workers"] == 1
    assert "room-42" not in response.content.decode()


@pytest.mark.django_db
def test_a_database_that_does_not_answer_is_a_503_naming_it_and_no_500(client, database_down):
    response = client.get("/healthz")

    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "fail"
    assert body["checks"]["database"]["ok"] is False
    assert "OperationalError" in body["checks"]["database"]["error"]
    assert "10.0.0.9" not in response.content.decode()  # the exception's text stays in the log
    assert body["checks"]["beat"] == {"ok": False, "error": "Not checked: the database does not answer."}
    assert body["checks"]["worker"]["ok"] is False
    assert body["checks"]["broker"]["ok"] is True


@pytest.mark.django_db
def test_an_unreachable_broker_is_a_prompt_503_naming_it(client, settings):
    assert client.get("/healthz?checks=database,broker").status_code == 200

    with broker_unreachable() as broker:
        started = time.monotonic()
        response = client.get("/healthz?checks=database,broker")
        elapsed = time.monotonic() - started

    body = response.json()
    assert response.status_code == 503, broker
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is False and body["checks"]["broker"]["error"]
    assert elapsed < settings.HEALTHZ_TIMEOUT_S + 1.5


@pytest.mark.django_db
def test_a_late_beat_is_a_503_naming_beat_while_the_web_servers_own_check_stays_200(client, settings):
    with time_machine.travel(T0, tick=False):
        beat_sends_heartbeat()
    late = T0 + timedelta(seconds=settings.HEALTHZ_BEAT_STALE_S + 1)
    with time_machine.travel(late - timedelta(seconds=5), tick=False):
        worker_runs_heartbeat()

    with time_machine.travel(T0 + timedelta(seconds=settings.HEALTHZ_BEAT_STALE_S), tick=False):
        assert client.get("/healthz?checks=beat").status_code == 200  # just in time
    with time_machine.travel(late, tick=False):
        response = client.get("/healthz")
        web_container = client.get("/healthz?checks=database")

    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["beat"]["ok"] is False
    assert body["checks"]["beat"]["age_s"] == settings.HEALTHZ_BEAT_STALE_S + 1
    assert "stale" in body["checks"]["beat"]["error"]
    assert body["checks"]["worker"]["ok"] is True
    assert web_container.status_code == 200 and list(web_container.json()["checks"]) == ["database"]


@pytest.mark.django_db
def test_a_silent_worker_is_a_503_naming_the_worker(client, settings):
    beat_sends_heartbeat()

    response = client.get("/healthz?checks=beat,worker")

    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["beat"]["ok"] is True
    assert body["checks"]["worker"] == {"ok": False, "error": "No heartbeat yet.", "stale_after_s": 120}

    with time_machine.travel(T0, tick=False):
        worker_runs_heartbeat()
    with time_machine.travel(T0 + timedelta(seconds=settings.HEALTHZ_WORKER_STALE_S + 30), tick=False):
        beat_sends_heartbeat()
        body = client.get("/healthz?checks=beat,worker").json()
    assert body["checks"]["beat"]["ok"] is True
    assert body["checks"]["worker"]["ok"] is False and body["checks"]["worker"]["workers"] == 0


@pytest.mark.django_db
def test_a_worker_busy_with_other_tasks_is_alive_its_heartbeat_stored_at_most_every_15_s():
    with time_machine.travel(T0, tick=False):
        worker_ran(task=task_run_by("celery@worker-2"))
    with time_machine.travel(T0 + timedelta(seconds=5), tick=False):
        worker_ran(task=task_run_by("celery@worker-2"))  # within 15 s of the last one, by this process's clock

    assert list(Heartbeat.objects.values_list("kind", "name", "at")) == [("worker", "celery@worker-2", T0)]

    worker_ran(task=task_run_by("celery@tests", eager=True))
    assert not Heartbeat.objects.filter(name="celery@tests").exists()


@pytest.mark.django_db
def test_only_the_heartbeat_tasks_publication_is_beats_heartbeat():
    after_task_publish.send(sender="whistle.route", headers={}, body=((), {}, {}), exchange="", routing_key="whistle")
    assert not Heartbeat.objects.exists()

    beat_sends_heartbeat()
    assert Heartbeat.objects.filter(kind=Heartbeat.Kind.BEAT).count() == 1


@pytest.mark.django_db
def test_an_unknown_check_is_a_400_in_the_error_shape(client):
    response = client.get("/healthz?checks=database,disk")

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "Some fields are not valid.",
        "fields": {"checks": ["Unknown check disk: choose from database, broker, beat, worker."]},
    }


@pytest.mark.django_db
def test_the_checks_may_be_named_in_repeated_parameters(client):
    beat_sends_heartbeat()

    response = client.get("/healthz?checks=beat&checks=database")

    assert response.status_code == 200
    assert list(response.json()["checks"]) == ["database", "beat"]


@pytest.mark.django_db
def test_liveness_answers_200_even_with_the_database_down(client, database_down):
    response = client.get("/healthz/live")

    assert response.status_code == 200 and response.json() == {"status": "ok", "checks": {}}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_only_answers_reads(client):
    assert client.post("/healthz").status_code == 405
    assert client.head("/healthz?checks=database").status_code == 200


@pytest.mark.django_db
def test_the_beat_container_check_exits_1_when_beat_is_late_and_0_when_it_is_not(capsys, settings):
    with time_machine.travel(T0, tick=False):
        beat_sends_heartbeat()

    with time_machine.travel(T0 + timedelta(seconds=60), tick=False):
        call_command("healthz", "--checks", "beat")
    assert '"status": "ok"' in capsys.readouterr().out
    with time_machine.travel(T0 + timedelta(seconds=settings.HEALTHZ_BEAT_STALE_S + 60), tick=False):
        with pytest.raises(SystemExit) as exit_status:
            call_command("healthz", "--checks", "beat")
    assert exit_status.value.code == 1
    assert '"beat": {"ok": false' in capsys.readouterr().out


@pytest.mark.django_db
def test_the_rows_of_worker_hosts_gone_for_a_week_are_removed():
    with time_machine.travel(T0, tick=False):
        worker_ran(task=task_run_by("celery@gone"))
    with time_machine.travel(T0 + timedelta(days=8), tick=False):
        worker_runs_heartbeat()

    assert Heartbeat.objects.filter(kind=Heartbeat.Kind.WORKER).count() == 1
    assert not Heartbeat.objects.filter(name="celery@gone").exists()
