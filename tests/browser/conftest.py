"""Browser tests: Playwright driving Debian's Chromium against a live server and the live Celery worker.

Playwright's own browser download cannot work on these machines (PITFALLS.md,
"Browser"): the tests launch /usr/bin/chromium, which `.ci/run` installs when
it is missing. Without it they are skipped with the reason, except in CI,
where a missing browser is a failure rather than a silent skip.

Every test signs its users in through the real login form, each user in a
browser context of their own (own cookies), and saves a screenshot of each
step under VAR_DIR/screenshots/<test>/ for review.
"""

import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from tests.browser.helpers import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
# Long enough for a slow CI machine running two test suites' worth of processes; a page here
# normally answers in well under a second.
EXPECT_TIMEOUT_MS = 10_000

# Playwright's sync API keeps an asyncio event loop open in this thread for the whole session
# (its fixtures are session-scoped), and Django refuses database calls from a thread with a
# running loop (SynchronousOnlyOperation): in the tests, in fixture teardown and in every test
# that runs after the first browser test. The calls are in fact synchronous; let them through.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

expect.set_options(timeout=EXPECT_TIMEOUT_MS)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        reason = f"the browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium fonts-wqy-microhei)"
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [
            "--headless",
            "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def _connections_before_playwright():
    from django.db import connections

    return {alias: connections[alias] for alias in connections}


@pytest.fixture(scope="session")
def playwright(_connections_before_playwright, playwright):
    """Playwright, with this thread's database connections kept as they were.

    Between its calls Playwright's sync API leaves its event loop marked as running in this
    thread, and from then on Django keeps the thread's connections in a per-async-context store
    (asgiref's Local): without this, the tests would get new connection objects, lacking e.g.
    the serialized contents that `serialized_rollback` restores after each committing test.
    """
    from django.db import connections

    for alias, connection in _connections_before_playwright.items():
        connections[alias] = connection
    return playwright


@pytest.fixture(scope="session")
def base_url(live_server):
    """Relative addresses in page.goto() go to the live server."""
    return live_server.url


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # A district office: a Chinese browser on a 1366×768 screen, in Beijing time.
    return {
        **browser_context_args,
        "locale": "zh-CN",
        "timezone_id": "Asia/Shanghai",
        "viewport": {"width": 1366, "height": 768},
    }


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    """Static files under their own names: the live server finds them through the finders.

    (With hashed names, as in production, it answers 404 for each.)
    """
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True, scope="session")
def front_end_libraries():
    """The pages need htmx, Leaflet and Bootstrap from static/vendor (`make install` copies them from npm)."""
    missing = [name for name in ("htmx/htmx.min.js", "leaflet/leaflet.js") if not (vendor_dir() / name).exists()]
    if missing:
        pytest.fail(
            f"static/vendor lacks {', '.join(missing)}: run `make install` (npm ci and scripts/vendor.sh) first",
            pytrace=False,
        )


def vendor_dir() -> Path:
    return Path(settings.BASE_DIR) / "static" / "vendor"


class Screenshots:
    """Numbered full-page screenshots of one test: VAR_DIR/screenshots/<test>/<nn>-<step>.png."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.count = 0

    def __call__(self, page: Page, step: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        page.screenshot(path=path, full_page=True)
        return path


@pytest.fixture
def screenshot(request) -> Screenshots:
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", request.node.originalname.removeprefix("test_"))
    folder = Path(settings.VAR_DIR) / "screenshots" / name
    shutil.rmtree(folder, ignore_errors=True)  # only this run's steps, in order
    folder.mkdir(parents=True)
    return Screenshots(folder)


@pytest.fixture
def sign_in(new_context):
    """sign_in(username, then) -> a page of a new browser context, signed in through the login form, at `then`."""

    def sign_in(username: str, then: str, **context_args) -> Page:
        page = new_context(**context_args).new_page()
        page.goto(f"/accounts/login/?{urlencode({'next': then})}")
        form = page.locator("form", has=page.locator('input[name="password"]'))
        form.locator('input[name="username"]').fill(username)
        form.locator('input[name="password"]').fill(PASSWORD)
        form.locator('button[type="submit"]').click()
        expect(page).to_have_url(re.compile(rf"^[^?]*{re.escape(then)}$"))
        expect(page.locator("#header-user")).to_contain_text(username)
        return page

    return sign_in
