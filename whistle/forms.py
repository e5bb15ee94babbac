"""Forms of the whistle pages: they parse and render input; the services validate it.

The fields here only turn text into Python values (a number, a time); every
rule of the domain — which categories exist, which grades a role may use, that
a point lies on a grid — is checked by the service, whose messages the form
then shows beside the field they name. So the web form and the API can never
disagree on what is allowed.
"""

import django_filters
from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from config.errors import InvalidInput
from departments.attributes import category_attributes_by_code
from departments.models import Category, CategoryAttribute, Grade
from whistle.models import DESCRIPTION_MAX_LENGTH, Callback, Whistle
from whistle.permissions import GRADES_BY_ROLE, SOURCES_BY_ROLE, membership_of
from whistle.selectors import category_choices, dispatch_department_choices, street_grids


class ServiceErrorsMixin:
    def add_service_errors(self, error: InvalidInput) -> None:
        """Show each field's messages in place; messages about fields this form lacks go on top."""
        for name, messages in error.fields.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)
        if not error.fields:
            self.add_error(None, error.message)


def _ordered(choices, allowed) -> list[tuple[str, str]]:
    return [(value, label) for value, label in choices if value in allowed]


# The answers to the category's questions: fields named as whistle_submit names their errors.
ATTRIBUTE_PREFIX = "attributes."


class AnswerListField(forms.Field):
    """The keys ticked of a several-choice question, as a list; the service checks them against the choices."""

    widget = forms.CheckboxSelectMultiple

    def to_python(self, value):
        if not value:
            return []
        return [str(item) for item in value] if isinstance(value, (list, tuple)) else [str(value)]


def attribute_fields(definitions: list[CategoryAttribute]) -> dict[str, forms.Field]:
    """One optional field per question that takes an answer; the service decides what is required and valid."""
    Datatype = CategoryAttribute.Datatype
    fields = {}
    for definition in definitions:
        if not definition.variable:
            continue
        choices = [(item["key"], item["name"]) for item in definition.values or []]
        if definition.datatype == Datatype.TEXT:
            field = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
        elif definition.datatype == Datatype.NUMBER:
            field = forms.CharField(widget=forms.TextInput(attrs={"inputmode": "decimal"}))
        elif definition.datatype == Datatype.DATETIME:
            field = forms.DateTimeField(
                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
            )
        elif definition.datatype == Datatype.SINGLEVALUELIST:
            field = forms.CharField(widget=forms.Select(choices=[("", _("Choose"))] + choices))
        elif definition.datatype == Datatype.MULTIVALUELIST:
            field = AnswerListField(widget=forms.CheckboxSelectMultiple(choices=choices))
        else:
            field = forms.CharField(widget=forms.TextInput(attrs={"maxlength": 200}))
        field.required = False
        field.label = (
            gettext("%(question)s (required)") % {"question": definition.description}
            if definition.required
            else definition.description
        )
        field.help_text = definition.datatype_description
        widget = field.widget
        if not isinstance(widget, forms.CheckboxSelectMultiple):
            widget.attrs.setdefault("class", "form-select" if isinstance(widget, forms.Select) else "form-control")
        fields[ATTRIBUTE_PREFIX + definition.code] = field
    return fields


class AttributesMixin:
    """The category's questions on a form: `attribute_fields` to render, `attribute_answers()` for the service."""

    def add_attribute_fields(self, definitions: list[CategoryAttribute]) -> None:
        self.attribute_notices = [d.description for d in definitions if not d.variable]
        self.fields.update(attribute_fields(definitions))

    @property
    def attribute_fields(self) -> list:
        return [self[name] for name in self.fields if name.startswith(ATTRIBUTE_PREFIX)]

    def attribute_answers(self) -> dict:
        """The answers given, by attribute code; blank ones left out (the service asks for the required ones)."""
        answers = {}
        for name, value in self.cleaned_data.items():
            if name.startswith(ATTRIBUTE_PREFIX) and value not in (None, "", []):
                answers[name.removeprefix(ATTRIBUTE_PREFIX)] = value
        return answers


class AttributeAnswersForm(AttributesMixin, forms.Form):
    """The questions of one category alone: the part of the whistle form swapped when the category changes."""

    def __init__(self, *args, definitions: list[CategoryAttribute], **kwargs):
        super().__init__(*args, **kwargs)
        self.add_attribute_fields(definitions)


