"""The Open311 tests' cast: the whistle tests' two streets, questions on two categories, and api_keys."""

from types import SimpleNamespace
from xml.etree import ElementTree as ET

import pytest
from rest_framework.authtoken.models import Token

from departments.models import CategoryAttribute

ROOT = "/open311/v2"


@pytest.fixture
def o311(cast):
    """The cast, with questions on ENV-COMPOUND and ORDER-PUBLIC and the api_keys of several roles."""
    Datatype = CategoryAttribute.Datatype
    compound = [
        CategoryAttribute(
            category=cast.compound,
            code="notice",
            variable=False,
            datatype=Datatype.TEXT,
            order=1,
            description="涉及消防通道的请同时拨打 119。",
        ),
        CategoryAttribute(
            category=cast.compound,
            code="kind",
            datatype=Datatype.SINGLEVALUELIST,
            required=True,
            order=2,
            description="堆放物类型",
            values=[{"key": "junk", "name": "杂物"}, {"key": "bikes", "name": "电动车"}],
        ),
        CategoryAttribute(
            category=cast.compound,
            code="floors",
            datatype=Datatype.MULTIVALUELIST,
            order=3,
            description="涉及楼层",
            values=[{"key": str(n), "name": f"{n}层"} for n in range(1, 7)],
        ),
        CategoryAttribute(
            category=cast.compound,
            code="count",
            datatype=Datatype.NUMBER,
            order=4,
            description="涉及户数",
            datatype_description="估计值",
        ),
        CategoryAttribute(
            category=cast.compound, code="seen_at", datatype=Datatype.DATETIME, order=5, description="发现时间"
        ),
    ]
    CategoryAttribute.objects.bulk_create(compound)
    CategoryAttribute.objects.create(
        category=cast.order, code="plate", datatype=Datatype.STRING, order=1, description="车牌号"
    )
    keys = {
        name: Token.objects.create(user=getattr(cast, name)).key
        for name in ("hotline", "s01_staff", "s02_staff", "d13_staff", "supervisor", "outsider")
    }
    return SimpleNamespace(cast=cast, keys=keys)


def errors_of(response) -> list[dict]:
    """The spec's error list from a JSON or XML answer, as [{"code": int, "description": str}]."""
    if response["Content-Type"].startswith("text/xml"):
        root = ET.fromstring(response.content)
        assert root.tag == "errors"
        return [
            {"code": int(error.findtext("code")), "description": error.findtext("description")}
            for error in root.findall("error")
        ]
    return response.json()


def assert_error(response, status: int, *fragments: str) -> list[dict]:
    """An answer with this status in the spec's error format, whose descriptions hold every fragment."""
    assert response.status_code == status, response.content.decode()
    errors = errors_of(response)
    assert errors and all(set(error) == {"code", "description"} for error in errors), errors
    assert {error["code"] for error in errors} == {status}
    text = " | ".join(error["description"] for error in errors)
    for fragment in fragments:
        assert fragment in text, text
    return errors
