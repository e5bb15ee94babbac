"""gunicorn's settings for the platform's web process, from the environment.

Read by `python scripts/start.py web`, which the Procfile (`make run`) and
docker-compose.yml both use; a bare `gunicorn` started in this folder reads it
too. A value that cannot be read stops gunicorn with a message naming the
variable, as the Django settings do (config.env).

    WEB_HOST         address to listen on: 127.0.0.1 (the Docker image sets 0.0.0.0)
    PORT             port to listen on: 8000
    WEB_CONCURRENCY  worker processes: 2; about two per core of the host
"""

import sys
from pathlib import Path

# gunicorn loads this file before the project is importable; config.env lies beside it.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from config.env import env_int, env_str  # noqa: E402

wsgi_app = "config.wsgi:application"
bind = [f"{env_str('WEB_HOST', '127.0.0.1')}:{env_int('PORT', 8000, minimum=1, maximum=65535)}"]
workers = env_int("WEB_CONCURRENCY", 2, minimum=1, maximum=64)
# Sync workers gave the API its best throughput and tail latency on these machines (gthread: a
# similar median, p99 two to five times longer). A slow client is the proxy's business: in
# production a reverse proxy buffers requests and answers in front of gunicorn.
worker_class = "sync"
timeout = 30
# SIGTERM lets running requests finish for this long; below the 15 s after which `make run`
# kills what is left, and below docker-compose.yml's stop_grace_period of the web service.
graceful_timeout = 10
accesslog = "-"
# The workers' liveness file in memory: on a container's overlay file system its writes can
# stall, and gunicorn then kills a healthy worker.
# gunicorn makes its files there with mkstemp: unique names, readable by their owner only.
if Path("/dev/shm").is_dir():  # nosec B108
    worker_tmp_dir = "/dev/shm"  # nosec B108
