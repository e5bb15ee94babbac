import json
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_choice, env_float, env_int, env_list, env_str


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("1", True),
        ("true", True),
        ("YES", True),
        ("on", True),
        ("0", False),
        ("False", False),
        ("no", False),
        ("off", False),
    ],
)
def test_env_bool_reads_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("FLAG", raw)
    assert env_bool("FLAG", not expected) is expected


def test_env_bool_rejects_junk_instead_of_reading_false(monkeypatch):
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match=r"DEBUG='maybe' is not a boolean"):
        env_bool("DEBUG", False)


def test_unset_and_empty_variables_take_the_default(monkeypatch):
    monkeypatch.delenv("FLAG", raising=False)
    assert env_bool("FLAG", True) is True
    monkeypatch.setenv("FLAG", "")
    assert env_int("FLAG", 7) == 7
    assert env_list("FLAG", ["a"]) == ["a"]


def test_env_str_without_default_must_be_set(monkeypatch):
    monkeypatch.delenv("SECRET", raising=False)
    with pytest.raises(ImproperlyConfigured, match="SECRET must be set"):
        env_str("SECRET")


def test_env_int_rejects_words_and_out_of_range_numbers(monkeypatch):
    monkeypatch.setenv("N", "ten")
    with pytest.raises(ImproperlyConfigured, match="not a whole number"):
        env_int("N", 1)
    monkeypatch.setenv("N", "-1")
    with pytest.raises(ImproperlyConfigured, match="below the minimum of 0"):
        env_int("N", 1, minimum=0)
    monkeypatch.setenv("N", " 42 ")
    assert env_int("N", 1, minimum=0) == 42


def test_env_float_rejects_nan_and_junk(monkeypatch):
    monkeypatch.setenv("X", "nan")
    with pytest.raises(ImproperlyConfigured, match="not a finite number"):
        env_float("X", 1.0)
    monkeypatch.setenv("X", "1,5")
    with pytest.raises(ImproperlyConfigured, match="not a number"):
        env_float("X", 1.0)


def test_env_list_rejects_an_empty_entry(monkeypatch):
    monkeypatch.setenv("HOSTS", "a.example,,b.example")
    with pytest.raises(ImproperlyConfigured, match="empty entry"):
        env_list("HOSTS", [])
    monkeypatch.setenv("HOSTS", "a.example, b.example")
    assert env_list("HOSTS", []) == ["a.example", "b.example"]


def test_env_choice_names_the_allowed_values(monkeypatch):
    monkeypatch.setenv("MODE", "turbo")
    with pytest.raises(ImproperlyConfigured, match="must be one of fast, slow"):
        env_choice("MODE", "fast", ("fast", "slow"))


def _load_settings(tmp_path, **env) -> subprocess.CompletedProcess:
    """Import the settings module in a fresh interpreter with exactly these variables."""
    script = (
        "import json, django; from django.conf import settings; django.setup();"
        "db = settings.DATABASES['default'];"
        "print(json.dumps({'engine': db['ENGINE'], 'name': str(db['NAME']), 'options': db.get('OPTIONS', {}),"
        "'debug': settings.DEBUG, 'broker': settings.CELERY_BROKER_URL, 'language': settings.LANGUAGE_CODE,"
        "'tz': settings.TIME_ZONE, 'languages': [code for code, _ in settings.LANGUAGES]}))"
    )
    base = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-c", script],
        env={**base, **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_defaults_are_sqlite_in_wal_mode_and_a_serverless_broker_under_var(tmp_path):
    result = _load_settings(tmp_path)

    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded["engine"] == "django.db.backends.sqlite3"
    assert loaded["name"] == str(tmp_path / "db.sqlite3")
    assert "journal_mode=WAL" in loaded["options"]["init_command"]
    assert loaded["broker"] == "filesystem://localhost//"
    assert (tmp_path / "broker").is_dir()
    assert loaded["debug"] is True
    assert loaded["language"] == "zh-hans" and loaded["languages"] == ["zh-hans", "en"]
    assert loaded["tz"] == "Asia/Shanghai"


def test_production_urls_are_taken_from_the_environment(tmp_path):
    result = _load_settings(
        tmp_path,
        DATABASE_URL="postgres://u:p@db.internal:5432/whistle",
        CELERY_BROKER_URL="redis://cache:6379/0",
    )

    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded["engine"] == "django.db.backends.postgresql"
    assert loaded["name"] == "whistle"
    assert loaded["broker"] == "redis://cache:6379/0"


@pytest.mark.parametrize(
    "env, message",
    [
        ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ({"DEBUG": "false"}, "SECRET_KEY must be set"),
        ({"DEBUG": "false", "SECRET_KEY": "s" * 50}, "ALLOWED_HOSTS must name"),
        ({"DATABASE_URL": "mysql://root@localhost/whistle"}, "DATABASE_URL must be a sqlite:/// or postgres:// URL"),
        ({"DATABASE_URL": "nonsense"}, "DATABASE_URL='nonsense' cannot be used"),
        ({"CELERY_BROKER_URL": "ftp://example"}, "use filesystem://, redis:// or amqp://"),
        ({"CONN_MAX_AGE": "forever"}, "CONN_MAX_AGE='forever' is not a whole number"),
    ],
)
def test_junk_in_the_environment_stops_the_process_with_the_variable_named(tmp_path, env, message):
    result = _load_settings(tmp_path, **env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr
