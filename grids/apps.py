from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class GridsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "grids"
    verbose_name = _("Geography")

    def ready(self):
        from grids.locate import bump_grid_version
        from grids.models import Community, District, Grid, Street

        # The location index is a bystander of geography edits: it only needs
        # to know that something changed, in the same transaction as the change.
        # (It caches each grid with its community, street and district.)
        def geography_changed(**kwargs):
            bump_grid_version()

        for model in (District, Street, Community, Grid):
            for signal in (post_save, post_delete):
                signal.connect(
                    geography_changed,
                    sender=model,
                    weak=False,
                    dispatch_uid=f"grids.bump_version.{signal is post_save}.{model.__name__}",
                )
