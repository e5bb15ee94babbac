"""The approval chain of party-building-office whistles (党建办吹哨).

section staff drafts → asks for signature → the deputy signs → the head
approves → the party office issues it. Any signer may reject it back to the
draft with a reason. Each step is its own service, checks its own role and
writes its own Event; issuing hands the whistle to routing.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import Conflict, InvalidInput
from departments.models import Membership
from whistle.models import Whistle
from whistle.permissions import require_role
from whistle.services.intake import whistle_enqueue_routing_on_commit
from whistle.services.transitions import whistle_transition

R, S = Membership.Role, Whistle.Status

# status → (role that acts at this step, next status, event verb)
STEPS = {
    S.DRAFT: ({R.STREET_STAFF, R.STREET_DEPUTY, R.PARTY_OFFICE}, S.AWAITING_SIGNATURE, "signature_requested"),
    S.AWAITING_SIGNATURE: ({R.STREET_DEPUTY}, S.AWAITING_APPROVAL, "signed"),
    S.AWAITING_APPROVAL: ({R.STREET_HEAD}, S.APPROVED, "approved"),
    S.APPROVED: ({R.PARTY_OFFICE}, S.SUBMITTED, "issued"),
}


def _locked(whistle: Whistle) -> Whistle:
    return Whistle.objects.select_for_update().get(pk=whistle.pk)


def _step(*, whistle: Whistle, actor, expected: str, now: datetime | None) -> Whistle:
    now = now or timezone.now()
    whistle = _locked(whistle)
    if whistle.status != expected:
        raise Conflict(
            _("Whistle %(number)s is %(status)s: this step is not due.")
            % {"number": whistle.number, "status": whistle.get_status_display()}
        )
    roles, target, verb = STEPS[expected]
    require_role(actor, roles, street_id=whistle.street_id)
    fields = {"submitted_at": now} if target == S.SUBMITTED else {}
    whistle_transition(whistle=whistle, to=target, verb=verb, now=now, actor=actor, fields=fields)
    if target == S.SUBMITTED:
        whistle_enqueue_routing_on_commit(whistle=whistle)
    return whistle


@transaction.atomic
def whistle_request_signature(*, whistle: Whistle, actor, now: datetime | None = None) -> Whistle:
    return _step(whistle=whistle, actor=actor, expected=S.DRAFT, now=now)


@transaction.atomic
def whistle_sign(*, whistle: Whistle, actor, now: datetime | None = None) -> Whistle:
    return _step(whistle=whistle, actor=actor, expected=S.AWAITING_SIGNATURE, now=now)


@transaction.atomic
def whistle_approve(*, whistle: Whistle, actor, now: datetime | None = None) -> Whistle:
    return _step(whistle=whistle, actor=actor, expected=S.AWAITING_APPROVAL, now=now)


@transaction.atomic
def whistle_issue(*, whistle: Whistle, actor, now: datetime | None = None) -> Whistle:
    return _step(whistle=whistle, actor=actor, expected=S.APPROVED, now=now)


@transaction.atomic
def whistle_reject(*, whistle: Whistle, actor, reason: str, now: datetime | None = None) -> Whistle:
    """Send the whistle back to its draft; only the signer whose step is due may, and only with a reason."""
    now = now or timezone.now()
    whistle = _locked(whistle)
    if whistle.status not in (S.AWAITING_SIGNATURE, S.AWAITING_APPROVAL, S.APPROVED):
        raise Conflict(
            _("Whistle %(number)s is %(status)s: there is nothing to reject.")
            % {"number": whistle.number, "status": whistle.get_status_display()}
        )
    require_role(actor, STEPS[whistle.status][0], street_id=whistle.street_id)
    if not (reason or "").strip():
        raise InvalidInput(fields={"reason": [_("Say why the whistle goes back to its draft.")]})
    whistle_transition(whistle=whistle, to=S.DRAFT, verb="rejected", now=now, actor=actor, reason=reason.strip())
    return whistle


def whistle_decide(*, whistle: Whistle, actor, decision: str, reason: str = "", now: datetime | None = None) -> Whistle:
    """The API's one approval endpoint: approve (whichever step is due for the actor) or reject."""
    if decision == "reject":
        return whistle_reject(whistle=whistle, actor=actor, reason=reason, now=now)
    if decision != "approve":
        raise InvalidInput(fields={"decision": [_("Decision must be approve or reject.")]})
    step = {
        S.DRAFT: whistle_request_signature,
        S.AWAITING_SIGNATURE: whistle_sign,
        S.AWAITING_APPROVAL: whistle_approve,
        S.APPROVED: whistle_issue,
    }.get(whistle.status)
    if step is None:
        raise Conflict(
            _("Whistle %(number)s is %(status)s: it is not waiting for approval.")
            % {"number": whistle.number, "status": whistle.get_status_display()}
        )
    return step(whistle=whistle, actor=actor, now=now)
