"""Forms of the supervisor pages: filters of the dashboard and the lists, and the order and ledger actions.

As in whistle.forms, a field only turns text into a Python value; the
escalation services check every rule and the form shows their messages beside
the field they name (ServiceErrorsMixin). The dashboard's filter set is the
API's too, so the page and the endpoint accept the same filters.
"""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from departments.models import Category, Department, Grade
from escalation.models import AccountabilityRecord
from escalation.selectors import ORDER_FILTERS, created_between
from grids.models import Street
from whistle.forms import ServiceErrorsMixin
from whistle.models import DESCRIPTION_MAX_LENGTH, Task
from whistle.permissions import membership_of
from whistle.task_selectors import RED, YELLOW

TEXTAREA = {"rows": 3, "class": "form-control", "maxlength": DESCRIPTION_MAX_LENGTH}
LIGHT_CHOICES = ((YELLOW, _("warning")), (RED, _("overdue")))


def _district_id(request) -> int | None:
    """The district whose units the filters offer; None for an administrator (every district)."""
    membership = membership_of(request.user) if request is not None else None
    return membership.district_id if membership else None


def _in_district(model):
    def queryset(request):
        district_id = _district_id(request)
        units = model.objects.order_by("code")
        return units.filter(district_id=district_id) if district_id else units

    return queryset


class DashboardFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        start, end = data.get("created_from"), data.get("created_to")
        if start and end and end < start:
            self.add_error("created_to", _("The period must not end before it starts."))
        return data


class DashboardFilter(django_filters.FilterSet):
    """The filters of the overdue dashboard, over open_tasks(): period, street, department, grade, category, light."""

    created_from = django_filters.DateFilter(
        label=_("Created from"),
        method="filter_period",
        help_text=_("First day of the period (YYYY-MM-DD), the day the department was summoned."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    created_to = django_filters.DateFilter(
        label=_("Created to"),
        method="filter_period",
        help_text=_("Last day of the period (YYYY-MM-DD), included."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    street = django_filters.ModelChoiceFilter(
        label=_("Street"),
        field_name="whistle__street",
        queryset=_in_district(Street),
        to_field_name="code",
        empty_label=_("any"),
        help_text=_("Street code, e.g. S01."),
    )
    department = django_filters.ModelChoiceFilter(
        label=_("Department"),
        field_name="department",
        queryset=_in_district(Department),
        to_field_name="code",
        empty_label=_("any"),
        help_text=_("Department code, e.g. D13."),
    )
    grade = django_filters.ChoiceFilter(
        label=_("Grade"), field_name="whistle__grade", choices=Grade.choices, empty_label=_("any")
    )
    category = django_filters.ModelChoiceFilter(
        label=_("Category"),
        field_name="whistle__category",
        queryset=Category.objects.order_by("code"),
        to_field_name="code",
        empty_label=_("any"),
        help_text=_("Category code."),
    )
    light = django_filters.ChoiceFilter(
        label=_("Light"),
        choices=LIGHT_CHOICES,
        method="filter_nothing",
        empty_label=_("warning and overdue"),
        help_text=_("yellow (warning) or red (overdue) rows only; the counts always show both."),
    )

    class Meta:
        model = Task
        form = DashboardFilterForm
        fields = ["created_from", "created_to", "street", "department", "grade", "category", "light"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.form.fields.values():
            widget = field.widget
            widget.attrs["class"] = (
                "form-select form-select-sm" if isinstance(widget, forms.Select) else ("form-control form-control-sm")
            )

    def filter_period(self, queryset, name, value):
        # Both ends at once, from the cleaned form: the two fields make one period.
        if name == "created_to" and self.form.cleaned_data.get("created_from"):
            return queryset
        data = self.form.cleaned_data
        return created_between(queryset, data.get("created_from"), data.get("created_to"))

    def filter_nothing(self, queryset, name, value):
        # The light picks the rows of the task list (selectors.late_tasks), not the tasks counted.
        return queryset

    @property
    def light_value(self) -> str:
        return self.form.cleaned_data.get("light", "") if self.is_bound and self.is_valid() else ""


class OrderFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            ("", _("any")),
            ("open", _("open")),
            ("answered", _("answered")),
            ("overdue", _("overdue: open past the reply-by time")),
            ("closed", _("closed")),
        ],
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )

    def status_value(self) -> str:
        value = self.cleaned_data.get("status", "") if self.is_valid() else ""
        return value if value in ORDER_FILTERS else ""


class RecordFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("any")), *AccountabilityRecord.Kind.choices],
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    department = forms.CharField(
        label=_("Department code"),
        required=False,
        max_length=16,
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm", "size": 6}),
    )

    def values(self) -> dict[str, str]:
        if not self.is_valid():
            return {"kind": "", "department": ""}
        return {"kind": self.cleaned_data["kind"], "department": self.cleaned_data["department"].strip().upper()}


# Actions ------------------------------------------------------------------------------------


class _ActionForm(ServiceErrorsMixin, forms.Form):
    """An action's form: its fields parse, the service decides, its messages land beside the fields."""


class OrderOpenForm(_ActionForm):
    reason = forms.CharField(
        label=_("What must the department answer?"), required=False, widget=forms.Textarea(attrs=TEXTAREA)
    )
    reply_by = forms.DateTimeField(
        label=_("Reply by"),
        required=False,
        help_text=_("Leave empty for the deadline policy's reply time."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "class": "form-control"}, format="%Y-%m-%dT%H:%M"),
    )

    def service_kwargs(self) -> dict:
        return {"reason": self.cleaned_data.get("reason", ""), "reply_by": self.cleaned_data.get("reply_by")}


class OrderReplyForm(_ActionForm):
    reply = forms.CharField(label=_("Reply"), required=False, widget=forms.Textarea(attrs=TEXTAREA))

    def service_kwargs(self) -> dict:
        return {"reply": self.cleaned_data.get("reply", "")}


class OrderCloseForm(_ActionForm):
    note = forms.CharField(
        label=_("Closing note"), required=False, widget=forms.Textarea(attrs={**TEXTAREA, "rows": 2})
    )

    def service_kwargs(self) -> dict:
        return {"note": self.cleaned_data.get("note", "")}


class RecordNoteForm(_ActionForm):
    text = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={**TEXTAREA, "rows": 2}))

    def service_kwargs(self) -> dict:
        return {"text": self.cleaned_data.get("text", "")}
