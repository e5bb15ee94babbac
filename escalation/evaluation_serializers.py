"""Output (and adoption input) shapes of the evaluation API (escalation.evaluation_api).

The output serializers read the selectors' dataclasses as they are
(escalation.evaluation, escalation.statistics): no query per row.
"""

from rest_framework import serializers

from config.api import StrictCharField


class RatioSerializer(serializers.Serializer):
    rate = serializers.FloatField(allow_null=True, help_text="numerator ÷ denominator, 0–1; null when nothing counted.")
    numerator = serializers.IntegerField()
    denominator = serializers.IntegerField()


class RatesSerializer(serializers.Serializer):
    response = RatioSerializer(help_text="Tasks acknowledged on time ÷ acknowledgements due in the period.")
    resolution = RatioSerializer(help_text="Whistles judged solved ÷ whistles closed in the period.")
    satisfaction = RatioSerializer(help_text="(Satisfied + basically satisfied) ÷ rated, latest callback per whistle.")


class PeriodSerializer(serializers.Serializer):
    label = serializers.CharField(help_text="YYYY-MM for a month, else from–to.")
    start = serializers.DateField(source="first", help_text="First day (local).")
    end = serializers.DateField(source="last", help_text="Last day (local), included.")


class UnitSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class WeightsSerializer(serializers.Serializer):
    response = serializers.IntegerField(help_text="Per cent; default 30.")
    resolution = serializers.IntegerField(help_text="Per cent; default 40.")
    satisfaction = serializers.IntegerField(help_text="Per cent; default 30.")
    is_default = serializers.BooleanField(help_text="True when no administrator has set the district's weights.")
    defaults = serializers.DictField(child=serializers.IntegerField(), help_text="The defaults: 30, 40, 30.")


class FormulasSerializer(serializers.Serializer):
    response = serializers.CharField()
    resolution = serializers.CharField()
    satisfaction = serializers.CharField()
    score = serializers.CharField()
    rank = serializers.CharField()


class RankRowSerializer(serializers.Serializer):
    code = serializers.CharField(source="unit.code")
    name = serializers.CharField(source="unit.name")
    rank = serializers.IntegerField(allow_null=True, help_text="Equal scores share a rank (1, 1, 3); null: no data.")
    score = serializers.FloatField(allow_null=True, help_text="0–100, the weighted mean of the rates with data.")
    rates = RatesSerializer()
    previous_rank = serializers.IntegerField(allow_null=True)
    previous_score = serializers.FloatField(allow_null=True)
    previous_rates = RatesSerializer()
    rank_change = serializers.IntegerField(allow_null=True, help_text="Previous rank − rank: positive moved up.")
    score_change = serializers.FloatField(allow_null=True)


class _Report(serializers.Serializer):
    district = UnitSerializer()
    period = PeriodSerializer()


class RankingSerializer(_Report):
    level = serializers.ChoiceField(choices=["department", "street"])
    counted_at = serializers.DateTimeField(
        help_text="When the counts were made: a month's come from the evaluation tally, counted every few minutes."
    )
    previous_period = PeriodSerializer(source="previous")
    weights = WeightsSerializer()
    formulas = FormulasSerializer()
    results = RankRowSerializer(many=True, source="rows")


class FiguresRowSerializer(serializers.Serializer):
    code = serializers.CharField(source="unit.code")
    name = serializers.CharField(source="unit.name")
    ratings = serializers.IntegerField(help_text="Ratings by streets (下对上) made in the period.")
    response = serializers.FloatField(allow_null=True, help_text="Average, 1–5.")
    attitude = serializers.FloatField(allow_null=True, help_text="Average, 1–5.")
    result = serializers.FloatField(allow_null=True, help_text="Average, 1–5.")
    overall = serializers.FloatField(allow_null=True, help_text="Mean of the three averages.")
    meeting_absences = serializers.IntegerField(help_text="Absent at joint meetings held in the period.")
    overdue_acknowledge = serializers.IntegerField()
    overdue_checkin = serializers.IntegerField()
    overdue_resolve = serializers.IntegerField()
    overdue = serializers.IntegerField(help_text="Stage deadlines missed in the period, all stages.")
    returns = serializers.IntegerField(help_text="Tasks returned in the period.")
    closed_on_time = RatioSerializer(help_text="Tasks closed by their (extended) resolve-by date ÷ tasks closed.")
    supervision_orders = serializers.IntegerField(help_text="Issued in the period.")
    accountability_records = serializers.IntegerField(help_text="Made in the period.")


