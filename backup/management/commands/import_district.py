"""manage.py import_district FILE: create a district from an export_district file, all or nothing."""

import sys
import time

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backup.transfer import district_import
from config.commands import TranslatedCommand
from config.errors import ApplicationError


class Command(TranslatedCommand):
    help = gettext_lazy(
        "Create a district, with everything that belonged to it, from a file written by export_district. Refuses "
        "a district, code or member this installation has already; on any problem nothing is imported."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help=_("The export file; - reads standard input."))

    def handle(self, *args, path: str, **options):
        started = time.monotonic()
        try:
            if path == "-":
                result = district_import(stream=sys.stdin)
            else:
                with open(path, encoding="utf-8") as stream:
                    result = district_import(stream=stream)
        except FileNotFoundError:
            raise CommandError(_("%(path)s: no such file") % {"path": path}) from None
        except OSError as exc:
            raise CommandError(
                _("%(path)s cannot be read: %(reason)s") % {"path": path, "reason": exc.strerror}
            ) from None
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Imported district %(district)s (%(seconds).1f s): %(rows)d rows, %(whistles)d whistles, "
                    "%(events)d events, %(files)d attachment files; %(users)d users created, %(found)d found here "
                    "already; %(categories)d categories created, %(shared)d found here already."
                )
                % {
                    "district": result.district,
                    "seconds": time.monotonic() - started,
                    "rows": result.rows,
                    "whistles": result.counts["whistle.whistle"],
                    "events": result.counts["whistle.event"],
                    "files": result.files,
                    "users": result.counts["auth.user"],
                    "found": result.found.get("auth.user", 0),
                    "categories": result.counts["departments.category"],
                    "shared": result.found.get("departments.category", 0),
                }
            )
        )
        if options["verbosity"] > 1:
            for name, count in result.counts.items():
                self.stdout.write(f"  {name}: {count}")
