"""Template helpers of the workbenches: a deadline's countdown."""

from django import template

from workbench.selectors import remaining_time

register = template.Library()


@register.inclusion_tag("workbench/_countdown.html")
def countdown(due, now):
    """The time left before `due` (or how late it is), refreshed each minute by static/js/workbench.js."""
    if due is None:
        return {"due": None}
    text, late = remaining_time(due, now)
    return {"due": due, "text": text, "late": late}
