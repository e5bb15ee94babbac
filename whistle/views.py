"""The whistle pages: raise a whistle, see it, act on it, list them.

Each view parses input, checks access, calls one service or selector and
renders (STYLE.md, rule 9). Domain errors a view does not turn into a message
become the error page with their status (config.views.html_errors).
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from config.errors import Conflict, InvalidInput, NotFound
from config.views import html_errors
from departments.attributes import attribute_answers_display, category_attributes, category_attributes_by_code
from departments.models import STREET_ROLES, Membership
from whistle import map_selectors, selectors, street_selectors
from whistle.forms import (
    AttributeAnswersForm,
    CallbackForm,
    DispatchForm,
    MeetingCancelForm,
    MeetingForm,
    MergeForm,
    RateForm,
    RejectForm,
    ReopenForm,
    WhistleFilter,
    WhistleForm,
)
from whistle.models import JointMeeting, Whistle
from whistle.permissions import access_meeting, access_whistle, membership_of, require_role
from whistle.services import (
    meeting_cancel,
    meeting_check_in,
    meeting_close,
    meeting_schedule,
    whistle_approve,
    whistle_callback,
    whistle_confirm,
    whistle_dispatch,
    whistle_issue,
    whistle_merge,
    whistle_rate,
    whistle_reject,
    whistle_reopen,
    whistle_request_signature,
    whistle_sign,
    whistle_submit,
    whistle_submit_as_duplicate,
)

R = Membership.Role
# The web form is for the street's own people; the hotline submits through the API.
INTAKE_ROLES = frozenset(STREET_ROLES)
APPROVER_ROLES = frozenset({R.STREET_STAFF, R.STREET_DEPUTY, R.STREET_HEAD, R.PARTY_OFFICE})
PAGE_SIZE = 50


def nav_context(user, current: str) -> dict:
    """Which tabs of the whistle pages this user has, and which one is open."""
    role = getattr(membership_of(user), "role", None)
    return {
        "nav": {
            "current": current,
            "raise": role in INTAKE_ROLES,
            "queue": role in INTAKE_ROLES,
            "approvals": role in APPROVER_ROLES,
        }
    }


@login_required
def landing(request):
    """Where a signed-in user starts: the workbench of their role."""
    return redirect("workbench:home")


# Lists ------------------------------------------------------------------------------


@require_GET
@login_required
def whistle_list(request):
    filters = WhistleFilter(request.GET or None, queryset=selectors.whistle_list(user=request.user))
    page = Paginator(filters.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "whistle/list.html",
        {"filters": filters, "page": page, **nav_context(request.user, "list")},
    )


@require_GET
@login_required
@html_errors
def whistle_queue(request):
    require_role(request.user, INTAKE_ROLES)
    page = Paginator(selectors.whistle_queue(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "whistle/queue.html", {"page": page, **nav_context(request.user, "queue")})


@require_GET
@login_required
@html_errors
def whistle_approvals(request):
    require_role(request.user, APPROVER_ROLES)
    page = Paginator(selectors.whistle_approvals(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "whistle/approvals.html", {"page": page, **nav_context(request.user, "approvals")})


# Raising a whistle ----------------------------------------------------------------


@login_required
@html_errors
def whistle_new(request):
    require_role(request.user, INTAKE_ROLES)
    form = WhistleForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            result, primary = _submit(request.user, form)
        except InvalidInput as error:
            form.add_service_errors(error)
        except Conflict as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _submitted_message(result, primary))
            return redirect("whistle:detail", number=result.whistle.number)
    return render(
        request,
        "whistle/new.html",
        {
            "form": form,
            "map_tile_url": settings.MAP_TILE_URL,
            "can_merge": selectors.may_merge(request.user),
            **nav_context(request.user, "new"),
        },
    )


def _submit(user, form: WhistleForm):
    """Submit the whistle; with `duplicate_of`, submit it and merge it into that one together."""
    number = (form.cleaned_data["duplicate_of"] or "").strip()
    if not number:
        return whistle_submit(reporter=user, **form.service_kwargs()), None
    try:
        primary = access_whistle(user, number)
    except NotFound as error:
        raise InvalidInput(error.message) from None
    return whistle_submit_as_duplicate(reporter=user, into=primary, **form.service_kwargs()), primary


def _submitted_message(result, primary: Whistle | None) -> str:
    number = result.whistle.number
    if primary is not None:
        return _("Whistle %(number)s is stored as a duplicate of %(primary)s; no department is summoned for it.") % {
            "number": number,
            "primary": primary.number,
        }
    if result.whistle.status == Whistle.Status.DRAFT:
        return _("Whistle %(number)s is saved as a draft: ask the deputy to sign it.") % {"number": number}
    if not result.enqueued:
        return _(
            "Whistle %(number)s is stored. The routing queue cannot be reached just now: "
            "it will be routed as soon as the queue is back."
        ) % {"number": number}
    return _("Whistle %(number)s is submitted and is being routed to the departments.") % {"number": number}


@require_GET
@login_required
@html_errors
def whistle_duplicates(request):
    """The possible duplicates of what the user is typing (an htmx partial of the form)."""
    require_role(request.user, INTAKE_ROLES)
    category = request.GET.get("category", "")
    point = _point(request.GET.get("lon"), request.GET.get("lat"))
    duplicates = []
    if category and point:
        duplicates = selectors.whistle_possible_duplicates(
            user=request.user, category=category, lon=point[0], lat=point[1], now=timezone.now()
        )
    return render(
        request,
        "whistle/_duplicates.html",
        {
            "duplicates": duplicates,
            "asked": bool(category and point),
            "can_merge": selectors.may_merge(request.user),
            "radius": settings.WHISTLE_DUPLICATE_RADIUS_M,
            "days": settings.WHISTLE_DUPLICATE_DAYS,
        },
    )


@require_GET
@login_required
@html_errors
def whistle_attribute_fields(request):
    """The questions of the chosen category (an htmx partial of the form, swapped when the category changes)."""
    require_role(request.user, INTAKE_ROLES)
    code = request.GET.get("category", "")
    form = AttributeAnswersForm(definitions=category_attributes_by_code(code[:32]))
    return render(
        request,
        "whistle/_attribute_fields.html",
        {"attribute_fields": form.attribute_fields, "attribute_notices": form.attribute_notices},
    )


def _point(lon: str | None, lat: str | None) -> tuple[float, float] | None:
    try:
        point = float(lon), float(lat)
    except (TypeError, ValueError):
        return None
    if not (-180 <= point[0] <= 180 and -90 <= point[1] <= 90):  # also false for NaN
        return None
    return point


@require_GET
@login_required
def street_grids_geojson(request):
    """The grids of the user's street, for the intake map."""
    return JsonResponse(
        selectors.street_grids_geojson(user=request.user), content_type="application/geo+json; charset=utf-8"
    )


