"""Two units' worth of data for the access matrix, built through the real services.

District YQ has street A (S01) and street B (S02); district HD has street C
(S21). Each street's whistles are routed only to its own units:

    unit   street  district department  station  enterprise
    A      S01     D13 (X)              T01      E06
    B      S02     D20 (Y)              T04      E07
    C      S21     D51 (Z)              T51      E51

The users of the matrix act for unit A (the street's six roles, D13's staff and
head, T01's and E06's staff) or for district YQ (supervisor, hotline); their
"other unit" is B for the first and district HD (unit C) for the second. B and
C each get the same set of objects: a routed whistle with open tasks, an
extension request, a resolved whistle with a feedback attachment, a closed one
rated and called back, a hotline whistle, a party-office draft, one in the
dispatch queue, a difficult one with a joint meeting, and an overdue one that
the deadline sweep turned into supervision orders and accountability records;
notifications come with all of them.

Every whistle of B and C carries a canary (``CANARY-B-open`` …) in its title,
description and address, and so do the texts written on it (feedback, ratings,
callbacks, meeting places, extension reasons, order replies), so that any page
or answer that shows the other unit's data can be caught by a substring test.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import time_machine
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from departments.models import Department, Membership, Responsibility
from departments.services import responsibility_create
from grids.models import District
from tests.factories import CategoryFactory, CommunityFactory, DepartmentFactory, GridFactory, StreetFactory, square

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
# Five working days later: every ladder step of the open tasks has fallen due.
SWEPT_AT = datetime(2026, 3, 9, 10, 0, tzinfo=SHANGHAI)
PERIOD = "2026-03"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64

R = Membership.Role
# The roles of the matrix: name → (role, unit it acts for); "outsider" has no membership, "anonymous" no user.
ROLES = {
    "street_staff": (R.STREET_STAFF, "street"),
    "street_deputy": (R.STREET_DEPUTY, "street"),
    "street_head": (R.STREET_HEAD, "street"),
    "party_office": (R.PARTY_OFFICE, "street"),
    "grid_worker": (R.GRID_WORKER, "street"),
    "dispatcher": (R.DISPATCHER, "street"),
    "dept_staff": (R.DEPT_STAFF, "department"),
    "dept_head": (R.DEPT_HEAD, "department"),
    "station_staff": (R.DEPT_STAFF, "station"),
    "enterprise_staff": (R.DEPT_STAFF, "enterprise"),
    "supervisor": (R.SUPERVISOR, "district"),
    "hotline": (R.HOTLINE_CLIENT, "district"),
    "outsider": (None, None),
    "anonymous": (None, None),
}
# Whose objects each role must never see: unit B for a unit of district YQ, unit C for the district's own roles.
TARGET_UNIT = {name: ("C" if unit == "district" else "B") for name, (_role, unit) in ROLES.items()}
# The kinds of whistle each unit has (see build_unit).
WHISTLE_KINDS = ("open", "extension", "resolved", "closed", "hotline", "draft", "queue", "difficult", "overdue")


@dataclass
class Unit:
    """One street with its district, its own department, station and enterprise, and its users."""

    key: str
    district: District
    street: object
    grid: object
    department: Department
    station: Department
    enterprise: Department
    users: dict = field(default_factory=dict)
    point: tuple[float, float] = (0.0, 0.0)
    whistles: dict = field(default_factory=dict)
    tasks: dict = field(default_factory=dict)
    extension: object = None
    attachment: object = None
    meeting: object = None
    order: object = None
    record: object = None
    notification: object = None

    def canary(self, kind: str) -> str:
        return f"CANARY-{self.key}-{kind}"


def _user(username: str, role=None, **unit):
    user = get_user_model().objects.create_user(username=username, email=f"{username}@example.gov.cn")
    if role is not None:
        Membership.objects.create(user=user, role=role, **unit)
    return user


def _unit(key, *, district, street_code, street_name, codes, point, categories) -> Unit:
    # Every name carries the unit's marker ("C单元…"): a page of district YQ showing one of HD's units shows it.
    street = StreetFactory(district=district, code=street_code, name=f"{key}单元{street_name}")
    community = CommunityFactory(street=street, code=f"{street_code}C01", name=f"{key}单元社区")
    grid = GridFactory(
        community=community, code=f"{street_code}C01G01", name=f"{key}单元网格", boundary=square(*point, 0.01)
    )
    dept_code, station_code, enterprise_code = codes
    department = DepartmentFactory(district=district, code=dept_code, name=f"{key}单元城市管理委员会")
    station = DepartmentFactory(
        district=district,
        code=station_code,
        name=f"{key}单元派出所",
        kind=Department.Kind.GRASSROOTS_STATION,
        station_kind=Department.StationKind.POLICE_STATION,
    )
    station.streets.set([street])
    enterprise = DepartmentFactory(
        district=district,
        code=enterprise_code,
        name=f"{key}单元环卫集团",
        kind=Department.Kind.PUBLIC_SERVICE_ENTERPRISE,
    )
    lead, co = Responsibility.Role.LEAD, Responsibility.Role.CO_OPERATING
    # Street-scoped rules only: a whistle of this street summons this unit's departments and no others.
    responsibility_create(category=categories.compound, department=department, role=lead, streets=[street])
    responsibility_create(category=categories.compound, department=enterprise, role=co, streets=[street])
    responsibility_create(category=categories.order, department=station, role=lead, streets=[street])
    unit = Unit(
        key=key,
        district=district,
        street=street,
        grid=grid,
        department=department,
        station=station,
        enterprise=enterprise,
        point=(point[0] + 0.005, point[1] + 0.005),
    )
    prefix = street_code.lower()
    for suffix, role in (
        ("staff", R.STREET_STAFF),
        ("deputy", R.STREET_DEPUTY),
        ("head", R.STREET_HEAD),
        ("party", R.PARTY_OFFICE),
        ("grid", R.GRID_WORKER),
        ("dispatcher", R.DISPATCHER),
    ):
        unit.users[f"street_{suffix}"] = _user(f"{prefix}_{suffix}", role, street=street)
    for name, dept, role in (
        ("dept_staff", department, R.DEPT_STAFF),
        ("dept_head", department, R.DEPT_HEAD),
        ("station_staff", station, R.DEPT_STAFF),
        ("station_head", station, R.DEPT_HEAD),
        ("enterprise_staff", enterprise, R.DEPT_STAFF),
        ("enterprise_head", enterprise, R.DEPT_HEAD),
    ):
        unit.users[name] = _user(f"{dept.code.lower()}_{name.split('_')[1]}", role, department=dept)
    return unit


def _district_users(district: District, suffix: str) -> dict:
    return {
        "supervisor": _user(f"supervisor{suffix}", R.SUPERVISOR, district=district),
        "hotline": _user(f"hotline{suffix}", R.HOTLINE_CLIENT, district=district),
    }


def build_world() -> SimpleNamespace:
    """Build units A, B and C with their objects; call inside a transaction that is rolled back."""
    yq = District.objects.create(code="YQ", name="延庆区")
    hd = District.objects.create(code="HD", name="海淀区")
    categories = SimpleNamespace(
        compound=CategoryFactory(code="ENV-COMPOUND", name="老旧小区环境", default_grade="ordinary"),
        order=CategoryFactory(code="ORDER-PUBLIC", name="治安秩序", default_grade="priority"),
        unruled=CategoryFactory(code="MISC-OTHER", name="其他事项", default_grade="ordinary"),
    )
    units = {
        "A": _unit(
            "A",
            district=yq,
            street_code="S01",
            street_name="百泉街道",
            codes=("D13", "T01", "E06"),
            point=(115.97, 40.46),
            categories=categories,
        ),
        "B": _unit(
            "B",
            district=yq,
            street_code="S02",
            street_name="香水园街道",
            codes=("D20", "T04", "E07"),
            point=(115.95, 40.44),
            categories=categories,
        ),
        "C": _unit(
            "C",
            district=hd,
            street_code="S21",
            street_name="中关村街道",
            codes=("D51", "T51", "E51"),
            point=(116.30, 39.95),
            categories=categories,
        ),
    }
    districts = {"YQ": _district_users(yq, ""), "HD": _district_users(hd, "_hd")}
    for key, unit in units.items():
        unit.users.update(districts["HD" if key == "C" else "YQ"])
    outsider = _user("outsider")

    with time_machine.travel(MONDAY_10, tick=False):
        for unit in units.values():
            build_unit(unit)
    from escalation.services import deadlines_sweep

    with time_machine.travel(SWEPT_AT, tick=False):
        deadlines_sweep()
    for unit in units.values():
        _find_escalations(unit)

    a = units["A"]
    users = {
        "street_staff": a.users["street_staff"],
        "street_deputy": a.users["street_deputy"],
        "street_head": a.users["street_head"],
        "party_office": a.users["street_party"],
        "grid_worker": a.users["street_grid"],
        "dispatcher": a.users["street_dispatcher"],
        "dept_staff": a.users["dept_staff"],
        "dept_head": a.users["dept_head"],
        "station_staff": a.users["station_staff"],
        "enterprise_staff": a.users["enterprise_staff"],
        "supervisor": a.users["supervisor"],
        "hotline": a.users["hotline"],
        "outsider": outsider,
        "anonymous": None,
    }
    return SimpleNamespace(units=units, users=users, categories=categories, districts={"YQ": yq, "HD": hd})


def _submit(unit: Unit, kind: str, user, **fields):
    from whistle.services import whistle_submit

    canary = unit.canary(kind)
    data = {
        "title": f"{canary} 楼道堆物",
        "description": f"{canary}: 3号楼楼道堆满杂物，堵塞消防通道。",
        "category": "ENV-COMPOUND",
        "lon": unit.point[0],
        "lat": unit.point[1],
        "address": f"{canary} 3号楼",
        **fields,
    }
    whistle = whistle_submit(reporter=user, **data).whistle
    unit.whistles[kind] = whistle
    return whistle


def _routed(unit: Unit, kind: str, user, **fields):
    from whistle.services import whistle_route

    whistle = _submit(unit, kind, user, **fields)
    whistle_route(whistle_id=whistle.pk)
    whistle.refresh_from_db()
    return whistle


def _task(whistle, department):
    from whistle.models import Task

    return Task.objects.select_related("whistle__street", "department").get(whistle=whistle, department=department)


def _close_all(unit: Unit, kind: str, *, files: bool = False):
    """Check in and close every task, the co-operating first; the lead's feedback with a photo when asked."""
    from whistle.services import task_check_in, task_close

    whistle, canary = unit.whistles[kind], unit.canary(kind)
    staff = {unit.department.pk: unit.users["dept_staff"], unit.enterprise.pk: unit.users["enterprise_staff"]}
    tasks = sorted(whistle.tasks.select_related("department"), key=lambda t: t.role == Responsibility.Role.LEAD)
    for task in tasks:
        actor = staff[task.department_id]
        task_check_in(task=task, actor=actor, note=f"{canary} 到场")
        lead = task.role == Responsibility.Role.LEAD
        upload = [SimpleUploadedFile(f"{canary}.jpg", JPEG)] if files and lead else None
        feedback = task_close(
            task=task, actor=actor, actions=f"{canary} 已清理楼道", result="solved", note=canary, files=upload
        )
        if upload:
            unit.attachment = feedback.attachments.get()
    whistle.refresh_from_db()
    return whistle


