# One image for the web server, the Celery worker and beat (docker-compose.yml
# picks the command). Python packages are pinned by constraints.txt; the
# front-end libraries come from npm (package-lock.json) and are served from the
# image itself, never from a CDN.

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
    VAR_DIR=/app/var
WORKDIR /app

# Dependencies first: this layer is rebuilt only when they change.
COPY pyproject.toml constraints.txt ./
RUN pip install -c constraints.txt .

COPY . .
COPY --from=frontend /src/static/vendor static/vendor
# collectstatic needs no secrets: DEBUG=true only for this build step.
RUN DEBUG=true python manage.py collectstatic --noinput \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin whistle \
    && mkdir -p var \
    && chown -R whistle:whistle var

USER whistle
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
