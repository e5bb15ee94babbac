"""The supervisor pages: the overdue dashboard, supervision orders (督办单) and the accountability ledger (问责).

Each view parses input, checks access, calls one service or selector and
renders (STYLE.md, rule 9). An order or record outside the user's scope is the
404 page, an action beyond the user's role the 403 page (config.views.html_errors);
bad input shows the service's messages beside the fields, and a state that no
longer allows the action is a message on the page.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.errors import Conflict, InvalidInput, NotAllowed
from config.pagination import CountedPaginator
from config.views import html_errors
from escalation import selectors
from escalation.forms import (
    DashboardFilter,
    OrderCloseForm,
    OrderFilterForm,
    OrderOpenForm,
    OrderReplyForm,
    RecordFilterForm,
    RecordNoteForm,
)
from escalation.permissions import (
    access_order,
    access_record,
    may_close,
    may_reply,
    require_supervisor,
    sees_ledger,
    sees_orders,
    supervises,
)
from escalation.services import (
    accountability_annotate,
    open_tasks_tally_fresh,
    supervision_order_close,
    supervision_order_open,
    supervision_order_reply,
)
from whistle.views import nav_context

PAGE_SIZE = 50


def _nav(request, current: str) -> dict:
    return nav_context(request.user, current) | {
        "supervision_nav": {
            "current": current,
            "dashboard": supervises(request.user) or request.user.is_superuser,
            "orders": sees_orders(request.user),
            "ledger": sees_ledger(request.user),
        }
    }


# The overdue dashboard ---------------------------------------------------------------------


@require_GET
@login_required
@html_errors
def dashboard(request):
    require_supervisor(request.user)
    now = timezone.now()
    filters = DashboardFilter(
        request.GET or None, queryset=selectors.open_tasks(user=request.user, now=now), request=request
    )
    tasks = filters.qs
    counted_at = open_tasks_tally_fresh(now=now)
    counts = selectors.dashboard_counts(user=request.user, filters=_cleaned(filters), counted_at=counted_at)
    # The tally knows how many rows there are: counting them again would cost more than the page.
    late = selectors.late_count(counts, light=filters.light_value)
    page = CountedPaginator(selectors.late_tasks(tasks, light=filters.light_value), PAGE_SIZE, count=late).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "escalation/dashboard.html",
        {
            "filters": filters,
            "counts": counts,
            "page": page,
            "order_counts": selectors.order_counts(user=request.user, now=now),
            "overdue_orders": selectors.order_list(user=request.user, now=now, status=selectors.OVERDUE)[
                : selectors.DASHBOARD_PREVIEW
            ],
            "record_counts": selectors.record_counts(user=request.user),
            "records": selectors.record_list(user=request.user)[: selectors.DASHBOARD_PREVIEW],
            **_nav(request, "dashboard"),
        },
    )


# Supervision orders ------------------------------------------------------------------------


@require_GET
@login_required
@html_errors
def order_list(request):
    if not sees_orders(request.user):
        raise NotAllowed(_("Your role has no supervision orders."))
    now = timezone.now()
    form = OrderFilterForm(request.GET or None)
    status = form.status_value()
    orders = selectors.order_list(user=request.user, now=now, status=status)
    counts = selectors.order_counts(user=request.user, now=now)
    # The counts beside the list hold its number of rows (by status, "overdue", or all).
    page = CountedPaginator(orders, PAGE_SIZE, count=counts[status or "total"]).get_page(request.GET.get("page"))
    return render(
        request,
        "escalation/orders.html",
        {
            "form": form,
            "page": page,
            "counts": counts,
            "supervises": supervises(request.user),
            **_nav(request, "orders"),
        },
    )


@require_GET
@login_required
@html_errors
def order_detail(request, pk: int):
    order = selectors.order_get(user=request.user, pk=pk)
    return render(request, "escalation/order.html", _order_context(request, order))


def _order_context(request, order, *, bound: tuple[str, object] | None = None) -> dict:
    forms = {}
    if may_reply(request.user, order):
        forms["reply"] = OrderReplyForm()
    if may_close(request.user, order):
        forms["close"] = OrderCloseForm()
    if bound:
        forms[bound[0]] = bound[1]
    return {
        "order": order,
        "task": order.task,
        "whistle": order.task.whistle,
        "forms": forms,
        "may_open": supervises(request.user) and order.task.status in order.task.OPEN_STATUSES,
        "timeline": selectors.timeline(order.task.events.all()),
        **_nav(request, "orders"),
    }


def _order_action(request, pk: int, form_class, service, form_name: str, success: str):
    order = access_order(request.user, pk)
    form = form_class(request.POST)
    form.is_valid()
    try:
        service(order=order, actor=request.user, **form.service_kwargs())
    except InvalidInput as error:
        form.add_service_errors(error)
        order = selectors.order_get(user=request.user, pk=pk)
        return render(request, "escalation/order.html", _order_context(request, order, bound=(form_name, form)))
    except Conflict as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success)
    return redirect("escalation:order", pk=order.pk)


@require_POST
@login_required
@html_errors
def order_reply(request, pk: int):
    return _order_action(
        request, pk, OrderReplyForm, supervision_order_reply, "reply", _("The reply is sent to the supervisors.")
    )


@require_POST
@login_required
@html_errors
def order_close(request, pk: int):
    return _order_action(request, pk, OrderCloseForm, supervision_order_close, "close", _("The order is closed."))


@require_http_methods(["GET", "POST"])
@login_required
@html_errors
def order_open(request, task_pk: int):
    """A supervisor issues an order by hand on a task of the district."""
    task = selectors.order_task(user=request.user, task_id=task_pk)
    if not supervises(request.user):
        raise NotAllowed(_("Only supervisors issue supervision orders."))
    form = OrderOpenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            order = supervision_order_open(task=task, actor=request.user, **form.service_kwargs())
        except InvalidInput as error:
            form.add_service_errors(error)
        except Conflict as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Supervision order %(number)s is issued.") % {"number": order.number})
            return redirect("escalation:order", pk=order.pk)
    return render(
        request,
        "escalation/order_open.html",
        {"task": task, "whistle": task.whistle, "form": form, **_nav(request, "orders")},
    )


# The accountability ledger -------------------------------------------------------------------


@require_GET
@login_required
@html_errors
def ledger(request):
    if not sees_ledger(request.user):
        raise NotAllowed(_("Only supervisors and departments have an accountability ledger."))
    form = RecordFilterForm(request.GET or None)
    values = form.values()
    records = selectors.record_list(user=request.user, **values)
    counts = selectors.record_counts(user=request.user)
    # Unless narrowed to a department, the counts beside the list hold its number of rows.
    paginator = (
        Paginator(records, PAGE_SIZE)
        if values["department"]
        else CountedPaginator(records, PAGE_SIZE, count=counts[values["kind"] or "total"])
    )
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "escalation/ledger.html",
        {
            "form": form,
            "page": page,
            "counts": counts,
            **_nav(request, "ledger"),
        },
    )


@require_GET
@login_required
@html_errors
def record_detail(request, pk: int):
    record = selectors.record_get(user=request.user, pk=pk)
    return render(request, "escalation/record.html", _record_context(request, record))


def _record_context(request, record, *, form=None) -> dict:
    if form is None and supervises(request.user):
        form = RecordNoteForm()
    return {
        "record": record,
        "form": form,
        "timeline": selectors.timeline(record.events.all()),
        **_nav(request, "ledger"),
    }


@require_POST
@login_required
@html_errors
def record_annotate(request, pk: int):
    record = access_record(request.user, pk)
    form = RecordNoteForm(request.POST)
    form.is_valid()
    try:
        accountability_annotate(record=record, actor=request.user, **form.service_kwargs())
    except InvalidInput as error:
        form.add_service_errors(error)
        record = selectors.record_get(user=request.user, pk=pk)
        return render(request, "escalation/record.html", _record_context(request, record, form=form))
    messages.success(request, _("The note is added to the record."))
    return redirect("escalation:record", pk=record.pk)


def _cleaned(filters) -> dict:
    return filters.form.cleaned_data if filters.is_bound and filters.is_valid() else {}
