"""scripts/start.py and gunicorn.conf.py: the commands of web, worker and beat, taken from the environment."""

import importlib.util
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.deploy.files import BASE_DIR


@pytest.fixture
def start():
    spec = importlib.util.spec_from_file_location("deploy_start", BASE_DIR / "scripts" / "start.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_start(*args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    clean = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings", **env}
    return subprocess.run(
        [sys.executable, "scripts/start.py", *args],
        cwd=BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_the_worker_runs_the_projects_celery_app_with_the_concurrency_asked_for(start, monkeypatch):
    monkeypatch.setenv("WORKER_CONCURRENCY", "6")
    monkeypatch.setenv("LOG_LEVEL", "WARNING")

    command = start.command("worker")

    assert command[:6] == [sys.executable, "-m", "celery", "--app", "config", "worker"]
    assert command[command.index("--concurrency") + 1] == "6"
    assert command[command.index("--loglevel") + 1] == "WARNING"


def test_the_worker_has_two_processes_unless_told_otherwise(start, monkeypatch):
    monkeypatch.delenv("WORKER_CONCURRENCY", raising=False)

    command = start.command("worker")

    assert command[command.index("--concurrency") + 1] == "2"


def test_beat_keeps_its_schedule_in_var_dir(start, monkeypatch, tmp_path):
    monkeypatch.setenv("VAR_DIR", str(tmp_path))

    command = start.command("beat")

    assert command[:6] == [sys.executable, "-m", "celery", "--app", "config", "beat"]
    assert command[command.index("--schedule") + 1] == str(tmp_path / "celerybeat-schedule")


@pytest.mark.parametrize(
    "name, value", [("WORKER_CONCURRENCY", "0"), ("WORKER_CONCURRENCY", "many"), ("LOG_LEVEL", "chatty")]
)
def test_a_setting_that_cannot_be_read_is_refused_by_name(start, monkeypatch, name, value):
    monkeypatch.setenv(name, value)

    with pytest.raises(ImproperlyConfigured, match=name):
        start.command("worker")


def test_the_script_stops_with_the_variables_name_before_starting_anything():
    done = run_start("worker", WORKER_CONCURRENCY="-1")

    assert done.returncode == 1
    assert "WORKER_CONCURRENCY=-1 is below the minimum of 1" in done.stderr


def test_an_unknown_process_gets_the_usage():
    done = run_start("scheduler")

    assert done.returncode == 1
    assert "usage: python scripts/start.py web|worker|beat" in done.stderr


def test_gunicorn_listens_where_the_environment_says_with_its_workers_and_the_wsgi_app():
    """gunicorn's own reading of its settings (--print-config loads the application too, so it must start)."""
    done = run_start("web", "--print-config", WEB_HOST="127.0.0.1", PORT="8123", WEB_CONCURRENCY="3")

    assert done.returncode == 0, done.stderr
    settings = dict(
        (name.strip(), value.strip()) for name, _, value in (line.partition("=") for line in done.stdout.splitlines())
    )
    assert settings["bind"] == "['127.0.0.1:8123']"
    assert settings["workers"] == "3"
    assert settings["worker_class"] == "sync"
    assert settings["wsgi_app"] == "config.wsgi:application"
    assert settings["accesslog"] == "-"


def test_gunicorn_listens_on_the_loopback_port_8000_with_two_workers_by_default():
    done = run_start("web", "--print-config")

    assert done.returncode == 0, done.stderr
    assert "['127.0.0.1:8000']" in done.stdout
    assert any(line.split() == ["workers", "=", "2"] for line in done.stdout.splitlines())


def test_gunicorn_refuses_a_worker_count_it_cannot_read():
    done = run_start("web", "--print-config", WEB_CONCURRENCY="lots")

    assert done.returncode != 0
    assert "WEB_CONCURRENCY='lots' is not a whole number" in done.stderr