class WhistleForm(ServiceErrorsMixin, AttributesMixin, forms.Form):
    category = forms.CharField(label=_("Category"), required=False, widget=forms.Select)
    grade = forms.CharField(label=_("Grade"), required=False, widget=forms.Select)
    source = forms.CharField(label=_("Source"), required=False, widget=forms.Select)
    mode = forms.CharField(
        label=_("Mode"),
        required=False,
        initial=Whistle.Mode.REGULAR,
        widget=forms.RadioSelect(choices=Whistle.Mode.choices),
    )
    appointed_checkin_at = forms.DateTimeField(
        label=_("Appointed check-in time"),
        required=False,
        help_text=_("Quick whistles only: when the department heads are to report in."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    title = forms.CharField(label=_("Title"), required=False, widget=forms.TextInput(attrs={"maxlength": 200}))
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": DESCRIPTION_MAX_LENGTH}),
    )
    address = forms.CharField(label=_("Address"), required=False, widget=forms.TextInput(attrs={"maxlength": 300}))
    lon = forms.FloatField(label=_("Longitude"), required=False, widget=forms.HiddenInput)
    lat = forms.FloatField(label=_("Latitude"), required=False, widget=forms.HiddenInput)
    grid = forms.CharField(label=_("Grid"), required=False, widget=forms.Select)
    # Set by the "mark mine as a duplicate of this one" buttons of the suggestions.
    duplicate_of = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        membership = membership_of(user)
        role = membership.role if membership else None
        self.fields["description"].help_text = gettext(
            "What is wrong, where exactly, since when; at most %(limit)d characters."
        ) % {"limit": DESCRIPTION_MAX_LENGTH}
        self.fields["category"].widget.choices = [("", _("Choose a category"))] + category_choices()
        self.fields["grade"].widget.choices = [("", _("As the category suggests"))] + _ordered(
            Grade.choices, GRADES_BY_ROLE.get(role, ())
        )
        sources = _ordered(Whistle.Source.choices, SOURCES_BY_ROLE.get(role, ()))
        if len(sources) == 1:
            self.fields["source"].widget = forms.HiddenInput()
            self.fields["source"].initial = sources[0][0]
        else:
            self.fields["source"].widget.choices = sources
        self.fields["grid"].widget.choices = [("", _("Found from the point on the map"))] + [
            (grid.code, f"{grid.code} {grid.name} ({grid.community.name})") for grid in street_grids(user=user)
        ]
        category = self.data.get("category") if self.is_bound else self.initial.get("category")
        self.add_attribute_fields(category_attributes_by_code(category if isinstance(category, str) else ""))
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, (forms.HiddenInput, forms.RadioSelect)):
                continue
            widget.attrs.setdefault("class", "form-select" if isinstance(widget, forms.Select) else "form-control")

    def service_kwargs(self) -> dict:
        """The arguments of whistle_submit, from the parsed input."""
        data = self.cleaned_data
        mode = data["mode"] or Whistle.Mode.REGULAR
        return {
            "title": data["title"],
            "description": data["description"],
            "category": data["category"],
            "grade": data["grade"] or None,
            "source": data["source"] or None,
            "mode": mode,
            # The time field is hidden for a regular whistle: what it still holds does not count.
            "appointed_checkin_at": data["appointed_checkin_at"] if mode == Whistle.Mode.QUICK else None,
            "lon": data["lon"],
            "lat": data["lat"],
            "address": data["address"],
            "grid": data["grid"],
            "attributes": self.attribute_answers(),
        }


class RejectForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )


