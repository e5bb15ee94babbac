"""docker-compose.yml and the Dockerfile describe a production deployment, and run what `make run` runs.

Read as data (tests/deploy/files.py): `docker compose config` where the
compose plugin is installed, PyYAML otherwise. No Docker engine is needed;
tests/deploy/test_processes.py runs the same commands for real.
"""

import re
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from tests.deploy.files import (
    BASE_DIR,
    SECRET_KEY,
    ComposeError,
    compose_environment,
    container_environment,
    dockerfile_env,
    dockerfile_stages,
    exec_form,
    load_compose,
    procfile_commands,
)

PROCESSES = ("web", "worker", "beat")
APP_SERVICES = ("migrate", *PROCESSES)
LONG_RUNNING = ("postgres", "redis", *PROCESSES)


def test_the_stack_has_its_services(compose):
    assert set(compose.services) >= {"postgres", "redis", "migrate", "web", "worker", "beat"}, compose.reader


def test_migrate_web_worker_and_beat_run_the_one_image_built_from_this_folder(compose):
    images = {(compose.services[name].image, compose.services[name].build) for name in APP_SERVICES}

    assert len(images) == 1, images
    image, build = images.pop()
    assert image and build == str(BASE_DIR)


def test_the_processes_start_after_healthy_postgres_and_redis_and_completed_migrations(compose):
    for name in PROCESSES:
        assert compose.services[name].depends_on == {
            "postgres": "service_healthy",
            "redis": "service_healthy",
            "migrate": "service_completed_successfully",
        }, name
    assert compose.services["migrate"].depends_on == {"postgres": "service_healthy", "redis": "service_healthy"}


def test_every_long_running_service_has_a_health_check_and_comes_back_after_a_crash(compose):
    for name in LONG_RUNNING:
        service = compose.services[name]
        assert service.healthcheck and service.healthcheck[0] in ("CMD", "CMD-SHELL"), name
        assert service.restart in ("unless-stopped", "always"), name
    # The one-shot migration must not be restarted once it has done its work.
    assert compose.services["migrate"].restart == "no"


def test_the_health_checks_ask_what_restarting_the_container_could_fix(compose):
    web, worker, beat = (compose.services[name].healthcheck for name in PROCESSES)

    assert "scripts/healthcheck.py" in web and any(urlsplit(part).path == "/healthz" for part in web)
    assert re.search(r"celery .*inspect ping .*celery@\$HOSTNAME", " ".join(worker)), worker
    assert "healthz" in beat and "beat" in " ".join(beat), beat


def test_the_web_health_check_asks_the_port_gunicorn_listens_on_in_the_image(compose):
    image_env = dockerfile_env(dockerfile_stages()[-1])
    web = compose.services["web"]
    url = next(part for part in web.healthcheck if part.startswith("http"))

    assert image_env["WEB_HOST"] == "0.0.0.0"
    assert str(urlsplit(url).port) == image_env["PORT"]
    assert [target for _published, target in web.ports] == [image_env["PORT"]]
    # ALLOWED_HOSTS must take the health check's host name, or the check only ever sees a 400.
    assert urlsplit(url).hostname in web.environment["ALLOWED_HOSTS"].split(",")


def test_the_data_lives_on_named_volumes_and_the_attachments_are_shared_by_web_and_worker(compose):
    assert ("postgres-data", "/var/lib/postgresql/data") in compose.services["postgres"].volumes
    assert ("redis-data", "/data") in compose.services["redis"].volumes
    private = compose.services["web"].environment["PRIVATE_MEDIA_ROOT"]
    for name in ("web", "worker"):
        service = compose.services[name]
        assert service.environment["PRIVATE_MEDIA_ROOT"] == private
        assert [source for source, target in service.volumes if target == private] == ["private-media"], name
    assert {"postgres-data", "redis-data", "private-media"} <= compose.volumes
    # The folder exists in the image, owned by its user: a new volume mounted there takes that owner.
    run = " ".join(dockerfile_stages()[-1].all("RUN"))
    workdir = dockerfile_stages()[-1].all("WORKDIR")[-1]
    relative = private.removeprefix(workdir.rstrip("/") + "/")
    assert f"mkdir -p {relative}" in run and re.search(rf"chown \S+ .*{re.escape(relative)}", run), run


def test_production_settings_come_from_the_environment(compose):
    for name in APP_SERVICES:
        env = compose.services[name].environment
        assert env["DEBUG"] == "false", name
        assert env["SECRET_KEY"] == SECRET_KEY, name
        assert (
            urlsplit(env["DATABASE_URL"]).scheme == "postgres" and urlsplit(env["DATABASE_URL"]).hostname == "postgres"
        )
        broker, cache = urlsplit(env["CELERY_BROKER_URL"]), urlsplit(env["CACHE_URL"])
        assert (broker.scheme, broker.hostname, cache.scheme, cache.hostname) == ("redis", "redis", "redis", "redis")
        # The cache in a database of its own: clearing it must never drop queued messages.
        assert broker.path != cache.path


def test_the_stack_refuses_to_start_without_a_secret_key():
    env = compose_environment()
    del env["SECRET_KEY"]

    with pytest.raises(ComposeError, match="SECRET_KEY"):
        load_compose(env)


def test_settings_passed_on_when_set_and_left_to_the_defaults_otherwise():
    unset = load_compose().services["web"].environment
    set_ = load_compose(compose_environment(SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https")).services["web"]

    assert unset.get("SECURE_PROXY_SSL_HEADER") is None
    assert set_.environment["SECURE_PROXY_SSL_HEADER"] == "HTTP_X_FORWARDED_PROTO,https"


def test_the_settings_start_with_the_compose_environment_and_pass_the_deployment_checks(compose, tmp_path):
    """`manage.py check --deploy` with what the web container sees: DEBUG off, secure defaults, no warning."""
    env = container_environment(compose.services["web"], var_dir=tmp_path)

    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stdout + done.stderr


def test_web_worker_and_beat_run_the_procfiles_commands(compose):
    """`make run` (the Procfile) and the containers start the very same commands."""
    procfile = procfile_commands()

    assert set(procfile) == set(PROCESSES)
    for name in PROCESSES:
        assert compose.services[name].command == procfile[name], name
        assert procfile[name] == ["python", "scripts/start.py", name]


def test_the_image_runs_python_3_11_or_3_12_as_a_user_who_is_not_root():
    stage = dockerfile_stages()[-1]

    assert re.fullmatch(r"python:3\.1[12](\.\d+)?(-[a-z0-9-]+)?", stage.base), stage.base
    # The last USER is the one the containers' processes run as.
    users = stage.all("USER")
    assert users and users[-1].split(":")[0] not in ("root", "0"), users


def test_the_image_collects_the_static_files_with_debug_off_and_starts_the_web_process(compose):
    stage = dockerfile_stages()[-1]
    run = " ".join(stage.all("RUN"))

    assert re.search(r"DEBUG=false\b[^&]*manage\.py collectstatic --noinput", run), run
    assert not stage.all("ENTRYPOINT")
    assert exec_form(stage.all("CMD")[-1]) == compose.services["web"].command
