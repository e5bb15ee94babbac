from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from escalation.models import (
    AccountabilityNote,
    AccountabilityRecord,
    EvaluationWeights,
    ProblemTopic,
    SlaPolicy,
    SupervisionOrder,
    WorkCalendarDay,
    WorkCalendarYear,
    WorkSchedule,
)

# Saving any of these renews the calendar version stamp (a signal in
# escalation.models), so every process picks the edit up at its next deadline.


@admin.register(WorkCalendarDay)
class WorkCalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "weekday", "is_working_day", "name", "source", "updated_at"]
    list_filter = ["is_working_day", "source"]
    search_fields = ["name"]
    date_hierarchy = "date"
    readonly_fields = ["source", "updated_at"]
    ordering = ["-date"]

    @admin.display(description=_("weekday"), ordering="date")
    def weekday(self, obj):
        return obj.date.strftime("%a")

    def save_model(self, request, obj, form, change):
        # A day an administrator touched is theirs: seed_calendar keeps it
        # unless told to replace manual entries.
        obj.source = WorkCalendarDay.Source.ADMINISTRATOR
        super().save_model(request, obj, form, change)


@admin.register(WorkCalendarYear)
class WorkCalendarYearAdmin(admin.ModelAdmin):
    list_display = ["year", "complete", "note"]
    list_filter = ["complete"]
    search_fields = ["year", "note"]


@admin.register(WorkSchedule)
class WorkScheduleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "day_start", "day_end"]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not WorkSchedule.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "grade",
        "acknowledge",
        "checkin",
        "resolve",
        "warning_ratio",
        "requires_joint_meeting",
        "updated_at",
    ]
    readonly_fields = ["updated_at"]
    fieldsets = [
        (None, {"fields": ["grade", "requires_joint_meeting", "warning_ratio"]}),
        (_("Acknowledge (签收)"), {"fields": [("acknowledge_amount", "acknowledge_unit")]}),
        (_("Check in (报到)"), {"fields": [("checkin_amount", "checkin_unit")]}),
        (_("Resolve (办结)"), {"fields": [("resolve_amount", "resolve_unit")]}),
        (
            _("Escalation (督办, 问责)"),
            {
                "fields": [
                    ("supervise_after_amount", "supervise_after_unit"),
                    ("accountable_after_amount", "accountable_after_unit"),
                    ("reply_within_amount", "reply_within_unit"),
                ]
            },
        ),
        (None, {"fields": ["updated_at"]}),
    ]

    @admin.display(description=_("acknowledge within"))
    def acknowledge(self, obj):
        return f"{obj.acknowledge_amount} {obj.get_acknowledge_unit_display()}"

    @admin.display(description=_("check in within"))
    def checkin(self, obj):
        return f"{obj.checkin_amount} {obj.get_checkin_unit_display()}"

    @admin.display(description=_("resolve within"))
    def resolve(self, obj):
        return f"{obj.resolve_amount} {obj.get_resolve_unit_display()}"

    def has_delete_permission(self, request, obj=None):
        # Every grade needs its policy: routing would stop without it.
        return False


class LookOnlyAdmin(admin.ModelAdmin):
    """Supervision orders and accountability records change only through their services (and are never deleted)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SupervisionOrder)
class SupervisionOrderAdmin(LookOnlyAdmin):
    list_display = ["__str__", "task", "status", "automatic", "reply_by", "created_at"]
    list_filter = ["status", "automatic"]
    list_select_related = ["task__whistle", "task__department"]
    search_fields = ["task__whistle__number", "task__department__name", "reason"]


class NoteInline(admin.TabularInline):
    model = AccountabilityNote
    extra = 0
    fields = ["created_at", "author", "text"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AccountabilityRecord)
class AccountabilityRecordAdmin(LookOnlyAdmin):
    list_display = ["created_at", "department", "kind", "whistle"]
    list_filter = ["kind"]
    list_select_related = ["department", "whistle"]
    search_fields = ["whistle__number", "department__name", "facts"]
    inlines = [NoteInline]


@admin.register(EvaluationWeights)
class EvaluationWeightsAdmin(admin.ModelAdmin):
    """The weights of the three rates in the composite score; a district without a row scores 30/40/30."""

    list_display = ["district", "response", "resolution", "satisfaction", "updated_at"]
    list_select_related = ["district"]
    search_fields = ["district__code", "district__name"]
    readonly_fields = ["updated_at"]


@admin.register(ProblemTopic)
class ProblemTopicAdmin(LookOnlyAdmin):
    """Problems of the month are adopted by supervisors (escalation.topics), never edited here."""

    list_display = ["period", "title", "category", "street", "community", "adopted_by", "created_at"]
    list_filter = ["period", "category"]
    list_select_related = ["category", "street", "community", "adopted_by"]
    search_fields = ["title", "category__name", "street__name", "community__name"]
    raw_id_fields = ["whistles"]
