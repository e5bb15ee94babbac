"""The geography endpoints of the API: streets, grids (GeoJSON) and locate.

Read-only, for any signed-in user, within the user's district; addressed by
code. `locate` answers which grid, community and street hold a point — the
same lookup the routing pipeline makes.
"""

import django_filters
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import ErrorSerializer, PageNumberPagination, error_responses, query_point
from config.errors import NotFound
from grids.locate import locate
from grids.models import Grid, Street
from grids.selectors import in_users_district

CODE = r"[A-Za-z0-9_-]{1,32}"


class StreetSerializer(serializers.ModelSerializer):
    class Meta:
        model = Street
        fields = ["code", "name", "kind", "population"]


class GridPropertiesSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    community = serializers.CharField(source="community.code", help_text="Community code.")
    community_name = serializers.CharField(source="community.name")
    street = serializers.CharField(source="community.street.code", help_text="Street code.")


class GridFeatureSerializer(serializers.Serializer):
    """A grid as a GeoJSON Feature (RFC 7946): its boundary, and its codes as properties."""

    type = serializers.SerializerMethodField()
    geometry = serializers.JSONField(source="boundary", help_text="GeoJSON Polygon or MultiPolygon (WGS 84).")
    properties = GridPropertiesSerializer(source="*")

    def get_type(self, grid) -> str:
        return "Feature"


class GeoJsonPagination(PageNumberPagination):
    page_size = 200
    max_page_size = 1000

    def get_paginated_response(self, data):
        return Response(
            {
                "type": "FeatureCollection",
                "count": self.page.paginator.count,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "features": data,
            },
            content_type="application/geo+json",
        )

    def get_paginated_response_schema(self, schema):
        page = super().get_paginated_response_schema(schema)
        return {
            "type": "object",
            "description": "A page of grids as a GeoJSON FeatureCollection; count, next and previous are foreign members.",
            "required": ["type", "count", "features"],
            "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "count": page["properties"]["count"],
                "next": page["properties"]["next"],
                "previous": page["properties"]["previous"],
                "features": schema,
            },
        }


class StreetFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=Street.Kind.choices, help_text="street or township.")

    class Meta:
        model = Street
        fields = ["kind"]


class GridFilter(django_filters.FilterSet):
    street = django_filters.CharFilter(field_name="community__street__code", help_text="Street code, e.g. S01.")
    community = django_filters.CharFilter(field_name="community__code", help_text="Community code.")

    class Meta:
        model = Grid
        fields = ["street", "community"]


@extend_schema_view(
    list=extend_schema(
        summary="Streets and townships of your district", responses={200: StreetSerializer, **error_responses(400, 401)}
    ),
    retrieve=extend_schema(summary="One street", responses={200: StreetSerializer, **error_responses(401, 404)}),
)
class StreetViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Street.objects.none()  # for the schema; get_queryset scopes it
    lookup_field = "code"
    lookup_value_regex = CODE
    serializer_class = StreetSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = StreetFilter
    pagination_class = PageNumberPagination

    def get_queryset(self):
        return in_users_district(Street.objects.order_by("code"), "district_id", self.request.user)


@extend_schema_view(
    list=extend_schema(
        summary="Grids of your district as a GeoJSON FeatureCollection",
        responses={(200, "application/geo+json"): GridFeatureSerializer, **error_responses(400, 401)},
    ),
    retrieve=extend_schema(
        summary="One grid as a GeoJSON Feature",
        responses={(200, "application/geo+json"): GridFeatureSerializer, **error_responses(401, 404)},
    ),
)
class GridViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Grid.objects.none()  # for the schema; get_queryset scopes it
    lookup_field = "code"
    lookup_value_regex = CODE
    serializer_class = GridFeatureSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = GridFilter
    pagination_class = GeoJsonPagination

    def get_queryset(self):
        grids = Grid.objects.select_related("community__street").order_by("code")
        return in_users_district(grids, "community__street__district_id", self.request.user)

    def retrieve(self, request, code=None):
        return Response(self.get_serializer(self.get_object()).data, content_type="application/geo+json")


class LocatedSerializer(serializers.Serializer):
    grid = serializers.CharField(source="code", help_text="Grid code.")
    grid_name = serializers.CharField(source="name")
    community = serializers.CharField(source="community.code")
    community_name = serializers.CharField(source="community.name")
    street = serializers.CharField(source="community.street.code")
    street_name = serializers.CharField(source="community.street.name")


class LocateView(APIView):
    """Which grid, community and street hold a point."""

    @extend_schema(
        summary="The grid, community and street at a point (as routing finds them)",
        parameters=[
            OpenApiParameter("lon", OpenApiTypes.DOUBLE, required=True, description="Longitude (WGS 84)."),
            OpenApiParameter("lat", OpenApiTypes.DOUBLE, required=True, description="Latitude (WGS 84)."),
        ],
        responses={
            200: LocatedSerializer,
            404: OpenApiResponse(ErrorSerializer, description="No grid of your district holds the point."),
            **error_responses(400, 401),
        },
    )
    def get(self, request):
        lon, lat = query_point(request.query_params)
        grid = locate(lon, lat)
        visible = grid is not None and (
            in_users_district(Street.objects.filter(pk=grid.community.street_id), "district_id", request.user).exists()
        )
        if not visible:
            raise NotFound(
                _("No grid of your district holds this point (lon %(lon)s, lat %(lat)s).") % {"lon": lon, "lat": lat}
            )
        return Response(LocatedSerializer(grid).data)
