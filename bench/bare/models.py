"""One row per request of the baseline: the twelve fields of a hotline whistle's body, and nothing else."""

from django.db import models


class BareRecord(models.Model):
    title = models.CharField(max_length=200)
    description = models.TextField()
    category = models.CharField(max_length=32)
    grade = models.CharField(max_length=16)
    source = models.CharField(max_length=16)
    mode = models.CharField(max_length=16)
    lon = models.FloatField()
    lat = models.FloatField()
    address = models.CharField(max_length=200, blank=True)
    external_id = models.CharField(max_length=64)
    caller_name = models.CharField(max_length=64, blank=True)
    caller_phone = models.CharField(max_length=32, blank=True)

    def __str__(self) -> str:
        return self.title
