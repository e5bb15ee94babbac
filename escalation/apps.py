from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EscalationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "escalation"
    verbose_name = _("Supervision and evaluation")

    def ready(self):
        from config.stamps import renew_stamp_on_change
        from escalation.models import CalendarVersion, SlaPolicy, WorkCalendarDay, WorkCalendarYear, WorkSchedule

        # The deadline snapshot caches the calendar, the working hours and the policies.
        renew_stamp_on_change(CalendarVersion, (WorkCalendarDay, WorkCalendarYear, WorkSchedule, SlaPolicy))
