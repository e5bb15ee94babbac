"""Category attributes: their definitions, the answers whistle_submit checks, the web form and the whistle page."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from config.errors import InvalidInput
from departments.demo import DEMO_ATTRIBUTES
from departments.models import CategoryAttribute
from tests.factories import CategoryFactory, submit_whistle
from whistle.models import Event, Whistle

pytestmark = pytest.mark.django_db

Datatype = CategoryAttribute.Datatype
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def asked(cast):
    """ENV-COMPOUND asks: a notice, a required single choice, several choices, a number, a time, text."""
    make = CategoryAttribute.objects.create
    make(category=cast.compound, code="notice", variable=False, datatype=Datatype.TEXT, order=1, description="请注意")
    make(
        category=cast.compound,
        code="kind",
        datatype=Datatype.SINGLEVALUELIST,
        required=True,
        order=2,
        description="堆放物类型",
        values=[{"key": "junk", "name": "杂物"}, {"key": "bikes", "name": "电动车"}],
    )
    make(
        category=cast.compound,
        code="floors",
        datatype=Datatype.MULTIVALUELIST,
        order=3,
        description="涉及楼层",
        values=[{"key": str(n), "name": f"{n}层"} for n in range(1, 7)],
    )
    make(category=cast.compound, code="count", datatype=Datatype.NUMBER, order=4, description="涉及户数")
    make(category=cast.compound, code="seen_at", datatype=Datatype.DATETIME, order=5, description="发现时间")
    make(category=cast.compound, code="where", datatype=Datatype.STRING, order=6, description="具体位置")
    make(category=cast.compound, code="story", datatype=Datatype.TEXT, order=7, description="经过")
    return cast


def refused(user, **fields) -> dict[str, list[str]]:
    with pytest.raises(InvalidInput) as caught:
        submit_whistle(user, **fields)
    assert not Whistle.objects.exists() and not Event.objects.exists()
    return caught.value.fields


# The service ---------------------------------------------------------------------------------


def test_answers_are_stored_normalised(asked):
    answers = {
        "kind": "junk",
        "floors": ["3", "2", "3"],
        "count": "12",
        "seen_at": datetime(2026, 5, 6, 9, 30, tzinfo=SHANGHAI),
        "where": "  3号楼2单元 ",
        "story": "第一行\n第二行",
    }

    whistle = submit_whistle(asked.s01_staff, attributes=answers).whistle

    whistle.refresh_from_db()
    assert whistle.attributes == {
        "kind": "junk",
        "floors": ["3", "2"],
        "count": 12,
        "seen_at": "2026-05-06T09:30:00+08:00",
        "where": "3号楼2单元",
        "story": "第一行\n第二行",
    }


@pytest.mark.parametrize(
    ("value", "stored"),
    [(2.5, 2.5), ("2.50", 2.5), (" 7 ", 7), (-3, -3), ("1e3", 1000)],
)
def test_a_number_may_come_as_a_number_or_as_text(asked, value, stored):
    whistle = submit_whistle(asked.s01_staff, attributes={"kind": "junk", "count": value}).whistle

    assert whistle.attributes["count"] == stored


def test_one_choice_of_several_may_come_alone(asked):
    whistle = submit_whistle(asked.s01_staff, attributes={"kind": "junk", "floors": "4"}).whistle

    assert whistle.attributes["floors"] == ["4"]


def test_blank_optional_answers_are_left_out(asked):
    whistle = submit_whistle(asked.s01_staff, attributes={"kind": "junk", "where": "  ", "floors": []}).whistle

    assert whistle.attributes == {"kind": "junk"}


@pytest.mark.parametrize(
    ("answers", "field", "message"),
    [
        ({}, "attributes.kind", "An answer is required: 堆放物类型"),
        ({"kind": "  "}, "attributes.kind", "An answer is required"),
        ({"kind": "gold"}, "attributes.kind", "gold is not a choice: choose among junk, bikes."),
        ({"kind": ["junk", "bikes"]}, "attributes.kind", "Choose only one of junk, bikes."),
        ({"kind": 3}, "attributes.kind", "Choose among junk, bikes."),
        ({"kind": "junk", "floors": ["1", "7"]}, "attributes.floors", "7 is not a choice"),
        ({"kind": "junk", "floors": {"1": True}}, "attributes.floors", "Choose among"),
        ({"kind": "junk", "count": "twelve"}, "attributes.count", "Give a number"),
        ({"kind": "junk", "count": True}, "attributes.count", "Give a number"),
        ({"kind": "junk", "count": float("nan")}, "attributes.count", "Give a number"),
        ({"kind": "junk", "count": "inf"}, "attributes.count", "Give a number"),
        ({"kind": "junk", "seen_at": "2026-05-06T09:30:00"}, "attributes.seen_at", "with its UTC offset"),
        ({"kind": "junk", "seen_at": datetime(2026, 5, 6, 9, 30)}, "attributes.seen_at", "with its UTC offset"),
        ({"kind": "junk", "seen_at": "9999-12-31T23:59:59-14:00"}, "attributes.seen_at", "with its UTC offset"),
        ({"kind": "junk", "seen_at": "2026-02-30T09:00:00+08:00"}, "attributes.seen_at", "with its UTC offset"),
        ({"kind": "junk", "where": 5}, "attributes.where", "Give text."),
        ({"kind": "junk", "where": "楼" * 201}, "attributes.where", "At most 200 characters (this has 201)."),
        ({"kind": "junk", "story": "字" * 2001}, "attributes.story", "At most 2000 characters"),
        ({"kind": "junk", "notice": "知道了"}, "attributes.notice", "This is a notice: it takes no answer."),
        ({"kind": "junk", "colour": "red"}, "attributes.colour", "The category ENV-COMPOUND has no attribute colour."),
    ],
)
def test_a_bad_answer_is_refused_naming_the_attribute_and_the_rule(asked, answers, field, message):
    errors = refused(asked.s01_staff, attributes=answers)

    assert any(message in text for text in errors[field]), errors


def test_answers_must_be_keyed_by_code(asked):
    assert refused(asked.s01_staff, attributes=["junk"]) == {
        "attributes": ["Give the answers as an object keyed by attribute code."]
    }


def test_every_bad_answer_is_named_at_once_with_the_other_fields(asked):
    errors = refused(asked.s01_staff, title="", attributes={"count": "x", "colour": "red"})

    assert set(errors) == {"title", "attributes.kind", "attributes.count", "attributes.colour"}


def test_an_unknown_category_is_the_only_complaint_about_its_answers(asked):
    errors = refused(asked.s01_staff, category="NO-SUCH", attributes={"kind": "junk"})

    assert set(errors) == {"category"}


def test_a_category_without_questions_takes_no_answers(asked):
    errors = refused(asked.s01_staff, category="MISC-OTHER", attributes={"kind": "junk"})
    assert list(errors) == ["attributes.kind"]
    assert submit_whistle(asked.s01_staff, category="MISC-OTHER").whistle.attributes == {}


def test_the_callers_email_is_checked_and_kept(asked):
    errors = refused(asked.hotline, attributes={"kind": "junk"}, caller_email="not an address")
    assert list(errors) == ["caller_email"]

    whistle = submit_whistle(asked.hotline, attributes={"kind": "junk"}, caller_email=" wang@example.cn ").whistle
    assert whistle.caller_email == "wang@example.cn"


# Places without a point: a community or a street by code -------------------------------------------


def test_a_whistle_may_be_placed_in_a_community_or_a_street(asked):
    base = {"lon": None, "lat": None, "attributes": {"kind": "junk"}}

    in_community = submit_whistle(asked.hotline, community="S01C01", **base).whistle
    in_street = submit_whistle(asked.hotline, street="S02", **base).whistle

    assert (in_community.street.code, in_community.community.code, in_community.grid) == ("S01", "S01C01", None)
    assert (in_street.street.code, in_street.community, in_street.grid) == ("S02", None, None)


def test_a_point_or_grid_comes_before_a_unit(asked):
    whistle = submit_whistle(asked.hotline, street="S02", attributes={"kind": "junk"}).whistle

    assert whistle.grid.code == "S01C01G01" and whistle.street.code == "S01"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"community": "S09C09"}, "community"),
        ({"street": "S99"}, "street"),
        ({"community": "S01C01", "street": "S02"}, "community"),
    ],
)
def test_an_unknown_or_inconsistent_unit_is_refused(asked, fields, field):
    errors = refused(asked.hotline, lon=None, lat=None, attributes={"kind": "junk"}, **fields)

    assert list(errors) == [field]


def test_a_street_places_whistles_only_in_its_own_units(asked):
    errors = refused(asked.s01_staff, lon=None, lat=None, community="S02C01", attributes={"kind": "junk"})

    assert errors == {"community": ["The place lies in 香水园街道, not in your street."]}


# Definitions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("datatype", "values", "problem"),
    [
        (Datatype.SINGLEVALUELIST, [], "Give the choices as a list"),
        (Datatype.MULTIVALUELIST, {"a": "b"}, "Give the choices as a list"),
        (Datatype.SINGLEVALUELIST, [{"key": "", "name": "空"}], "Every choice needs a key"),
        (Datatype.SINGLEVALUELIST, [{"key": "a"}], "Choice a needs a name."),
        (Datatype.SINGLEVALUELIST, [{"key": "a", "name": "甲"}, {"key": "a", "name": "乙"}], "used twice"),
        (Datatype.STRING, [{"key": "a", "name": "甲"}], "Only the list types have choices."),
    ],
)
def test_an_attributes_choices_must_fit_its_type(cast, datatype, values, problem):
    attribute = CategoryAttribute(category=cast.compound, code="x", datatype=datatype, description="?", values=values)

    with pytest.raises(ValidationError) as caught:
        attribute.full_clean()

    assert problem in str(caught.value.message_dict["values"])


def test_a_notice_cannot_be_required_and_codes_are_unique_per_category(cast):
    notice = CategoryAttribute(
        category=cast.compound, code="n", variable=False, required=True, datatype=Datatype.TEXT, description="!"
    )
    with pytest.raises(ValidationError, match="cannot be required"):
        notice.full_clean()
    CategoryAttribute.objects.create(category=cast.compound, code="plate", description="车牌号")
    with pytest.raises(ValidationError, match="already has an attribute with this code"):
        CategoryAttribute(category=cast.compound, code="plate", description="车牌").full_clean()
    CategoryAttribute(category=cast.order, code="plate", description="车牌号").full_clean()
    with pytest.raises(ValidationError):
        CategoryAttribute(category=cast.order, code="车牌", description="车牌号").full_clean()


@pytest.mark.parametrize("category_code", sorted(DEMO_ATTRIBUTES))
def test_the_demo_categories_questions_are_valid_definitions(category_code):
    category = CategoryFactory(code=category_code)
    specs = DEMO_ATTRIBUTES[category_code]

    assert 2 <= len(specs) and len({spec["code"] for spec in specs}) == len(specs)
    for order, spec in enumerate(specs, start=1):
        CategoryAttribute(category=category, order=order, **spec).full_clean()


def test_the_category_admin_edits_the_questions_inline(client, asked):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    response = client.get(reverse("admin:departments_category_change", args=[asked.compound.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="attributes-TOTAL_FORMS" value="7"' in html and "堆放物类型" in html


# The web form and the whistle page -----------------------------------------------------------


def form_data(**fields) -> dict:
    data = {
        "category": "ENV-COMPOUND",
        "mode": "regular",
        "title": "楼道堆物",
        "description": "3号楼楼道堆满杂物，堵塞消防通道。",
        "lon": "115.975",
        "lat": "40.465",
    }
    return {**data, **fields}


def test_choosing_a_category_swaps_in_its_questions(client, asked):
    client.force_login(asked.s01_staff)

    page = client.get(reverse("whistle:new")).content.decode()
    partial = client.get(reverse("whistle:attribute_fields"), {"category": "ENV-COMPOUND"})
    nothing = client.get(reverse("whistle:attribute_fields"), {"category": "MISC-OTHER"})
    unknown = client.get(reverse("whistle:attribute_fields"), {"category": "x" * 500})

    assert f'hx-get="{reverse("whistle:attribute_fields")}"' in page
    assert 'hx-trigger="change from:#id_category"' in page
    html = partial.content.decode()
    assert partial.status_code == 200
    for name in ("kind", "floors", "count", "seen_at", "where", "story"):
        assert f'name="attributes.{name}"' in html
    assert 'name="attributes.notice"' not in html and "请注意" in html
    assert "堆放物类型 (required)" in html and '<option value="bikes">电动车</option>' in html
    assert 'type="checkbox" name="attributes.floors" value="6"' in html
    assert 'type="datetime-local"' in html and "<textarea" in html
    assert nothing.status_code == unknown.status_code == 200
    assert "attributes." not in nothing.content.decode() + unknown.content.decode()


def test_only_the_streets_people_get_the_questions_partial(client, asked):
    client.force_login(asked.d13_staff)

    assert client.get(reverse("whistle:attribute_fields"), {"category": "ENV-COMPOUND"}).status_code == 403


def test_the_form_passes_the_answers_and_the_whistle_page_lists_them(client, asked):
    client.force_login(asked.s01_staff)
    answers = {
        "attributes.kind": "bikes",
        "attributes.floors": ["2", "3"],
        "attributes.count": "4",
        "attributes.seen_at": "2026-05-06T21:30",
        "attributes.where": "",
    }

    response = client.post(reverse("whistle:new"), form_data(**answers), follow=True)

    whistle = Whistle.objects.get()
    assert whistle.attributes == {
        "kind": "bikes",
        "floors": ["2", "3"],
        "count": 4,
        "seen_at": "2026-05-06T21:30:00+08:00",
    }
    html = response.content.decode()
    section = html[html.index('id="whistle-attributes"') :]
    for text in ("堆放物类型", "电动车", "2层、3层", "涉及户数", "4", "发现时间"):
        assert text in section
    assert "具体位置" not in section


def test_a_bad_answer_is_shown_beside_its_question_and_nothing_is_saved(client, asked):
    client.force_login(asked.s01_staff)

    response = client.post(reverse("whistle:new"), form_data(**{"attributes.count": "many"}))

    assert response.status_code == 200
    html = response.content.decode()
    assert not Whistle.objects.exists()
    kind = html[html.index('name="attributes.kind"') :]
    assert "An answer is required: 堆放物类型" in kind[: kind.index('name="attributes.floors"')]
    assert "Give a number, e.g. 12 or 2.5." in html
    assert 'value="many"' in html  # the input is kept


def test_a_whistle_without_answers_shows_no_answers_section(client, asked):
    whistle = submit_whistle(asked.s01_staff, category="MISC-OTHER").whistle
    client.force_login(asked.s01_staff)

    html = client.get(reverse("whistle:detail", args=[whistle.number])).content.decode()

    assert 'id="whistle-attributes"' not in html