class FiguresSerializer(_Report):
    results = FiguresRowSerializer(many=True)


class CountRowSerializer(serializers.Serializer):
    key = serializers.CharField(
        allow_null=True, help_text="Code, choice value, ISO date (a week by its Monday) or YYYY-MM; null: not located."
    )
    name = serializers.CharField()
    count = serializers.IntegerField()
    street = serializers.CharField(help_text="The street's code, for communities and grids.")
    population = serializers.IntegerField(allow_null=True, required=False, help_text="by=street only.")
    grids = serializers.IntegerField(required=False, help_text="by=street only.")
    basis = serializers.CharField(required=False, help_text="by=street: residents, grid or empty.")
    rate = serializers.FloatField(
        allow_null=True, required=False, help_text="by=street: whistles per 10,000 residents, else per grid."
    )
    median = serializers.FloatField(allow_null=True, required=False, help_text="by=street: district median.")
    flag = serializers.CharField(required=False, help_text="by=street: too_low, too_high or empty.")


class ThresholdsSerializer(serializers.Serializer):
    per_residents = serializers.IntegerField()
    low_share = serializers.FloatField(help_text="Below this share of the median: too low.")
    high_multiple = serializers.FloatField(help_text="Above this multiple of the median: too high.")


class StatisticsSerializer(_Report):
    by = serializers.CharField()
    total = serializers.IntegerField()
    thresholds = ThresholdsSerializer()
    results = CountRowSerializer(many=True)


class HighFrequencyRowSerializer(serializers.Serializer):
    category = UnitSerializer()
    street = UnitSerializer()
    community = UnitSerializer(allow_null=True)
    count = serializers.IntegerField()
    previous = serializers.IntegerField(help_text="Whistles of the previous period.")
    change = serializers.IntegerField()
    rising = serializers.BooleanField()
    topic = serializers.IntegerField(allow_null=True, help_text="The problem of the month adopted from this row.")


class HighFrequencySerializer(_Report):
    area = serializers.ChoiceField(choices=["street", "community"])
    previous_period = PeriodSerializer()
    results = HighFrequencyRowSerializer(many=True)


class TrendPointSerializer(serializers.Serializer):
    month = serializers.CharField()
    count = serializers.IntegerField()


class TopicSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    title = serializers.CharField()
    month = serializers.SerializerMethodField()
    category = UnitSerializer()
    street = UnitSerializer(allow_null=True)
    community = UnitSerializer(allow_null=True)
    note = serializers.CharField()
    adopted_by = serializers.CharField(source="adopted_by.username")
    adopted_at = serializers.DateTimeField(source="created_at")
    linked = serializers.IntegerField(help_text="Whistles linked at adoption.")
    trend = TrendPointSerializer(many=True, help_text="Whistles of the category and area, month by month.")

    def get_month(self, topic) -> str:
        return f"{topic.period:%Y-%m}"


class TopicListSerializer(serializers.Serializer):
    district = UnitSerializer()
    results = TopicSerializer(many=True)


class TopicAdoptSerializer(serializers.Serializer):
    period = StrictCharField(help_text="The month, YYYY-MM; required.")
    category = StrictCharField(help_text="Category code; required.")
    street = StrictCharField(help_text="Street code; empty for a community or the whole district.")
    community = StrictCharField(help_text="Community code; empty for a street or the whole district.")
    title = StrictCharField(help_text="Optional; default “category · area”.")
    note = StrictCharField(help_text="Optional.")


class GridWorkerRowSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField()
    street = UnitSerializer(allow_null=True)
    employment = serializers.CharField()
    kind = serializers.CharField()
    grids = serializers.IntegerField()
    reports = serializers.IntegerField(help_text="Grid-worker whistles raised in the period.")
    became_whistles = serializers.IntegerField(help_text="Of those, dispatched to departments and not merged.")
    became_share = serializers.FloatField(allow_null=True)
    merged = serializers.IntegerField(help_text="Of those, merged as duplicates.")
    closed = RatioSerializer(help_text="Whistles closed in the period on time (every task) ÷ closed in the period.")


class GridWorkersSerializer(_Report):
    results = GridWorkerRowSerializer(many=True)
