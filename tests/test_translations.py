"""Chinese is the default language: every message must have its translation."""

import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
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


# Templates: no user-visible text outside the translation tags ------------------------------------

# Text between tags, and these attributes, are read by the user (or their screen reader);
# `value` only on the inputs that show it as their label (a <button>'s value is never shown).
VISIBLE_ATTRIBUTES = frozenset({"title", "placeholder", "aria-label", "alt", "hx-confirm", "hx-prompt"})
LABELLED_INPUTS = frozenset({"submit", "button", "reset"})
# Where the text is program, not prose: nothing inside is shown as written.
UNSHOWN_ELEMENTS = frozenset({"script", "style"})
# What a template tag, a variable or a skipped region leaves in the skeleton: a character that is no letter.
TAG = "\x1a"
LETTER = re.compile(r"[^\W\d_]")  # a letter of any script: Latin, CJK, ...
# Literal text with letters that is the same in every language (names, units, symbols).
ALLOWED_TEXT: frozenset[str] = frozenset({"Excel", "CSV"})  # names of file formats, the same in every language
# Regions whose text is translated as a whole, or never shown: {% tag %} … {% endtag %}.
SKIPPED_BLOCKS = {"blocktranslate": "endblocktranslate", "blocktrans": "endblocktrans", "comment": "endcomment"}


def project_template_dirs() -> list[Path]:
    """templates/ and each project app's templates/ (not those of installed packages)."""
    from django.apps import apps

    base = Path(settings.BASE_DIR).resolve()
    dirs = [Path(d).resolve() for engine in settings.TEMPLATES for d in engine.get("DIRS", [])]
    dirs += [Path(app.path).resolve() / "templates" for app in apps.get_app_configs()]
    return sorted(
        {
            d
            for d in dirs
            if d.is_dir() and d.is_relative_to(base) and not {".venv", "node_modules"} & set(d.relative_to(base).parts)
        }
    )


def template_skeleton(source: str) -> str:
    """The template with every tag, variable and skipped region replaced by TAG, line for line.

    Django's own Lexer splits it (so "{{" inside a {% verbatim %} stays text, as
    Django renders it); a skipped region keeps its newlines, so that a line of
    the skeleton is the same line of the template.
    """
    from django.template.base import Lexer, TokenType

    parts, closing = [], None
    for token in Lexer(source).tokenize():
        if closing is not None:
            if token.token_type == TokenType.BLOCK and token.contents.split()[:1] == [closing]:
                closing = None
                parts.append(TAG)
            else:
                parts.append("\n" * token.contents.count("\n"))
        elif token.token_type == TokenType.TEXT:
            parts.append(token.contents)
        else:
            if token.token_type == TokenType.BLOCK:
                closing = SKIPPED_BLOCKS.get(token.contents.split()[0])
            parts.append(TAG)
    return "".join(parts)


def shown_text(text: str) -> str | None:
    """The text as a reader sees it, if it has a letter outside the template tags; else None."""
    text = " ".join(text.replace(TAG, " ").split())
    if not LETTER.search(text) or text in ALLOWED_TEXT:
        return None
    return text


class UntranslatedText(HTMLParser):
    """Collects (line, text) of literal prose: text between tags, and the visible attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)  # entities become their characters (&middot; is "·", no letter)
        self.found: list[tuple[int, str]] = []
        self.unshown = 0

    def handle_starttag(self, tag, attrs):
        if tag in UNSHOWN_ELEMENTS:
            self.unshown += 1
        attributes = dict(attrs)
        for name, value in attrs:
            shown = name in VISIBLE_ATTRIBUTES or (
                name == "value" and tag == "input" and (attributes.get("type") or "").lower() in LABELLED_INPUTS
            )
            text = shown_text(value or "") if shown else None
            if text:
                self.found.append((self.getpos()[0], f'{name}="{text}"'))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in UNSHOWN_ELEMENTS:
            self.unshown -= 1

    def handle_endtag(self, tag):
        if tag in UNSHOWN_ELEMENTS and self.unshown:
            self.unshown -= 1

    def handle_data(self, data):
        if self.unshown:
            return
        first = self.getpos()[0]
        for offset, line in enumerate(data.split("\n")):
            text = shown_text(line)
            if text:
                self.found.append((first + offset, text))


# A literal shown when a variable is empty: {{ x|default:"none" }} ({{ x|default:_("none") }} is translated).
SHOWN_ARGUMENT = re.compile(r"""\|\s*default(?:_if_none)?\s*:\s*(["'])(.*?)\1""")


def literal_arguments(source: str) -> list[tuple[int, str]]:
    """(line, text) of the untranslated literals a variable shows in place of an empty value."""
    from django.template.base import Lexer, TokenType

    return [
        (token.lineno, f"{{{{ {token.contents} }}}}")
        for token in Lexer(source).tokenize()
        if token.token_type == TokenType.VAR
        and any(shown_text(text) for _quote, text in SHOWN_ARGUMENT.findall(token.contents))
    ]


def untranslated_in(source: str) -> list[tuple[int, str]]:
    parser = UntranslatedText()
    parser.feed(template_skeleton(source))
    parser.close()
    return sorted(parser.found + literal_arguments(source))


def test_template_skeleton_keeps_lines_and_drops_translated_text():
    source = (
        '{% load i18n %}<p title="{% translate "Hi" %}">{{ name }} · 3</p>\n'
        "{% blocktranslate %}Hello\n{{ name }}{% endblocktranslate %}\n"
        "{% comment %}note{% endcomment %}<b>Left out</b>\n"
        "<script>let label = 'x';</script><style>p::after { content: 'x'; }</style><!-- a note -->"
        '<input type="submit" value="Send"><button value="approve">{% trans "Approve" %}</button>'
        '<img alt="{{ photo.name }} photo">{{ note|default:"none" }}{{ note|default:_("none") }}{{ n|default:"—" }}'
    )

    assert untranslated_in(source) == [
        (4, "Left out"),
        (5, 'alt="photo"'),
        (5, 'value="Send"'),
        (5, '{{ note|default:"none" }}'),
    ]


def test_every_template_string_is_translated():
    """Literal prose in a template would show in English (or Chinese) whatever the language chosen."""
    base = Path(settings.BASE_DIR).resolve()
    checked, problems = [], []
    for directory in project_template_dirs():
        for path in sorted(directory.rglob("*.html")):
            checked.append(path.relative_to(base))
            for line, text in untranslated_in(path.read_text(encoding="utf-8")):
                problems.append(f"{path.relative_to(base)}:{line}: {text!r}")

    assert {Path("templates/base.html"), Path("whistle/templates/whistle/detail.html")} <= set(checked)
    assert problems == [], "wrap these in {% translate %} or {% blocktranslate %}:\n" + "\n".join(problems)
