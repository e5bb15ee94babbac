"""export_district / import_district: a district with a month of activity, exported, the database emptied, imported.

The district is the cast's (tests/conftest.py) with 24 whistles played through
the services by the demo replay, plus what the replay does not make:
attachment files, an object permission, an accountability note, a problem of
the month, evaluation weights and tallies, a merged whistle, a parent
department and a parent category. Everything is described by natural keys
before the export and again after the import, and must be the same.
"""

import datetime as dt
import json
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import connection
from guardian.models import UserObjectPermission
from guardian.shortcuts import assign_perm

from backup.sections import SECTIONS
from departments.models import Category, Department, Membership, Responsibility
from escalation.demo import demo_activity_seed
from escalation.evaluation_tally import evaluation_tally_count
from escalation.models import (
    AccountabilityRecord,
    EvaluationTally,
    EvaluationWeights,
    OpenTaskTally,
    ProblemTopic,
    SlaPolicy,
    SupervisionOrder,
    WorkCalendarDay,
    WorkCalendarYear,
    WorkSchedule,
)
from escalation.periods import Period
from escalation.services import accountability_annotate
from escalation.topics import problem_topic_adopt
from grids.locate import locate
from grids.models import District, GridWorker, Street
from tests.factories import submit_whistle
from whistle.models import (
    Attachment,
    Event,
    Extension,
    Feedback,
    JointMeeting,
    MeetingAttendance,
    Notification,
    Task,
    Whistle,
    WhistleNumberSequence,
)
from whistle.services import whistle_merge, whistle_route

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

NOW = dt.datetime(2026, 11, 25, 15, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
PDF = b"%PDF-1.4\n" + "现场处置报告".encode() * 100
STORAGE = Attachment._meta.get_field("file").storage


def task_key(task_id):
    task = Task.objects.select_related("whistle", "department").get(pk=task_id)
    return task.whistle.number, task.department.code


def username(user_id):
    return get_user_model().objects.get(pk=user_id).username if user_id else None


def describe_references(value: dict | None):
    """An event's before/after values with the ids they carry replaced by what those rows are."""
    if not isinstance(value, dict):
        return value
    value = dict(value)
    if "meeting" in value:
        meeting = JointMeeting.objects.get(pk=value["meeting"])
        value["meeting"] = (meeting.whistle.number, meeting.scheduled_at)
    if "extension" in value:
        extension = Extension.objects.get(pk=value["extension"])
        value["extension"] = (task_key(extension.task_id), extension.created_at)
    if "feedback" in value:
        feedback = Feedback.objects.get(pk=value["feedback"])
        value["feedback"] = (task_key(feedback.task_id), feedback.created_at)
    if "record" in value:
        record = AccountabilityRecord.objects.get(pk=value["record"])
        value["record"] = (record.whistle.number, record.kind, record.created_at)
    if "topic" in value:
        value["topic"] = ProblemTopic.objects.get(pk=value["topic"]).title
    if "order" in value:
        order = next(o for o in SupervisionOrder.objects.all() if o.number == value["order"])
        value["order"] = (task_key(order.task_id), order.created_at)
    return value


def describe_rule(pk):
    if pk is None:
        return None
    rule = Responsibility.objects.get(pk=pk)
    return rule.category.code, rule.department.code, rule.role, sorted(rule.streets.values_list("code", flat=True))


def advance_ids():
    """Let every table of the import count its ids from far beyond the original's, differently for each.

    The flush starts every table at id 1 again, so the import would give most rows their old ids
    back, and an id the import failed to translate would still look right.
    """
    with connection.cursor() as cursor:
        for number, section in enumerate(SECTIONS, 1):
            table, start = section.model._meta.db_table, 10_000 * number
            if connection.vendor == "postgresql":
                cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, start])
            else:
                cursor.execute("DELETE FROM sqlite_sequence WHERE name = %s", [table])
                cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, start])