# One whistle ------------------------------------------------------------------------


@require_GET
@login_required
@html_errors
def whistle_detail(request, number: str):
    whistle = selectors.whistle_get(user=request.user, number=number)
    return render(request, "whistle/detail.html", _detail_context(request, whistle))


def _detail_context(request, whistle: Whistle, bound: dict | None = None) -> dict:
    """Everything the whistle page shows; `bound` replaces the blank forms with the ones just posted."""
    actions = selectors.whistle_actions(user=request.user, whistle=whistle)
    actions |= street_selectors.street_actions(user=request.user, whistle=whistle)
    meetings = street_selectors.whistle_meetings(user=request.user, whistle=whistle)
    if any(row["attend"] or row["close"] for row in meetings):
        actions.add("meeting")
    context = {
        "whistle": whistle,
        "caller": selectors.whistle_caller(user=request.user, whistle=whistle),
        "routing": selectors.whistle_routing_explained(whistle),
        "timeline": selectors.whistle_timeline(whistle),
        "actions": actions,
        "step": next((a for a in actions if a in STEP_ACTIONS), None),
        "location_map": _location_map(whistle),
        # The answers to the category's questions, as asked (no query for a whistle without answers).
        "attribute_answers": attribute_answers_display(
            definitions=category_attributes(whistle.category_id), answers=whistle.attributes
        )
        if whistle.attributes
        else [],
        **nav_context(request.user, "detail"),
    }
    if "reject" in actions:
        context["reject_form"] = RejectForm()
    if "dispatch" in actions:
        context["dispatch_form"] = DispatchForm(whistle=whistle)
    if "merge" in actions:
        context["merge_form"] = MergeForm()
        if whistle.lon is not None and whistle.lat is not None:
            context["merge_candidates"] = selectors.whistle_possible_duplicates(
                user=request.user,
                category=whistle.category.code,
                lon=whistle.lon,
                lat=whistle.lat,
                now=timezone.now(),
                exclude_id=whistle.pk,
            )
    context["meetings"] = meetings
    if "reopen" in actions:
        context["reopen_form"] = ReopenForm()
    if "rate" in actions:
        context["rate_form"] = RateForm(departments=street_selectors.rateable_departments(whistle))
    if "callback" in actions:
        context["callback_form"] = CallbackForm()
    if "schedule_meeting" in actions:
        context["meeting_form"] = MeetingForm()
    if any(row["cancel"] for row in meetings):
        context["meeting_cancel_form"] = MeetingCancelForm()
    return {**context, **(bound or {})}


