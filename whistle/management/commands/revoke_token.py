"""python manage.py revoke_token USERNAME: withdraw a machine client's API token; its requests are refused at once."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.authtoken.models import Token

from config.commands import TranslatedCommand


class Command(TranslatedCommand):
    help = gettext_lazy(
        "Withdraw a user's API token: requests with it are refused from now on. issue_token gives a new one."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        User = get_user_model()
        user = User.objects.filter(**{User.USERNAME_FIELD: username}).first()
        if user is None:
            raise CommandError(_("There is no user %(username)s.") % {"username": username})
        deleted, _rows = Token.objects.filter(user=user).delete()
        if deleted:
            self.stdout.write(_("The API token of %(username)s is withdrawn.") % {"username": username})
        else:
            self.stdout.write(_("%(username)s has no API token: nothing to withdraw.") % {"username": username})
