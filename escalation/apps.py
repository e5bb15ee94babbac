from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class EscalationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "escalation"
    verbose_name = _("Supervision and evaluation")

    def ready(self):
        from escalation.models import SlaPolicy, WorkCalendarDay, WorkCalendarYear, WorkSchedule
        from escalation.policy import bump_calendar_version

        # The deadline snapshot is a bystander of calendar and policy edits: it
        # only needs to know that something changed, in the same transaction.
        # Bulk writes send no signal: whoever does them calls
        # bump_calendar_version() itself (see seed_calendar).
        def deadline_inputs_changed(**kwargs):
            bump_calendar_version()

        for model in (WorkCalendarDay, WorkCalendarYear, WorkSchedule, SlaPolicy):
            for signal in (post_save, post_delete):
                signal.connect(
                    deadline_inputs_changed,
                    sender=model,
                    weak=False,
                    dispatch_uid=f"escalation.bump_version.{signal is post_save}.{model.__name__}",
                )
