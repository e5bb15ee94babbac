"""Forms of the task pages: they parse and render input; the task services validate it.

As with whistle.forms, a field only turns text into a Python value; the
service checks every rule and the form shows its messages beside the field
they name (ServiceErrorsMixin).
"""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from departments.models import Category, Department, Grade
from grids.models import Street
from grids.selectors import in_users_district
from whistle.forms import ServiceErrorsMixin
from whistle.models import DESCRIPTION_MAX_LENGTH, Feedback, Task

TEXTAREA = {"rows": 3, "class": "form-control", "maxlength": DESCRIPTION_MAX_LENGTH}
LIGHT_CHOICES = (("green", _("green: on time")), ("yellow", _("yellow: warning")), ("red", _("red: overdue")))


class _Styled(ServiceErrorsMixin, forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, (forms.HiddenInput, forms.RadioSelect)):
                continue
            widget.attrs.setdefault("class", "form-select" if isinstance(widget, forms.Select) else "form-control")


class CheckInForm(_Styled):
    lon = forms.FloatField(label=_("Longitude"), required=False)
    lat = forms.FloatField(label=_("Latitude"), required=False)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={**TEXTAREA, "rows": 2}))

    def service_kwargs(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in ("lon", "lat")} | {
            "note": self.cleaned_data.get("note", "")
        }


class ProgressForm(_Styled):
    note = forms.CharField(label=_("Progress note"), required=False, widget=forms.Textarea(attrs=TEXTAREA))

    def service_kwargs(self) -> dict:
        return {"note": self.cleaned_data.get("note", "")}


class ReturnForm(_Styled):
    reason_code = forms.ChoiceField(
        label=_("Reason"), required=False, choices=[("", _("Choose a reason"))] + Task.ReturnReason.choices
    )
    reason = forms.CharField(label=_("Explanation"), required=False, widget=forms.Textarea(attrs=TEXTAREA))
    suggested_department = forms.ChoiceField(label=_("Suggested department"), required=False)

    def __init__(self, *args, task: Task, **kwargs):
        super().__init__(*args, **kwargs)
        departments = Department.objects.filter(district_id=task.whistle.street.district_id).exclude(
            pk=task.department_id
        )
        self.fields["suggested_department"].choices = [("", _("None"))] + [
            (code, f"{code} {name}") for code, name in departments.order_by("code").values_list("code", "name")
        ]

    def service_kwargs(self) -> dict:
        return {name: self.cleaned_data.get(name, "") for name in ("reason_code", "reason", "suggested_department")}


class ExtensionForm(_Styled):
    until = forms.DateTimeField(
        label=_("Resolve by"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    reason = forms.CharField(label=_("Reason"), required=False, widget=forms.Textarea(attrs=TEXTAREA))

    def service_kwargs(self) -> dict:
        return {"until": self.cleaned_data.get("until"), "reason": self.cleaned_data.get("reason", "")}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Any number of files; which are acceptable (type, size, count) is the service's rule."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,.pdf"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else [data]
        return [file for file in files if file]


class CloseForm(_Styled):
    actions = forms.CharField(label=_("Actions taken"), required=False, widget=forms.Textarea(attrs=TEXTAREA))
    result = forms.ChoiceField(
        label=_("Result"), required=False, choices=Feedback.Result.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        help_text=_("Required when the matter is unsolvable: why."),
        widget=forms.Textarea(attrs={**TEXTAREA, "rows": 2}),
    )
    files = MultipleFileField(
        label=_("Photos and documents"), help_text=_("JPEG, PNG or WebP photos and PDF documents.")
    )

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "actions": data.get("actions", ""),
            "result": data.get("result", ""),
            "note": data.get("note", ""),
            "files": data.get("files", []),
        }


class ReleaseForm(_Styled):
    note = forms.CharField(label=_("Why"), required=False, widget=forms.Textarea(attrs={**TEXTAREA, "rows": 2}))

    def service_kwargs(self) -> dict:
        return {"note": self.cleaned_data.get("note", "")}


class GrantForm(_Styled):
    username = forms.CharField(label=_("User name"), required=False, max_length=150)

    def service_kwargs(self) -> dict:
        return {"username": self.cleaned_data.get("username", "")}


class DecisionForm(_Styled):
    decision = forms.ChoiceField(
        label=_("Decision"),
        required=False,
        choices=(("approve", _("approve")), ("refuse", _("refuse"))),
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={**TEXTAREA, "rows": 2}))

    def service_kwargs(self) -> dict:
        return {"decision": self.cleaned_data.get("decision", ""), "note": self.cleaned_data.get("note", "")}


# The form of each task action on the task page, by the action's name in task_selectors.task_actions.
ACTION_FORMS = {
    "check_in": CheckInForm,
    "progress": ProgressForm,
    "return": ReturnForm,
    "extension": ExtensionForm,
    "close": CloseForm,
    "release": ReleaseForm,
    "grant": GrantForm,
}


class TaskFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Task.Status.choices, empty_label=_("any"))
    light = django_filters.ChoiceFilter(
        label=_("Light"), field_name="light", choices=LIGHT_CHOICES, empty_label=_("any")
    )
    grade = django_filters.ChoiceFilter(
        label=_("Grade"), field_name="whistle__grade", choices=Grade.choices, empty_label=_("any")
    )
    street = django_filters.ModelChoiceFilter(
        label=_("Street"),
        field_name="whistle__street",
        # The user's district only: another district's streets are not the user's to see.
        queryset=lambda request: in_users_district(Street.objects.order_by("code"), "district_id", request.user),
        to_field_name="code",
        empty_label=_("any"),
    )
    category = django_filters.ModelChoiceFilter(
        label=_("Category"),
        field_name="whistle__category",
        queryset=Category.objects.order_by("code"),
        to_field_name="code",
        empty_label=_("any"),
    )

    class Meta:
        model = Task
        fields = ["status", "light", "grade", "street", "category"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.form.fields.values():
            field.widget.attrs["class"] = "form-select form-select-sm"
