"""Filters of the evaluation pages: rates as percentages, missing figures as a dash (never 0)."""

from django import template
from django.utils.formats import number_format

register = template.Library()

DASH = "—"


@register.filter
def percent(rate) -> str:
    """A fraction (0.8542) as "85.42%"; None (a zero denominator) as "—"."""
    if rate is None:
        return DASH
    return f"{number_format(rate * 100, 2)}%"


@register.filter
def dash(value, digits: int | None = None) -> str:
    """The value, or "—" when there is none; with `digits`, a number to that many decimals."""
    if value is None or value == "":
        return DASH
    if digits is not None:
        return number_format(value, int(digits))
    return str(value)
