"""/metrics: Prometheus text read from the database, so that every host reports the same figures."""

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from config.celery import app as celery_app
from config.celery import ping
from escalation.services import deadlines_sweep
from monitoring.models import Figure
from monitoring.services import SHARDS, figures_add, submissions_settle
from tests.escalation.conftest import at
from tests.factories import submit_whistle
from tests.live_worker import broker_unreachable, queue_drained, wait_until, worker_log
from tests.monitoring.conftest import METRICS_TOKEN, parse, scrape, value
from whistle.models import Whistle
from whistle.services import whistle_route

NEW_YEAR_EVE = at("2025-12-31 16:00")


# Access ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token-wrong-token-wrong", f"Token {METRICS_TOKEN}"])
def test_metrics_refuse_a_scraper_without_the_token(client, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}

    response = client.get("/metrics", **headers)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.django_db
def test_metrics_with_neither_token_nor_public_setting_answer_nobody(client, settings):
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401


@pytest.mark.django_db
def test_metrics_are_open_on_a_private_network_when_public(client, settings):
    settings.METRICS_PUBLIC = True

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "no-cache" in response["Cache-Control"]
    assert ("whistle_submitted_total", ()) in parse(response.content.decode())


@pytest.mark.django_db
def test_a_database_that_does_not_answer_is_a_503_not_a_500(client, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise OperationalError("connection refused")

    with monkeypatch.context() as patch:
        patch.setattr(BaseDatabaseWrapper, "cursor", refuse)
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")

    assert response.status_code == 503 and response.json()["code"] == "unavailable"


# The pipeline, with a live worker ------------------------------------------------------------


@pytest.mark.live_worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_counters_move_when_a_whistle_is_submitted_and_routed_by_the_worker(client, cast, live_worker):
    queue_drained(live_worker)
    before = scrape(client)

    whistle = submit_whistle(cast.s01_staff).whistle
    unruled = submit_whistle(cast.s01_staff, category="MISC-OTHER").whistle

    assert value(scrape(client), "whistle_submitted_total") == value(before, "whistle_submitted_total") + 2

    def counted():
        samples = scrape(client)
        moved = value(samples, "whistle_routed_total", outcome="routed") - value(
            before, "whistle_routed_total", outcome="routed"
        )
        unmatched = value(samples, "whistle_routed_total", outcome="no_rule") - value(
            before, "whistle_routed_total", outcome="no_rule"
        )
        return samples if (moved, unmatched) == (1, 1) else None

    try:
        after = wait_until(counted, interval=0.3, what="the routing counters")
    except AssertionError as exc:
        raise AssertionError(f"{exc}. Worker log:\n{worker_log(live_worker)}") from None
    whistle.refresh_from_db()
    assert whistle.status == Whistle.Status.ROUTED
    latency = (whistle.routed_at - whistle.submitted_at).total_seconds()
    name = "whistle_routing_latency_seconds"
    assert value(after, f"{name}_count") == value(before, f"{name}_count") + 1
    assert value(after, f"{name}_sum") - value(before, f"{name}_sum") == pytest.approx(latency, abs=0.01)
    assert value(after, f"{name}_bucket", le="+Inf") == value(after, f"{name}_count")
    assert Whistle.objects.get(pk=unruled.pk).status == Whistle.Status.AWAITING_DISPATCH
    assert value(after, "whistle_broker_up") == 1
    assert (("whistle_broker_queue_messages", (("queue", live_worker),))) in after


# The pipeline, in this process ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_routing_latency_falls_in_its_bucket(client, cast, django_capture_on_commit_callbacks):
    submitted = timezone.now() - timedelta(minutes=5)
    for delay in (0.2, 3, 3, 45, 7200):
        whistle = submit_whistle(cast.s01_staff, now=submitted).whistle
        with django_capture_on_commit_callbacks(execute=True):
            whistle_route(whistle_id=whistle.pk, now=submitted + timedelta(seconds=delay))

    samples = scrape(client)

    name = "whistle_routing_latency_seconds_bucket"
    cumulative = {le: value(samples, name, le=le) for le in ("0.25", "2.0", "5.0", "30.0", "60.0", "3600.0", "+Inf")}
    assert cumulative == {"0.25": 1, "2.0": 1, "5.0": 3, "30.0": 3, "60.0": 4, "3600.0": 4, "+Inf": 5}
    assert value(samples, "whistle_routing_latency_seconds_sum") == pytest.approx(0.2 + 3 + 3 + 45 + 7200)
    assert value(samples, "whistle_routed_total", outcome="routed") == 5
    assert value(samples, "whistle_submitted_total") == 5


@pytest.mark.django_db
def test_nothing_is_counted_for_a_routing_that_is_rolled_back(client, cast):
    whistle = submit_whistle(cast.s01_staff).whistle

    whistle_route(whistle_id=whistle.pk)  # its transaction is the test's, never committed

    assert value(scrape(client), "whistle_routed_total", outcome="routed") == 0


@pytest.mark.django_db
def test_the_sweep_counters_move_when_the_sweep_runs(client, cast, django_capture_on_commit_callbacks):
    with time_machine.travel(NEW_YEAR_EVE, tick=False):
        whistle = submit_whistle(cast.s01_staff).whistle
        whistle_route(whistle_id=whistle.pk)
    before = scrape(client)

    with time_machine.travel(at("2026-01-04 08:40"), tick=False), django_capture_on_commit_callbacks(execute=True):
        deadlines_sweep()
    with time_machine.travel(at("2026-01-04 09:01"), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            deadlines_sweep()
        samples = scrape(client)

    assert value(before, "whistle_sweeps_total") == 0 and ("whistle_sweep_last_duration_seconds", ()) not in before
    assert value(samples, "whistle_sweeps_total") == 2
    assert value(samples, "whistle_sweep_steps_total", step="acknowledge_warning") == 3
    assert value(samples, "whistle_sweep_steps_total", step="acknowledge_overdue") == 3
    assert value(samples, "whistle_sweep_failed_rows_total") == 0
    assert 0 < value(samples, "whistle_sweep_last_duration_seconds") < 30
    assert value(samples, "whistle_sweep_last_finished_timestamp_seconds") == at("2026-01-04 09:01").timestamp()
    # The three departments' tasks are overdue now, by the dashboard's tally.
    for code in ("D12", "D13", "E06"):
        assert value(samples, "whistle_overdue_open_tasks", department=code) == 1
        assert value(samples, "whistle_open_tasks", department=code) == 1
    assert value(samples, "whistle_open_tasks_tally_age_seconds") == 0


@pytest.mark.django_db
def test_the_overdue_figures_come_from_the_dashboards_tally_while_it_is_young(client, cast, settings):
    settings.DASHBOARD_TALLY_MAX_AGE_S = 180
    with time_machine.travel(NEW_YEAR_EVE, tick=False):
        whistle_route(whistle_id=submit_whistle(cast.s01_staff).whistle.pk)
    with time_machine.travel(at("2026-01-04 09:01"), tick=False):
        counted = scrape(client)
    with time_machine.travel(at("2026-01-04 09:03"), tick=False):
        whistle_route(whistle_id=submit_whistle(cast.s01_staff).whistle.pk)
        kept = scrape(client)
    with time_machine.travel(at("2026-01-04 09:05"), tick=False):
        recounted = scrape(client)

    assert value(counted, "whistle_open_tasks", department="D13") == 1
    assert value(kept, "whistle_open_tasks", department="D13") == 1  # the tally is two minutes old
    assert value(kept, "whistle_open_tasks_tally_age_seconds") == 120
    assert value(recounted, "whistle_open_tasks", department="D13") == 2


# The broker -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_queue_depth_is_the_brokers(client):
    queue, default = f"monitor-depth-{uuid.uuid4().hex[:8]}", celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue  # as the live worker's fixture does: a queue nobody reads
    try:
        for _ in range(3):
            ping.apply_async(queue=queue)
        samples = scrape(client)
    finally:
        celery_app.conf.task_default_queue = default
        with celery_app.connection_for_write() as broker:
            broker.default_channel.queue_purge(queue)

    assert value(samples, "whistle_broker_queue_messages", queue=queue) == 3
    assert value(samples, "whistle_broker_up") == 1


@pytest.mark.django_db
def test_a_broker_that_is_down_is_a_figure_not_a_failed_scrape(client):
    with broker_unreachable():
        samples = scrape(client)

    assert value(samples, "whistle_broker_up") == 0
    assert not any(name == "whistle_broker_queue_messages" for name, _labels in samples)


# The figures ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_counter_is_the_sum_of_its_shards(client):
    for _ in range(40):
        figures_add({("whistle_sweeps_total", ""): 1, ("whistle_sweep_failed_rows_total", ""): 0})

    assert value(scrape(client), "whistle_sweeps_total") == 40
    shards = set(Figure.objects.filter(name="whistle_sweeps_total").values_list("shard", flat=True))
    assert len(shards) > 1 and shards <= set(range(SHARDS))
    assert not Figure.objects.filter(name="whistle_sweep_failed_rows_total").exists()  # nothing to add, no row


@pytest.mark.django_db
def test_the_heartbeat_ages_are_figures_too(client):
    from monitoring.services import heartbeat_record

    now = timezone.now()
    heartbeat_record(kind="beat", now=now - timedelta(seconds=30))
    heartbeat_record(kind="worker", name="celery@a", now=now - timedelta(seconds=50))
    heartbeat_record(kind="worker", name="celery@b", now=now - timedelta(seconds=10))

    with time_machine.travel(now, tick=False):
        samples = scrape(client)

    assert value(samples, "whistle_heartbeat_age_seconds", component="beat") == 30
    assert value(samples, "whistle_heartbeat_age_seconds", component="worker") == 10


# Submissions --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_submitted_counter_settles_up_to_a_mark_and_counts_only_the_whistles_after_it(client, cast):
    t0 = timezone.now() - timedelta(hours=2)
    for minute in (0, 1, 2):
        submit_whistle(cast.s01_staff, now=t0 + timedelta(minutes=minute))
    assert value(scrape(client), "whistle_submitted_total") == 3  # nothing settled yet: counted in full

    assert submissions_settle(now=t0 + timedelta(minutes=11, seconds=30)) == 2  # up to ten minutes back
    assert submissions_settle(now=t0 + timedelta(minutes=11, seconds=30)) == 0  # each range counted once
    assert value(scrape(client), "whistle_submitted_total") == 3
    submit_whistle(cast.s01_staff, now=t0 + timedelta(minutes=20))
    assert value(scrape(client), "whistle_submitted_total") == 4

    assert submissions_settle(now=t0 + timedelta(minutes=40)) == 2
    samples = scrape(client)
    assert value(samples, "whistle_submitted_total") == 4
    assert Figure.objects.get(name="whistle_submitted_settled").value == 4


@pytest.mark.django_db
def test_the_whistles_waiting_for_routing_are_a_gauge(client, cast):
    whistle = submit_whistle(cast.s01_staff).whistle
    assert value(scrape(client), "whistle_waiting_for_routing") == 1

    whistle_route(whistle_id=whistle.pk)

    assert value(scrape(client), "whistle_waiting_for_routing") == 0


@pytest.mark.django_db
def test_a_scrape_costs_the_same_few_queries_however_many_whistles_and_departments(
    client, cast, django_assert_max_num_queries
):
    an_hour_ago = timezone.now() - timedelta(hours=1)
    for category in ("ENV-COMPOUND", "ORDER-PUBLIC", "ENV-COMPOUND"):
        whistle_route(whistle_id=submit_whistle(cast.s01_staff, category=category, now=an_hour_ago).whistle.pk)
    assert submissions_settle() == 3
    scrape(client)  # the tally is counted here; it is young for the next scrape

    with django_assert_max_num_queries(6):
        samples = scrape(client)

    assert value(samples, "whistle_open_tasks", department="T01") == 1
    assert value(samples, "whistle_submitted_total") == 3
