from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DepartmentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "departments"
    verbose_name = _("Departments and responsibilities")

    def ready(self):
        from config.stamps import renew_stamp_on_change
        from departments.models import CatalogueVersion, Category, CategoryAttribute, Department, Responsibility

        # The routing catalogue caches every rule with its department's code and name, and the
        # questions of every category.
        renew_stamp_on_change(CatalogueVersion, (Department, Category, CategoryAttribute, Responsibility))
