"""The catalogue endpoints of the API: categories (with the attributes a whistle answers) and departments.

Read-only, for any signed-in user: the categories are the city's catalogue,
the departments those of the user's district. Addressed by code.
"""

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets

from config.api import PageNumberPagination, error_responses
from departments.models import Category, CategoryAttribute, Department, Grade
from departments.selectors import category_list, department_list

CODE = r"[A-Za-z0-9_-]{1,32}"


class AttributeValueSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()


class CategoryAttributeSerializer(serializers.ModelSerializer):
    values = AttributeValueSerializer(many=True, help_text="The choices of the list types.")

    class Meta:
        model = CategoryAttribute
        fields = ["code", "description", "datatype", "datatype_description", "required", "variable", "order", "values"]


class CategorySerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True, help_text="Code of the parent category."
    )
    default_grade = serializers.ChoiceField(choices=Grade.choices)
    attributes = CategoryAttributeSerializer(
        many=True, read_only=True, help_text="What a whistle of this category answers, as `attributes` on submission."
    )

    class Meta:
        model = Category
        fields = ["code", "name", "parent", "default_grade", "description", "attributes"]


class DepartmentSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True, help_text="Code of the parent unit."
    )
    streets = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True, help_text="Grassroots stations: the streets they serve."
    )

    class Meta:
        model = Department
        fields = ["code", "name", "kind", "station_kind", "parent", "streets"]


class CategoryFilter(django_filters.FilterSet):
    parent = django_filters.CharFilter(field_name="parent__code", help_text="Code of the parent category.")

    class Meta:
        model = Category
        fields = ["parent"]


class DepartmentFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=Department.Kind.choices)
    street = django_filters.CharFilter(
        field_name="streets__code", help_text="Stations serving this street (street code, e.g. S01)."
    )

    class Meta:
        model = Department
        fields = ["kind", "street"]


@extend_schema_view(
    list=extend_schema(
        summary="The category catalogue", responses={200: CategorySerializer, **error_responses(400, 401)}
    ),
    retrieve=extend_schema(summary="One category", responses={200: CategorySerializer, **error_responses(401, 404)}),
)
class CategoryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Category.objects.none()  # for the schema; get_queryset scopes it
    lookup_field = "code"
    lookup_value_regex = CODE
    serializer_class = CategorySerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = CategoryFilter
    pagination_class = PageNumberPagination

    def get_queryset(self):
        return category_list()


@extend_schema_view(
    list=extend_schema(
        summary="Departments, grassroots stations and public-service enterprises of your district",
        responses={200: DepartmentSerializer, **error_responses(400, 401)},
    ),
    retrieve=extend_schema(
        summary="One department", responses={200: DepartmentSerializer, **error_responses(401, 404)}
    ),
)
class DepartmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Department.objects.none()  # for the schema; get_queryset scopes it
    lookup_field = "code"
    lookup_value_regex = CODE
    serializer_class = DepartmentSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = DepartmentFilter
    pagination_class = PageNumberPagination

    def get_queryset(self):
        return department_list(user=self.request.user)
