"""The catalogue as intake and routing read it: the categories, and who leads and co-operates per category and street.

The catalogue changes a few times a year and is read for every whistle, so
each process keeps it in memory behind a version stamp (config.stamps): one
stamp read per submit or routing transaction instead of a query per lookup.
"""

from collections import defaultdict
from dataclasses import dataclass

from config.stamps import StampedCache, renew_stamp
from departments.models import CatalogueVersion, Category, CategoryAttribute, Department, Responsibility
from grids.models import Street

LEAD, CO_OPERATING = Responsibility.Role.LEAD, Responsibility.Role.CO_OPERATING


@dataclass(frozen=True)
class Assignment:
    """One department chosen for a whistle, and the reason recorded for it."""

    department: Department
    role: str
    rule_id: int | None
    scope: str  # "street", "district" or "manual"
    overrides: str = ""  # code of the district-wide lead a street rule took precedence over

    def explanation(self) -> dict:
        return {
            "department": self.department.code,
            "department_name": self.department.name,
            "role": self.role,
            "rule": self.rule_id,
            "scope": self.scope,
            **({"overrides": self.overrides} if self.overrides else {}),
        }


@dataclass(frozen=True)
class Rule:
    pk: int
    department: Department
    role: str
    streets: frozenset[int]  # empty: every street of the department's district

    def applies_in(self, street_id: int, district_id: int | None) -> bool:
        if self.streets:
            return street_id in self.streets
        return self.department.district_id == district_id

    @property
    def scope(self) -> str:
        return "street" if self.streets else "district"


class Catalogue:
    """The categories by code and the rules of each category in id order; read-only once built."""

    def __init__(
        self,
        categories: dict[str, Category],
        rules: dict[int, list[Rule]],
        districts: dict[int, int],
        attributes: dict[int, list[CategoryAttribute]],
    ):
        self.categories = categories
        self.rules = rules
        self._districts = districts  # street id → district id
        self._attributes = attributes  # category id → its questions in order

    def attributes_of(self, category_id: int) -> list[CategoryAttribute]:
        """The category's attribute questions in the order they are asked."""
        return self._attributes.get(category_id, [])

    def district_of(self, street_id: int) -> int | None:
        """The district of a street; a street made after the catalogue was built is looked up (and kept)."""
        if street_id not in self._districts:
            district = Street.objects.filter(pk=street_id).values_list("district_id", flat=True).first()
            if district is None:
                return None
            self._districts[street_id] = district
        return self._districts[street_id]

    def match(self, *, category_id: int, street_id: int) -> list[Assignment]:
        """The lead and co-operating departments for a category in a street, lead first.

        A rule scoped to the street beats a district-wide rule of the same role;
        a department is summoned once, in its strongest role. No lead: nobody.
        """
        district_id = self.district_of(street_id)
        applicable = [rule for rule in self.rules.get(category_id, ()) if rule.applies_in(street_id, district_id)]
        # Street-scoped first; sorted() is stable, so id order decides among equals.
        leads = sorted((r for r in applicable if r.role == LEAD), key=lambda r: not r.streets)
        if not leads:
            return []
        lead = leads[0]
        overridden = next((r.department.code for r in leads[1:] if not r.streets), "") if lead.streets else ""
        chosen = [Assignment(lead.department, LEAD, lead.pk, lead.scope, overridden)]
        seen = {lead.department.pk}
        for rule in sorted((r for r in applicable if r.role == CO_OPERATING), key=lambda r: not r.streets):
            if rule.department.pk not in seen:
                seen.add(rule.department.pk)
                chosen.append(Assignment(rule.department, CO_OPERATING, rule.pk, rule.scope))
        return chosen


def catalogue_build(stamp: int = 0) -> Catalogue:
    departments = {d.pk: d for d in Department.objects.only("pk", "code", "name", "district_id")}
    scopes: dict[int, set[int]] = defaultdict(set)
    for rule_id, street_id in Responsibility.streets.through.objects.values_list("responsibility_id", "street_id"):
        scopes[rule_id].add(street_id)
    rules: dict[int, list[Rule]] = defaultdict(list)
    for pk, category_id, department_id, role in Responsibility.objects.order_by("pk").values_list(
        "pk", "category_id", "department_id", "role"
    ):
        rules[category_id].append(Rule(pk, departments[department_id], role, frozenset(scopes[pk])))
    categories = {category.code: category for category in Category.objects.all()}
    districts = dict(Street.objects.values_list("pk", "district_id"))
    attributes: dict[int, list[CategoryAttribute]] = defaultdict(list)
    for attribute in CategoryAttribute.objects.order_by("order", "code"):
        attributes[attribute.category_id].append(attribute)
    return Catalogue(categories, dict(rules), districts, dict(attributes))


_catalogue: StampedCache[Catalogue] = StampedCache(CatalogueVersion, catalogue_build)


def current_catalogue() -> Catalogue:
    """The catalogue as committed, rebuilt in this process only when its stamp changed."""
    return _catalogue.get()


def catalogue_changed() -> None:
    """Renew the stamp after bulk writes, which send no signals; call inside their transaction."""
    renew_stamp(CatalogueVersion)
