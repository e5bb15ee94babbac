import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import translation

from tests.factories import GridFactory, UserFactory, square

OUR_APPS = {"grids", "departments"}
MODELS = sorted(
    (model._meta.app_label, model._meta.model_name)
    for model in admin.site._registry
    if model._meta.app_label in OUR_APPS
)


@pytest.fixture
def admin_client(client, db):
    user = UserFactory(username="admin", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


@pytest.mark.parametrize("app_label, model_name", MODELS)
def test_every_admin_list_search_and_add_page_opens(admin_client, community, app_label, model_name):
    changelist = reverse(f"admin:{app_label}_{model_name}_changelist")

    assert admin_client.get(changelist).status_code == 200
    assert admin_client.get(changelist, {"q": "百泉"}).status_code == 200
    assert admin_client.get(reverse(f"admin:{app_label}_{model_name}_add")).status_code == 200


def test_the_grid_list_costs_the_same_few_queries_for_many_grids(
    admin_client, community, django_assert_max_num_queries
):
    for i in range(40):
        GridFactory(community=community, code=f"S01C01G{i:02d}", boundary=square(116.0 + i * 0.01, 40.0, 0.01))

    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse("admin:grids_grid_changelist"))

    assert response.status_code == 200
    assert "S01C01G39" in response.content.decode()


def test_the_admin_speaks_chinese_by_default(admin_client, community):
    with translation.override("zh-hans"):
        response = admin_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="zh-hans")

    page = response.content.decode()
    assert "网格" in page and "职责清单" in page and "吹哨报到" in page


def test_sign_in_page_opens(client, db):
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    assert 'name="password"' in response.content.decode()


WHISTLE_MODELS = sorted(model._meta.model_name for model in admin.site._registry if model._meta.app_label == "whistle")


@pytest.mark.parametrize("model_name", WHISTLE_MODELS)
def test_the_whistle_records_are_listed_and_searched_but_never_added_by_hand(admin_client, community, model_name):
    changelist = reverse(f"admin:whistle_{model_name}_changelist")

    assert admin_client.get(changelist).status_code == 200
    assert admin_client.get(changelist, {"q": "S01"}).status_code == 200
    assert admin_client.get(reverse(f"admin:whistle_{model_name}_add")).status_code == 403
