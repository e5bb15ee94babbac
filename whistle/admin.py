"""Whistles in the admin are for looking up, not for changing: every change goes through a service."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from whistle.models import (
    Callback,
    Event,
    Extension,
    Feedback,
    JointMeeting,
    MeetingAttendance,
    Notification,
    Rating,
    Task,
    Whistle,
)
from whistle.permissions import sees_caller

CALLER_FIELDS = frozenset({"caller_name", "caller_phone", "caller_email"})
FACTS = {"old": "old_facts", "new": "new_facts"}


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never added, changed or deleted: changes go through the services, events are
    append-only, and deleting a whistle or a task would take its events with it."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _without_caller(facts):
    if not isinstance(facts, dict):
        return facts
    return {key: value for key, value in facts.items() if key not in CALLER_FIELDS}


class EventFactsMixin:
    """An event's before/after facts, without a caller's name, phone or e-mail for whoever may not see them.

    Merges once recorded the duplicate's caller in the primary's event (duplicate_attached).
    """

    @admin.display(description=_("before"))
    def old_facts(self, event):
        return _without_caller(event.old)

    @admin.display(description=_("after"))
    def new_facts(self, event):
        return _without_caller(event.new)

    def get_fields(self, request, obj=None):
        fields = [name for name in super().get_fields(request, obj) if name not in FACTS.values()]
        if sees_caller(request.user):
            return fields
        return [FACTS.get(name, name) for name in fields]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *FACTS.values()]


class TaskInline(admin.TabularInline):
    model = Task
    extra = 0
    fields = ["department", "role", "status", "acknowledge_due_at", "checkin_due_at", "resolve_due_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class EventInline(EventFactsMixin, admin.TabularInline):
    model = Event
    extra = 0
    fields = ["created_at", "verb", "actor", "system_actor", "reason", "old", "new"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Whistle)
class WhistleAdmin(ReadOnlyAdmin):
    list_display = ["number", "title", "category", "grade", "source", "status", "street", "created_at"]
    list_filter = ["status", "grade", "source", "mode", "street", "category"]
    list_select_related = ["category", "street"]
    search_fields = ["number", "title", "external_id", "address"]
    date_hierarchy = "created_at"
    inlines = [TaskInline, EventInline]

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        # The same rule as the pages and the API (whistle.permissions.sees_caller).
        return fields if sees_caller(request.user) else [name for name in fields if name not in CALLER_FIELDS]


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ["whistle", "department", "role", "status", "acknowledge_due_at", "resolve_due_at"]
    list_filter = ["status", "role", "department__kind"]
    list_select_related = ["whistle", "department"]
    search_fields = ["whistle__number", "department__code", "department__name"]


@admin.register(Event)
class EventAdmin(EventFactsMixin, ReadOnlyAdmin):
    list_display = ["created_at", "whistle", "verb", "actor", "system_actor"]
    list_filter = ["verb", "system_actor"]
    list_select_related = ["whistle", "actor"]
    search_fields = ["whistle__number", "verb", "reason"]
    date_hierarchy = "created_at"


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "verb", "whistle", "department", "street", "recipient", "read_at", "emailed_at"]
    list_filter = ["verb"]
    list_select_related = ["whistle", "department", "street", "recipient"]


@admin.register(Feedback)
class FeedbackAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "task", "result", "author"]
    list_filter = ["result"]
    list_select_related = ["task__whistle", "task__department", "author"]
    search_fields = ["task__whistle__number", "actions"]


@admin.register(Extension)
class ExtensionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "task", "until", "status", "decided_by", "decided_at"]
    list_filter = ["status"]
    list_select_related = ["task__whistle", "task__department", "decided_by"]
    search_fields = ["task__whistle__number"]


@admin.register(Rating)
class RatingAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "whistle", "department", "response", "attitude", "result", "rated_by"]
    list_filter = ["department__kind"]
    list_select_related = ["whistle", "department", "rated_by"]
    search_fields = ["whistle__number", "department__code", "department__name"]


@admin.register(Callback)
class CallbackAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "whistle", "satisfaction", "solved", "recorded_by"]
    list_filter = ["satisfaction", "solved"]
    list_select_related = ["whistle", "recorded_by"]
    search_fields = ["whistle__number"]


class AttendanceInline(admin.TabularInline):
    model = MeetingAttendance
    extra = 0
    fields = ["department", "status", "checked_in_at", "checked_in_by"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(JointMeeting)
class JointMeetingAdmin(ReadOnlyAdmin):
    list_display = ["scheduled_at", "whistle", "place", "status"]
    list_filter = ["status"]
    list_select_related = ["whistle"]
    search_fields = ["whistle__number", "place"]
    inlines = [AttendanceInline]
