"""district_import: a district created from an export file, in one transaction (see backup.transfer)."""

import base64
import binascii
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any, TextIO

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.core.files.base import ContentFile
from django.db import DatabaseError, models, transaction
from django.utils.translation import gettext as _

from backup.sections import (
    OBJECT_PERMISSION_SECTIONS,
    SECTION_OF,
    SECTIONS,
    Section,
    User,
)
from backup.transfer.common import (
    BATCH,
    FORMAT,
    HOLDERS,
    VERSION,
    ImportResult,
    chunks,
    dumps,
    each_object,
    hashable,
    key_reader,
    link_sections,
    section_names,
    section_of,
)
from config.errors import Conflict, InvalidInput
from departments.catalogue import catalogue_changed
from escalation.models import SupervisionOrder
from grids.locate import bump_grid_version
from grids.models import District


def district_import(*, stream: TextIO) -> ImportResult:
    """Create the district of an export file, with everything in it, in one transaction; nothing on any problem."""
    try:
        data = json.load(stream)
    except UnicodeDecodeError as exc:
        raise InvalidInput(_("The file is not UTF-8 text (%(error)s).") % {"error": exc}) from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            _("The file is not a district export: it is not valid JSON (%(error)s).") % {"error": exc}
        ) from None
    sections = _check_format(data)
    saved: list[tuple[Any, str]] = []
    try:
        with transaction.atomic():
            result = _Importer(data=data, sections=sections, saved=saved).run()
    except DatabaseError as exc:
        _remove(saved)
        raise Conflict(
            _("The rows of the file cannot be stored in this installation (%(error)s); nothing was imported.")
            % {"error": str(exc).strip()}
        ) from None
    except BaseException:
        _remove(saved)
        raise
    return result


def _remove(saved: list[tuple[Any, str]]) -> None:
    for storage, name in saved:
        storage.delete(name)


def _check_format(data) -> dict[str, list]:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InvalidInput(_("The file is not a district export of this platform."))
    version = data.get("version")
    if version != VERSION or isinstance(version, bool):
        raise InvalidInput(
            _("The file's format version is %(version)s; this installation reads version %(supported)d.")
            % {"version": version, "supported": VERSION}
        )
    sections, counts, code = data.get("sections"), data.get("counts"), data.get("district")
    if not isinstance(sections, dict) or not isinstance(counts, dict) or not isinstance(code, str) or not code:
        raise InvalidInput(_("The file is damaged: its district, sections or counts are missing."))
    expected = section_names()
    unknown = [name for name in sections if name not in expected]
    missing = [name for name in expected if name not in sections]
    if unknown or missing:
        raise InvalidInput(
            _("The file is damaged or from another version: unknown sections %(unknown)s, missing %(missing)s.")
            % {"unknown": ", ".join(unknown) or "-", "missing": ", ".join(missing) or "-"}
        )
    for name in expected:
        if not isinstance(sections[name], list) or counts.get(name) != len(sections[name]):
            raise InvalidInput(
                _("The file is damaged: section %(section)s does not hold the %(count)s rows it should.")
                % {"section": name, "count": counts.get(name)}
            )
    districts = sections[District._meta.label_lower]
    if len(districts) != 1 or not isinstance(districts[0], dict) or districts[0].get("code") != code:
        raise InvalidInput(_("The file is damaged: it does not hold district %(code)s.") % {"code": code})
    return sections


