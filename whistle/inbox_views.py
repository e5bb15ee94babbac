"""The inbox page: the notices addressed to the user, their unit or their street."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from whistle import selectors
from whistle.services.notify import VERB_LABELS, notifications_mark_read

PAGE_SIZE = 30


@require_GET
@login_required
def inbox(request):
    notices = selectors.notifications_visible(user=request.user)
    unread_only = request.GET.get("unread") == "1"
    if unread_only:
        notices = notices.filter(read_at=None)
    page = Paginator(notices, PAGE_SIZE).get_page(request.GET.get("page"))
    for notice in page:
        notice.label = VERB_LABELS.get(notice.verb, notice.verb)
    return render(request, "whistle/inbox.html", {"page": page, "unread_only": unread_only})


@require_POST
@login_required
def inbox_read_all(request):
    notifications_mark_read(user=request.user)
    return redirect("whistle:inbox")


@require_POST
@login_required
def inbox_open(request, pk: int):
    """Mark one notice read and go to its whistle (404 for a notice not addressed to the user)."""
    notice = get_object_or_404(selectors.notifications_visible(user=request.user), pk=pk)
    notifications_mark_read(user=request.user, ids=[notice.pk])
    return redirect("whistle:detail", number=notice.whistle.number)
