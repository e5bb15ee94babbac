"""Chinese is the default language: every message must have its translation."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdf]|%\(\w+\)\.\d+f")


def check_complete(po: polib.POFile) -> list[str]:
    problems = []
    for entry in po:
        if entry.obsolete:
            continue
        translated = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        if "fuzzy" in entry.flags or not all(translated):
            problems.append(f"untranslated: {entry.msgid!r}")
        elif any(sorted(PLACEHOLDER.findall(entry.msgid)) != sorted(PLACEHOLDER.findall(t)) for t in translated):
            problems.append(f"placeholders differ: {entry.msgid!r}")
    return problems


def test_every_message_of_the_catalogue_is_translated_with_the_same_placeholders():
    assert check_complete(polib.pofile(str(CATALOGUE / "django.po"))) == []


def test_the_compiled_catalogue_matches_the_source():
    po = {
        (e.msgid, e.msgstr) for e in polib.pofile(str(CATALOGUE / "django.po")) if not e.msgid_plural and not e.obsolete
    }
    mo = {(e.msgid, e.msgstr) for e in polib.mofile(str(CATALOGUE / "django.mo")) if not e.msgid_plural}

    assert po - mo == set(), "run `make messages` to recompile django.mo"


def test_no_message_in_the_code_is_missing_from_the_catalogue(tmp_path):
    """Extract the messages afresh, in a copy of the source tree, and look for untranslated ones."""
    source = Path(settings.BASE_DIR)
    copy = tmp_path / "src"
    shutil.copytree(
        source,
        copy,
        ignore=shutil.ignore_patterns(
            ".git",
            ".venv",
            "node_modules",
            "var",
            "static",
            "tests",
            "bench",
            "*.egg-info",
            "__pycache__",
        ),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--ignore=scripts/*"],
        cwd=copy,
        env={**os.environ, "VAR_DIR": str(tmp_path / "var")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr

    assert check_complete(polib.pofile(str(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))) == []


def test_messages_come_out_in_chinese_by_default():
    from grids.geometry import BoundaryError, parse_boundary

    with translation.override(settings.LANGUAGE_CODE), pytest.raises(BoundaryError) as caught:
        parse_boundary({"type": "Point", "coordinates": [116, 40]})

    assert str(caught.value) == "不允许几何类型 Point；请使用 Polygon 或 MultiPolygon"
