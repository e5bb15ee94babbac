from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from grids.models import Community, District, Grid, GridWorker, Street


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Street)
class StreetAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "district", "population", "community_count"]
    list_filter = ["kind", "district"]
    search_fields = ["code", "name"]

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).select_related("district").annotate(community_count=Count("communities"))

    @admin.display(description=_("communities"), ordering="community_count")
    def community_count(self, obj):
        return obj.community_count


@admin.register(Community)
class CommunityAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "street"]
    list_filter = ["kind", "street"]
    list_select_related = ["street"]
    search_fields = ["code", "name", "street__name"]


@admin.register(Grid)
class GridAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "community", "street_name", "updated_at"]
    list_filter = ["community__street"]
    list_select_related = ["community__street"]
    search_fields = ["code", "name", "community__name", "community__street__name"]
    autocomplete_fields = ["community"]

    @admin.display(description=_("street"), ordering="community__street__code")
    def street_name(self, obj):
        return obj.community.street.name


@admin.register(GridWorker)
class GridWorkerAdmin(admin.ModelAdmin):
    list_display = ["user", "employment", "kind"]
    list_filter = ["employment", "kind"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "grids__code"]
    autocomplete_fields = ["user", "grids"]
