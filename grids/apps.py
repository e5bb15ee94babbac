from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GridsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "grids"
    verbose_name = _("Geography")

    def ready(self):
        from config.stamps import renew_stamp_on_change
        from grids.models import Community, District, Grid, GridIndexVersion, Street

        # The location index caches each grid with its community, street and district.
        renew_stamp_on_change(GridIndexVersion, (District, Street, Community, Grid))
