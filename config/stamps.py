"""Version stamps for per-process caches of tables that rarely change.

A stamp model has one row (id 1) with a `version` column. Every change to
the cached tables renews the stamp in the same transaction; each process
keeps its cache until the stamp it reads differs. Used by the location index
(grids.locate) and the deadline calendar (escalation.policy).
"""

import secrets

from django.db import connection
from django.db.models.signals import post_delete, post_save

_sql: dict[type, str] = {}


def read_stamp(model) -> int:
    # Every cached lookup pays this read, so it skips the ORM: a plain
    # statement costs about 30 µs here against about 600 µs for a queryset.
    sql = _sql.get(model)
    if sql is None:
        sql = _sql[model] = f"SELECT version FROM {connection.ops.quote_name(model._meta.db_table)} WHERE id = 1"
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    return row[0] if row else 0


def renew_stamp(model) -> None:
    """Tell every process its cache is stale; call inside the transaction that made the change.

    The stamp is random rather than a counter: after a rolled-back change a
    counter would come back to a number some process already built a cache
    for, from rows that were never committed.
    """
    stamp = secrets.randbits(62)
    if not model.objects.filter(pk=1).update(version=stamp):
        model.objects.update_or_create(pk=1, defaults={"version": stamp})


def renew_stamp_on_change(stamp_model, senders) -> None:
    """Renew the stamp whenever a row of `senders` is saved or deleted.

    The cache is a bystander: it only needs to know that something changed,
    in the same transaction. Bulk writes send no signal: whoever does them
    calls renew_stamp() itself.
    """

    def changed(**kwargs):
        renew_stamp(stamp_model)

    for sender in senders:
        for signal in (post_save, post_delete):
            signal.connect(
                changed,
                sender=sender,
                weak=False,
                dispatch_uid=f"stamp.{stamp_model._meta.label}.{signal is post_save}.{sender._meta.label}",
            )
