"""Who and where the demo activity plays (escalation.demo): the district's streets, places, catalogue and demo users."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import shapely
from django.utils.translation import gettext as _

from departments.catalogue import current_catalogue
from departments.demo import DemoSeedError
from departments.models import Category, Department, Membership
from grids.geometry import parse_boundary
from grids.models import Community, District, Grid, GridWorker, Street

R = Membership.Role


@dataclass
class DemoWorld:
    """The district's streets, places, catalogue and demo users, read once."""

    district: District
    streets: list[Street]
    communities: dict[int, list[Community]]  # by street
    grids: dict[int, list[Grid]]  # by community
    shapes: dict[int, shapely.Geometry]  # by grid
    ruled: dict[int, list[Category]]  # categories with a lead in the street
    unruled: dict[int, list[Category]]
    leads: dict[int, list[Department]]  # departments leading some category in the street
    departments: list[Department]
    street_users: dict[tuple[int, str], object]
    department_users: dict[tuple[int, str], object]
    worker_grids: dict[int, list[Grid]]  # a grid worker's own grids, by user
    hotline: object | None
    supervisor: object | None

    @classmethod
    def load(cls, *, district: District, codes: Iterable[str] | None = None) -> "DemoWorld":
        streets = list(district.streets.order_by("code"))
        if codes is not None:
            wanted = set(codes)
            streets = [street for street in streets if street.code in wanted]
        communities, grids, shapes = defaultdict(list), defaultdict(list), {}
        for grid in Grid.objects.filter(community__street__in=streets).order_by("code"):
            grids[grid.community_id].append(grid)
            shapes[grid.pk] = parse_boundary(grid.boundary)
        for community in Community.objects.filter(street__in=streets).order_by("code"):
            if grids[community.pk]:
                communities[community.street_id].append(community)
        # select_related fills user.membership too, which every service reads.
        memberships = Membership.objects.filter(user__is_active=True).select_related("user").order_by("user__username")
        street_users, department_users, hotline, supervisor = {}, {}, None, None
        for membership in memberships:
            if membership.street_id:
                street_users.setdefault((membership.street_id, membership.role), membership.user)
            elif membership.department_id:
                department_users.setdefault((membership.department_id, membership.role), membership.user)
            elif membership.district_id == district.pk and membership.role == R.HOTLINE_CLIENT:
                hotline = hotline or membership.user
            elif membership.district_id == district.pk and membership.role == R.SUPERVISOR:
                supervisor = supervisor or membership.user
        worker_grids = {}
        for worker in GridWorker.objects.filter(user__membership__street__in=streets).prefetch_related("grids"):
            worker_grids[worker.user_id] = sorted(worker.grids.all(), key=lambda grid: grid.code)
        catalogue = current_catalogue()
        categories = sorted(catalogue.categories.values(), key=lambda category: category.code)
        ruled, unruled, leads = defaultdict(list), defaultdict(list), defaultdict(list)
        for street in streets:
            for category in categories:
                match = catalogue.match(category_id=category.pk, street_id=street.pk)
                (ruled if match else unruled)[street.pk].append(category)
                if match and match[0].department not in leads[street.pk]:
                    leads[street.pk].append(match[0].department)
        streets = [street for street in streets if communities[street.pk] and ruled[street.pk]]
        if not streets:
            raise DemoSeedError(
                _("No street of %(district)s has grids and rules to play the demo in.") % {"district": district}
            )
        return cls(
            district=district,
            streets=streets,
            communities=communities,
            grids=grids,
            shapes=shapes,
            ruled=ruled,
            unruled=unruled,
            leads=leads,
            departments=list(Department.objects.filter(district=district).prefetch_related("streets")),
            street_users=street_users,
            department_users=department_users,
            worker_grids=worker_grids,
            hotline=hotline,
            supervisor=supervisor,
        )

    def street_user(self, street: Street, *roles: str):
        """The street's demo user of the first of `roles` it has."""
        for role in roles:
            user = self.street_users.get((street.pk, role))
            if user is not None:
                return user
        raise DemoSeedError(
            _("%(street)s has no demo user with the role %(role)s.") % {"street": street, "role": roles[0]}
        )

    def department_user(self, department_id: int, *, head: bool = False):
        roles = (R.DEPT_HEAD, R.DEPT_STAFF) if head else (R.DEPT_STAFF, R.DEPT_HEAD)
        for role in roles:
            user = self.department_users.get((department_id, role))
            if user is not None:
                return user
        raise DemoSeedError(_("Department %(id)s has no demo user.") % {"id": department_id})
