"""python manage.py issue_token USERNAME [--rotate]: the API token of a machine client such as the 12345 hotline."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Print a user's API token, creating it if the user has none; --rotate replaces it."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--rotate",
            action="store_true",
            help="Replace the token: the old one stops working at once.",
        )

    def handle(self, *args, username: str, rotate: bool, **options):
        user = get_user_model().objects.filter(**{get_user_model().USERNAME_FIELD: username}).first()
        if user is None:
            raise CommandError(_("There is no user %(username)s.") % {"username": username})
        with transaction.atomic():
            if rotate:
                Token.objects.filter(user=user).delete()
            token, _created = Token.objects.get_or_create(user=user)
        if not user.is_active:
            self.stderr.write(
                _("User %(username)s is inactive: the token is refused until the user is active again.")
                % {"username": username}
            )
        self.stdout.write(token.key)