def _location_map(whistle: Whistle) -> dict | None:
    """The small map of the whistle's point and grid (static/js/whistle-map.js), or None with neither."""
    location = map_selectors.whistle_location(whistle)
    return {**location, "tile_url": settings.MAP_TILE_URL} if location else None


def _act(request, number: str, call, success: str):
    """Run one service on the whistle; its refusals become messages on the whistle page.

    NotAllowed is not caught: acting beyond one's role is the 403 page.
    """
    whistle = access_whistle(request.user, number)
    try:
        call(whistle)
    except InvalidInput as error:
        for text in [m for field in error.fields.values() for m in field] or [error.message]:
            messages.error(request, text)
    except Conflict as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success % {"number": whistle.number})
    return redirect("whistle:detail", number=whistle.number)


def step_services() -> dict:
    return {
        "request_signature": (whistle_request_signature, _("Whistle %(number)s is sent to the deputy to sign.")),
        "sign": (whistle_sign, _("Whistle %(number)s is signed and goes to the head for approval.")),
        "approve": (whistle_approve, _("Whistle %(number)s is approved; the party-building office issues it.")),
        "issue": (whistle_issue, _("Whistle %(number)s is issued and is being routed to the departments.")),
    }


STEP_ACTIONS = ("request_signature", "sign", "approve", "issue")


@require_POST
@login_required
@html_errors
def whistle_step(request, number: str, step: str):
    """One step of the approval chain: ask for signature, sign, approve or issue."""
    if step not in STEP_ACTIONS:
        raise Http404
    service, success = step_services()[step]
    return _act(request, number, lambda whistle: service(whistle=whistle, actor=request.user), success)


@require_POST
@login_required
@html_errors
def whistle_reject_view(request, number: str):
    form = RejectForm(request.POST)
    form.is_valid()
    reason = form.cleaned_data.get("reason", "")
    return _act(
        request,
        number,
        lambda whistle: whistle_reject(whistle=whistle, actor=request.user, reason=reason),
        _("Whistle %(number)s is sent back to its draft."),
    )


@require_POST
@login_required
@html_errors
def whistle_dispatch_view(request, number: str):
    def dispatch(whistle):
        form = DispatchForm(request.POST, whistle=whistle)
        form.is_valid()
        whistle_dispatch(
            whistle=whistle, actor=request.user, departments=form.departments(), note=form.cleaned_data["note"]
        )

    return _act(request, number, dispatch, _("Whistle %(number)s is dispatched to the departments you chose."))


@require_POST
@login_required
@html_errors
def whistle_merge_view(request, number: str):
    form = MergeForm(request.POST)

    def merge(whistle):
        if not form.is_valid():
            raise InvalidInput(fields={"into": form.errors.get("into", [])})
        try:
            into = access_whistle(request.user, form.cleaned_data["into"].strip())
        except NotFound as error:
            raise InvalidInput(fields={"into": [error.message]}) from None
        whistle_merge(whistle=whistle, into=into, actor=request.user)

    return _act(request, number, merge, _("Whistle %(number)s is merged as a duplicate."))


# The street side of a resolved whistle, and joint meetings ------------------------------------


