"""Marking a whistle as a duplicate of another (并案): departments are never summoned twice."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import Conflict, InvalidInput
from whistle.models import Whistle
from whistle.permissions import MERGERS, require_role
from whistle.services.intake import SubmitResult, whistle_submit
from whistle.services.transitions import event_record, whistle_transition

S = Whistle.Status
MERGEABLE = (S.SUBMITTED, S.AWAITING_DISPATCH)


@transaction.atomic
def whistle_merge(*, whistle: Whistle, into: Whistle, actor, now: datetime | None = None) -> Whistle:
    """Close `whistle` as a duplicate of `into`; its details and reporter are attached to `into`."""
    now = now or timezone.now()
    require_role(actor, MERGERS, street_id=whistle.street_id)
    # Lock both in id order, so that two merges of the same pair cannot deadlock.
    locked = {w.pk: w for w in Whistle.objects.select_for_update().filter(pk__in=[whistle.pk, into.pk]).order_by("pk")}
    whistle, into = locked[whistle.pk], locked.get(into.pk, into)
    if whistle.pk == into.pk:
        raise InvalidInput(fields={"into": [_("A whistle cannot be a duplicate of itself.")]})
    if whistle.status not in MERGEABLE:
        raise Conflict(
            _("Whistle %(number)s is %(status)s: only a whistle not yet routed can be merged.")
            % {"number": whistle.number, "status": whistle.get_status_display()}
        )
    if into.status not in Whistle.OPEN_STATUSES:
        raise InvalidInput(
            fields={
                "into": [
                    _("Whistle %(number)s is %(status)s: merge into an open whistle.")
                    % {"number": into.number, "status": into.get_status_display()}
                ]
            }
        )
    if into.street.district_id != whistle.street.district_id:
        raise InvalidInput(
            fields={"into": [_("Whistle %(number)s belongs to another district.") % {"number": into.number}]}
        )
    whistle_transition(
        whistle=whistle,
        to=S.MERGED,
        verb="merged",
        now=now,
        actor=actor,
        reason=_("Duplicate of %(number)s") % {"number": into.number},
        fields={"merged_into": into},
    )
    event_record(
        whistle=into,
        verb="duplicate_attached",
        now=now,
        actor=actor,
        new={
            "number": whistle.number,
            "title": whistle.title,
            "reporter": whistle.reporter.get_username(),
            "description": whistle.description[:500],
            # No caller's name, phone or e-mail: events can never be changed or erased, and the
            # duplicate keeps them where they are shown masked by role.
            "address": whistle.address,
        },
    )
    return whistle


@transaction.atomic
def whistle_submit_as_duplicate(*, reporter, into: Whistle, **fields) -> SubmitResult:
    """Raise a whistle already known to duplicate `into`: stored, then merged, in one transaction.

    The routing queued on commit finds it merged and never summons a department for it.
    """
    result = whistle_submit(reporter=reporter, **fields)
    whistle_merge(whistle=result.whistle, into=into, actor=reporter)
    return result
