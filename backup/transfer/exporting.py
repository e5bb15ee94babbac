"""district_export: the district's rows streamed to JSON, one consistent snapshot (see backup.transfer)."""

import base64
import datetime
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TextIO

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.db.models import CharField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from backup.sections import (
    OBJECT_PERMISSION_SECTIONS,
    SECTION_OF,
    SECTIONS,
    Section,
    User,
)
from backup.transfer.common import (
    FORMAT,
    HOLDERS,
    ORDER_NUMBER,
    VERSION,
    ExportResult,
    chunks,
    dumps,
    each_object,
    first,
    hashable,
    key_reader,
    link_sections,
    section_of,
)
from config.errors import Conflict, NotFound
from grids.models import District


@dataclass
class _Column:
    name: str
    lookups: list[str]
    build: Callable[[tuple], Any]


@contextmanager
def _snapshot():
    """One consistent view of the database for the whole export."""
    outer = connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and not outer:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def district_export(*, code: str, out: TextIO, now: datetime.datetime | None = None) -> ExportResult:
    """Write district `code` with everything that belongs to it to `out` as JSON."""
    now = now or timezone.now()
    with _snapshot():
        district = District.objects.filter(code=code).first()
        if district is None:
            raise NotFound(_("There is no district with the code %(code)s.") % {"code": code})
        return _Exporter(district=district, out=out).run(now=now)


