"""Template helpers of the task pages: the traffic light of a task and the task tabs of the navigation."""

from django import template
from django.utils import timezone

from whistle.task_selectors import decides_extensions, light_of, sees_task_list
from whistle.task_selectors import may_open_task as selector_may_open_task

register = template.Library()


@register.simple_tag
def task_light(task) -> str:
    """green, yellow, red or "" of a task loaded without the SQL annotation (the rule of task_selectors)."""
    light = getattr(task, "light", None)
    return light if light is not None else light_of(task, now=timezone.now())


@register.inclusion_tag("whistle/tasks/_nav_items.html", takes_context=True)
def task_nav_items(context, current: str = ""):
    """The navigation tabs of the task pages, for the roles that have them."""
    user = context["request"].user
    return {
        "current": current,
        "tasks": sees_task_list(user),
        "extensions": decides_extensions(user),
    }


@register.simple_tag(takes_context=True)
def may_open_task(context, task) -> bool:
    return selector_may_open_task(context["request"].user, task)
