"""What export and import share: the format, the results, and how a row's key is read and written."""

import base64
import datetime
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import models
from guardian.models import GroupObjectPermission, UserObjectPermission

from backup.sections import (
    EXCLUDED_LINKS,
    OBJECT_PERMISSION_SECTIONS,
    SECTION_OF,
    SECTIONS,
    Section,
)

FORMAT = "whistle-report/district"
VERSION = 1
BATCH = 1000
# How many values one IN (...) carries: SQLite allows 999 parameters in a statement.
CHUNK = 500
ORDER_NUMBER = re.compile(r"^DB-\d{4}-(\d+)$")
# The holder of an object permission: the field of guardian's model, and how the file names it.
HOLDERS = {
    "guardian.userobjectpermission": (UserObjectPermission, "user", "username"),
    "guardian.groupobjectpermission": (GroupObjectPermission, "group", "name"),
}


@dataclass(frozen=True)
class ExportResult:
    district: str
    counts: dict[str, int]
    files: int

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class ImportResult:
    district: str
    counts: dict[str, int]  # rows written, by section
    found: dict[str, int] = field(default_factory=dict)  # shared rows found in the installation, by section
    files: int = 0

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


def link_sections() -> list[tuple[str, Section, models.ManyToManyField]]:
    """The many-to-many sections: (name, section of the model holding the field, field)."""
    return [
        (f"{section.label}.{m2m.name}", section, m2m)
        for section in SECTIONS
        for m2m in section.model._meta.many_to_many
        if f"{section.label}.{m2m.name}" not in EXCLUDED_LINKS
    ]


def section_names() -> list[str]:
    """Every section of a file, in the order it is written and imported."""
    return [s.label for s in SECTIONS] + [name for name, _s, _f in link_sections()] + list(OBJECT_PERMISSION_SECTIONS)


def hashable(value):
    """A file value as a dictionary key: lists become tuples (and an object, which is never a key, its text)."""
    if isinstance(value, list):
        return tuple(hashable(item) for item in value)
    if isinstance(value, dict):
        return dumps(value)
    return value


def each_object(value, change: Callable[[dict], dict]):
    """`change` applied to a JSON object, or to each object of a JSON list."""
    if isinstance(value, dict):
        return change(value)
    if isinstance(value, list):
        return [change(item) if isinstance(item, dict) else item for item in value]
    return value


def first(values: tuple):
    return values[0]


def json_default(value):
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()  # microseconds kept: DjangoJSONEncoder would cut them to milliseconds
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")  # BinaryField.to_python reads this back
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=json_default)


def chunks(values: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def key_reader(section: Section, prefix: str = "") -> tuple[list[str], Callable[[tuple], Any]]:
    """The values_list() lookups that give a row's key from a row reached by `prefix`, and how to build the key."""
    parts = []
    for name in section.key:
        key_field = section.model._meta.get_field(name)
        if key_field.is_relation:
            parts.append(key_reader(section_of(key_field.related_model), f"{prefix}{name}__"))
        else:
            parts.append(([prefix + name], first))
    lookups = [lookup for part_lookups, _build in parts for lookup in part_lookups]

    def build(values: tuple):
        built, start = [], 0
        for part_lookups, part_build in parts:
            built.append(part_build(values[start : start + len(part_lookups)]))
            start += len(part_lookups)
        return built[0] if len(built) == 1 else built

    return lookups, build


def section_of(model) -> Section:
    section = SECTION_OF.get(model)
    if section is None:
        raise LookupError(f"{model._meta.label} is referred to by an exported model but is not exported itself")
    return section
