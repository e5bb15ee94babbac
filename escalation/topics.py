"""Problems of the month (每月一题): supervisors adopt a high-frequency problem and follow it.

`problem_topic_adopt` is the one way a topic comes to be: in one transaction
it stores the topic, links the whistles of its category and area raised in
its month (escalation.statistics.topic_whistles), and writes the audit trail.
Events name a whistle (whistle.models.Event.whistle is required), so the
trail is one "topic_linked" event on every linked whistle — who adopted which
topic, when — while the topic row itself records the adoption (adopted_by,
created_at). A topic needs at least one whistle: one is adopted from a row
of the high-frequency problems, which always has some.
"""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import Conflict, InvalidInput, NotAllowed, text_input
from departments.models import Category, Membership
from escalation.models import ProblemTopic
from escalation.periods import Period, month_parse
from escalation.statistics import topic_whistles
from grids.models import Community, Street
from whistle.models import Event
from whistle.permissions import membership_of

TITLE_MAX_LENGTH = 200
NOTE_MAX_LENGTH = 2000


def _code(value, name: str, errors: dict) -> str:
    if value is not None and not isinstance(value, str):
        errors[name] = [_("Give a code as text.")]
        return ""
    return (value or "").strip()


@transaction.atomic
def problem_topic_adopt(
    *,
    actor,
    period: str,
    category: str,
    street: str = "",
    community: str = "",
    title: str = "",
    note: str = "",
    now: datetime | None = None,
) -> ProblemTopic:
    """A supervisor adopts category × area as the problem of the month `period` (YYYY-MM) and links its whistles.

    The area is a community (its street follows), a street, or the whole
    district when both are empty. The title defaults to "category · area".
    """
    now = now or timezone.now()
    membership = membership_of(actor)
    if membership is None or membership.role != Membership.Role.SUPERVISOR:
        raise NotAllowed(_("Only supervisors adopt a problem of the month."))
    district = membership.district
    errors: dict[str, list[str]] = {}
    month = None
    if not isinstance(period, str) or not period.strip():
        errors["period"] = [_("Give the month as YYYY-MM, e.g. 2026-03.")]
    else:
        try:
            month = month_parse(period)
        except InvalidInput as error:
            errors.update(error.fields)
    found_category = _category(_code(category, "category", errors), errors)
    found_street, found_community = _area(
        district, _code(street, "street", errors), _code(community, "community", errors), errors
    )
    title = text_input(title, "title", errors, max_length=TITLE_MAX_LENGTH)
    note = text_input(note, "note", errors, max_length=NOTE_MAX_LENGTH)
    if errors:
        raise InvalidInput(fields=errors)
    if not title:
        area = found_community or found_street
        title = f"{found_category.name} · {area.name}" if area else found_category.name
    topic = ProblemTopic(
        district=district,
        title=title,
        period=month.first,
        category=found_category,
        street=found_street,
        community=found_community,
        adopted_by=actor,
        note=note,
        created_at=now,
    )
    topic.full_clean(validate_constraints=False)
    if _taken(topic):
        raise Conflict(
            _("%(category)s in this area is the problem of the month %(month)s already.")
            % {"category": found_category.name, "month": month.label},
            code="already_adopted",
        )
    whistle_ids = list(topic_whistles(topic, period=month).order_by("pk").values_list("pk", flat=True))
    if not whistle_ids:
        raise InvalidInput(
            fields={
                "category": [
                    _("No whistle of this category was raised in this area in %(month)s.") % {"month": month.label}
                ]
            }
        )
    try:
        with transaction.atomic():  # a savepoint: the same topic adopted at the same moment by someone else
            topic.save()
    except IntegrityError:
        raise Conflict(
            _("%(category)s in this area is the problem of the month %(month)s already.")
            % {"category": found_category.name, "month": month.label},
            code="already_adopted",
        ) from None
    through = ProblemTopic.whistles.through
    through.objects.bulk_create([through(problemtopic_id=topic.pk, whistle_id=pk) for pk in whistle_ids])
    Event.objects.bulk_create(
        [
            Event(
                whistle_id=pk,
                actor=actor,
                verb="topic_linked",
                reason=title,
                new={"topic": topic.pk, "title": title, "month": month.label},
                created_at=now,
            )
            for pk in whistle_ids
        ]
    )
    return topic


def _category(code: str, errors: dict) -> Category | None:
    if "category" in errors:
        return None
    if not code:
        errors["category"] = [_("Choose the category.")]
        return None
    found = Category.objects.filter(code=code).first()
    if found is None:
        errors["category"] = [_("Unknown category %(code)s.") % {"code": code}]
    return found


def _area(district, street: str, community: str, errors: dict) -> tuple[Street | None, Community | None]:
    found_street = found_community = None
    if street and "street" not in errors:
        found_street = Street.objects.filter(code=street, district=district).first()
        if found_street is None:
            errors["street"] = [_("Unknown street %(code)s in your district.") % {"code": street}]
    if community and "community" not in errors:
        found_community = (
            Community.objects.select_related("street").filter(code=community, street__district=district).first()
        )
        if found_community is None:
            errors["community"] = [_("Unknown community %(code)s in your district.") % {"code": community}]
        elif found_street is not None and found_community.street_id != found_street.pk:
            errors["community"] = [
                _("Community %(community)s is not in street %(street)s.") % {"community": community, "street": street}
            ]
        else:
            found_street = found_community.street
    return found_street, found_community


def _taken(topic: ProblemTopic) -> bool:
    same = ProblemTopic.objects.filter(period=topic.period, category=topic.category)
    if topic.community_id:
        return same.filter(community_id=topic.community_id).exists()
    if topic.street_id:
        return same.filter(street_id=topic.street_id, community__isnull=True).exists()
    return same.filter(district=topic.district, street__isnull=True).exists()


def topic_list(*, district, period: Period | None = None):
    """The district's problems of the month, newest month first; of one month when `period` is a month."""
    topics = (
        ProblemTopic.objects.filter(district=district)
        .select_related("district", "category", "street", "community", "adopted_by")
        .annotate(linked=Count("whistles"))
    )
    if period is not None:
        topics = topics.filter(period__gte=period.first, period__lte=period.last)
    return topics
