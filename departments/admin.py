from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from departments.models import Category, CategoryAttribute, Department, Membership, Responsibility
from departments.services import responsibility_check_single_lead


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "station_kind", "parent"]
    list_filter = ["kind", "station_kind", "district"]
    list_select_related = ["parent"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]
    filter_horizontal = ["streets"]


class CategoryAttributeInline(admin.TabularInline):
    """The questions a whistle of the category answers (the Open311 service definition)."""

    model = CategoryAttribute
    extra = 0
    fields = ["order", "code", "description", "datatype", "required", "variable", "datatype_description", "values"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "default_grade", "parent"]
    list_filter = ["default_grade"]
    list_select_related = ["parent"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]
    inlines = [CategoryAttributeInline]


class ResponsibilityForm(forms.ModelForm):
    class Meta:
        model = Responsibility
        fields = ["category", "department", "role", "streets", "note"]

    def clean(self):
        data = super().clean()
        if data.get("category") and data.get("role"):
            responsibility_check_single_lead(
                category=data["category"],
                role=data["role"],
                streets=data.get("streets") or [],
                exclude_pk=self.instance.pk,
            )
        return data


@admin.register(Responsibility)
class ResponsibilityAdmin(admin.ModelAdmin):
    form = ResponsibilityForm
    list_display = ["category", "department", "role", "scope"]
    list_filter = ["role", "category", "department__kind"]
    list_select_related = ["category", "department"]
    search_fields = ["category__code", "category__name", "department__code", "department__name"]
    autocomplete_fields = ["category", "department"]
    filter_horizontal = ["streets"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("streets")

    @admin.display(description=_("scope"))
    def scope(self, obj):
        streets = obj.streets.all()
        return "、".join(s.name for s in streets) if streets else _("whole district")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "street", "department", "district"]
    list_filter = ["role", "street", "department__kind"]
    list_select_related = ["user", "street", "department", "district"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "street__name", "department__name"]
    autocomplete_fields = ["user", "street", "department"]
