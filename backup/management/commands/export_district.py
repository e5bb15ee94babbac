"""manage.py export_district CODE [--output FILE|-]: one district with everything that belongs to it, as JSON."""

import os
import tempfile
import time
from pathlib import Path

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backup.transfer import ExportResult, district_export
from config.commands import TranslatedCommand
from config.errors import ApplicationError


class Command(TranslatedCommand):
    help = gettext_lazy(
        "Write one district — its geography, units, members, catalogue, whistles with their whole history and "
        "attachment files, supervision and evaluation — as JSON, for import_district on another installation."
    )

    def add_arguments(self, parser):
        parser.add_argument("code", help=_("The district's code."))
        parser.add_argument(
            "--output",
            "-o",
            default="-",
            help=_("The file to write; - (the default) writes to standard output."),
        )

    def handle(self, *args, code: str, output: str, **options):
        started = time.monotonic()
        try:
            if output == "-":
                result = district_export(code=code, out=_Text(self.stdout))
            else:
                result = _export_to_file(code=code, path=Path(output))
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        message = _(
            "Exported district %(district)s (%(seconds).1f s): %(rows)d rows, %(whistles)d whistles, %(events)d "
            "events, %(files)d attachment files."
        ) % {
            "district": result.district,
            "seconds": time.monotonic() - started,
            "rows": result.rows,
            "whistles": result.counts["whistle.whistle"],
            "events": result.counts["whistle.event"],
            "files": result.files,
        }
        # With the JSON on standard output, the summary goes to standard error.
        (self.stderr if output == "-" else self.stdout).write(message, style_func=self.style.SUCCESS)
        if options["verbosity"] > 1:
            for name, count in result.counts.items():
                self.stderr.write(f"  {name}: {count}", style_func=self.style.SUCCESS)


class _Text:
    """Django's OutputWrapper ends every write with a newline unless told otherwise."""

    def __init__(self, wrapper):
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, ending="")


def _export_to_file(*, code: str, path: Path) -> ExportResult:
    """Write beside the target and rename at the end: a failed export leaves no half-written file."""
    try:
        handle = tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.resolve().parent, prefix=f".{path.name}.", delete=False
        )
    except OSError as exc:
        raise CommandError(
            _("%(path)s cannot be written: %(reason)s") % {"path": path, "reason": exc.strerror}
        ) from None
    try:
        with handle:
            result = district_export(code=code, out=handle)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return result
