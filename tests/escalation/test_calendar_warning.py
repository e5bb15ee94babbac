"""The missing-year warning for administrators and supervisors, on every admin page."""

import datetime as dt

import pytest
import time_machine
from django.test import RequestFactory
from django.urls import reverse

from escalation.context_processors import calendar_warning
from escalation.models import WorkCalendarYear
from escalation.policy import current_calendar
from tests.escalation.conftest import SHANGHAI
from tests.factories import MembershipFactory, UserFactory

WARNING_2027 = "The public holidays of 2027 are not entered yet: deadlines in 2027 count Monday to Friday only."


def admin_page(client, name):
    return client.get(reverse(name), HTTP_ACCEPT_LANGUAGE="en")


def travel(*date):
    return time_machine.travel(dt.datetime(*date, 10, 0, tzinfo=SHANGHAI), tick=False)


def warning_for(user) -> str:
    request = RequestFactory().get("/")
    request.user = user
    return str(calendar_warning(request)["calendar_warning"])


@pytest.fixture
def supervisor(district):
    return MembershipFactory(role="supervisor", street=None, district=district).user


def test_the_admin_index_warns_a_superuser_in_december_that_2027_is_missing(superuser_client):
    with travel(2026, 12, 5):
        response = admin_page(superuser_client, "admin:index")

    page = response.content.decode()
    assert response.status_code == 200
    assert WARNING_2027 in page
    assert 'id="calendar-warning"' in page
    assert "Whistle and report: administration" in page  # the site header is kept


def test_every_admin_page_shows_the_warning(superuser_client):
    with travel(2026, 12, 5):
        response = admin_page(superuser_client, "admin:escalation_slapolicy_changelist")

    assert WARNING_2027 in response.content.decode()


def test_no_warning_in_november_while_the_current_year_is_complete(superuser_client):
    with travel(2026, 11, 30):
        response = admin_page(superuser_client, "admin:index")

    assert response.status_code == 200
    assert "are not entered yet" not in response.content.decode()


def test_the_warning_disappears_once_the_year_is_marked_complete(superuser_client):
    WorkCalendarYear.objects.create(year=2027, complete=True, note="entered by hand")

    with travel(2026, 12, 5):
        response = admin_page(superuser_client, "admin:index")

    assert "are not entered yet" not in response.content.decode()


def test_an_incomplete_current_year_is_named_all_year(superuser_client):
    year = WorkCalendarYear.objects.get(year=2026)
    year.complete = False
    year.save()  # through the model, so the snapshot's stamp is renewed

    with travel(2026, 6, 1):
        response = admin_page(superuser_client, "admin:index")

    assert "The public holidays of 2026 are not entered yet" in response.content.decode()


def test_two_missing_years_are_named_together(db):
    staff = UserFactory(is_staff=True)

    with travel(2027, 12, 1):
        message = warning_for(staff)

    assert message == (
        "The public holidays of 2027 and 2028 are not entered yet: deadlines in 2027 and 2028 count Monday "
        "to Friday only."
    )


def test_a_supervisor_is_warned_with_one_query(supervisor, django_assert_num_queries):
    user = type(supervisor).objects.get(pk=supervisor.pk)  # as the session loads it: membership not loaded

    with travel(2026, 12, 5), django_assert_num_queries(1):
        assert warning_for(user) == WARNING_2027


def test_a_supervisor_whose_membership_is_loaded_is_warned_too(supervisor, django_assert_num_queries):
    current_calendar()  # the process's snapshot, as any earlier request would have built it
    supervisor.membership  # noqa: B018 - loaded, as a page that shows the unit would

    with travel(2026, 12, 5), django_assert_num_queries(1):  # the snapshot's stamp
        assert warning_for(supervisor) == WARNING_2027


@pytest.mark.parametrize("role", ["street_staff", "dispatcher"])
def test_a_street_user_is_not_warned(street, role):
    user = MembershipFactory(role=role, street=street).user

    with travel(2026, 12, 5):
        assert warning_for(user) == ""


def test_a_user_without_a_membership_is_not_warned(db, django_assert_max_num_queries):
    user = UserFactory()

    with travel(2026, 12, 5), django_assert_max_num_queries(1):
        assert warning_for(user) == ""
    user.refresh_from_db()
    with pytest.raises(type(user).membership.RelatedObjectDoesNotExist):
        user.membership  # noqa: B018
    with travel(2026, 12, 5), django_assert_max_num_queries(0):
        assert warning_for(user) == ""  # the missing membership is cached now


def test_an_anonymous_visitor_costs_nothing(db, django_assert_num_queries):
    from django.contrib.auth.models import AnonymousUser

    with travel(2026, 12, 5), django_assert_num_queries(0):
        assert warning_for(AnonymousUser()) == ""


def test_pages_that_do_not_show_the_warning_pay_nothing_for_it(db, django_assert_num_queries):
    request = RequestFactory().get("/")
    request.user = UserFactory(is_staff=True)

    with django_assert_num_queries(0):
        calendar_warning(request)


def test_the_admin_login_page_shows_no_warning(client, db):
    with travel(2026, 12, 5):
        response = admin_page(client, "admin:login")

    assert response.status_code == 200
    assert "are not entered yet" not in response.content.decode()


def test_staff_are_warned_for_the_price_of_the_snapshots_stamp(db, django_assert_num_queries):
    staff = UserFactory(is_staff=True)
    current_calendar()

    with travel(2026, 12, 5), django_assert_num_queries(1):
        assert warning_for(staff) == WARNING_2027
