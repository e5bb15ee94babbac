"""Start one of the platform's long-running processes: web, worker or beat.

The Procfile (`make run`) and docker-compose.yml both start their processes
through this script, so that development and production run the same
commands; only the environment differs between them:

    web     gunicorn with gunicorn.conf.py (WEB_HOST, PORT, WEB_CONCURRENCY)
    worker  the Celery worker: WORKER_CONCURRENCY child processes (default 2), LOG_LEVEL
    beat    Celery beat, its schedule file in VAR_DIR, LOG_LEVEL

The script replaces itself with the command (exec): the process keeps its id,
and SIGTERM reaches gunicorn or Celery itself, whose graceful stop lets running
requests and tasks finish. Arguments after the process name are passed on.

Usage: python scripts/start.py web|worker|beat [arguments]
"""

import os
import runpy
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from django.core.exceptions import ImproperlyConfigured  # noqa: E402

from config.env import env_choice, env_int, env_str  # noqa: E402

PROCESSES = ("web", "worker", "beat")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def command(process: str) -> list[str]:
    """The command line of `process`, from the environment; raises ImproperlyConfigured on junk."""
    python = sys.executable
    if process == "web":
        config = BASE_DIR / "gunicorn.conf.py"
        # Read here first, so that a value it cannot read stops with its name, before gunicorn
        # (which reads WEB_CONCURRENCY itself, and would stop on junk with a traceback) starts.
        runpy.run_path(str(config))
        return [python, "-m", "gunicorn", "--config", str(config)]
    log_level = env_choice("LOG_LEVEL", "INFO", LOG_LEVELS)
    if process == "worker":
        concurrency = env_int("WORKER_CONCURRENCY", 2, minimum=1, maximum=256)
        # Gossip and mingle are chatter between workers at start and all the time, which the
        # platform does not use; without them a host more costs the broker nothing.
        return [
            python,
            "-m",
            "celery",
            "--app",
            "config",
            "worker",
            "--loglevel",
            log_level,
            "--concurrency",
            str(concurrency),
            "--without-gossip",
            "--without-mingle",
        ]
    if process == "beat":
        var_dir = Path(env_str("VAR_DIR", str(BASE_DIR / "var"))).resolve()
        # Beat keeps the last run of each periodic job here. Losing it costs nothing: beat then
        # waits one period before the first run of each job.
        schedule = var_dir / "celerybeat-schedule"
        return [python, "-m", "celery", "--app", "config", "beat", "--loglevel", log_level, "--schedule", str(schedule)]
    raise ValueError(f"unknown process {process!r}: choose from {', '.join(PROCESSES)}")


def main(argv: list[str]) -> None:
    if len(argv) < 2 or argv[1] not in PROCESSES:
        sys.exit(f"usage: python scripts/start.py {'|'.join(PROCESSES)} [arguments]")
    process, extra = argv[1], argv[2:]
    try:
        args = command(process) + extra
    except ImproperlyConfigured as exc:
        sys.exit(f"scripts/start.py {process}: {exc}")
    if process == "beat":
        Path(args[args.index("--schedule") + 1]).parent.mkdir(parents=True, exist_ok=True)
    # Celery finds the `config` package, and gunicorn its WSGI module, from the project folder.
    os.chdir(BASE_DIR)
    sys.stdout.flush()
    # Accepted (B606): this interpreter and fixed arguments; the rest comes from whoever starts the script.
    os.execv(args[0], args)  # nosec B606


if __name__ == "__main__":
    main(sys.argv)
