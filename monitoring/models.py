"""What /healthz and /metrics read, stored where every web host sees the same: in the database."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """When beat last sent its heartbeat, and when each worker host last ran a task.

    One row for beat and one per worker host name, each moved forward in
    place (monitoring.services.heartbeat_record).
    """

    class Kind(models.TextChoices):
        BEAT = "beat", _("Celery beat")
        WORKER = "worker", _("Celery worker")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=255, blank=True, help_text=_("The worker's host name."))
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")
        constraints = [models.UniqueConstraint(fields=["kind", "name"], name="heartbeat_unique_kind_name")]

    def __str__(self):
        return f"{self.kind} {self.name} {self.at:%Y-%m-%d %H:%M:%S}"


class Figure(models.Model):
    """One shard of one Prometheus figure: a counter, a histogram bucket or sum, or a gauge.

    Counters are added to with an UPDATE … SET value = value + n on a shard
    chosen at random, so that routing workers on several hosts rarely wait
    for one another's row lock; /metrics adds the shards up. Gauges are
    set, always on shard 0.
    """

    name = models.CharField(_("name"), max_length=100)
    labels = models.CharField(
        _("labels"), max_length=200, blank=True, help_text=_("name=value pairs, comma-separated.")
    )
    shard = models.PositiveSmallIntegerField(_("shard"), default=0)
    value = models.FloatField(_("value"), default=0.0)

    class Meta:
        verbose_name = _("figure")
        verbose_name_plural = _("figures")
        constraints = [models.UniqueConstraint(fields=["name", "labels", "shard"], name="figure_unique_shard")]

    def __str__(self):
        return f"{self.name}{{{self.labels}}}[{self.shard}] = {self.value}"
