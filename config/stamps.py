"""Version stamps for per-process caches of tables that rarely change.

A stamp model has one row (id 1) with a `version` column. Every change to
the cached tables renews the stamp in the same transaction; each process
keeps its cache until the stamp it reads differs. Used by the location index
(grids.locate) and the deadline calendar (escalation.policy).
"""

import secrets
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from django.db import connection
from django.db.models.signals import m2m_changed, post_delete, post_save

T = TypeVar("T")
_sql: dict[type, str] = {}


def read_stamp(model) -> int:
    # Every cached lookup pays this read, so it skips the ORM: a plain
    # statement costs about 30 µs here against about 600 µs for a queryset.
    sql = _sql.get(model)
    if sql is None:
        # The only name in the statement is a model's table, quoted; there are no values. (A format
        # call, not an f-string: bandit misreads a nosec beside an f-string.)
        table = connection.ops.quote_name(model._meta.db_table)
        sql = _sql[model] = "SELECT version FROM {} WHERE id = 1".format(table)  # noqa: UP032  # nosec B608
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
    """Renew the stamp whenever a row of `senders` is saved or deleted, or their many-to-many links change.

    The cache is a bystander: it only needs to know that something changed,
    in the same transaction. Bulk writes send no signal: whoever does them
    calls renew_stamp() itself.
    """

    def changed(action="", **kwargs):
        if not action.startswith("pre_"):
            renew_stamp(stamp_model)

    for sender in senders:
        links = [field.remote_field.through for field in sender._meta.many_to_many]
        hooks = [("save", post_save, sender), ("delete", post_delete, sender)]
        hooks += [("links", m2m_changed, link) for link in links]
        for name, signal, model in hooks:
            signal.connect(
                changed,
                sender=model,
                weak=False,
                dispatch_uid=f"stamp.{stamp_model._meta.label}.{name}.{model._meta.label}",
            )


class StampedCache(Generic[T]):
    """A value built from the database, kept per process while the stamp stays the same.

    `build(stamp)` makes the value; `get()` pays one stamp read and rebuilds
    only when the stamp differs. The stamp is read before the rows, so a value
    is never older than its stamp: a change committed in between only costs
    one extra rebuild. Values are shared between threads: treat them as read-only.
    """

    def __init__(self, stamp_model, build: Callable[[int], T]):
        self.stamp_model = stamp_model
        self.build = build
        self._lock = threading.Lock()
        self._entry: tuple[int, T] | None = None

    def get(self) -> T:
        stamp = read_stamp(self.stamp_model)
        entry = self._entry
        if entry is not None and entry[0] == stamp:
            return entry[1]
        with self._lock:
            if self._entry is None or self._entry[0] != stamp:
                self._entry = (stamp, self.build(stamp))
            return self._entry[1]

    @property
    def cached(self) -> T | None:
        """The value last built, without reading the stamp (None before the first get())."""
        entry = self._entry
        return entry[1] if entry else None

    def clear(self) -> None:
        self._entry = None
