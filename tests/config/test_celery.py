import pytest
from django.conf import settings
from django.db import connection

from config.celery import ping


@pytest.mark.live_worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_live_worker_consumes_a_task_on_the_configured_broker_and_test_database(live_worker):
    answer = ping.apply_async().get(timeout=30)

    assert answer == {"database": str(settings.DATABASES["default"]["NAME"]), "vendor": connection.vendor}


def test_tasks_are_acknowledged_late_and_given_back_when_the_worker_dies():
    from config.celery import app

    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
