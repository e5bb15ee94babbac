import json
import subprocess
import sys

import pytest

from tests.deploy.files import BASE_DIR, SECRET_KEY, container_environment, load_compose

COLLECTSTATIC_TIMEOUT_S = 180


@pytest.fixture(scope="session")
def compose():
    return load_compose()


@pytest.fixture(scope="session")
def collected_static(compose, tmp_path_factory):
    """collectstatic run as the image's build runs it (DEBUG off), into a folder of this session.

    Returns (VAR_DIR, the manifest's paths: name → hashed name). The static
    files go to VAR_DIR/static, STATIC_ROOT.
    """
    var_dir = tmp_path_factory.mktemp("deploy-var")
    env = container_environment(compose.services["web"], var_dir=var_dir, SECRET_KEY=SECRET_KEY)
    done = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=COLLECTSTATIC_TIMEOUT_S,
    )
    assert done.returncode == 0, f"collectstatic failed with DEBUG off:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    manifest = json.loads((var_dir / "static" / "staticfiles.json").read_text())
    return var_dir, manifest["paths"]
