"""Nothing of a district is left out of its export: every model is either exported or excluded with a reason."""

from django.apps import apps
from django.contrib.auth import get_user_model

from backup.sections import EXCLUDED, EXCLUDED_LINKS, OBJECT_PERMISSION_SECTIONS, SECTION_OF, SECTIONS
from backup.transfer import link_sections, section_names
from grids.models import District

# Every model of these apps needs a decision, whether or not it leads to a district.
DECIDED_APPS = {"grids", "departments", "whistle", "escalation", "auth", "guardian", "contenttypes"}
EXPORTED = {section.label for section in SECTIONS} | set(OBJECT_PERMISSION_SECTIONS)


def leads_to_district(model, seen=None) -> bool:
    """Whether a path of foreign keys, one-to-one or many-to-many fields leads from `model` to District."""
    if model is District:
        return True
    seen = seen if seen is not None else set()
    seen.add(model)
    for field in model._meta.get_fields():
        if field.concrete and field.is_relation and field.related_model not in seen:
            if leads_to_district(field.related_model, seen):
                return True
    return False


def test_every_model_leading_to_a_district_is_exported_or_excluded():
    undecided = [
        model._meta.label_lower
        for model in apps.get_models()
        if leads_to_district(model) and model._meta.label_lower not in EXPORTED | EXCLUDED.keys()
    ]
    assert undecided == [], "add them to backup.sections.SECTIONS, or to EXCLUDED with the reason"


def test_every_model_of_the_domain_apps_auth_and_guardian_is_exported_or_excluded():
    undecided = [
        model._meta.label_lower
        for model in apps.get_models()
        if model._meta.app_label in DECIDED_APPS and model._meta.label_lower not in EXPORTED | EXCLUDED.keys()
    ]
    assert undecided == []


def test_exclusions_name_installed_models_with_a_reason_and_nothing_exported():
    installed = {model._meta.label_lower for model in apps.get_models()}
    assert set(EXCLUDED) <= installed
    assert not set(EXCLUDED) & EXPORTED
    assert all(reason.strip() for reason in EXCLUDED.values())


def test_the_district_and_its_whole_history_are_sections():
    assert {
        "grids.district",
        "grids.street",
        "grids.grid",
        "grids.gridworker",
        "departments.department",
        "departments.membership",
        "departments.responsibility",
        "whistle.whistle",
        "whistle.task",
        "whistle.event",
        "whistle.attachment",
        "escalation.supervisionorder",
        "escalation.accountabilitynote",
        "escalation.problemtopic",
        "escalation.evaluationtally",
        "auth.user",
        "guardian.userobjectpermission",
    } <= set(section_names())


def test_every_reference_of_an_exported_row_can_be_written_by_key():
    """An exported row refers only to exported rows, and a key never passes through a row without one."""
    problems = []
    for section in SECTIONS:
        assert bool(section.key) + bool(section.parent) <= 1, section.label
        for field in section.concrete_fields():
            if field.is_relation and field.related_model not in SECTION_OF:
                problems.append(f"{section.label}.{field.name} → {field.related_model._meta.label_lower}")
        for name in section.key:
            field = section.model._meta.get_field(name)
            if field.is_relation and not SECTION_OF[field.related_model].key:
                problems.append(f"{section.label} key {name}: its target has no key of its own")
        for name in (*section.parent, *section.deferred, section.owner):
            if name:
                section.model._meta.get_field(name)  # raises for a misspelt field
    for name, _section, field in link_sections():
        if field.related_model not in SECTION_OF:
            problems.append(f"{name} → {field.related_model._meta.label_lower}")
    assert problems == []


def test_every_many_to_many_field_of_an_exported_model_is_exported_or_excluded():
    exported = {name for name, _section, _field in link_sections()}
    for section in SECTIONS:
        for field in section.model._meta.many_to_many:
            assert f"{section.label}.{field.name}" in exported | EXCLUDED_LINKS.keys()
    assert {f"{get_user_model()._meta.label_lower}.groups"} <= EXCLUDED_LINKS.keys()
