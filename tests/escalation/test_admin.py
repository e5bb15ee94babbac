import pytest
from django.urls import reverse

PAGES = ["workcalendarday", "workcalendaryear", "workschedule", "slapolicy"]


@pytest.mark.parametrize("model", PAGES)
def test_every_calendar_and_policy_list_opens(superuser_client, model):
    response = superuser_client.get(reverse(f"admin:escalation_{model}_changelist"), {"q": "国庆"})

    assert response.status_code == 200


def test_the_calendar_day_list_filters_and_searches(superuser_client):
    url = reverse("admin:escalation_workcalendarday_changelist")

    working = superuser_client.get(url, {"is_working_day__exact": "1", "date__year": "2026"}).content.decode()
    searched = superuser_client.get(url, {"q": "春节", "date__year": "2026"}).content.decode()

    assert "2026-10-10" in working or "Oct. 10, 2026" in working
    assert "国庆节调休" in working and "2026-10-01" not in working
    assert "春节" in searched and "国庆节" not in searched


def test_a_policy_is_edited_with_a_message_naming_the_field(superuser_client):
    from escalation.models import SlaPolicy

    policy = SlaPolicy.objects.get(grade="ordinary")
    form = {
        "grade": "ordinary",
        "warning_ratio": "1.20",
        "acknowledge_amount": "0",
        "acknowledge_unit": "working_hours",
        "checkin_amount": "1",
        "checkin_unit": "working_days",
        "resolve_amount": "7",
        "resolve_unit": "working_days",
    }

    response = superuser_client.post(reverse("admin:escalation_slapolicy_change", args=[policy.pk]), form)

    page = response.content.decode()
    assert response.status_code == 200
    assert "“acknowledge within” must be at least 1." in page
    assert "more than 0 and less than 1" in page
    policy.refresh_from_db()
    assert policy.acknowledge_amount == 2


def test_working_hours_cannot_be_added_twice_or_deleted(superuser_client):
    assert superuser_client.get(reverse("admin:escalation_workschedule_add")).status_code == 403
    assert superuser_client.get(reverse("admin:escalation_workschedule_delete", args=[1])).status_code == 403


def test_a_policy_cannot_be_deleted(superuser_client):
    from escalation.models import SlaPolicy

    pk = SlaPolicy.objects.get(grade="priority").pk

    assert superuser_client.get(reverse("admin:escalation_slapolicy_delete", args=[pk])).status_code == 403


@pytest.mark.parametrize("model", ["supervisionorder", "accountabilityrecord"])
def test_supervision_orders_and_accountability_records_are_listed_but_never_added_or_deleted_by_hand(
    superuser_client, model
):
    assert superuser_client.get(reverse(f"admin:escalation_{model}_changelist"), {"q": "S01"}).status_code == 200
    assert superuser_client.get(reverse(f"admin:escalation_{model}_add")).status_code == 403


def test_the_policy_page_shows_the_escalation_delays(superuser_client):
    from escalation.models import SlaPolicy

    page = superuser_client.get(
        reverse("admin:escalation_slapolicy_change", args=[SlaPolicy.objects.get(grade="priority").pk])
    )

    assert page.status_code == 200 and 'name="supervise_after_amount" value="0"' in page.content.decode()
