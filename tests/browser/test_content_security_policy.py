"""Every main page works under the content security policy: nothing blocked, no script error.

Each role opens its pages in Chromium with the policy the site sends (config/settings.py,
CONTENT_SECURITY_POLICY); a violation report, an error in the console (a refused inline
style, a file that failed to load) or an uncaught exception fails the test, naming the page.
Charts are hovered, so that their tooltips (HTML that ECharts writes) are drawn too.
"""

import pytest
import time_machine
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.factories import UserFactory
from tests.whistle.lifecycle import MONDAY_10, closed, routed
from whistle.models import Task

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Runs in every page before its own scripts: collects the violations the policy reports.
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__violations.push(event.effectiveDirective + " refused " + (event.blockedURI || "inline")
    + " at " + event.sourceFile + ":" + event.lineNumber + " " + (event.sample || ""));
});
"""


class Problems:
    """What went wrong in a browser context, by page."""

    def __init__(self):
        self.found: list[str] = []

    def watch(self, page: Page) -> Page:
        page.context.add_init_script(LISTEN)
        page.on(
            "console",
            lambda message: (
                message.type == "error"
                and self.found.append(f"{page.url}: {message.text} {message.location.get('url', '')}".rstrip())
            ),
        )
        page.on("pageerror", lambda error: self.found.append(f"{page.url}: uncaught {error}"))
        # The console says only "Failed to load resource"; this names it.
        page.on(
            "response",
            lambda response: (
                response.status >= 400
                and response.request.resource_type != "document"
                and self.found.append(f"{page.url}: {response.status} for {response.url}")
            ),
        )
        return page

    def collect(self, page: Page) -> None:
        page.wait_for_load_state("networkidle")
        self.found += [f"{page.url}: {v}" for v in page.evaluate("window.__violations || []")]


@pytest.fixture
def problems():
    return Problems()


@pytest.fixture
def data(cast):
    with time_machine.travel(MONDAY_10, tick=False):
        open_whistle = routed(cast, user=cast.hotline, source="hotline", external_id="12345-1", caller_name="张女士")
        done = closed(cast)
    UserFactory(username="admin", is_staff=True, is_superuser=True)
    return {
        "open": open_whistle,
        "closed": done,
        "task": Task.objects.get(whistle=open_whistle, department=cast.d13),
    }


def visit(page: Page, problems: Problems, path: str, *, hover: str = "") -> None:
    response = page.goto(path)
    assert response is not None and response.ok, f"{path}: {response.status if response else 'no answer'}"
    policy = response.header_value("content-security-policy") or ""
    assert "script-src 'self'" in policy or path.startswith("/static/"), f"{path}: no policy ({policy!r})"
    if hover:
        charts = page.locator(hover)
        expect(charts.first).to_be_visible()
        for index in range(charts.count()):
            charts.nth(index).hover()  # the middle of the chart: a bar, a cell or a point has a tooltip
            page.wait_for_timeout(200)
    problems.collect(page)


def test_the_main_pages_run_under_the_policy_without_a_violation(data, sign_in, problems, screenshot):
    whistle, task = data["open"], data["task"]

    street = problems.watch(sign_in("s01_staff", "/workbench/street/"))
    for path in (
        "/workbench/street/",
        reverse("whistle:list"),
        reverse("whistle:new"),
        reverse("whistle:detail", args=[data["closed"].number]),
        reverse("whistle:inbox"),
        reverse("map:overview"),
        reverse("whistle:detail", args=[whistle.number]),
    ):
        visit(street, problems, path)
    expect(street.locator("#whistle-location-map .leaflet-interactive").first).to_be_attached()
    screenshot(street, "street-whistle-page")

    department = problems.watch(sign_in("d13_staff", "/workbench/department/"))
    for path in ("/workbench/department/", reverse("whistle:tasks"), reverse("whistle:task", args=[task.pk])):
        visit(department, problems, path)

    supervisor = problems.watch(sign_in("supervisor", "/workbench/supervisor/"))
    visit(supervisor, problems, "/workbench/supervisor/", hover="[data-chart] canvas")
    for path in (reverse("escalation:dashboard"), reverse("escalation:orders"), reverse("escalation:ledger")):
        visit(supervisor, problems, path)
    for name in ("escalation:evaluation", "escalation:evaluation_statistics"):
        visit(supervisor, problems, reverse(name) + "?period=2026-03", hover="[data-ev-chart] canvas")
    visit(supervisor, problems, reverse("escalation:evaluation_problems") + "?period=2026-03")
    screenshot(supervisor, "supervisor-statistics")

    admin = problems.watch(sign_in("admin", "/notifications/"))
    for path in (
        "/admin/",
        reverse("admin:whistle_whistle_changelist"),
        reverse("admin:whistle_whistle_change", args=[whistle.pk]),
        reverse("admin:whistle_event_changelist"),
        reverse("admin:departments_category_add"),
        reverse("admin:auth_user_change", args=[whistle.reporter_id]),
        "/api/docs/",
    ):
        visit(admin, problems, path)
    expect(admin.locator(".swagger-ui .info")).to_be_visible()
    screenshot(admin, "api-docs")

    # The admin's pages name no icon, and Chromium asks for /favicon.ico, which the site does not have.
    found = [problem for problem in problems.found if not problem.endswith("favicon.ico")]
    assert found == [], "\n".join(found)


def test_the_sign_in_and_lockout_pages_run_under_the_policy(live_server, new_context, problems, cast):
    from django.conf import settings

    page = problems.watch(new_context().new_page())
    visit(page, problems, "/admin/login/")
    visit(page, problems, "/accounts/login/")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page.locator('input[name="username"]').fill("s01_staff")
        page.locator('input[name="password"]').fill("not-the-password")
        page.locator('button[type="submit"]').click()
        page.wait_for_load_state()
    expect(page.locator("#lockout")).to_be_visible()
    problems.collect(page)

    # The lockout answers 429, which the browser reports in the console; nothing else may.
    assert [p for p in problems.found if "status of 429" not in p] == []


def test_an_inline_script_would_be_refused(live_server, new_context, problems, cast):
    """The listener works: a script the policy forbids is reported (so an empty list above means something)."""
    page = problems.watch(new_context().new_page())
    visit(page, problems, "/accounts/login/")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.x = 1'; document.body.append(s); }"
    )
    problems.collect(page)

    assert any("script-src" in problem for problem in problems.found), problems.found
    assert page.evaluate("window.x") is None
