"""python manage.py healthz [--checks beat,worker]: /healthz's checks run here, for container health checks.

Prints the report as JSON; the exit status is 0 when every check named
passes and 1 when one fails. Beat's container uses `--checks beat`: no web
server needed, and nothing but beat's own state can mark it unhealthy.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from config.errors import InvalidInput
from monitoring.health import CHECKS, health_report, parse_checks


class Command(BaseCommand):
    help = "Run the health checks of /healthz (all, or --checks a,b); exit status 1 when one fails."

    def add_arguments(self, parser):
        parser.add_argument("--checks", default="", help=f"Comma-separated, from: {', '.join(CHECKS)}.")

    def handle(self, *args, checks: str, **options):
        try:
            names = parse_checks([checks])
        except InvalidInput as error:
            raise CommandError(" ".join(error.fields["checks"])) from None
        report = health_report(checks=names)
        self.stdout.write(json.dumps(report, ensure_ascii=False))
        if report["status"] != "ok":
            raise SystemExit(1)
