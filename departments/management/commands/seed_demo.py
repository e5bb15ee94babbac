"""manage.py seed_demo: build (or complete) the demo district; safe to run again."""

import time

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.commands import TranslatedCommand
from departments.demo import DEMO_PASSWORD, DemoSeedError, demo_district_seed


class Command(TranslatedCommand):
    help = gettext_lazy(
        "Build the demo district: streets, communities, grids, departments, the responsibility catalogue and demo "
        "users. Running it again changes nothing. Refuses to run when DEBUG is off."
    )

    def handle(self, *args, **options):
        started = time.monotonic()
        try:
            result = demo_district_seed()
        except DemoSeedError as exc:
            raise CommandError(str(exc)) from None
        totals = result.totals
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Demo district %(district)s is ready (%(seconds).1f s): %(streets)d streets and townships, "
                    "%(communities)d communities, %(grids)d grids, %(departments)d departments, stations and "
                    "enterprises, %(categories)d categories, %(responsibilities)d responsibility rules, %(users)d users."
                )
                % {"district": result.district, "seconds": time.monotonic() - started, **totals}
            )
        )
        if result.created or result.updated:
            self.stdout.write(
                _("This run created %(created)d rows and updated %(updated)d.")
                % {"created": result.created, "updated": result.updated}
            )
        else:
            self.stdout.write(_("Everything was already in place: nothing was changed."))
        self.stdout.write(_("Demo logins, all with the password %(password)s:") % {"password": DEMO_PASSWORD})
        for line in (
            _("admin (superuser), supervisor (supervision office), hotline (12345 hotline client)"),
            _(
                "per street or township: s01_staff, s01_deputy, s01_head, s01_party, s01_grid, s01_dispatcher "
                "… s18_dispatcher"
            ),
            _("per department: d01_staff, d01_head … d74_head"),
            _("per grassroots station: t01_staff, t01_head … t57_head"),
            _("per public-service enterprise: e01_staff, e01_head … e20_head"),
        ):
            self.stdout.write(f"  {line}")
