"""Two counts of the dashboard's tally at once (two beats, a backlog) leave one tally, not two."""

import threading

import pytest
from django.db import connection, transaction

from escalation.models import OpenTaskTally
from escalation.services import open_tasks_tally
from tests.escalation.test_sweep import routed


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_second_count_waits_for_the_first_and_replaces_it(cast):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: the race needs PostgreSQL")
    routed(cast.s01_staff)
    routed(cast.s01_staff, category="ORDER-PUBLIC")
    open_tasks_tally()
    rows = OpenTaskTally.objects.count()
    first_counted, release = threading.Event(), threading.Event()

    def first():
        with transaction.atomic():  # holds its count uncommitted until released
            open_tasks_tally()
            first_counted.set()
            release.wait(10)
        connection.close()

    def second():
        first_counted.wait(10)
        open_tasks_tally()
        connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_counted.wait(10)
    threading.Event().wait(0.5)  # the second is now waiting for the first
    release.set()
    for thread in threads:
        thread.join(20)

    assert rows > 0
    assert OpenTaskTally.objects.count() == rows
