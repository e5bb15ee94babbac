"""Every page works under a content security policy without 'unsafe-inline' for scripts: no inline code in templates."""

import re

from tests.test_translations import project_template_dirs

# A <script> element with content (not a src= file), an inline event handler, or a javascript: address.
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>\s*\S", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']\s*javascript:""", re.IGNORECASE)


def test_no_template_has_an_inline_script_an_event_handler_or_a_javascript_address():
    found = []
    for directory in project_template_dirs():
        for path in sorted(directory.rglob("*.html")):
            source = path.read_text(encoding="utf-8")
            for rule, pattern in (
                ("inline script", INLINE_SCRIPT),
                ("event handler", EVENT_HANDLER),
                ("javascript: address", JAVASCRIPT_URL),
            ):
                for match in pattern.finditer(source):
                    line = source.count("\n", 0, match.start()) + 1
                    found.append(f"{path.relative_to(directory.parent.parent)}:{line}: {rule}")
    assert found == []


def test_the_check_finds_what_it_looks_for():
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert not INLINE_SCRIPT.search('<script src="/static/x.js"></script>')
    assert EVENT_HANDLER.search('<button class="b" onclick="go()">')
    assert not EVENT_HANDLER.search('<button data-onclick="x">')
    assert JAVASCRIPT_URL.search('<a href="javascript:void(0)">')
