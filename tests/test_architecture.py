"""The apps depend on each other in one direction only (DESIGN.md, Architecture)."""

import ast
from pathlib import Path

import pytest
from django.conf import settings

LAYERS = ["grids", "departments", "whistle", "escalation"]
# The one allowed upward call: deadline arithmetic, which imports nothing of whistle.
EXCEPTIONS = {("whistle", "escalation.policy")}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("app", LAYERS)
def test_an_app_never_imports_a_higher_one(app):
    higher = LAYERS[LAYERS.index(app) + 1 :]
    offences = []
    for path in sorted((Path(settings.BASE_DIR) / app).rglob("*.py")):
        for module in imported_modules(path):
            top = module.split(".")[0]
            allowed = any(app == a and (module == m or module.startswith(m + ".")) for a, m in EXCEPTIONS)
            if top in higher and not allowed:
                offences.append(f"{path.relative_to(settings.BASE_DIR)} imports {module}")

    assert offences == []
