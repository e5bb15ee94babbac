"""The administrator sets the weights of the score; problems of the month are only looked at."""

from django.urls import reverse

from escalation.models import EvaluationWeights


def test_the_weights_are_set_in_the_admin_and_must_add_up_to_100(superuser_client, district):
    add = reverse("admin:escalation_evaluationweights_add")

    refused = superuser_client.post(
        add, {"district": district.pk, "response": "30", "resolution": "30", "satisfaction": "30"}
    )
    accepted = superuser_client.post(
        add, {"district": district.pk, "response": "20", "resolution": "50", "satisfaction": "30"}
    )

    assert refused.status_code == 200 and "add up to 100 (they add up to 90)" in refused.content.decode()
    assert accepted.status_code == 302
    assert EvaluationWeights.objects.get(district=district).resolution == 50
    assert superuser_client.get(reverse("admin:escalation_evaluationweights_changelist")).status_code == 200


def test_the_problems_of_the_month_are_listed_not_added(superuser_client):
    assert superuser_client.get(reverse("admin:escalation_problemtopic_changelist"), {"q": "楼道"}).status_code == 200
    assert superuser_client.get(reverse("admin:escalation_problemtopic_add")).status_code == 403
