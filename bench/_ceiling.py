"""The ceiling of bench/pipeline.py: a Celery task that does one ORM insert and nothing else.

Not a benchmark (the Makefile skips bench/_*.py): the benchmark's worker
imports it with `--include bench._ceiling`. The row is an auth Group in the
benchmark's scratch database, named after the run, so the benchmark counts
its own rows.
"""

from celery import shared_task


@shared_task(name="bench.ceiling_insert", acks_late=True)
def ceiling_insert(run: str, n: int) -> None:
    from django.contrib.auth.models import Group

    Group.objects.create(name=f"{run}-{n}")
