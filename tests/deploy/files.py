"""docker-compose.yml, the Procfile and the Dockerfile as data, for the deployment tests.

The compose file is read as `docker compose config --format json` gives it
when the Docker client has the compose plugin (it needs no engine for that),
and otherwise with PyYAML, its variables filled in as compose fills them
(`${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `$$`). Either
way each service comes back in one shape (`Service`), so the tests do not
depend on which reader ran.
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

BASE_DIR = Path(__file__).resolve().parents[2]
COMPOSE_FILE = BASE_DIR / "docker-compose.yml"
PROCFILE = BASE_DIR / "Procfile"
DOCKERFILE = BASE_DIR / "Dockerfile"
# A SECRET_KEY for reading the compose file, which refuses to be read without one.
SECRET_KEY = "deploy-tests-" + "x7Qp2mZr9LkT4vWb8NcY3hJd6FgS1aE5uR0oIiPq"


class ComposeError(Exception):
    """The compose file cannot be read with this environment (e.g. a required variable is missing)."""


@dataclass
class Service:
    name: str
    image: str | None = None
    build: str | None = None
    command: list[str] | None = None
    environment: dict[str, str | None] = field(default_factory=dict)
    depends_on: dict[str, str] = field(default_factory=dict)
    volumes: list[tuple[str, str]] = field(default_factory=list)
    ports: list[tuple[str, str]] = field(default_factory=list)
    healthcheck: list[str] | None = None
    restart: str | None = None
    init: bool = False


@dataclass
class Compose:
    services: dict[str, Service]
    volumes: set[str]
    reader: str


def compose_environment(**extra: str) -> dict[str, str]:
    """An environment to read the compose file with: none of this machine's settings, a SECRET_KEY."""
    return {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/"), "SECRET_KEY": SECRET_KEY, **extra}


def load_compose(env: Mapping[str, str] | None = None) -> Compose:
    env = compose_environment() if env is None else dict(env)
    if _docker_compose_available():
        return _from_docker(env)
    return _from_yaml(env)


def _docker_compose_available() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        done = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _from_docker(env: dict[str, str]) -> Compose:
    done = subprocess.run(
        ["docker", "compose", "--file", str(COMPOSE_FILE), "config", "--format", "json"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        raise ComposeError(done.stderr.strip())
    data = json.loads(done.stdout)
    return _compose(data, reader="docker compose config")


def _from_yaml(env: dict[str, str]) -> Compose:
    data = yaml.safe_load(COMPOSE_FILE.read_text())  # PyYAML applies the `<<` merge keys itself
    data = {key: _interpolate(value, env) for key, value in data.items() if not key.startswith("x-")}
    for service in data.get("services", {}).values():
        environment = service.get("environment") or {}
        if isinstance(environment, list):
            environment = dict(item.split("=", 1) if "=" in item else (item, None) for item in environment)
        # A variable listed without a value is passed on from compose's own environment when set there.
        service["environment"] = {
            name: env.get(name) if value is None else value for name, value in environment.items()
        }
    return _compose(data, reader="PyYAML")


_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def _interpolate(value, env: Mapping[str, str]):
    if isinstance(value, dict):
        return {key: _interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [_interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(4)
        operator, argument = match.group(2), match.group(3)
        current = env.get(name)
        missing = current is None or (current == "" and operator in (":-", ":?"))
        if operator in (":-", "-"):
            return argument if missing else current
        if operator in (":?", "?"):
            if missing:
                raise ComposeError(f"required variable {name} is missing a value: {argument}")
            return current
        return current or ""

    return _VARIABLE.sub(substitute, value)


def _compose(data: dict, *, reader: str) -> Compose:
    services = {name: _service(name, raw) for name, raw in (data.get("services") or {}).items()}
    return Compose(services=services, volumes=set(data.get("volumes") or {}), reader=reader)


def _service(name: str, raw: dict) -> Service:
    command = raw.get("command")
    if isinstance(command, str):
        command = shlex.split(command)
    build = raw.get("build")
    if isinstance(build, dict):
        build = build.get("context")
    if build is not None:
        build = str((BASE_DIR / build).resolve())
    depends_on = raw.get("depends_on") or {}
    if isinstance(depends_on, list):
        depends_on = {other: {"condition": "service_started"} for other in depends_on}
    healthcheck = raw.get("healthcheck") or {}
    test = healthcheck.get("test")
    if isinstance(test, str):
        test = ["CMD-SHELL", test]
    if test is not None:
        # `docker compose config` writes a literal $ as $$ again (a valid compose file); the container sees one.
        test = [part.replace("$$", "$") for part in test]
    environment = raw.get("environment") or {}
    return Service(
        name=name,
        image=raw.get("image"),
        build=build,
        command=command,
        environment={key: None if value is None else str(value) for key, value in environment.items()},
        depends_on={other: spec.get("condition", "service_started") for other, spec in depends_on.items()},
        volumes=[_volume(volume) for volume in raw.get("volumes") or []],
        ports=[_port(port) for port in raw.get("ports") or []],
        healthcheck=None if healthcheck.get("disable") else test,
        restart=None if raw.get("restart") is None else str(raw["restart"]),
        init=bool(raw.get("init")),
    )


def _volume(volume) -> tuple[str, str]:
    if isinstance(volume, dict):
        return volume.get("source", ""), volume["target"]
    source, _, rest = volume.partition(":")
    return source, rest.split(":")[0]


def _port(port) -> tuple[str, str]:
    """(published, target) of a port mapping."""
    if isinstance(port, dict):
        return str(port.get("published", "")), str(port["target"])
    published, _, target = str(port).rpartition(":")
    return published.rsplit(":", 1)[-1], target


def procfile_commands() -> dict[str, list[str]]:
    """The Procfile's processes and their commands as honcho's shell runs them (`exec` dropped)."""
    commands = {}
    for line in PROCFILE.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_-]+):\s*(.+)$", line)  # honcho's own pattern; other lines are comments
        if match:
            words = shlex.split(match.group(2))
            commands[match.group(1)] = words[1:] if words[:1] == ["exec"] else words
    return commands


@dataclass
class Stage:
    base: str
    instructions: list[tuple[str, str]]

    def all(self, keyword: str) -> list[str]:
        return [argument for name, argument in self.instructions if name == keyword]


def dockerfile_stages() -> list[Stage]:
    """The Dockerfile's build stages, each with its instructions (continuation lines joined, comments left out)."""
    stages: list[Stage] = []
    logical = re.sub(r"\\\n(\s*#[^\n]*\n)*", " ", DOCKERFILE.read_text())
    for line in logical.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, argument = line.partition(" ")
        keyword, argument = keyword.upper(), argument.strip()
        if keyword == "FROM":
            stages.append(Stage(base=argument.split()[0], instructions=[]))
        else:
            stages[-1].instructions.append((keyword, argument))
    return stages


def exec_form(argument: str) -> list[str]:
    """A CMD or ENTRYPOINT's arguments: the JSON (exec) form, or the shell form run by /bin/sh -c."""
    try:
        value = json.loads(argument)
    except json.JSONDecodeError:
        return ["/bin/sh", "-c", argument]
    return value


def dockerfile_env(stage: Stage) -> dict[str, str]:
    """The ENV of a stage (`ENV A=1 B=2` form)."""
    env = {}
    for argument in stage.all("ENV"):
        for item in shlex.split(argument):
            name, _, value = item.partition("=")
            env[name] = value
    return env


def container_environment(service: Service, *, var_dir: Path, **overrides: str) -> dict[str, str]:
    """What the container of `service` would see, for a process on this machine.

    The image's ENV and the service's environment from docker-compose.yml, with
    this machine's folders in place of the image's, and whatever `overrides`
    says (the servers to use, the port). The rest of this process's environment
    stays (PATH, the test run's own variables); the virtual environment's
    programs come first on PATH, as the image's do.
    """
    env = dict(os.environ)
    # Set by the browser tests for their live server thread, never by a deployment (check --deploy refuses it).
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.update(dockerfile_env(dockerfile_stages()[-1]))
    env.update({name: value for name, value in service.environment.items() if value is not None})
    env.update(
        VAR_DIR=str(var_dir),
        PRIVATE_MEDIA_ROOT=str(var_dir / "private"),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env
