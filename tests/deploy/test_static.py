"""Static files as production serves them: hashed and compressed by collectstatic, served by whitenoise.

With DEBUG off the storage is whitenoise's CompressedManifestStaticFilesStorage:
a page naming a static file that collectstatic did not collect is an error
there, and only there (development and the rest of the suite use plain
names). These tests collect the files as the image's build does and check
the templates against what was collected.
"""

import re
import subprocess
import sys

import pytest

from tests.deploy.files import BASE_DIR

STATIC_TAG = re.compile(r"""\{%\s*static\s+(['"])([^'"]+)\1""")
SKIP_DIRS = {".venv", "node_modules", "var", ".git"}


def template_static_names() -> dict[str, set[str]]:
    """Every file named by a literal {% static '…' %} in the project's templates, with the templates naming it."""
    names: dict[str, set[str]] = {}
    for path in BASE_DIR.rglob("*.html"):
        if SKIP_DIRS & set(path.relative_to(BASE_DIR).parts):
            continue
        for match in STATIC_TAG.finditer(path.read_text(encoding="utf-8")):
            names.setdefault(match.group(2), set()).add(str(path.relative_to(BASE_DIR)))
    return names


def test_every_static_file_a_template_names_is_collected_with_a_hashed_name(collected_static):
    _var_dir, manifest = collected_static
    names = template_static_names()

    assert "css/whistle.css" in names  # the search does find the templates
    missing = {name: sorted(templates) for name, templates in names.items() if name not in manifest}
    assert not missing, f"not collected, a 500 in production: {missing}"


def test_collected_files_carry_their_hash_and_a_compressed_copy(collected_static):
    var_dir, manifest = collected_static
    hashed = manifest["css/whistle.css"]

    assert re.fullmatch(r"css/whistle\.[0-9a-f]{12}\.css", hashed), hashed
    assert (var_dir / "static" / hashed).is_file()
    assert (var_dir / "static" / f"{hashed}.gz").is_file()


@pytest.fixture
def production_static(settings, collected_static):
    """This process's storage switched to production's, on the collected files."""
    var_dir, manifest = collected_static
    settings.STATIC_ROOT = var_dir / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    return manifest


def test_debug_off_chooses_the_hashed_storage_and_debug_on_the_plain_one(tmp_path):
    code = "from django.conf import settings; print(settings.STORAGES['staticfiles']['BACKEND'])"
    backends = {}
    for debug in ("true", "false"):
        done = subprocess.run(
            [sys.executable, "-c", f"import django; django.setup(); {code}"],
            cwd=BASE_DIR,
            env={
                "PATH": "/usr/bin:/bin",
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "VAR_DIR": str(tmp_path),
                "DEBUG": debug,
                "SECRET_KEY": "static-storage-test-" + "k" * 40,
                "ALLOWED_HOSTS": "localhost",
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        backends[debug] = done.stdout.strip()

    assert backends == {
        "true": "whitenoise.storage.CompressedStaticFilesStorage",
        "false": "whitenoise.storage.CompressedManifestStaticFilesStorage",
    }


def test_a_page_links_the_hashed_files(client, production_static, cast):
    client.force_login(cast.s01_staff)

    response = client.get("/workbench/street/")

    assert response.status_code == 200
    page = response.content.decode()
    assert f"/static/{production_static['css/whistle.css']}" in page
    assert "/static/css/whistle.css" not in page