def _form_action(request, whistle: Whistle, form, name: str, call, success: str):
    """Parse the posted form and run one service with it.

    Bad input is shown in place, beside the field it names, on the whistle page
    (status 400, nothing changed); a state that does not allow the action is a
    message on the page. NotAllowed is not caught: it is the 403 page.
    """
    if form.is_valid():
        try:
            call(form)
        except InvalidInput as error:
            form.add_service_errors(error)
        except Conflict as error:
            messages.error(request, error.message)
            return redirect("whistle:detail", number=whistle.number)
        else:
            messages.success(request, success % {"number": whistle.number})
            return redirect("whistle:detail", number=whistle.number)
    context = _detail_context(request, whistle, bound={name: form})
    return render(request, "whistle/detail.html", context, status=400)


@require_POST
@login_required
@html_errors
def whistle_confirm_view(request, number: str):
    return _act(
        request,
        number,
        lambda whistle: whistle_confirm(whistle=whistle, actor=request.user),
        _("Whistle %(number)s is confirmed and closed."),
    )


@require_POST
@login_required
@html_errors
def whistle_reopen_view(request, number: str):
    whistle = selectors.whistle_get(user=request.user, number=number)
    return _form_action(
        request,
        whistle,
        ReopenForm(request.POST),
        "reopen_form",
        lambda form: whistle_reopen(whistle=whistle, actor=request.user, reason=form.cleaned_data["reason"]),
        _("Whistle %(number)s is reopened: the departments have it again, with new deadlines."),
    )


@require_POST
@login_required
@html_errors
def whistle_rate_view(request, number: str):
    whistle = selectors.whistle_get(user=request.user, number=number)
    form = RateForm(request.POST, departments=street_selectors.rateable_departments(whistle))
    return _form_action(
        request,
        whistle,
        form,
        "rate_form",
        lambda form: whistle_rate(whistle=whistle, actor=request.user, **form.service_kwargs()),
        _("The rating is recorded."),
    )


@require_POST
@login_required
@html_errors
def whistle_callback_view(request, number: str):
    whistle = selectors.whistle_get(user=request.user, number=number)
    return _form_action(
        request,
        whistle,
        CallbackForm(request.POST),
        "callback_form",
        lambda form: whistle_callback(whistle=whistle, actor=request.user, **form.service_kwargs()),
        _("The citizen's callback on whistle %(number)s is recorded."),
    )


@require_POST
@login_required
@html_errors
def meeting_schedule_view(request, number: str):
    whistle = selectors.whistle_get(user=request.user, number=number)
    return _form_action(
        request,
        whistle,
        MeetingForm(request.POST),
        "meeting_form",
        lambda form: meeting_schedule(whistle=whistle, actor=request.user, **form.service_kwargs()),
        _("The joint meeting of whistle %(number)s is scheduled; the departments are invited."),
    )


def _meeting_act(request, pk: int, call, success: str):
    """Run one service on a meeting the user may see; its refusals become messages on the whistle page."""
    meeting = access_meeting(request.user, pk, queryset=JointMeeting.objects.select_related("whistle"))
    return _act(request, meeting.whistle.number, lambda _whistle: call(meeting), success)


@require_POST
@login_required
@html_errors
def meeting_attend_view(request, pk: int):
    return _meeting_act(
        request,
        pk,
        lambda meeting: meeting_check_in(meeting=meeting, actor=request.user),
        _("Your department is checked in to the meeting."),
    )


@require_POST
@login_required
@html_errors
def meeting_close_view(request, pk: int):
    return _meeting_act(
        request,
        pk,
        lambda meeting: meeting_close(meeting=meeting, actor=request.user),
        _("The meeting is recorded as held; departments that did not check in are absent."),
    )


@require_POST
@login_required
@html_errors
def meeting_cancel_view(request, pk: int):
    meeting = access_meeting(request.user, pk, queryset=JointMeeting.objects.select_related("whistle"))
    whistle = selectors.whistle_get(user=request.user, number=meeting.whistle.number)
    return _form_action(
        request,
        whistle,
        MeetingCancelForm(request.POST),
        "meeting_cancel_form",
        lambda form: meeting_cancel(meeting=meeting, actor=request.user, reason=form.cleaned_data["reason"]),
        _("The meeting is cancelled."),
    )
