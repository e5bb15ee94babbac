"""Whistles in the admin are for looking up, not for changing: every change goes through a service."""

from django.contrib import admin

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


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TaskInline(admin.TabularInline):
    model = Task
    extra = 0
    fields = ["department", "role", "status", "acknowledge_due_at", "checkin_due_at", "resolve_due_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class EventInline(admin.TabularInline):
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


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ["whistle", "department", "role", "status", "acknowledge_due_at", "resolve_due_at"]
    list_filter = ["status", "role", "department__kind"]
    list_select_related = ["whistle", "department"]
    search_fields = ["whistle__number", "department__code", "department__name"]


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
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
