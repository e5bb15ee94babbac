"""Data for the fault tests, written through the services into a database of the private cluster.

Run by the tests as `python -m tests.faults.scenario <command> ...` with
DATABASE_URL (and CELERY_BROKER_URL) pointing at the private servers; each
command prints one JSON object. The cast is a small cut of the test suite's
(tests/conftest.py): street S01 with one grid, old-compound environment led by
D13 with D12 and E06 co-operating, and the users the tests act as.

    seed                       the cast, and an API token for s01_staff
    submit --count N --ago S   N whistles through whistle_submit, as if submitted S seconds ago
    overdue --count N --days D N whistles submitted and routed D days ago: 3 tasks each, all deadlines past
    session --user NAME        a signed-in session for NAME (its cookie value)
"""

import argparse
import json
import os
from datetime import timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402 - after django.setup()
from django.db import transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from departments.models import Department, Membership, Responsibility  # noqa: E402
from departments.services import responsibility_create  # noqa: E402
from tests.factories import (  # noqa: E402
    WHISTLE_FIELDS,
    CategoryFactory,
    CommunityFactory,
    DepartmentFactory,
    DistrictFactory,
    GridFactory,
    StreetFactory,
    square,
)
from whistle.services import whistle_route, whistle_submit  # noqa: E402

R = Membership.Role


def seed() -> dict:
    user_model = get_user_model()
    with transaction.atomic():
        district = DistrictFactory()
        s01 = StreetFactory(district=district, code="S01", name="百泉街道")
        community = CommunityFactory(street=s01, code="S01C01", name="百泉第1社区")
        GridFactory(community=community, code="S01C01G01", boundary=square(115.97, 40.46, 0.01))
        d13 = DepartmentFactory(district=district, code="D13", name="区城市管理委员会")
        d12 = DepartmentFactory(district=district, code="D12", name="区住房和城乡建设委员会")
        e06 = DepartmentFactory(
            district=district, code="E06", name="区环卫集团", kind=Department.Kind.PUBLIC_SERVICE_ENTERPRISE
        )
        compound = CategoryFactory(code="ENV-COMPOUND", name="老旧小区环境", default_grade="ordinary")
        responsibility_create(category=compound, department=d13, role=Responsibility.Role.LEAD)
        responsibility_create(category=compound, department=d12, role=Responsibility.Role.CO_OPERATING)
        responsibility_create(category=compound, department=e06, role=Responsibility.Role.CO_OPERATING)
        members = {
            "s01_staff": {"role": R.STREET_STAFF, "street": s01},
            "d13_head": {"role": R.DEPT_HEAD, "department": d13},
            "supervisor": {"role": R.SUPERVISOR, "district": district},
        }
        for username, unit in members.items():
            user = user_model(username=username, email=f"{username}@example.gov.cn")
            user.set_unusable_password()  # the tests sign in with tokens and sessions, never a password
            user.save()
            Membership.objects.create(user=user, **unit)
        token = Token.objects.create(user=user_model.objects.get(username="s01_staff"))
    return {"token": token.key}


def submit(count: int, ago: float) -> dict:
    reporter = get_user_model().objects.get(username="s01_staff")
    now = timezone.now() - timedelta(seconds=ago)
    results = [
        whistle_submit(reporter=reporter, now=now, **{**WHISTLE_FIELDS, "title": f"楼道堆物 {n}"}) for n in range(count)
    ]
    return {"numbers": [r.whistle.number for r in results], "enqueued": sum(r.enqueued for r in results)}


def overdue(count: int, days: float) -> dict:
    reporter = get_user_model().objects.get(username="s01_staff")
    then = timezone.now() - timedelta(days=days)
    tasks = 0
    for n in range(count):
        with transaction.atomic():
            whistle = whistle_submit(reporter=reporter, now=then, **{**WHISTLE_FIELDS, "title": f"逾期 {n}"}).whistle
            whistle_route(whistle_id=whistle.pk, now=then)
            tasks += whistle.tasks.count()
    return {"whistles": count, "tasks": tasks}


def session(username: str) -> dict:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return {"sessionid": client.cookies["sessionid"].value}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.faults.scenario")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("seed")
    submitting = commands.add_parser("submit")
    submitting.add_argument("--count", type=int, required=True)
    submitting.add_argument("--ago", type=float, default=0.0)
    late = commands.add_parser("overdue")
    late.add_argument("--count", type=int, required=True)
    late.add_argument("--days", type=float, required=True)
    signing_in = commands.add_parser("session")
    signing_in.add_argument("--user", required=True)
    args = parser.parse_args()
    if args.command == "seed":
        out = seed()
    elif args.command == "submit":
        out = submit(args.count, args.ago)
    elif args.command == "overdue":
        out = overdue(args.count, args.days)
    else:
        out = session(args.user)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
