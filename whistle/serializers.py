"""API input and output shapes of whistles.

Input serializers check types only (a number is a JSON number, a time an
ISO-8601 string); every rule of the domain is the service's, so the API and
the web form can never disagree on what is allowed. Output serializers render
what the selectors loaded, by public codes, never database ids.
"""

from django.utils import timezone
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api import OffsetDateTimeField, StrictCharField, StrictFloatField
from whistle.models import Callback, JointMeeting, MeetingAttendance, Whistle
from whistle.permissions import mask_email, mask_name, mask_phone
from whistle.task_selectors import STAGES, light_of

# Input ------------------------------------------------------------------------------------


class WhistleSubmitSerializer(serializers.Serializer):
    title = StrictCharField(default="", help_text="At most 200 characters.")
    description = StrictCharField(default="", help_text="At most 4,000 characters.")
    category = StrictCharField(default="", help_text="Category code, e.g. ENV-COMPOUND.")
    grade = StrictCharField(help_text="ordinary, priority or difficult; the category's default when left out.")
    source = StrictCharField(
        help_text="street, party_office, hotline or grid_worker; the role's default when left out."
    )
    mode = StrictCharField(help_text="regular (default) or quick.")
    lon = StrictFloatField(help_text="Longitude (WGS 84); give lon and lat, or a grid.")
    lat = StrictFloatField(help_text="Latitude (WGS 84).")
    address = StrictCharField()
    grid = StrictCharField(help_text="Grid code; found from lon/lat when left out.")
    community = StrictCharField(
        help_text="Community code, for a whistle placed by its address only (no point, no grid)."
    )
    street = StrictCharField(help_text="Street code, for a whistle placed by its address only (no point, no grid).")
    external_id = StrictCharField(
        help_text="The caller's own id (the hotline's work-order number): a repeat returns the existing whistle."
    )
    caller_name = StrictCharField()
    caller_phone = StrictCharField()
    caller_email = StrictCharField()
    appointed_checkin_at = OffsetDateTimeField(help_text="Quick whistles: ISO-8601 with offset.")
    attributes = serializers.DictField(
        required=False,
        help_text="Answers to the category's attributes (GET /api/v1/categories/{code}/), by attribute code: "
        "a string, a number, or for a multivaluelist a list of keys.",
    )
    duplicate_of = StrictCharField(
        help_text="Number of an open whistle this one duplicates: stored and merged into it at once, "
        "and no department is summoned for it."
    )


class DecisionSerializer(serializers.Serializer):
    decision = StrictCharField(help_text="approve (the step due for your role) or reject (back to the draft).")
    reason = StrictCharField(help_text="Required when rejecting.")


class DispatchedDepartmentSerializer(serializers.Serializer):
    code = StrictCharField(help_text="Department code, e.g. D13.")
    role = StrictCharField(help_text="lead or co_operating.")


class DispatchSerializer(serializers.Serializer):
    departments = DispatchedDepartmentSerializer(many=True, default=list, help_text="Exactly one lead.")
    note = StrictCharField(help_text="Why these departments; required to summon one that returned the whistle.")


