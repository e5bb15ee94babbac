from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class IdempotencyKey(models.Model):
    """The first answer to a POST sent with an Idempotency-Key, kept to answer its repeats.

    One row per client and key. `status` is null while the first request is
    still running; `fingerprint` is what the request asked for (method, path
    and body), so the same key with another request is refused.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, verbose_name=_("client"))
    key = models.CharField(_("key"), max_length=255)
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    started_at = models.DateTimeField(_("started at"))
    status = models.PositiveSmallIntegerField(_("answer status"), null=True, blank=True)
    content_type = models.CharField(_("answer content type"), max_length=255, blank=True)
    body = models.BinaryField(_("answer body"), blank=True, default=b"")
    location = models.CharField(_("answer location"), max_length=2000, blank=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_per_client")]
        indexes = [models.Index(fields=["started_at"], name="idempotency_started_idx")]

    def __str__(self):
        return self.key
