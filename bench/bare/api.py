"""The baseline endpoint: ModelSerializer + CreateAPIView, behind the project's DRF settings.

Authentication, permission, parser, renderer and exception handler all come
from REST_FRAMEWORK in config.settings, as for the project's own endpoints:
what it costs is what any authenticated DRF create costs on this stack.
"""

from rest_framework import generics, serializers

from bench.bare.models import BareRecord


class BareRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = BareRecord
        fields = [
            "id",
            "title",
            "description",
            "category",
            "grade",
            "source",
            "mode",
            "lon",
            "lat",
            "address",
            "external_id",
            "caller_name",
            "caller_phone",
        ]


class BareCreateView(generics.CreateAPIView):
    queryset = BareRecord.objects.all()
    serializer_class = BareRecordSerializer
    # Leave the baseline out of the project's OpenAPI schema.
    schema = None