def build_unit(unit: Unit) -> None:
    """The objects of one unit, each through the service its users would call."""
    from whistle.services import (
        meeting_schedule,
        task_acknowledge,
        task_check_in,
        task_request_extension,
        whistle_callback,
        whistle_confirm,
        whistle_rate,
    )

    staff, head = unit.users["street_staff"], unit.users["street_head"]
    dept_staff = unit.users["dept_staff"]

    # A routed whistle with its tasks still waiting: the target of every task action.
    opened = _routed(unit, "open", staff)
    unit.tasks["open"] = _task(opened, unit.department)
    unit.tasks["open_co"] = _task(opened, unit.enterprise)

    # A task with a pending extension request.
    extended = _routed(unit, "extension", staff)
    lead = _task(extended, unit.department)
    task_acknowledge(task=lead, actor=dept_staff)
    task_check_in(task=lead, actor=dept_staff)
    unit.extension = task_request_extension(
        task=lead,
        actor=dept_staff,
        until=MONDAY_10 + timedelta(days=30),
        reason=f"{unit.canary('extension')} 需协调产权单位",
    )

    # Resolved (awaiting the street's confirmation), with a photo on the lead's feedback.
    resolved = _routed(unit, "resolved", staff)
    _close_all(unit, "resolved", files=True)
    unit.tasks["resolved"] = _task(resolved, unit.department)

    # Closed, rated and called back.
    closed = _routed(unit, "closed", staff)
    _close_all(unit, "closed")
    whistle_confirm(whistle=closed, actor=staff)
    closed.refresh_from_db()
    for department in (unit.department, unit.enterprise):
        whistle_rate(
            whistle=closed,
            actor=staff,
            department=department.code,
            response=5,
            attitude=4,
            result=5,
            comment=f"{unit.canary('closed')} 处置及时",
        )
    whistle_callback(
        whistle=closed, actor=staff, satisfaction="satisfied", solved=True, note=f"{unit.canary('closed')} 市民满意"
    )

    # A 12345 hotline whistle, closed and called back by the hotline.
    hotline = _routed(
        unit,
        "hotline",
        unit.users["hotline"],
        source="hotline",
        external_id=f"12345-{unit.key}-0001",
        caller_name="张女士",
        caller_phone="13800001234",
    )
    _close_all(unit, "hotline")
    whistle_confirm(whistle=hotline, actor=staff)
    whistle_callback(
        whistle=hotline,
        actor=unit.users["hotline"],
        satisfaction="satisfied",
        solved=True,
        note=f"{unit.canary('hotline')} 回访满意",
    )

    # A party-building-office whistle in its approval chain (a draft).
    _submit(unit, "draft", unit.users["street_party"], source="party_office")

    # No rule for the category: waiting in the dispatcher's queue.
    _routed(unit, "queue", staff, category="MISC-OTHER")

    # A difficult whistle with a joint meeting scheduled.
    difficult = _routed(unit, "difficult", head, grade="difficult")
    unit.meeting = meeting_schedule(
        whistle=difficult,
        actor=staff,
        scheduled_at=MONDAY_10 + timedelta(days=1),
        place=f"{unit.canary('difficult')} 会议室",
        agenda=unit.canary("difficult"),
    )

    # A priority public-order whistle nobody acknowledges: the sweep escalates it.
    overdue = _routed(unit, "overdue", staff, category="ORDER-PUBLIC", grade="priority")
    unit.tasks["overdue"] = _task(overdue, unit.station)


def _find_escalations(unit: Unit) -> None:
    """The supervision order, accountability record and a notification the sweep and routing left on the unit."""
    from escalation.models import AccountabilityRecord, SupervisionOrder
    from whistle.models import Notification

    unit.order = SupervisionOrder.objects.filter(task=unit.tasks["overdue"]).order_by("pk").first()
    unit.record = AccountabilityRecord.objects.filter(whistle__street=unit.street).order_by("pk").first()
    unit.notification = (
        Notification.objects.filter(whistle__street=unit.street, department=unit.department).order_by("pk").first()
    )
    assert unit.order and unit.record and unit.notification, f"unit {unit.key}: the sweep left nothing to test"