class MergeSerializer(serializers.Serializer):
    into = StrictCharField(help_text="Number of the open whistle this one duplicates.")


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer, nothing else: "3", 3.0 and true are refused; the range is the service's rule."""

    default_error_messages = {"invalid": gettext_lazy("A whole number is required.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return data


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false, nothing else ("yes", 1 and "true" are refused)."""

    default_error_messages = {"invalid": gettext_lazy("true or false is required.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class ReasonSerializer(serializers.Serializer):
    reason = StrictCharField(help_text="Required: why (at most 2,000 characters).")


class RateSerializer(serializers.Serializer):
    department = StrictCharField(help_text="Code of a department that reported in on the whistle, e.g. D13.")
    response = StrictIntegerField(help_text="1–5: how fast the department responded.")
    attitude = StrictIntegerField(help_text="1–5: its attitude.")
    result = StrictIntegerField(help_text="1–5: the result of its work.")
    comment = StrictCharField(help_text="At most 2,000 characters.")


class CallbackInputSerializer(serializers.Serializer):
    satisfaction = StrictCharField(help_text="satisfied, basically_satisfied or dissatisfied.")
    solved = StrictBooleanField(help_text="Whether the citizen says the matter is solved.")
    note = StrictCharField(help_text="What the citizen said; at most 2,000 characters.")


class MeetingCreateSerializer(serializers.Serializer):
    whistle = StrictCharField(help_text="Number of a routed difficult whistle of your street.")
    scheduled_at = OffsetDateTimeField(help_text="ISO-8601 with offset, in the future.")
    place = StrictCharField(help_text="Where; at most 200 characters.")
    agenda = StrictCharField(help_text="What the meeting is to settle.")


# Output -----------------------------------------------------------------------------------


class CodeNameSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class TaskSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    department = CodeNameSerializer()
    role = serializers.CharField()
    status = serializers.CharField()
    acknowledge_due_at = serializers.DateTimeField()
    checkin_due_at = serializers.DateTimeField()
    resolve_due_at = serializers.DateTimeField()
    stage = serializers.SerializerMethodField(
        help_text="The stage due: acknowledge, checkin or resolve; empty when done."
    )
    light = serializers.SerializerMethodField(
        help_text="green, yellow (past the warning) or red (overdue) for the stage due; empty when done."
    )

    def get_stage(self, task) -> str:
        return STAGES[task.status][0] if task.status in STAGES else ""

    def get_light(self, task) -> str:
        return light_of(task, now=timezone.now())


class EventSerializer(serializers.Serializer):
    time = serializers.DateTimeField(source="created_at")
    verb = serializers.CharField()
    actor = serializers.SerializerMethodField(help_text="Username, or the system actor (router, sweeper).")
    system = serializers.SerializerMethodField(help_text="True when the platform itself acted.")
    reason = serializers.CharField()

    def get_actor(self, event) -> str:
        return event.actor.get_username() if event.actor_id else event.system_actor

    def get_system(self, event) -> bool:
        return not event.actor_id


class RatingSerializer(serializers.Serializer):
    department = CodeNameSerializer()
    response = serializers.IntegerField()
    attitude = serializers.IntegerField()
    result = serializers.IntegerField()
    comment = serializers.CharField()
    rated_by = serializers.CharField(source="rated_by.username")
    time = serializers.DateTimeField(source="created_at")


class CallbackSerializer(serializers.Serializer):
    satisfaction = serializers.ChoiceField(choices=Callback.Satisfaction.choices)
    solved = serializers.BooleanField()
    note = serializers.CharField()
    recorded_by = serializers.CharField(source="recorded_by.username")
    time = serializers.DateTimeField(source="created_at")


class AttendanceSerializer(serializers.Serializer):
    department = CodeNameSerializer()
    status = serializers.ChoiceField(choices=MeetingAttendance.Status.choices)
    checked_in_at = serializers.DateTimeField(allow_null=True)


class MeetingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    whistle = serializers.CharField(source="whistle.number")
    scheduled_at = serializers.DateTimeField()
    place = serializers.CharField()
    agenda = serializers.CharField()
    status = serializers.ChoiceField(choices=JointMeeting.Status.choices)
    held_at = serializers.DateTimeField(allow_null=True)
    attendance = AttendanceSerializer(many=True, source="attendance.all")


class WhistleMeetingSerializer(MeetingSerializer):
    """A meeting inside its whistle: the whistle's number goes without saying."""

    whistle = None


class WhistleSummarySerializer(serializers.Serializer):
    number = serializers.CharField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=Whistle.Status.choices)
    category = CodeNameSerializer()
    grade = serializers.CharField()
    source = serializers.ChoiceField(choices=Whistle.Source.choices)
    mode = serializers.ChoiceField(choices=Whistle.Mode.choices)
    street = CodeNameSerializer()
    community = CodeNameSerializer(allow_null=True)
    grid = CodeNameSerializer(allow_null=True)
    lon = serializers.FloatField(allow_null=True)
    lat = serializers.FloatField(allow_null=True)
    address = serializers.CharField()
    reporter = serializers.CharField(source="reporter.username")
    external_id = serializers.CharField()
    merged_into = serializers.CharField(source="merged_into.number", allow_null=True, default=None)
    created_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    routed_at = serializers.DateTimeField(allow_null=True)


class PossibleDuplicateSerializer(WhistleSummarySerializer):
    distance_m = serializers.FloatField(help_text="Metres from the point asked about.")


class WhistleDetailSerializer(WhistleSummarySerializer):
    """The whole whistle; the caller's name and phone are masked unless context["sees_caller"]."""

    description = serializers.CharField()
    caller_name = serializers.SerializerMethodField()
    caller_phone = serializers.SerializerMethodField()
    caller_email = serializers.SerializerMethodField()
    attributes = serializers.DictField(help_text="Answers to the category's attributes, by attribute code.")
    appointed_checkin_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()
    tasks = TaskSerializer(many=True, source="tasks.all")
    routing = serializers.JSONField(help_text="Why each department was chosen: rule, scope, or manual dispatch.")
    events = EventSerializer(many=True, source="events.all")
    duplicates = serializers.SerializerMethodField(help_text="Numbers of the whistles merged into this one.")
    resolved_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    reopens = serializers.IntegerField(help_text="How often the street or a citizen's callback reopened it.")
    escalated_at = serializers.DateTimeField(
        allow_null=True, help_text="When a citizen dissatisfied again sent it to the supervisors."
    )
    ratings = RatingSerializer(many=True, source="ratings.all", help_text="The street's ratings of the departments.")
    callbacks = CallbackSerializer(many=True, source="callbacks.all", help_text="The citizen's verdicts.")
    meetings = WhistleMeetingSerializer(many=True, source="meetings.all", help_text="Joint meetings.")

    def get_caller_name(self, whistle) -> str:
        return whistle.caller_name if self.context.get("sees_caller") else mask_name(whistle.caller_name)

    def get_caller_phone(self, whistle) -> str:
        return whistle.caller_phone if self.context.get("sees_caller") else mask_phone(whistle.caller_phone)

    def get_caller_email(self, whistle) -> str:
        return whistle.caller_email if self.context.get("sees_caller") else mask_email(whistle.caller_email)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_duplicates(self, whistle) -> list[str]:
        return [duplicate.number for duplicate in whistle.duplicates.all()]


class WhistleSubmittedSerializer(WhistleDetailSerializer):
    """The answer to a submission: the whistle, and whether it was new and handed to routing."""

    created = serializers.BooleanField(help_text="False when a whistle with this external_id already existed.")
    enqueued = serializers.BooleanField(
        help_text="False when the routing queue was unreachable: the whistle is stored and is routed once it is back."
    )
    notice = serializers.CharField(allow_blank=True)
