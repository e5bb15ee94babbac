"""Each role lands on its own workbench, and only its own: another role's workbench is 403."""

import pytest
from django.urls import reverse


def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "username, target",
    [
        ("s01_staff", "workbench:street"),
        ("s01_head", "workbench:street"),
        ("s01_grid", "workbench:street"),
        ("s01_dispatcher", "workbench:street"),
        ("s02_staff", "workbench:street"),
        ("d13_staff", "workbench:department"),
        ("t01_staff", "workbench:department"),
        ("supervisor", "workbench:supervisor"),
        ("hotline", "whistle:list"),
        ("outsider", "whistle:list"),
    ],
)
def test_home_sends_each_role_to_its_workbench(client, cast, username, target):
    response = signed_in(client, getattr(cast, username)).get(reverse("workbench:home"))

    assert response.status_code == 302
    assert response.url == reverse(target)


def test_home_sends_an_administrator_to_the_supervisor_workbench(client, superuser):
    response = signed_in(client, superuser).get(reverse("workbench:home"))

    assert response.url == reverse("workbench:supervisor")


def test_every_workbench_asks_an_anonymous_visitor_to_sign_in(client, db):
    for name in ("home", "street", "department", "supervisor", "to_rate"):
        response = client.get(reverse(f"workbench:{name}"))
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")


@pytest.mark.parametrize(
    "name, allowed",
    [
        ("workbench:street", {"s01_staff", "s01_grid", "s01_dispatcher", "s02_staff"}),
        ("workbench:department", {"d13_staff", "t01_staff"}),
        ("workbench:supervisor", {"supervisor"}),
    ],
)
def test_a_workbench_is_403_for_every_other_role(client, cast, name, allowed):
    users = ["s01_staff", "s01_grid", "s01_dispatcher", "s02_staff", "d13_staff", "t01_staff", "supervisor"]
    for username in [*users, "hotline", "outsider"]:
        response = signed_in(client, getattr(cast, username)).get(reverse(name))
        assert response.status_code == (200 if username in allowed else 403), username


def test_an_administrator_has_the_supervisor_workbench_only(client, superuser):
    client = signed_in(client, superuser)

    assert client.get(reverse("workbench:supervisor")).status_code == 200
    assert client.get(reverse("workbench:street")).status_code == 403
    assert client.get(reverse("workbench:department")).status_code == 403


def test_the_navigation_shows_the_workbench_tab_first_to_roles_that_have_one(client, cast):
    html = signed_in(client, cast.d13_staff).get(reverse("whistle:list")).content.decode()
    tabs = html[html.index('class="nav nav-tabs"') :]
    assert tabs.index('id="nav-workbench"') < tabs.index(reverse("whistle:list"))
    assert f'href="{reverse("workbench:home")}"' in tabs

    hotline = signed_in(client, cast.hotline).get(reverse("whistle:list")).content.decode()
    assert 'id="nav-workbench"' not in hotline
