"""Category attributes: the questions a whistle of a category answers, and the checks on the answers.

Intake (whistle.services.whistle_submit) calls attribute_answers_clean with
the category's definitions, as the routing catalogue keeps them
(departments.catalogue); the web form and the whistle page read them through
category_attributes. An
answer is stored normalised: text stripped, a number as a JSON number, a time
as ISO-8601 with its offset, a list answer as its keys.
"""

import math
from datetime import UTC, datetime

from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from departments.catalogue import current_catalogue
from departments.models import CategoryAttribute

Datatype = CategoryAttribute.Datatype
STRING_MAX_LENGTH = 200
TEXT_MAX_LENGTH = 2000
KEY_MAX_LENGTH = 64
# Longer than any number or ISO time anyone types: refused before it is parsed.
SCALAR_MAX_LENGTH = 64


def category_attributes(category_id: int) -> list[CategoryAttribute]:
    """The category's attributes in the order they are asked (kept with the routing catalogue)."""
    return current_catalogue().attributes_of(category_id)


def category_attributes_by_code(code: str) -> list[CategoryAttribute]:
    """The attributes of the category with this code; none for an unknown or blank code."""
    catalogue = current_catalogue()
    category = catalogue.categories.get(code) if code else None
    return catalogue.attributes_of(category.pk) if category else []


def values_problem(datatype: str, values) -> str:
    """What is wrong with an attribute's choices for its datatype, or "" when nothing is."""
    if datatype not in CategoryAttribute.LIST_DATATYPES:
        return "" if values in (None, []) else _("Only the list types have choices.")
    if not isinstance(values, list) or not values:
        return _('Give the choices as a list: [{"key": "…", "name": "…"}, …].')
    keys = set()
    for item in values:
        key = item.get("key") if isinstance(item, dict) else None
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(key, str) or not key.strip() or len(key) > KEY_MAX_LENGTH:
            return _("Every choice needs a key of 1 to %(limit)d characters.") % {"limit": KEY_MAX_LENGTH}
        if not isinstance(name, str) or not name.strip():
            return _("Choice %(key)s needs a name.") % {"key": key}
        if key in keys:
            return _("The key %(key)s is used twice.") % {"key": key}
        keys.add(key)
    return ""


def attribute_answers_clean(
    *, category_code: str, definitions: list[CategoryAttribute], answers
) -> tuple[dict, dict[str, list[str]]]:
    """The answers normalised, and what is wrong with them per field (`attributes.<code>`).

    Unknown codes, missing required answers, answers of the wrong type and
    choices not in the list are refused; a notice (not `variable`) takes none.
    """
    errors: dict[str, list[str]] = {}
    if answers is None:
        answers = {}
    if not isinstance(answers, dict):
        return {}, {"attributes": [_("Give the answers as an object keyed by attribute code.")]}
    by_code = {definition.code: definition for definition in definitions}
    clean = {}
    for code in answers:
        if str(code) not in by_code:
            errors.setdefault(f"attributes.{str(code)[:KEY_MAX_LENGTH]}", []).append(
                _("The category %(category)s has no attribute %(code)s.")
                % {"category": category_code, "code": str(code)[:KEY_MAX_LENGTH]}
            )
    for definition in definitions:
        name = f"attributes.{definition.code}"
        value = answers.get(definition.code)
        if _blank(value):
            if definition.variable and definition.required:
                errors.setdefault(name, []).append(
                    _("An answer is required: %(question)s") % {"question": definition.description}
                )
            continue
        if not definition.variable:
            errors.setdefault(name, []).append(_("This is a notice: it takes no answer."))
            continue
        answer, problem = _answer(definition, value)
        if problem:
            errors.setdefault(name, []).append(problem)
        else:
            clean[definition.code] = answer
    return clean, errors


def _blank(value) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple)):
        return all(_blank(item) for item in value)
    return False


