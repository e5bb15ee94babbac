"""The workbench of each role: where a signed-in user starts the day.

`home` sends each user to their role's workbench; each workbench is one page of
short lists, counts and (for supervisors) charts, linking to the full pages
where the work is done. Each view parses input, checks the role, calls
selectors or one service and renders (STYLE.md, rule 9); a role without the
workbench gets the 403 page (config.views.html_errors).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from config.errors import ApplicationError, NotFound
from config.views import html_errors
from departments.models import DEPARTMENT_ROLES, STREET_ROLES
from escalation import selectors as escalation_selectors
from escalation.permissions import require_supervisor
from escalation.services import open_tasks_tally_fresh
from whistle.permissions import access_task, require_role
from whistle.services import task_acknowledge, task_check_in
from whistle.services.street import STREET_DECIDERS
from whistle.street_selectors import whistles_to_rate
from whistle.views import nav_context
from workbench import selectors

PAGE_SIZE = 50
HOMES = {
    selectors.STREET: "workbench:street",
    selectors.DEPARTMENT: "workbench:department",
    selectors.SUPERVISOR: "workbench:supervisor",
}


def _context(request, **context) -> dict:
    return {**context, **nav_context(request.user, "workbench")}


@login_required
def home(request):
    """Each role to its workbench; the hotline and users without a unit to the whistles they may see."""
    return redirect(HOMES.get(selectors.workbench_of(request.user), "whistle:list"))


# The street --------------------------------------------------------------------------------


@require_GET
@login_required
@html_errors
def street(request):
    require_role(request.user, STREET_ROLES)
    return render(
        request, "workbench/street.html", _context(request, bench=selectors.street_workbench(user=request.user))
    )


@require_GET
@login_required
@html_errors
def street_to_rate(request):
    """Every closed whistle of the street with a department still to rate (the street workbench shows the first)."""
    require_role(request.user, STREET_DECIDERS)
    page = Paginator(whistles_to_rate(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "workbench/to_rate.html", _context(request, page=page))


# The department ------------------------------------------------------------------------------


@require_GET
@login_required
@html_errors
def department(request):
    require_role(request.user, DEPARTMENT_ROLES)
    now = timezone.now()
    return render(
        request,
        "workbench/department.html",
        _context(
            request,
            now=now,
            tasks=selectors.department_task_rows(user=request.user, now=now),
            counts=selectors.department_task_counts(user=request.user, now=now),
            countdown=selectors.countdown_words(),
            orders=escalation_selectors.order_list(
                user=request.user, now=now, status=escalation_selectors.OrderStatus.OPEN
            )[: selectors.LIST_SIZE],
            order_counts=escalation_selectors.order_counts(user=request.user, now=now),
        ),
    )


def _row_actions() -> dict:
    """The one-click actions of a task row: the service and its message on success.

    Check-in takes no place here: task_check_in accepts a check-in without
    coordinates (both or neither); the row links to the task page's form for
    one with the place and a note.
    """
    return {
        "acknowledge": (task_acknowledge, _("The task is acknowledged.")),
        "check-in": (task_check_in, _("You are checked in.")),
    }


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


@require_POST
@login_required
@html_errors
def task_act(request, pk: int, action: str):
    """One click on a task row; to htmx the row in its new state, with the service's message, success or refusal."""
    actions = _row_actions()
    if action not in actions:
        raise Http404
    require_role(request.user, DEPARTMENT_ROLES)
    service, success = actions[action]
    htmx = _is_htmx(request)
    try:
        task = access_task(request.user, pk)
    except NotFound as error:
        if not htmx:
            raise
        return render(request, "workbench/_task_gone.html", {"pk": pk, "message": error.message}, status=404)
    status, message, refused = 200, success, False
    try:
        service(task=task, actor=request.user)
    except ApplicationError as error:  # not allowed, not in this state, bad input: said in the row
        status, message, refused = error.status, _refusal(error), True
    if not htmx:
        (messages.error if refused else messages.success)(request, message)
        return redirect("workbench:department")
    now = timezone.now()
    context = {
        "task": selectors.department_task_row(user=request.user, task_id=task.pk, now=now),
        "now": now,
        "message": message,
        "refused": refused,
    }
    return render(request, "workbench/_task_row.html", context, status=status)


def _refusal(error: ApplicationError) -> str:
    return " ".join([m for messages_ in error.fields.values() for m in messages_] or [error.message])


# The supervisor ----------------------------------------------------------------------------


@require_GET
@login_required
@html_errors
def supervisor(request):
    require_supervisor(request.user)
    now = timezone.now()
    counts = escalation_selectors.dashboard_counts(
        user=request.user, filters={}, counted_at=open_tasks_tally_fresh(now=now)
    )
    charts = selectors.bar_charts(counts)
    trend = selectors.daily_trend(user=request.user, today=timezone.localdate(now))
    return render(
        request,
        "workbench/supervisor.html",
        _context(
            request,
            counts=counts,
            charts=charts,
            trend=trend,
            trend_rows=selectors.trend_rows(trend),
            chart_data=selectors.chart_data(charts, trend),
            orders=escalation_selectors.order_list(
                user=request.user, now=now, status=escalation_selectors.OrderStatus.OPEN
            )[: selectors.LIST_SIZE],
            order_counts=escalation_selectors.order_counts(user=request.user, now=now),
            records=escalation_selectors.record_list(user=request.user)[: selectors.LIST_SIZE],
            record_counts=escalation_selectors.record_counts(user=request.user),
        ),
    )
