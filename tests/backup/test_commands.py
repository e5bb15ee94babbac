"""export_district / import_district refuse what they cannot do, with a message that says why, and write nothing."""

import json
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command, load_command_class
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from backup.sections import SECTIONS
from backup.transfer import FORMAT
from departments.models import Category, Department, Membership, Responsibility
from grids.models import Community, District, Grid, Street
from tests.factories import DepartmentFactory, DistrictFactory, submit_whistle

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {section.label: section.model.objects.count() for section in SECTIONS}


def export(code: str = "YQ") -> dict:
    out = StringIO()
    call_command("export_district", code, stdout=out, stderr=StringIO())
    return json.loads(out.getvalue())


def write(tmp_path, data, name="district.json") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def import_(path: str) -> str:
    out = StringIO()
    call_command("import_district", path, stdout=out)
    return out.getvalue()


def test_export_of_an_unknown_district_names_the_code_and_leaves_no_file(cast, tmp_path):
    target = tmp_path / "nope.json"
    with pytest.raises(CommandError, match="There is no district with the code NOPE"):
        call_command("export_district", "NOPE", "--output", str(target), stdout=StringIO())
    assert list(tmp_path.iterdir()) == []


def test_export_to_standard_output_is_json_and_the_summary_goes_to_standard_error(cast):
    submit_whistle(cast.s01_staff)
    out, err = StringIO(), StringIO()
    call_command("export_district", "YQ", stdout=out, stderr=err)
    data = json.loads(out.getvalue())
    assert (data["format"], data["version"], data["district"]) == (FORMAT, 1, "YQ")
    assert data["counts"]["whistle.whistle"] == len(data["sections"]["whistle.whistle"]) == 1
    assert "Exported district YQ" in err.getvalue() and "1 whistles" in err.getvalue()
    whistle = data["sections"]["whistle.whistle"][0]
    assert (whistle["street"], whistle["category"], whistle["reporter"]) == ("S01", "ENV-COMPOUND", "s01_staff")


def test_the_export_reads_each_section_with_a_fixed_number_of_queries(cast):
    submit_whistle(cast.s01_staff)
    with CaptureQueriesContext(connection) as few:
        export()
    for _ in range(6):
        submit_whistle(cast.s02_staff, lon=115.955, lat=40.445)
    with CaptureQueriesContext(connection) as more:
        export()
    assert len(more.captured_queries) == len(few.captured_queries) < 100


def test_import_is_refused_while_the_district_exists(cast, tmp_path):
    submit_whistle(cast.s01_staff)
    path = write(tmp_path, export())
    before = counts()
    with pytest.raises(CommandError, match="District YQ exists in this installation already: nothing was imported"):
        import_(path)
    assert counts() == before


def test_import_is_refused_when_the_codes_of_another_district_are_taken(cast, tmp_path):
    data = export()
    data["sections"]["grids.district"][0]["code"] = "XX"
    data["district"] = "XX"
    before = counts()
    with pytest.raises(CommandError, match="streets and townships are in this installation already: S01, S02"):
        import_(write(tmp_path, data))
    assert counts() == before and not District.objects.filter(code="XX").exists()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: "{" + json.dumps(data)[:5000], "not a district export: it is not valid JSON"),
        (lambda data: {**data, "version": 99}, "format version is 99; this installation reads version 1"),
        (lambda data: {**data, "format": "geojson"}, "not a district export of this platform"),
        (lambda data: [data], "not a district export of this platform"),
        (
            lambda data: {**data, "counts": {**data["counts"], "whistle.event": 7}},
            "section whistle.event does not hold",
        ),
        (
            lambda data: {**data, "sections": {**data["sections"], "whistle.comment": []}},
            "unknown sections whistle.comment",
        ),
        (lambda data: {**data, "district": "ZZ"}, "it does not hold district ZZ"),
    ],
    ids=["truncated", "version", "format", "not-an-object", "counts", "unknown-section", "other-district"],
)
def test_a_damaged_or_foreign_file_is_refused_with_the_reason(cast, tmp_path, damage, message):
    submit_whistle(cast.s01_staff)
    data = export()
    data["district"] = data["sections"]["grids.district"][0]["code"] = "XX"
    before = counts()
    with pytest.raises(CommandError, match=message):
        import_(write(tmp_path, damage(data)))
    assert counts() == before