class _Importer:
    def __init__(self, *, data: dict, sections: dict[str, list], saved: list):
        self.code = data["district"]
        self.sections = sections
        self.saved = saved
        self.counts: dict[str, int] = {}
        self.found: dict[str, int] = {}
        self.files = 0
        # The new id of every row by its key in the file, per section.
        self.pks: dict[str, dict] = {}
        self.created: dict[str, set] = {}  # keys of the shared rows this import created
        self.order_numbers: dict[int, str] | None = None

    def run(self) -> ImportResult:
        if District.objects.filter(code=self.code).exists():
            raise Conflict(
                _("District %(code)s exists in this installation already: nothing was imported.") % {"code": self.code}
            )
        for section in SECTIONS:
            if not section.shared:
                self._check_free(section)
        for section in SECTIONS:
            self._section(section)
        for name, _section, m2m in link_sections():
            self._links(name, m2m)
        for label in OBJECT_PERMISSION_SECTIONS:
            self._permissions(label)
        # Bulk writes send no signals: the location index and the routing catalogue are told here.
        bump_grid_version()
        catalogue_changed()
        return ImportResult(district=self.code, counts=self.counts, found=self.found, files=self.files)

    def _invalid(self, where: str, problem) -> InvalidInput:
        return InvalidInput(
            _("The file is damaged: %(where)s: %(problem)s Nothing was imported.")
            % {"where": where, "problem": problem}
        )

    def _rows(self, name: str) -> Iterator[tuple[str, dict]]:
        for index, row in enumerate(self.sections[name], 1):
            where = f"{name} #{index}"
            if not isinstance(row, dict):
                raise self._invalid(where, _("a row must be an object."))
            yield where, row

    def _key(self, section: Section, row: dict, siblings: Counter):
        if section.key:
            return hashable(
                [row.get(name) for name in section.key] if len(section.key) > 1 else row.get(section.key[0])
            )
        if section.parent:
            parent = hashable([row.get(name) for name in section.parent])
            siblings[parent] += 1
            return (*parent, siblings[parent])
        return None

    def _check_free(self, section: Section) -> None:
        """Refuse codes, numbers and members this installation has already, naming them."""
        if len(section.key) != 1 or not section.model._meta.get_field(section.key[0]).unique:
            return
        lookups, _build = key_reader(section)
        if len(lookups) != 1:
            return
        values = [row.get(section.key[0]) for row in self.sections[section.label] if isinstance(row, dict)]
        taken = []
        for chunk in chunks([value for value in values if isinstance(value, str | int)]):
            taken += section.model.objects.filter(**{f"{lookups[0]}__in": chunk}).values_list(lookups[0], flat=True)
        if taken:
            raise Conflict(
                _("These %(model)s are in this installation already: %(values)s. Nothing was imported.")
                % {
                    "model": section.model._meta.verbose_name_plural,
                    "values": ", ".join(str(value) for value in sorted(taken)[:20]),
                }
            )

    def _existing(self, section: Section) -> dict:
        """Shared rows of the file found in the installation, by key (a single plain field: username, code)."""
        if section.owner:
            return {}
        (name,) = section.key
        values = [row.get(name) for row in self.sections[section.label] if isinstance(row, dict)]
        found = {}
        for chunk in chunks([value for value in values if isinstance(value, str)]):
            found.update(section.model.objects.filter(**{f"{name}__in": chunk}).values_list(name, "pk"))
        return found

    def _section(self, section: Section) -> None:
        label = section.label
        pks = self.pks.setdefault(label, {})
        created = self.created.setdefault(label, set())
        existing = self._existing(section) if section.shared else {}
        fields = section.concrete_fields()
        allowed = {f.name for f in fields} | {f"{f.name}_content" for f in fields if isinstance(f, models.FileField)}
        siblings, batch, deferred = Counter(), [], []
        self.counts[label] = 0
        for where, row in self._rows(label):
            unknown = sorted(set(row) - allowed)
            if unknown:
                raise self._invalid(where, _("unknown fields %(fields)s.") % {"fields": ", ".join(unknown)})
            key = self._key(section, row, siblings)
            if section.shared:
                if section.owner and hashable(row.get(section.owner)) not in self.created[self._owner_label(section)]:
                    self.found[label] = self.found.get(label, 0) + 1
                    continue  # the row it belongs to was there already, and stays as it is
                if key in existing:
                    pks[key] = existing[key]
                    self.found[label] = self.found.get(label, 0) + 1
                    continue
                created.add(key)
            instance, auto = self._instance(section, row, where)
            batch.append((key, instance, auto))
            if section.deferred:
                deferred.append((instance, {name: row.get(name) for name in section.deferred}, where))
            if len(batch) >= BATCH:
                self._create(section, batch)
        self._create(section, batch)
        self._set_deferred(section, deferred)

    def _owner_label(self, section: Section) -> str:
        return section_of(section.model._meta.get_field(section.owner).related_model).label

    def _instance(self, section: Section, row: dict, where: str) -> tuple[models.Model, dict]:
        values, auto = {}, {}
        for model_field in section.concrete_fields():
            name = model_field.name
            if name in section.deferred or name not in row:
                continue
            value = row[name]
            if model_field.is_relation:
                values[model_field.attname] = self._resolve(model_field.related_model, value, f"{where}, {name}")
                continue
            if name in section.json_ids:
                ids, at = section.json_ids[name], f"{where}, {name}"
                value = each_object(value, lambda item, ids=ids, at=at: self._json_ids(item, ids, at))
            try:
                value = model_field.to_python(value)
            except (ValidationError, TypeError, ValueError) as exc:
                problem = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                raise self._invalid(f"{where}, {name}", problem) from None
            if isinstance(model_field, models.FileField):
                value = self._save_file(model_field, value, row.get(f"{name}_content"), f"{where}, {name}")
            values[model_field.attname] = value
            if getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
                auto[model_field.attname] = value
        return section.model(**values), auto

    def _create(self, section: Section, batch: list) -> None:
        if not batch:
            return
        instances = [instance for _key, instance, _auto in batch]
        section.model.objects.bulk_create(instances, batch_size=BATCH)
        pks = self.pks[section.label]
        stamped = []
        for key, instance, auto in batch:
            if key is not None:
                pks[key] = instance.pk
            if auto:
                # bulk_create stamps auto_now fields with the present: the file's moments are put back.
                for attname, value in auto.items():
                    setattr(instance, attname, value)
                stamped.append(instance)
        if stamped:
            names = sorted({name for _k, _i, auto in batch for name in auto})
            section.model.objects.bulk_update(stamped, names, batch_size=BATCH)
        self.counts[section.label] += len(batch)
        batch.clear()

    def _set_deferred(self, section: Section, deferred: list) -> None:
        changed = []
        for instance, values, where in deferred:
            for name, value in values.items():
                model_field = section.model._meta.get_field(name)
                setattr(instance, model_field.attname, self._resolve(section.model, value, f"{where}, {name}"))
            if any(value is not None for value in values.values()):
                changed.append(instance)
        if changed:
            section.model.objects.bulk_update(changed, list(section.deferred), batch_size=BATCH)

    def _resolve(self, model, value, where: str):
        if value is None:
            return None
        section = section_of(model)
        pks = self.pks[section.label]
        key = hashable(value)
        if key not in pks and self._named_here(section, key):
            # A row of another district (a department a district-wide rule summoned, say): the
            # installation must have it, under the same code.
            found = section.model.objects.filter(**{section.key[0]: key}).values_list("pk", flat=True).first()
            pks[key] = found
        if pks.get(key) is None:
            raise self._invalid(
                where,
                _("it refers to %(model)s %(key)s, which neither the file nor this installation holds.")
                % {"model": model._meta.verbose_name, "key": dumps(value)},
            )
        return pks[key]

    @staticmethod
    def _named_here(section: Section, key) -> bool:
        """Whether `key` can name a row of the installation: a code or number of its own, of the right type."""
        if len(section.key) != 1 or section.shared or not isinstance(key, str | int) or isinstance(key, bool):
            return False
        return not section.model._meta.get_field(section.key[0]).is_relation

    def _save_file(self, file_field: models.FileField, name, content, where: str) -> str:
        if not name:
            return ""
        if not isinstance(name, str):
            raise self._invalid(where, _("the file name must be text."))
        if not isinstance(content, str):
            raise self._invalid(where, _("the file's content is missing."))
        try:
            data = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            raise self._invalid(where, _("the file's content is not base64.")) from None
        try:
            stored = file_field.storage.save(name, ContentFile(data))
        except SuspiciousOperation:
            raise self._invalid(where, _("the file name %(name)s is not allowed.") % {"name": name}) from None
        self.saved.append((file_field.storage, stored))
        self.files += 1
        return stored

    def _json_ids(self, value: dict, ids: dict, where: str) -> dict:
        """The keys a JSON object of the file carries, as the new ids (or numbers) of their rows."""
        value = dict(value)
        for name, (model, kind) in ids.items():
            if value.get(name) is not None:
                pk = self._resolve(model, value[name], f"{where}.{name}")
                value[name] = self._order_number(pk) if kind == "number" else pk
        return value

    def _order_number(self, pk: int) -> str:
        if self.order_numbers is None:
            # The orders are all written before the first event: their new numbers, in one pass.
            self.order_numbers = {}
            pks = sorted(self.pks[SupervisionOrder._meta.label_lower].values())
            for chunk in chunks(pks):
                for order in SupervisionOrder.objects.filter(pk__in=chunk).only("pk", "created_at"):
                    self.order_numbers[order.pk] = order.number
        return self.order_numbers[pk]

    def _links(self, name: str, m2m: models.ManyToManyField) -> None:
        through = m2m.remote_field.through
        source = through._meta.get_field(m2m.m2m_field_name())
        target = through._meta.get_field(m2m.m2m_reverse_field_name())
        links = []
        for where, row in self._rows_of_lists(name):
            links.append(
                through(
                    **{
                        source.attname: self._resolve(source.related_model, row[0], where),
                        target.attname: self._resolve(target.related_model, row[1], where),
                    }
                )
            )
        through.objects.bulk_create(links, batch_size=BATCH)
        self.counts[name] = len(links)

    def _rows_of_lists(self, name: str) -> Iterator[tuple[str, list]]:
        for index, row in enumerate(self.sections[name], 1):
            where = f"{name} #{index}"
            if not isinstance(row, list) or len(row) != 2:
                raise self._invalid(where, _("a link must be a pair of keys."))
            yield where, row

    def _permissions(self, label: str) -> None:
        model, holder, name_field = HOLDERS[label]
        permissions: dict[str, Permission] = {}
        rows = []
        for where, row in self._rows(label):
            object_ref, permission_name, holder_name = row.get("object"), row.get("permission"), row.get(holder)
            if not (isinstance(object_ref, list) and len(object_ref) == 2 and isinstance(object_ref[0], str)):
                raise self._invalid(where, _("the object must be a model and a key."))
            try:
                object_model = apps.get_model(object_ref[0])
            except (LookupError, ValueError):
                object_model = None
            if object_model not in SECTION_OF:
                raise self._invalid(where, _("%(model)s is not a model of the file.") % {"model": object_ref[0]})
            pk = self._resolve(object_model, object_ref[1], f"{where}, object")
            if permission_name not in permissions:
                app_label, _dot, codename = str(permission_name).partition(".")
                found = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
                if found is None:
                    raise self._invalid(where, _("there is no permission %(name)s.") % {"name": permission_name})
                permissions[permission_name] = found
            if holder == "user":
                holder_id = self._resolve(User, holder_name, f"{where}, user")
            elif isinstance(holder_name, str) and holder_name:
                holder_id = Group.objects.get_or_create(**{name_field: holder_name})[0].pk
            else:
                raise self._invalid(where, _("the group's name is missing."))
            rows.append(
                model(
                    **{f"{holder}_id": holder_id},
                    permission=permissions[permission_name],
                    content_type=ContentType.objects.get_for_model(object_model),
                    object_pk=str(pk),
                )
            )
        model.objects.bulk_create(rows, batch_size=BATCH)
        self.counts[label] = len(rows)