def describe() -> dict:
    """The district's data by natural keys: what must survive the move field by field."""
    whistles = {
        w.number: (
            w.status,
            w.grade,
            w.source,
            w.mode,
            w.category.code,
            w.street.code,
            w.grid.code if w.grid else None,
            w.reporter.username,
            w.merged_into.number if w.merged_into else None,
            w.created_at,
            w.submitted_at,
            w.routed_at,
            w.closed_at,
            w.returns,
            w.reopens,
            [{**entry, "rule": describe_rule(entry.get("rule"))} for entry in w.routing],
            w.lon,
            w.lat,
        )
        for w in Whistle.objects.select_related("category", "street", "grid", "reporter", "merged_into")
    }
    tasks = {
        (t.whistle.number, t.department.code): (
            t.role,
            t.status,
            t.acknowledge_due_at,
            t.checkin_due_at,
            t.resolve_due_at,
            t.resolve_warn_at,
            t.acknowledged_at,
            t.closed_at,
            t.acknowledged_on_time,
            t.closed_on_time,
            t.resolve_overdue_at,
            t.next_deadline_at,
            t.next_step,
            t.suggested_department.code if t.suggested_department else None,
        )
        for t in Task.objects.select_related("whistle", "department", "suggested_department")
    }
    events = [
        (
            e.whistle.number,
            e.task.department.code if e.task else None,
            e.verb,
            e.actor.username if e.actor else None,
            e.system_actor,
            e.created_at,
            e.reason,
            describe_references(e.old),
            describe_references(e.new),
        )
        for e in Event.objects.select_related("whistle", "task__department", "actor").order_by("pk")
    ]
    attachments = {
        (task_key(a.feedback.task_id), a.name): (
            a.content_type,
            a.size,
            a.uploaded_by.username,
            STORAGE.open(a.file.name).read(),
        )
        for a in Attachment.objects.select_related("feedback", "uploaded_by")
    }
    orders = sorted(
        (task_key(o.task_id), o.status, o.automatic, o.reply_by, o.reply, username(o.opened_by_id), o.created_at)
        for o in SupervisionOrder.objects.all()
    )
    records = sorted(
        (
            r.whistle.number,
            r.department.code,
            r.kind,
            task_key(r.task_id) if r.task_id else None,
            r.facts,
            r.created_at,
            sorted((e.verb, e.created_at) for e in r.events.all()),
            sorted((n.author.username, n.text) for n in r.notes.all()),
        )
        for r in AccountabilityRecord.objects.select_related("whistle", "department")
    )
    return {
        "whistles": whistles,
        "tasks": tasks,
        "events": events,
        "attachments": attachments,
        "orders": orders,
        "records": records,
        "users": sorted(
            get_user_model()
            .objects.exclude(username="outsider")
            .values_list("username", "email", "password", "is_active")
        ),
        "memberships": sorted(
            (m.user.username, m.role, m.street.code if m.street else None, m.department.code if m.department else None)
            for m in Membership.objects.select_related("user", "street", "department")
        ),
        "departments": sorted(
            (d.code, d.parent.code if d.parent else None, sorted(d.streets.values_list("code", flat=True)))
            for d in Department.objects.select_related("parent")
        ),
        "categories": sorted(Category.objects.values_list("code", "parent__code", "default_grade")),
        "rules": sorted(
            (r.category.code, r.department.code, r.role, sorted(r.streets.values_list("code", flat=True)))
            for r in Responsibility.objects.select_related("category", "department")
        ),
        "grid_workers": sorted(
            (w.user.username, w.kind, sorted(w.grids.values_list("code", flat=True))) for w in GridWorker.objects.all()
        ),
        "sequences": sorted(WhistleNumberSequence.objects.values_list("street__code", "year", "last")),
        "extensions": sorted(
            (task_key(x.task_id), x.status, x.until, x.previous_due_at, username(x.decided_by_id))
            for x in Extension.objects.all()
        ),
        "attendance": sorted(
            MeetingAttendance.objects.values_list(
                "meeting__whistle__number", "department__code", "status", "checked_in_at"
            )
        ),
        "notifications": sorted(
            Notification.objects.values_list(
                "whistle__number", "verb", "department__code", "street__code", "recipient__username", "created_at"
            ),
            key=repr,
        ),
        "grants": sorted(
            (p.user.username, p.permission.codename, task_key(int(p.object_pk)))
            for p in UserObjectPermission.objects.select_related("user", "permission")
        ),
        "topics": sorted(
            (t.title, t.category.code, sorted(t.whistles.values_list("number", flat=True)))
            for t in ProblemTopic.objects.all()
        ),
        "weights": list(
            EvaluationWeights.objects.values_list("district__code", "response", "resolution", "satisfaction")
        ),
        "tallies": sorted(
            EvaluationTally.objects.values_list(
                "month", "department__code", "street__code", "closed", "acknowledged_on_time"
            ),
            key=repr,
        ),
        "open_tallies": sorted(
            OpenTaskTally.objects.values_list("department__code", "open", "overdue", "counted_at"), key=repr
        ),
    }


def counts() -> dict[str, int]:
    return {section.label: section.model.objects.count() for section in SECTIONS if section.label != "auth.user"}


