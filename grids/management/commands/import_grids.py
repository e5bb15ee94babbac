"""manage.py import_grids FILE.geojson: create or update grids from a GeoJSON FeatureCollection."""

import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from tqdm import tqdm

from grids.services import GridImportError, grids_import, parse_feature_collection


class Command(BaseCommand):
    help = (
        "Create or update grids (by code) from a GeoJSON FeatureCollection whose features carry "
        "street, community, community_name (for a new community), code and name. All or nothing: "
        "on any problem every problem is listed and nothing is saved."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="GeoJSON file (UTF-8)")
        parser.add_argument("--no-progress", action="store_true", help="do not show a progress bar")

    def handle(self, *args, path: str, no_progress: bool, **options):
        text = _read(path)
        try:
            features = parse_feature_collection(text=text)
        except GridImportError as exc:
            raise CommandError(_("%(path)s: %(reason)s") % {"path": path, "reason": exc}) from None
        # tqdm redraws its line with "\r"; Django's OutputWrapper would end every
        # redraw with a newline, so the bar goes straight to the process's stderr.
        show_progress = not no_progress and sys.stderr.isatty()
        try:
            with tqdm(total=len(features), unit=_("feature"), file=sys.stderr, disable=not show_progress) as bar:
                result = grids_import(features=features, progress=bar.update)
        except GridImportError as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(
                ngettext(
                    "%(path)s: %(count)d problem; nothing was imported.",
                    "%(path)s: %(count)d problems; nothing was imported.",
                    len(exc.problems),
                )
                % {"path": path, "count": len(exc.problems)}
            ) from None
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Imported %(total)d grids from %(path)s: %(created)d created, %(updated)d updated; "
                    "%(communities)d communities created."
                )
                % {
                    "total": result.total,
                    "path": path,
                    "created": result.created,
                    "updated": result.updated,
                    "communities": result.communities_created,
                }
            )
        )


def _read(path: str) -> str:
    try:
        # utf-8-sig: GIS tools on Windows often start UTF-8 files with a byte-order mark.
        with open(path, encoding="utf-8-sig") as file:
            return file.read()
    except FileNotFoundError:
        raise CommandError(_("%(path)s: no such file") % {"path": path}) from None
    except UnicodeDecodeError as exc:
        raise CommandError(_("%(path)s is not UTF-8 text (%(detail)s)") % {"path": path, "detail": exc}) from None
    except OSError as exc:
        raise CommandError(_("%(path)s cannot be read: %(reason)s") % {"path": path, "reason": exc.strerror}) from None
