"""manage.py seed_demo_activity: a month of demo work in the demo district; does nothing once it has whistles."""

import logging
import time
from contextlib import contextmanager

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.commands import TranslatedCommand
from departments.demo import DemoSeedError
from escalation.demo import DEFAULT_COUNT, demo_activity_seed
from whistle.models import Task, Whistle


class Command(TranslatedCommand):
    help = gettext_lazy(
        "Add demo activity to the demo district built by seed_demo: whistles of the past month raised and handled "
        "by the demo users through the real services, then the deadline sweep. Does nothing when the district has "
        "whistles already. Refuses to run when DEBUG is off."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--count", type=int, default=DEFAULT_COUNT, help=gettext_lazy("How many whistles to raise.")
        )

    def handle(self, *args, **options):
        started = time.monotonic()
        if options["count"] < 1:
            raise CommandError(_("--count must be at least 1."))
        try:
            with _quiet("escalation.services"):
                result = demo_activity_seed(count=options["count"])
        except DemoSeedError as exc:
            raise CommandError(str(exc)) from None
        if not result.created:
            self.stdout.write(
                _("%(district)s has %(count)d whistles already: no demo activity was added.")
                % {"district": result.district, "count": result.whistles}
            )
            return
        totals = result.totals
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Demo activity in %(district)s is ready (%(seconds).1f s): %(whistles)d whistles in %(streets)d "
                    "streets and townships over the past %(days)d days (%(past)d of them raised more than 3 days "
                    "ago), %(tasks)d tasks, %(events)d events."
                )
                % {
                    "district": result.district,
                    "seconds": time.monotonic() - started,
                    "whistles": result.whistles,
                    "streets": result.streets,
                    "days": result.days,
                    "past": result.past,
                    "tasks": totals["tasks"],
                    "events": totals["events"],
                }
            )
        )
        self.stdout.write(_("Whistles by status: %(counts)s") % {"counts": _counts(result.statuses, Whistle.Status)})
        self.stdout.write(_("Tasks by status: %(counts)s") % {"counts": _counts(result.tasks, Task.Status)})
        self.stdout.write(
            _("Open tasks: %(green)d green, %(yellow)d yellow (warning), %(red)d red (overdue).")
            % {name: result.lights.get(name, 0) for name in ("green", "yellow", "red")}
        )
        self.stdout.write(
            _(
                "%(meetings)d joint meetings, %(extensions)d extension requests, %(ratings)d ratings, %(callbacks)d "
                "callbacks; the sweep issued %(orders)d supervision orders and %(records)d accountability records."
            )
            % {
                "meetings": totals["meetings"],
                "extensions": totals["extensions"],
                "ratings": totals["ratings"],
                "callbacks": totals["callbacks"],
                "orders": totals["supervision_orders"],
                "records": totals["accountability_records"],
            }
        )


@contextmanager
def _quiet(name: str):
    """The replay sweeps hundreds of times; one log line each would bury the summary."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _counts(counts: dict[str, int], choices) -> str:
    return ", ".join(f"{choices(value).label} {counts[value]}" for value in choices.values if counts.get(value))