def add_what_the_replay_does_not_make(cast):
    feedback = Feedback.objects.order_by("pk")
    for form, (name, content, kind) in zip(
        (feedback.first(), feedback.last()),
        (("现场照片.png", PHOTO, "image/png"), ("报告.pdf", PDF, "application/pdf")),
        strict=True,
    ):
        Attachment.objects.create(
            feedback=form,
            file=ContentFile(content, name=name),
            name=name,
            content_type=kind,
            size=len(content),
            uploaded_by=form.author,
        )
    lead_task = Task.objects.filter(role="lead", whistle__category=cast.compound, status__in=Task.OPEN_STATUSES).first()
    assign_perm("whistle.act_on_task", cast.d12_staff, lead_task)
    record = AccountabilityRecord.objects.order_by("pk").first()
    accountability_annotate(record=record, actor=cast.supervisor, text="已约谈部门负责人", now=NOW)
    problem_topic_adopt(actor=cast.supervisor, period="2026-11", category="ENV-COMPOUND", note="楼道堆物", now=NOW)
    EvaluationWeights.objects.create(district=cast.district, response=20, resolution=50, satisfaction=30)
    evaluation_tally_count(district=cast.district, month=Period.month(2026, 11), now=NOW)
    # A whistle merged into a later one: the reference points forward in the file.
    waiting = Whistle.objects.filter(status=Whistle.Status.AWAITING_DISPATCH, street=cast.s01).order_by("pk").first()
    into = (
        Whistle.objects.filter(status=Whistle.Status.ROUTED, street=cast.s01, pk__gt=waiting.pk).order_by("pk").last()
    )
    whistle_merge(whistle=waiting, into=into, actor=cast.s01_dispatcher, now=NOW)
    Department.objects.filter(pk=cast.t01.pk).update(parent=cast.d13)
    Category.objects.filter(pk=cast.order.pk).update(parent=cast.compound)


def installation_rows():
    for model in (SlaPolicy, WorkSchedule, WorkCalendarDay, WorkCalendarYear):
        yield from model.objects.all()


def private_files() -> set[Path]:
    root = Path(STORAGE.location)
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


@pytest.fixture
def attachment_files():
    """The attachment files the test writes are removed again."""
    before = private_files()
    yield
    for path in private_files() - before:
        path.unlink()


def test_a_district_survives_export_emptying_and_import(cast, settings, tmp_path, attachment_files):
    settings.DEBUG = True
    demo_activity_seed(district=cast.district, count=24, now=NOW)
    add_what_the_replay_does_not_make(cast)
    before, before_counts = describe(), counts()
    assert before_counts["whistle.attachment"] == 2 and before["grants"] and before["topics"][0][2]
    assert any(w[8] for w in before["whistles"].values()) and before_counts["escalation.accountabilitynote"] == 1
    assert any(isinstance((e[8] or {}).get("order"), tuple) for e in before["events"])

    path = tmp_path / "yq.json"
    out = StringIO()
    call_command("export_district", "YQ", "--output", str(path), stdout=out)
    assert "Exported district YQ" in out.getvalue()
    exported = json.loads(path.read_text(encoding="utf-8"))
    for name, rows in exported["sections"].items():
        for row in rows:
            assert not (isinstance(row, dict) and row.keys() & {"id", "pk"}), name
    for attachment in Attachment.objects.all():
        STORAGE.delete(attachment.file.name)  # the bytes must come from the file
    # The installation's own tables (calendar, deadline policies) are what its migrations made: kept.
    installation = serializers.serialize("json", installation_rows())
    call_command("flush", interactive=False, verbosity=0)
    for restored in serializers.deserialize("json", installation):
        restored.save()
    advance_ids()
    assert not District.objects.exists() and not get_user_model().objects.exists()

    # A damaged copy fails on its last event, after the attachments were written: nothing stays.
    files = private_files()
    damaged = json.loads(json.dumps(exported))
    damaged["sections"]["whistle.event"][-1]["actor"] = "nobody"
    damaged_path = tmp_path / "damaged.json"
    damaged_path.write_text(json.dumps(damaged), encoding="utf-8")
    with pytest.raises(CommandError, match=r"whistle.event #\d+, actor: it refers to user \"nobody\""):
        call_command("import_district", str(damaged_path), stdout=StringIO())
    assert not District.objects.exists() and not Whistle.objects.exists() and not get_user_model().objects.exists()
    assert private_files() == files

    out = StringIO()
    call_command("import_district", str(path), stdout=out)
    assert "Imported district YQ" in out.getvalue() and "2 attachment files" in out.getvalue()
    assert District.objects.get().pk > 10_000 and Responsibility.objects.order_by("pk").first().pk > 80_000
    assert counts() == before_counts
    after = describe()
    for part in before:
        assert after[part] == before[part], part

    # The export of the import is the export itself.
    again = StringIO()
    call_command("export_district", "YQ", stdout=again, stderr=StringIO())
    reexported = json.loads(again.getvalue())
    assert {**reexported, "exported_at": None} == {**exported, "exported_at": None}

    # The district lives on: people sign in, the map and the catalogue are the imported ones, numbers go on.
    user = get_user_model().objects.get(username="s01_staff")
    assert user.check_password("demo-pass-2026")
    assert locate(115.975, 40.465).code == "S01C01G01"
    last = Whistle.objects.filter(street__code="S01").order_by("-number").first().number
    new = whistle_route(whistle_id=submit_whistle(user).whistle.pk)
    assert new.number > last and new.street == Street.objects.get(code="S01") and new.grid.code == "S01C01G01"
    assert set(new.tasks.values_list("department__code", "role")) == {
        ("D13", "lead"),
        ("D12", "co_operating"),
        ("E06", "co_operating"),
    }
