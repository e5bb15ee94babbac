"""The department's pages: the task list (任务清单), a task with its actions, extension decisions, attachments.

Each view parses input, checks access, calls one service or selector and
renders (STYLE.md, rule 9). A refused action shows the service's messages
beside the fields they name; a state that no longer allows it is a message
on the task page; acting beyond one's role is the 403 page, a task one may
not see the 404 page (config.views.html_errors).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from config.errors import Conflict, InvalidInput, NotAllowed
from config.pagination import CountedPaginator
from config.views import html_errors
from whistle import task_selectors as selectors
from whistle.permissions import access_task
from whistle.services import (
    extension_decide,
    task_acknowledge,
    task_check_in,
    task_close,
    task_grant,
    task_progress,
    task_release,
    task_request_extension,
    task_return,
)
from whistle.task_forms import ACTION_FORMS, DecisionForm, TaskFilter
from whistle.task_permissions import access_extension
from whistle.views import nav_context

PAGE_SIZE = 50


def _nav(user, current: str) -> dict:
    return nav_context(user, current)


# The task list ---------------------------------------------------------------------------


@require_GET
@login_required
def task_list(request):
    now = timezone.now()
    tasks = selectors.task_list(user=request.user, now=now)
    filters = TaskFilter(request.GET or None, queryset=tasks, request=request)
    rows = filters.qs
    counts = selectors.task_counts(tasks, now=now)
    # Counting the filtered rows again would cost as much as the counts: reuse them when they tell.
    known = selectors.known_count(counts, filters.form.cleaned_data if filters.is_bound else {})
    paginator = Paginator(rows, PAGE_SIZE) if known is None else CountedPaginator(rows, PAGE_SIZE, count=known)
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "whistle/tasks/list.html",
        {
            "filters": filters,
            "page": page,
            "counts": counts,
            "decides_extensions": selectors.decides_extensions(request.user),
            **_nav(request.user, "tasks"),
        },
    )


# One task ----------------------------------------------------------------------------------


@require_GET
@login_required
@html_errors
def task_detail(request, pk: int):
    task = selectors.task_get(user=request.user, task_id=pk)
    return render(request, "whistle/tasks/detail.html", _detail_context(request, task))


def _detail_context(request, task, *, bound: tuple[str, object] | None = None) -> dict:
    actions = selectors.task_actions(user=request.user, task=task)
    forms = {name: ACTION_FORMS[name](**_form_kwargs(name, task)) for name in actions if name in ACTION_FORMS}
    if bound:
        forms[bound[0]] = bound[1]
    pending = next((e for e in task.extensions.all() if e.status == "pending"), None)
    decidable = pending is not None and selectors.extension_decidable(user=request.user, task=task)
    return {
        "task": task,
        "whistle": task.whistle,
        "actions": actions,
        "forms": forms,
        "pending_extension": pending,
        "decision_form": DecisionForm(prefix=f"x{pending.pk}") if decidable else None,
        "timeline": selectors.task_timeline(task),
        **_nav(request.user, "tasks"),
    }


def _form_kwargs(name: str, task, data=None, files=None) -> dict:
    kwargs = {"data": data, "files": files}
    if name == "return":
        kwargs["task"] = task
    return kwargs


def _services() -> dict:
    """Each action of the task page: (its form's name or None, the service, the message on success)."""
    return {
        "acknowledge": (None, task_acknowledge, _("The task is acknowledged.")),
        "check-in": ("check_in", task_check_in, _("You are checked in.")),
        "progress": ("progress", task_progress, _("The progress note is recorded.")),
        "return": ("return", task_return, _("The task is returned; the street's dispatcher routes the whistle again.")),
        "extension": ("extension", task_request_extension, _("The extension request is sent to the street.")),
        "close": ("close", task_close, _("The task is closed.")),
        "release": ("release", task_release, _("The department is released from this whistle.")),
        "grant": ("grant", task_grant, _("The user may now act on this task.")),
    }


@require_POST
@login_required
@html_errors
def task_act(request, pk: int, action: str):
    """One action on the task; a refusal for bad input shows the task page with the form's errors."""
    services = _services()
    if action not in services:
        raise Http404
    form_name, service, success = services[action]
    task = access_task(request.user, pk)
    form = None
    kwargs = {}
    if form_name:
        form = ACTION_FORMS[form_name](**_form_kwargs(form_name, task, request.POST, request.FILES))
        if form.is_valid():
            kwargs = form.service_kwargs()
    try:
        if form is not None and form.errors:
            # Input that does not even parse: the service never sees it, so ask its rule here.
            if form_name not in selectors.task_actions(
                user=request.user, task=selectors.task_get(user=request.user, task_id=pk)
            ):
                raise NotAllowed()
            raise InvalidInput()
        service(task=task, actor=request.user, **kwargs)
    except InvalidInput as error:
        if form is None:
            messages.error(request, error.message)
            return redirect("whistle:task", pk=task.pk)
        if error.fields or not form.errors:
            form.add_service_errors(error)
        task = selectors.task_get(user=request.user, task_id=pk)
        return render(request, "whistle/tasks/detail.html", _detail_context(request, task, bound=(form_name, form)))
    except Conflict as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success)
    return redirect("whistle:task", pk=task.pk)


# Extensions --------------------------------------------------------------------------------


@require_GET
@login_required
@html_errors
def extension_list(request):
    """The pending extension requests the street head or supervisor may decide."""
    if not selectors.decides_extensions(request.user):
        raise NotAllowed(_("Only a street head or a supervisor decides extension requests."))
    extensions = selectors.extensions_to_decide(user=request.user)
    page = Paginator(extensions, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(extension, DecisionForm(prefix=f"x{extension.pk}")) for extension in page.object_list]
    return render(
        request,
        "whistle/tasks/extensions.html",
        {"page": page, "rows": rows, **_nav(request.user, "extensions")},
    )


@require_POST
@login_required
@html_errors
def extension_decide_view(request, pk: int):
    extension = access_extension(request.user, pk)
    form = DecisionForm(request.POST, prefix=f"x{extension.pk}")
    form.is_valid()
    try:
        extension_decide(extension=extension, actor=request.user, **form.service_kwargs())
    except InvalidInput as error:
        for text in [m for field in error.fields.values() for m in field] or [error.message]:
            messages.error(request, text)
    except Conflict as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The extension request is decided."))
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(back)
    return redirect("whistle:extensions")


# Attachments -------------------------------------------------------------------------------


@require_GET
@login_required
@html_errors
def attachment_download(request, pk: int):
    """A feedback attachment, to whoever may see its task; for anyone else it does not exist (404)."""
    attachment = selectors.attachment_get(user=request.user, attachment_id=pk)
    return selectors.attachment_response(attachment)