class DispatchForm(ServiceErrorsMixin, forms.Form):
    lead = forms.CharField(
        label=_("Lead department"), required=False, widget=forms.Select(attrs={"class": "form-select"})
    )
    co_operating = forms.Field(
        label=_("Co-operating departments"),
        required=False,
        widget=forms.SelectMultiple(attrs={"class": "form-select", "size": 8}),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        help_text=_("Why these departments; shown in the routing explanation."),
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )

    def __init__(self, *args, whistle: Whistle, **kwargs):
        super().__init__(*args, **kwargs)
        choices = dispatch_department_choices(whistle=whistle)
        self.fields["lead"].widget.choices = [("", _("Choose the lead department"))] + choices
        self.fields["co_operating"].widget.choices = choices

    def departments(self) -> list[dict]:
        """[{code, role}] as whistle_dispatch takes them."""
        lead = self.cleaned_data["lead"]
        co_operating = [code for code in (self.cleaned_data["co_operating"] or []) if code]
        chosen = [{"code": lead, "role": "lead"}] if lead else []
        return chosen + [{"code": code, "role": "co_operating"} for code in co_operating]


class MergeForm(forms.Form):
    into = forms.CharField(
        label=_("Duplicate of whistle number"),
        max_length=32,
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": "S01-2026-000123"}),
    )


class WhistleFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Whistle.Status.choices, empty_label=_("any"))
    category = django_filters.ModelChoiceFilter(
        label=_("Category"),
        queryset=Category.objects.order_by("code"),
        to_field_name="code",
        empty_label=_("any"),
    )
    grade = django_filters.ChoiceFilter(label=_("Grade"), choices=Grade.choices, empty_label=_("any"))

    class Meta:
        model = Whistle
        fields = ["status", "category", "grade"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.form.fields.values():
            field.widget.attrs["class"] = "form-select form-select-sm"


# The street side of a resolved whistle, and joint meetings ------------------------------------

SCORE_CHOICES = [("", "—"), *((str(n), str(n)) for n in range(5, 0, -1))]


def _int_or_none(value: str):
    """The whole number typed, or None for the service to name the field (it knows the rule)."""
    return int(value) if value and value.isdigit() else None


class ReopenForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reopen it, because"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control", "maxlength": 2000}),
    )


class RateForm(ServiceErrorsMixin, forms.Form):
    department = forms.CharField(label=_("Department"), required=False, widget=forms.Select)
    response = forms.CharField(label=_("Response"), required=False, widget=forms.Select(choices=SCORE_CHOICES))
    attitude = forms.CharField(label=_("Attitude"), required=False, widget=forms.Select(choices=SCORE_CHOICES))
    result = forms.CharField(label=_("Result"), required=False, widget=forms.Select(choices=SCORE_CHOICES))
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control", "maxlength": 2000}),
    )

    def __init__(self, *args, departments: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].widget.choices = [("", _("Choose a department"))] + departments
        for name in ("department", "response", "attitude", "result"):
            self.fields[name].widget.attrs["class"] = "form-select"

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "department": data["department"],
            "response": _int_or_none(data["response"]),
            "attitude": _int_or_none(data["attitude"]),
            "result": _int_or_none(data["result"]),
            "comment": data["comment"],
        }


class CallbackForm(ServiceErrorsMixin, forms.Form):
    satisfaction = forms.CharField(
        label=_("The citizen is"),
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    solved = forms.CharField(
        label=_("The matter is"),
        required=False,
        widget=forms.Select(
            attrs={"class": "form-select"},
            choices=[("", _("Choose")), ("yes", _("solved")), ("no", _("not solved"))],
        ),
    )
    note = forms.CharField(
        label=_("What the citizen said"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control", "maxlength": 2000}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["satisfaction"].widget.choices = [("", _("Choose"))] + list(Callback.Satisfaction.choices)

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "satisfaction": data["satisfaction"],
            "solved": {"yes": True, "no": False}.get(data["solved"]),
            "note": data["note"],
        }


class MeetingForm(ServiceErrorsMixin, forms.Form):
    scheduled_at = forms.DateTimeField(
        label=_("Time"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "class": "form-control"}, format="%Y-%m-%dT%H:%M"),
    )
    place = forms.CharField(
        label=_("Place"), required=False, widget=forms.TextInput(attrs={"class": "form-control", "maxlength": 200})
    )
    agenda = forms.CharField(
        label=_("Agenda"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control", "maxlength": DESCRIPTION_MAX_LENGTH}),
    )

    def service_kwargs(self) -> dict:
        return {name: self.cleaned_data[name] for name in ("scheduled_at", "place", "agenda")}


class MeetingCancelForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(
        label=_("Cancel the meeting, because"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control", "maxlength": 2000}),
    )
