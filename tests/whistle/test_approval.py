import pytest

from config.errors import Conflict, InvalidInput, NotAllowed
from whistle.models import Event, Whistle
from whistle.services import (
    whistle_approve,
    whistle_decide,
    whistle_issue,
    whistle_reject,
    whistle_request_signature,
    whistle_sign,
    whistle_submit,
)

S = Whistle.Status


@pytest.fixture
def draft(cast):
    return whistle_submit(
        reporter=cast.s01_staff,
        title="小区停车秩序混乱",
        description="需要多部门联合整治。",
        category="ENV-COMPOUND",
        source="party_office",
        grid="S01C01G01",
    ).whistle


def test_the_chain_runs_staff_deputy_head_party_office_each_with_its_event(cast, draft):
    whistle_request_signature(whistle=draft, actor=cast.s01_staff)
    whistle_sign(whistle=draft, actor=cast.s01_deputy)
    whistle_approve(whistle=draft, actor=cast.s01_head)
    whistle_issue(whistle=draft, actor=cast.s01_party)

    draft.refresh_from_db()
    assert draft.status == S.SUBMITTED and draft.submitted_at is not None
    verbs = list(Event.objects.filter(whistle=draft).values_list("verb", "actor__username"))
    assert verbs == [
        ("drafted", "s01_staff"),
        ("signature_requested", "s01_staff"),
        ("signed", "s01_deputy"),
        ("approved", "s01_head"),
        ("issued", "s01_party"),
    ]


@pytest.mark.parametrize(
    "step, status, wrong",
    [
        (whistle_sign, S.AWAITING_SIGNATURE, ["s01_staff", "s01_head", "s01_party", "s02_deputy"]),
        (whistle_approve, S.AWAITING_APPROVAL, ["s01_staff", "s01_deputy", "s01_party", "s02_head"]),
        (whistle_issue, S.APPROVED, ["s01_staff", "s01_deputy", "s01_head", "s02_party"]),
    ],
)
def test_each_step_is_only_for_its_role_in_the_whistles_street(cast, draft, step, status, wrong):
    Whistle.objects.filter(pk=draft.pk).update(status=status)

    for username in wrong:
        with pytest.raises(NotAllowed):
            step(whistle=draft, actor=getattr(cast, username))
    draft.refresh_from_db()
    assert draft.status == status


def test_a_step_that_is_not_due_is_a_conflict(cast, draft):
    with pytest.raises(Conflict):
        whistle_approve(whistle=draft, actor=cast.s01_head)


def test_rejection_returns_the_whistle_to_its_draft_with_the_reason(cast, draft):
    whistle_request_signature(whistle=draft, actor=cast.s01_staff)
    whistle_sign(whistle=draft, actor=cast.s01_deputy)

    with pytest.raises(InvalidInput) as caught:
        whistle_reject(whistle=draft, actor=cast.s01_head, reason=" ")
    assert "reason" in caught.value.fields
    whistle_reject(whistle=draft, actor=cast.s01_head, reason="事实不清，请补充现场照片。")

    draft.refresh_from_db()
    assert draft.status == S.DRAFT
    assert Event.objects.filter(whistle=draft, verb="rejected").get().reason == "事实不清，请补充现场照片。"


def test_only_the_signer_whose_step_is_due_may_reject(cast, draft):
    whistle_request_signature(whistle=draft, actor=cast.s01_staff)

    with pytest.raises(NotAllowed):
        whistle_reject(whistle=draft, actor=cast.s01_head, reason="不同意")


def test_a_draft_has_nothing_to_reject(cast, draft):
    with pytest.raises(Conflict):
        whistle_reject(whistle=draft, actor=cast.s01_deputy, reason="草稿无可驳回")


def test_the_api_decision_takes_the_step_that_is_due(cast, draft):
    for user in (cast.s01_staff, cast.s01_deputy, cast.s01_head, cast.s01_party):
        whistle_decide(whistle=Whistle.objects.get(pk=draft.pk), actor=user, decision="approve")

    assert Whistle.objects.get(pk=draft.pk).status == S.SUBMITTED
    with pytest.raises(InvalidInput):
        whistle_decide(whistle=draft, actor=cast.s01_head, decision="maybe")
