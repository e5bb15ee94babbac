from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from whistle.models import Whistle


class ServiceRequestOrigin(models.Model):
    """What an Open311 client sent with a whistle that the whistle itself does not hold.

    Written in the transaction that stores the whistle (open311.services);
    its presence marks a whistle raised through Open311.
    """

    whistle = models.OneToOneField(
        Whistle, on_delete=models.CASCADE, related_name="open311_origin", verbose_name=_("whistle")
    )
    account_id = models.CharField(_("account id"), max_length=64, blank=True)
    device_id = models.CharField(_("device id"), max_length=64, blank=True)
    media_url = models.URLField(_("media URL"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("Open311 origin")
        verbose_name_plural = _("Open311 origins")

    def __str__(self):
        return f"Open311 · {self.whistle_id}"
