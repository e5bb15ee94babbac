"""API input and output shapes of the supervisor endpoints.

As in whistle.serializers: input serializers check JSON types only, every
rule is the service's; output serializers render what the selectors loaded
(orders with their task, records with their notes and events) without a
query per row.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api import OffsetDateTimeField, StrictCharField
from escalation.models import AccountabilityRecord, SupervisionOrder
from whistle.models import Task
from whistle.task_serializers import TaskSummarySerializer

# Input ------------------------------------------------------------------------------------


class StrictIntegerField(serializers.IntegerField):
    """A JSON number without a fraction: "12" and true are not ids."""

    default_error_messages = {"invalid": serializers.IntegerField.default_error_messages["invalid"]}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class OrderOpenSerializer(serializers.Serializer):
    task = StrictIntegerField(help_text="The id of an open task of your district.", min_value=1)
    reason = StrictCharField(help_text="What the department must answer; required.")
    reply_by = OffsetDateTimeField(
        help_text="Reply-by time, ISO-8601 with offset, in the future; optional (the deadline policy's reply time)."
    )


class OrderReplySerializer(serializers.Serializer):
    reply = StrictCharField(help_text="The department's answer; required.")


class OrderCloseSerializer(serializers.Serializer):
    note = StrictCharField(help_text="Why the order is closed; required.")


class RecordNoteInputSerializer(serializers.Serializer):
    text = StrictCharField(help_text="The note; required. Records are never changed or deleted, only annotated.")


# Output -----------------------------------------------------------------------------------


class UnitRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class _WhistleBrief(serializers.Serializer):
    number = serializers.CharField()
    title = serializers.CharField()
    grade = serializers.CharField()
    street = UnitRefSerializer()


class OrderTaskSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Task.Status.choices)
    department = UnitRefSerializer()
    whistle = _WhistleBrief()


def _username(user) -> str | None:
    return user.get_username() if user is not None else None


class OrderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField(help_text="DB-<year>-<id>, for people; the API addresses orders by id.")
    status = serializers.ChoiceField(choices=SupervisionOrder.Status.choices)
    overdue = serializers.BooleanField(help_text="Open, and past its reply-by time.")
    automatic = serializers.BooleanField(help_text="Issued by the deadline sweep rather than by hand.")
    reason = serializers.CharField()
    reply_by = serializers.DateTimeField()
    issued_at = serializers.DateTimeField(source="created_at")
    opened_by = serializers.SerializerMethodField()
    reply = serializers.CharField()
    replied_by = serializers.SerializerMethodField()
    replied_at = serializers.DateTimeField(allow_null=True)
    closed_by = serializers.SerializerMethodField()
    closed_at = serializers.DateTimeField(allow_null=True)
    close_note = serializers.CharField()
    unanswered_at = serializers.DateTimeField(
        allow_null=True, help_text="When the sweep found it unanswered and recorded the department."
    )
    task = OrderTaskSerializer()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_opened_by(self, order) -> str | None:
        return _username(order.opened_by)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_replied_by(self, order) -> str | None:
        return _username(order.replied_by)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_closed_by(self, order) -> str | None:
        return _username(order.closed_by)


class LadderEventSerializer(serializers.Serializer):
    time = serializers.DateTimeField(source="created_at")
    verb = serializers.CharField()
    actor = serializers.SerializerMethodField()
    reason = serializers.CharField()

    def get_actor(self, event) -> str:
        return event.actor.get_username() if event.actor_id else event.system_actor


class _RecordBrief(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=AccountabilityRecord.Kind.choices)
    recorded_at = serializers.DateTimeField(source="created_at")


class OrderDetailSerializer(OrderSerializer):
    light = serializers.CharField(
        source="task_light", help_text="The task's light now: green, yellow, red; empty when it is finished."
    )
    events = LadderEventSerializer(many=True, source="task.events.all", help_text="The task's log, oldest first.")
    records = _RecordBrief(many=True, source="accountability.all", help_text="Accountability records it led to.")


class _OrderBrief(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()


class NoteSerializer(serializers.Serializer):
    author = serializers.CharField(source="author.username")
    text = serializers.CharField()
    time = serializers.DateTimeField(source="created_at")


class RecordSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=AccountabilityRecord.Kind.choices)
    department = UnitRefSerializer()
    whistle = _WhistleBrief()
    task = serializers.IntegerField(source="task_id", allow_null=True)
    order = _OrderBrief(allow_null=True)
    facts = serializers.CharField()
    recorded_at = serializers.DateTimeField(source="created_at")
    note_count = serializers.IntegerField()


class RecordDetailSerializer(RecordSerializer):
    notes = NoteSerializer(many=True, source="notes.all")
    events = LadderEventSerializer(many=True, source="events.all", help_text="The events the record is based on.")


# The overdue dashboard --------------------------------------------------------------------


class UnitCountsSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    open = serializers.IntegerField(help_text="Open tasks under the filters.")
    warning = serializers.IntegerField(help_text="Of them, in warning (yellow).")
    overdue = serializers.IntegerField(help_text="Of them, overdue (red).")
    overdue_share = serializers.FloatField(help_text="overdue / open, from 0 to 1.")


class TotalsSerializer(serializers.Serializer):
    open = serializers.IntegerField()
    warning = serializers.IntegerField()
    overdue = serializers.IntegerField()
    overdue_share = serializers.FloatField()


class OrderCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    open = serializers.IntegerField()
    answered = serializers.IntegerField()
    overdue = serializers.IntegerField(help_text="Open and past the reply-by time (also counted in open).")
    closed = serializers.IntegerField()


class RecordCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    overdue = serializers.IntegerField()
    unanswered_order = serializers.IntegerField()
    buck_passing = serializers.IntegerField()


class LateTaskSerializer(TaskSummarySerializer):
    open_order = serializers.IntegerField(
        source="open_order_id", allow_null=True, help_text="Id of the task's open supervision order, if any."
    )


class LateTaskPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = LateTaskSerializer(many=True)


class DashboardSerializer(serializers.Serializer):
    counted_at = serializers.DateTimeField(help_text="When the counts were made (the sweep counts every minute).")
    totals = TotalsSerializer()
    by_department = UnitCountsSerializer(many=True, help_text="Departments with a late task, most overdue first.")
    by_street = UnitCountsSerializer(many=True, help_text="Streets with a late task, most overdue first.")
    orders = OrderCountsSerializer(help_text="Supervision orders you see (not filtered).")
    accountability = RecordCountsSerializer(help_text="Accountability records you see (not filtered).")
    tasks = LateTaskPageSerializer(help_text="Warning and overdue tasks, oldest deadline first; ?page= for more.")
