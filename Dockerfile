# One image for the web server, the Celery worker and beat: docker-compose.yml
# picks the process with `python scripts/start.py web|worker|beat`, the same
# commands the Procfile runs for `make run`. Python packages are pinned by
# constraints.txt; the front-end libraries come from npm (package-lock.json)
# and are served from the image itself, never from a CDN.

FROM node:20-bookworm-slim AS frontend
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY scripts/vendor.sh scripts/
RUN sh scripts/vendor.sh node_modules static/vendor


FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VAR_DIR=/app/var \
    PRIVATE_MEDIA_ROOT=/app/var/private \
    WEB_HOST=0.0.0.0 \
    PORT=8000
WORKDIR /app
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin whistle

# Dependencies first: this layer is rebuilt only when they change. pyproject.toml
# declares no package of its own, so this installs the dependencies alone.
COPY pyproject.toml constraints.txt ./
RUN pip install -c constraints.txt .

COPY . .
COPY --from=frontend /src/static/vendor static/vendor
# Static files with their content's hash in their names, compressed (whitenoise serves
# them): the storage of DEBUG off, which needs a SECRET_KEY and ALLOWED_HOSTS to start.
# Both are throw-away values of this build step only; the image carries none.
# The code stays root's and read-only to the platform: it writes only under var/. The
# attachments' folder exists in the image, owned by the platform's user, so that a new
# volume mounted on it (docker-compose.yml) starts with that owner.
RUN DEBUG=false SECRET_KEY=collectstatic-at-build-time-only-never-used-to-sign ALLOWED_HOSTS=localhost \
        python manage.py collectstatic --noinput \
    && mkdir -p var/private \
    && chown whistle:whistle var var/private

USER whistle
EXPOSE 8000
CMD ["python", "scripts/start.py", "web"]