class _Exporter:
    def __init__(self, *, district: District, out: TextIO):
        self.district = district
        self.out = out
        self.counts: dict[str, int] = {}
        self.files = 0
        # Rows named by their parent: the name of each row referred to, by id.
        self.names: dict[str, dict[int, list]] = {}

    def run(self, *, now: datetime.datetime) -> ExportResult:
        permissions = {label: self._object_permissions(label) for label in OBJECT_PERMISSION_SECTIONS}
        self.out.write(
            "{"
            + f'"format":{dumps(FORMAT)},"version":{VERSION},"district":{dumps(self.district.code)},'
            + f'"exported_at":{dumps(now)},\n"sections":{{'
        )
        user_ids = self._user_ids(permissions["guardian.userobjectpermission"])
        for section in SECTIONS:
            if section.scope is None:
                rows = (row for ids in chunks(sorted(user_ids)) for row in self._rows(section, pks=ids))
            else:
                rows = self._rows(section)
            self._write(section.label, rows)
        for name, section, m2m in link_sections():
            self._write(name, self._links(section, m2m))
        for label in OBJECT_PERMISSION_SECTIONS:
            self._write(label, self._permission_rows(label, permissions[label]))
        self.out.write(f'\n}},\n"counts":{dumps(self.counts)}}}\n')
        return ExportResult(district=self.district.code, counts=dict(self.counts), files=self.files)

    def _write(self, name: str, rows: Iterable) -> None:
        self.out.write(("," if self.counts else "") + f"\n{dumps(name)}:[")
        count = 0
        for row in rows:
            self.out.write(("\n" if count == 0 else ",\n") + dumps(row))
            count += 1
        self.out.write("\n]" if count else "]")
        self.counts[name] = count

    def _column(self, model_field: models.Field, prefix: str = "") -> _Column:
        if not model_field.is_relation:
            return _Column(model_field.name, [prefix + model_field.attname], first)
        target = section_of(model_field.related_model)
        if target.key:
            lookups, build = key_reader(target, f"{prefix}{model_field.name}__")
            return _Column(
                model_field.name, lookups, lambda values: None if all(v is None for v in values) else build(values)
            )
        names = self.names.setdefault(target.label, {})
        where = f"{model_field.model._meta.label_lower}.{model_field.name}"

        def name_of(values: tuple):
            if values[0] is None:
                return None
            try:
                return names[values[0]]
            except KeyError:
                raise Conflict(
                    _("%(field)s refers to a %(model)s outside the district: it cannot be exported.")
                    % {"field": where, "model": target.model._meta.verbose_name}
                ) from None

        return _Column(model_field.name, [prefix + model_field.attname], name_of)

    def _rows(self, section: Section, *, pks: list[int] | None = None) -> Iterator[dict]:
        columns = [self._column(model_field) for model_field in section.concrete_fields()]
        queryset = section.model.objects.filter(pk__in=pks) if pks is not None else section.scope(self.district)
        lookups = ["pk"] + [lookup for column in columns for lookup in column.lookups]
        names, referenced, siblings = None, None, Counter()
        if section.parent:
            names = self.names.setdefault(section.label, {})
            if section.referenced is not None:
                referenced = set(section.referenced(self.district))
        files = [f for f in section.concrete_fields() if isinstance(f, models.FileField)]
        for values in queryset.order_by("pk").values_list(*lookups).iterator(chunk_size=2000):
            row, start = {}, 1
            for column in columns:
                row[column.name] = column.build(values[start : start + len(column.lookups)])
                start += len(column.lookups)
            if section.parent:
                parent = [row[name] for name in section.parent]
                siblings[hashable(parent)] += 1
                if referenced is None or values[0] in referenced:
                    names[values[0]] = [*parent, siblings[hashable(parent)]]
            for file_field in files:
                row[f"{file_field.name}_content"] = self._file_content(section, file_field, row[file_field.name])
            for name, ids in section.json_ids.items():
                row[name] = each_object(row[name], lambda value, ids=ids: self._json_keys(value, ids))
            yield row

    def _file_content(self, section: Section, file_field: models.FileField, name: str) -> str | None:
        if not name:
            return None
        try:
            with file_field.storage.open(name, "rb") as handle:
                content = handle.read()
        except OSError:
            raise Conflict(
                _("The file %(name)s of a %(model)s is missing from its storage: the district cannot be exported.")
                % {"name": name, "model": section.model._meta.verbose_name}
            ) from None
        self.files += 1
        return base64.b64encode(content).decode("ascii")

    def _json_keys(self, value: dict, ids: dict) -> dict:
        """The ids a JSON object carries, as the keys of the rows they point to."""
        value = dict(value)
        for name, (model, kind) in ids.items():
            raw = value.get(name)
            if raw is None:
                continue
            if kind == "number":
                match = ORDER_NUMBER.match(raw) if isinstance(raw, str) else None
                pk = int(match.group(1)) if match else None
            else:
                pk = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
            value[name] = self.names.get(model._meta.label_lower, {}).get(pk)
        return value

    def _user_ids(self, user_permissions: list[tuple]) -> set[int]:
        """Every user a row of the district refers to: members, reporters, actors, authors..."""
        ids = {holder for holder, _perm, _model, _pk in user_permissions}
        for section in SECTIONS:
            if section.scope is None:
                continue
            for model_field in section.concrete_fields():
                if model_field.is_relation and model_field.related_model is User:
                    queryset = section.scope(self.district).exclude(**{model_field.attname: None})
                    ids.update(queryset.order_by().values_list(model_field.attname, flat=True).distinct())
        return ids

    def _links(self, section: Section, m2m: models.ManyToManyField) -> Iterator[list]:
        through = m2m.remote_field.through
        source = through._meta.get_field(m2m.m2m_field_name())
        target = through._meta.get_field(m2m.m2m_reverse_field_name())
        queryset = through.objects.filter(**{f"{source.name}__in": section.scope(self.district).values("pk")})
        target_section = section_of(target.related_model)
        if target_section.scope is not None and not target_section.shared:
            queryset = queryset.filter(**{f"{target.name}__in": target_section.scope(self.district).values("pk")})
        columns = [self._column(source), self._column(target)]
        lookups = [lookup for column in columns for lookup in column.lookups]
        split = len(columns[0].lookups)
        for values in queryset.order_by("pk").values_list(*lookups).iterator(chunk_size=2000):
            yield [columns[0].build(values[:split]), columns[1].build(values[split:])]

    def _object_permissions(self, label: str) -> list[tuple]:
        """The object permissions on the district's rows: (holder id, permission, model, object id)."""
        model, holder, _name = HOLDERS[label]
        found = []
        present = model.objects.order_by().values_list("content_type_id", flat=True).distinct()
        for content_type in ContentType.objects.filter(pk__in=present).order_by("pk"):
            object_model = content_type.model_class()
            section = SECTION_OF.get(object_model)
            if section is None or section.scope is None or section.shared:
                continue
            ids = section.scope(self.district).order_by().annotate(pk_text=Cast("pk", CharField())).values("pk_text")
            rows = model.objects.filter(content_type=content_type, object_pk__in=ids).order_by("pk")
            for holder_id, app_label, codename, object_pk in rows.values_list(
                f"{holder}_id", "permission__content_type__app_label", "permission__codename", "object_pk"
            ):
                found.append((holder_id, f"{app_label}.{codename}", object_model, int(object_pk)))
        return found

    def _permission_rows(self, label: str, permissions: list[tuple]) -> Iterator[dict]:
        model, holder, name_field = HOLDERS[label]
        holder_model = model._meta.get_field(holder).related_model
        holders = {}
        for ids in chunks(sorted({p[0] for p in permissions})):
            holders.update(holder_model.objects.filter(pk__in=ids).values_list("pk", name_field))
        keys: dict[tuple, Any] = {}
        by_model: dict[type, list[int]] = {}
        for _holder, _perm, object_model, pk in permissions:
            by_model.setdefault(object_model, []).append(pk)
        for object_model, pks in by_model.items():
            section = section_of(object_model)
            if section.key:
                lookups, build = key_reader(section)
                for ids in chunks(sorted(set(pks))):
                    for values in object_model.objects.filter(pk__in=ids).values_list("pk", *lookups):
                        keys[object_model, values[0]] = build(values[1:])
            else:
                names = self.names.get(section.label, {})
                keys.update({(object_model, pk): names[pk] for pk in pks if pk in names})
        for holder_id, permission, object_model, pk in permissions:
            if (object_model, pk) in keys:
                yield {
                    holder: holders[holder_id],
                    "permission": permission,
                    "object": [object_model._meta.label_lower, keys[object_model, pk]],
                }
