from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WhistleConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "whistle"
    verbose_name = _("Whistles")
