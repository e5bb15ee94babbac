"""Security settings: failed sign-ins locked out, the response headers, and a clean deployment check."""

import json
import re
import secrets
import string
import subprocess
import sys

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.authtoken.models import Token

from config.security import client_ip, proxy_ssl_header, tile_source
from tests.factories import UserFactory

PASSWORD = "demo-pass-2026"


def sign_in(client, username, password, url="/accounts/login/"):
    return client.post(url, {"username": username, "password": password})


def fail(client, username, times, url="/accounts/login/"):
    """Wrong passwords, `times` of them; returns the status codes of the answers."""
    return [sign_in(client, username, "wrong-password", url).status_code for _ in range(times)]


# Failed sign-ins ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_sign_in_is_refused_with_the_lockout_page_after_the_failure_limit(client):
    UserFactory(username="s01_staff")
    assert set(fail(client, "s01_staff", settings.AXES_FAILURE_LIMIT - 1)) == {200}  # the form, with its error

    response = sign_in(client, "s01_staff", "wrong-password")

    assert response.status_code == 429
    page = response.content.decode()
    assert 'id="lockout"' in page and "Too many failed sign-ins" in page
    assert "paused for 15 minutes" in page
    assert 'id="header-user"' not in page and "navbar" in page  # the site's own layout, signed out
    # Even the right password is refused now, and nobody is signed in.
    response = sign_in(client, "s01_staff", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_lockout_is_per_username_and_address(client):
    UserFactory(username="s01_staff")
    UserFactory(username="s01_head")
    assert fail(client, "s01_staff", settings.AXES_FAILURE_LIMIT)[-1] == 429

    assert sign_in(client, "s01_head", PASSWORD).status_code == 302  # another user at the same address
    other_address = client.post(
        "/accounts/login/", {"username": "s01_staff", "password": PASSWORD}, REMOTE_ADDR="10.0.0.9"
    )
    assert other_address.status_code == 302  # the same user from another address


@pytest.mark.django_db
def test_a_success_before_the_limit_starts_the_count_again(client):
    UserFactory(username="s01_staff")
    fail(client, "s01_staff", settings.AXES_FAILURE_LIMIT - 1)
    assert sign_in(client, "s01_staff", PASSWORD).status_code == 302
    client.logout()

    fail(client, "s01_staff", settings.AXES_FAILURE_LIMIT - 1)
    assert sign_in(client, "s01_staff", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_the_lockout_ends_after_the_cool_off_time(client, time_machine):
    UserFactory(username="s01_staff")
    time_machine.move_to("2026-03-02 09:00 +08:00", tick=False)
    fail(client, "s01_staff", settings.AXES_FAILURE_LIMIT)
    assert sign_in(client, "s01_staff", PASSWORD).status_code == 429

    time_machine.move_to("2026-03-02 09:16 +08:00", tick=False)

    assert sign_in(client, "s01_staff", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_the_failure_limit_and_cool_off_come_from_the_environment(client, settings):
    from datetime import timedelta

    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = timedelta(minutes=1)
    UserFactory(username="s01_staff")
    fail(client, "s01_staff", 1)

    response = sign_in(client, "s01_staff", "wrong-password")

    assert response.status_code == 429
    assert "2 times in a row" in response.content.decode()
    assert "paused for 1 minute." in response.content.decode()


@pytest.mark.django_db
def test_the_admin_sign_in_is_locked_out_too(client):
    UserFactory(username="admin", is_staff=True, is_superuser=True)
    url = reverse("admin:login")
    fail(client, "admin", settings.AXES_FAILURE_LIMIT - 1, url)

    assert sign_in(client, "admin", "wrong-password", url).status_code == 429
    assert sign_in(client, "admin", PASSWORD, url).status_code == 429
    assert AccessAttempt.objects.filter(username="admin").exists()


@pytest.mark.django_db
def test_api_tokens_are_not_counted_nor_locked_out(client):
    from rest_framework.test import APIClient

    user = UserFactory(username="hotline")
    fail(client, "hotline", settings.AXES_FAILURE_LIMIT)
    assert sign_in(client, "hotline", PASSWORD).status_code == 429

    api = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        api.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
        assert api.get("/api/v1/notifications/").status_code == 401
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")

    assert api.get("/api/v1/notifications/").status_code == 200
    assert AccessAttempt.objects.filter(username="hotline").count() == 1  # the form's, nothing from the API


def test_the_client_address_is_the_peers_without_proxies(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6")

    assert client_ip(request) == "10.0.0.1"


def test_behind_proxies_the_client_address_is_the_one_the_outermost_proxy_saw(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    forged_then_real = "6.6.6.6, 203.0.113.7, 10.0.0.2"
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.3", HTTP_X_FORWARDED_FOR=forged_then_real)

    assert client_ip(request) == "203.0.113.7"
    short = RequestFactory().get("/", REMOTE_ADDR="10.0.0.3", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert client_ip(short) == "10.0.0.3"


# Passwords and sessions ---------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["short-1a", "1234567890123", "password1234", "s01_staff_2026"])
def test_weak_passwords_are_refused(password):
    user = UserFactory.build(username="s01_staff_2026", email="s01@example.gov.cn")
    with pytest.raises(ValidationError):
        validate_password(password, user)


def test_a_long_uncommon_password_is_accepted():
    validate_password("lantern-orchard-47-quietly", UserFactory.build(username="s01_staff"))


@pytest.fixture
def eight_hour_sessions(settings):
    """The configured session age (tests.conftest stretches it for tests that travel in time)."""
    from config import settings as configured

    settings.SESSION_COOKIE_AGE = configured.SESSION_COOKIE_AGE
    assert settings.SESSION_COOKIE_AGE == 8 * 60 * 60


@pytest.mark.django_db
def test_session_and_csrf_cookies_are_http_only_and_same_site(client, eight_hour_sessions):
    UserFactory(username="s01_staff")
    client.get("/accounts/login/")
    response = sign_in(client, "s01_staff", PASSWORD)

    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["httponly"] and session["samesite"] == "Lax"
    assert session["max-age"] == 8 * 60 * 60
    csrf = client.cookies[settings.CSRF_COOKIE_NAME]
    assert csrf["httponly"] and csrf["samesite"] == "Lax"


@pytest.mark.django_db
def test_a_session_ends_eight_hours_after_the_sign_in(client, time_machine, eight_hour_sessions):
    UserFactory(username="s01_staff")
    time_machine.move_to("2026-03-02 09:00 +08:00", tick=False)
    assert sign_in(client, "s01_staff", PASSWORD).status_code == 302

    time_machine.move_to("2026-03-02 16:59 +08:00", tick=False)
    assert client.get("/notifications/").status_code == 200
    time_machine.move_to("2026-03-02 17:01 +08:00", tick=False)
    response = client.get("/notifications/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_pages_carry_the_security_headers(client):
    response = client.get("/accounts/login/")

    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    policy = dict(
        (part.split(" ", 1) + [""])[:2] for part in (p.strip() for p in response["Content-Security-Policy"].split(";"))
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["img-src"] == "'self' data: blob:"
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert policy["form-action"] == "'self'" and policy["base-uri"] == "'self'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]


STYLE_ATTRIBUTE = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)


def test_no_template_has_a_style_attribute_or_element():
    """style-src 'self' refuses both: styles belong in static/css."""
    from tests.test_translations import project_template_dirs

    found = []
    for directory in project_template_dirs():
        for path in sorted(directory.rglob("*.html")):
            source = path.read_text(encoding="utf-8")
            for rule, pattern in (("style attribute", STYLE_ATTRIBUTE), ("style element", STYLE_ELEMENT)):
                for match in pattern.finditer(source):
                    line = source.count("\n", 0, match.start()) + 1
                    found.append(f"{path.relative_to(directory.parent.parent)}:{line}: {rule}")
    assert found == []
    assert STYLE_ATTRIBUTE.search('<div class="x" style="color: red">') and STYLE_ELEMENT.search("<style>")
    assert not STYLE_ATTRIBUTE.search('<div data-style="x">')


# Settings from the environment ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, expected",
    [
        ("", []),
        ("https://tiles.example.gov.cn/{z}/{x}/{y}.png", ["https://tiles.example.gov.cn"]),
        ("http://10.1.2.3:8080/tiles/{z}/{x}/{y}.png", ["http://10.1.2.3:8080"]),
        ("https://{s}.tile.example.gov.cn/{z}/{x}/{y}.png", ["https://*.tile.example.gov.cn"]),
    ],
)
def test_the_tile_server_is_allowed_for_images(url, expected):
    assert tile_source(url) == expected


@pytest.mark.parametrize("url", ["tiles.example.gov.cn/{z}/{x}/{y}.png", "https://tile{s}.example.gov.cn/{z}.png"])
def test_a_tile_url_without_a_usable_host_is_refused(url):
    with pytest.raises(ImproperlyConfigured, match="MAP_TILE_URL"):
        tile_source(url)


def test_the_proxy_ssl_header_is_a_header_and_a_value():
    assert proxy_ssl_header([]) is None
    assert proxy_ssl_header(["HTTP_X_FORWARDED_PROTO", "https"]) == ("HTTP_X_FORWARDED_PROTO", "https")
    with pytest.raises(ImproperlyConfigured, match="SECURE_PROXY_SSL_HEADER"):
        proxy_ssl_header(["X-Forwarded-Proto", "https"])


def _run(tmp_path, *args, **env) -> subprocess.CompletedProcess:
    base = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, *args],
        env={**base, **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _production_env(**extra) -> dict:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return {
        "DEBUG": "false",
        "SECRET_KEY": "".join(secrets.choice(alphabet) for _ in range(50)),
        "ALLOWED_HOSTS": "example.gov.cn",
        **extra,
    }


def test_the_deployment_check_is_clean_with_debug_off(tmp_path):
    result = _run(tmp_path, "manage.py", "check", "--deploy", "--fail-level", "WARNING", **_production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_with_debug_off_cookies_are_secure_and_https_is_required(tmp_path):
    script = (
        "import json, django; from django.conf import settings; django.setup();"
        "print(json.dumps({name: getattr(settings, name) for name in ("
        "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS',"
        "'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_HSTS_PRELOAD', 'SECURE_PROXY_SSL_HEADER', 'SESSION_COOKIE_AGE',"
        "'SESSION_EXPIRE_AT_BROWSER_CLOSE', 'AXES_FAILURE_LIMIT')}, default=str))"
    )
    result = _run(tmp_path, "-c", script, **_production_env())
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": False,
        "SECURE_PROXY_SSL_HEADER": None,
        "SESSION_COOKIE_AGE": 28800,
        "SESSION_EXPIRE_AT_BROWSER_CLOSE": False,
        "AXES_FAILURE_LIMIT": 5,
    }

    behind_proxy = _production_env(
        SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
        SESSION_EXPIRE_AT_BROWSER_CLOSE="true",
        SESSION_COOKIE_AGE="3600",
        AXES_FAILURE_LIMIT="3",
    )
    result = _run(tmp_path, "-c", script, **behind_proxy)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert loaded["SESSION_EXPIRE_AT_BROWSER_CLOSE"] is True and loaded["SESSION_COOKIE_AGE"] == 3600
    assert loaded["AXES_FAILURE_LIMIT"] == 3


@pytest.mark.parametrize(
    "env, message",
    [
        ({"AXES_FAILURE_LIMIT": "0"}, "AXES_FAILURE_LIMIT=0 is below the minimum of 1"),
        ({"PASSWORD_MIN_LENGTH": "8"}, "PASSWORD_MIN_LENGTH=8 is below the minimum of 10"),
        ({"SECURE_PROXY_SSL_HEADER": "https"}, "SECURE_PROXY_SSL_HEADER='https' must be"),
        ({"MAP_TILE_URL": "tiles/{z}/{x}/{y}.png"}, "MAP_TILE_URL="),
    ],
)
def test_junk_security_settings_stop_the_process(tmp_path, env, message):
    result = _run(tmp_path, "-c", "import django; django.setup()", **env)

    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.django_db
def test_health_probes_are_not_redirected_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/accounts/login/")["Location"].startswith("https://")
    for path in ("/healthz", "/healthz/live", "/metrics"):
        response = client.get(path)
        assert response.status_code != 301 or not response["Location"].startswith("https://"), path