def _answer(definition: CategoryAttribute, value):
    """(normalised answer, "") or (None, the rule it breaks)."""
    datatype = definition.datatype
    if datatype in (Datatype.STRING, Datatype.TEXT):
        limit = STRING_MAX_LENGTH if datatype == Datatype.STRING else TEXT_MAX_LENGTH
        if not isinstance(value, str):
            return None, _("Give text.")
        text = value.strip()
        if len(text) > limit:
            return None, _("At most %(limit)d characters (this has %(count)d).") % {"limit": limit, "count": len(text)}
        return text, ""
    if datatype == Datatype.NUMBER:
        return _number(value)
    if datatype == Datatype.DATETIME:
        return _moment(value)
    keys = [item["key"] for item in definition.values or []]
    chosen = [value] if isinstance(value, str) else value
    if not isinstance(chosen, (list, tuple)) or not all(isinstance(item, str) for item in chosen):
        return None, _("Choose among %(choices)s.") % {"choices": ", ".join(keys)}
    chosen = list(dict.fromkeys(item.strip() for item in chosen if item.strip()))
    if datatype == Datatype.SINGLEVALUELIST and len(chosen) > 1:
        return None, _("Choose only one of %(choices)s.") % {"choices": ", ".join(keys)}
    wrong = [item for item in chosen if item not in keys]
    if wrong:
        return None, _("%(value)s is not a choice: choose among %(choices)s.") % {
            "value": wrong[0][:KEY_MAX_LENGTH],
            "choices": ", ".join(keys),
        }
    return (chosen[0] if datatype == Datatype.SINGLEVALUELIST else chosen), ""


def _number(value):
    problem = _("Give a number, e.g. 12 or 2.5.")
    if isinstance(value, bool):
        return None, problem
    if isinstance(value, str):
        if len(value) > SCALAR_MAX_LENGTH:
            return None, problem
        try:
            value = float(value.strip())
        except ValueError:
            return None, problem
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return None, problem
    number = float(value)
    # Whole numbers stay whole (a pipe of 300 mm, not 300.0), within what a JSON reader keeps exactly.
    return (int(number) if number.is_integer() and abs(number) < 2**53 else number), ""


def _moment(value):
    problem = _("Give a date and time with its UTC offset, e.g. 2026-05-06T09:30:00+08:00.")
    if isinstance(value, str):
        if len(value) > SCALAR_MAX_LENGTH:
            return None, problem
        try:
            value = parse_datetime(value.strip())
        except ValueError:
            value = None
    if not isinstance(value, datetime) or timezone.is_naive(value):
        return None, problem
    try:
        value.astimezone(UTC)  # year 9999 at -14:00 has no UTC time
    except (OverflowError, ValueError):
        return None, problem
    return value.isoformat(), ""


def attribute_answers_display(*, definitions: list[CategoryAttribute], answers: dict) -> list[dict]:
    """The answers as the whistle page lists them: [{"question", "answer"}] in the order asked.

    Choices show their names, times the local time; an answer whose attribute
    was deleted since still shows, under its code.
    """
    if not isinstance(answers, dict) or not answers:
        return []
    rows = []
    for definition in definitions:
        if definition.code in answers:
            rows.append({"question": definition.description, "answer": _shown(definition, answers[definition.code])})
    known = {definition.code for definition in definitions}
    rows += [{"question": code, "answer": _plain(value)} for code, value in answers.items() if code not in known]
    return rows


def _shown(definition: CategoryAttribute, value) -> str:
    if definition.datatype in CategoryAttribute.LIST_DATATYPES:
        names = {item.get("key"): item.get("name") for item in definition.values or [] if isinstance(item, dict)}
        keys = value if isinstance(value, list) else [value]
        return "、".join(str(names.get(key, key)) for key in keys)
    if definition.datatype == Datatype.DATETIME and isinstance(value, str):
        moment = parse_datetime(value)
        if moment is not None and timezone.is_aware(moment):
            return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")
    return _plain(value)


def _plain(value) -> str:
    if isinstance(value, list):
        return "、".join(str(item) for item in value)
    return str(value)