def remove_district(code: str = "YQ"):
    """A district and its units, not its users and categories (they are shared)."""
    Membership.objects.filter(Q(street__district__code=code) | Q(department__district__code=code)).delete()
    Membership.objects.filter(district__code=code).delete()
    Responsibility.objects.filter(department__district__code=code).delete()
    Department.objects.filter(district__code=code).delete()
    Grid.objects.filter(community__street__district__code=code).delete()
    Community.objects.filter(street__district__code=code).delete()
    Street.objects.filter(district__code=code).delete()
    District.objects.filter(code=code).delete()


@pytest.mark.parametrize("other_district_here", [True, False])
def test_a_row_of_another_district_is_found_here_by_its_code_or_named(cast, tmp_path, other_district_here):
    other = DepartmentFactory(district=DistrictFactory(code="XQ", name="另一区"), code="X01", name="市级部门")
    Department.objects.filter(pk=cast.d13.pk).update(parent=other)
    path = write(tmp_path, export())
    remove_district()
    if not other_district_here:
        remove_district("XQ")
        with pytest.raises(CommandError, match=r"parent: it refers to department \"X01\", which neither the file nor"):
            import_(path)
        assert not District.objects.exists()
        return
    import_(path)
    assert Department.objects.get(code="D13").parent == other


def test_a_row_with_an_unknown_field_is_named_and_nothing_is_written(cast, tmp_path):
    data = export()
    data["sections"]["departments.department"][-1]["mayor"] = "张三"
    remove_district()
    before = counts()
    with pytest.raises(CommandError, match=r"departments.department #5: unknown fields mayor. Nothing was imported"):
        import_(write(tmp_path, data))
    assert counts() == before and not District.objects.exists()


def test_a_file_that_is_not_utf8_or_missing_is_refused(tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes('{"district": "延庆"}'.encode("gb18030"))
    with pytest.raises(CommandError, match="not UTF-8"):
        import_(str(path))
    with pytest.raises(CommandError, match="no such file"):
        import_(str(tmp_path / "missing.json"))


def test_users_and_categories_found_here_are_used_as_they_are(cast, tmp_path):
    """Shared rows are matched by username and code; the installation's own values win."""
    path = write(tmp_path, export())
    remove_district()
    User = get_user_model()
    User.objects.filter(username="s01_staff").update(email="new@example.gov.cn")
    Category.objects.filter(code="ENV-COMPOUND").update(name="老旧小区（新名称）")
    users, categories = User.objects.count(), Category.objects.count()

    output = import_(path)

    assert "0 users created, 19 found here already; 0 categories created, 3 found here already" in output
    assert (User.objects.count(), Category.objects.count()) == (users, categories)
    assert User.objects.get(username="s01_staff").email == "new@example.gov.cn"
    assert Category.objects.get(code="ENV-COMPOUND").name == "老旧小区（新名称）"
    membership = Membership.objects.get(user__username="s01_staff")
    assert (membership.role, membership.street.code, membership.street.district.code) == ("street_staff", "S01", "YQ")
    assert set(Responsibility.objects.values_list("category__code", "department__code", "streets__code")) == {
        ("ORDER-PUBLIC", "T01", "S01"),
        ("ORDER-PUBLIC", "T04", "S02"),
        ("ENV-COMPOUND", "D13", None),
        ("ENV-COMPOUND", "D12", None),
        ("ENV-COMPOUND", "E06", None),
    }


def test_a_refused_import_exits_with_a_non_zero_status(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "import_district", str(tmp_path / "missing.json")],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "missing.json" in result.stderr


@pytest.mark.parametrize("name", ["export_district", "import_district"])
def test_the_commands_explain_themselves(name):
    text = load_command_class("backup", name).create_parser("manage.py", name).format_help()
    assert "export_district" in text and "--help" in text
