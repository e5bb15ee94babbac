# Whistle-and-report platform. On a fresh machine two commands are enough:
#   make run    install what is missing, migrate, seed the demo district, serve
#   make test   the whole test suite
# Settings come from the environment (README.md lists every variable); nothing
# here overrides DATABASE_URL or CELERY_BROKER_URL.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYTHON ?= python3
PORT ?= 8000
# SEED=0 skips seed_demo and seed_demo_activity (they refuse to run with DEBUG off).
SEED ?= 1
PYTEST_ARGS ?=
export PORT

VENV := .venv
BIN := $(VENV)/bin
# Stamps: an install step runs again only when its inputs are newer.
PY_STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
VENDOR_STAMP := static/vendor/VERSIONS

DEMO_PASSWORD := demo-pass-2026

.PHONY: help install run test lint bench clean constraints messages

help:
	@echo "make run          install, migrate, seed the demo district and its activity, start web + worker + beat on http://127.0.0.1:$(PORT)/"
	@echo "make test         run the whole test suite (PYTEST_ARGS='-k name' to narrow it)"
	@echo "make lint         ruff check and ruff format --check"
	@echo "make bench        run the benchmarks in bench/"
	@echo "make clean        remove var/ and static/vendor/ (keeps .venv and node_modules)"
	@echo "make constraints  re-pin constraints.txt after a change to pyproject.toml"
	@echo "make messages     extract messages into locale/zh_Hans and compile them (needs GNU gettext)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(PY_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	@echo "Installing Python packages (pinned by constraints.txt) into $(VENV) ..."
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

$(NPM_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "make run needs Node.js and npm to install the front-end libraries (Debian: apt-get install nodejs npm)." >&2; exit 1; }
	npm ci --no-audit --no-fund
	@touch $@

$(VENDOR_STAMP): $(NPM_STAMP) scripts/vendor.sh
	scripts/vendor.sh node_modules static/vendor

install: $(PY_STAMP) $(VENDOR_STAMP)

run: install
	$(BIN)/python manage.py migrate --noinput
	@if [ "$(SEED)" != 0 ]; then $(BIN)/python manage.py seed_demo && $(BIN)/python manage.py seed_demo_activity; fi
	@echo
	@echo "================================================================================"
	@echo "  Whistle-and-report is starting on  http://127.0.0.1:$(PORT)/"
	@echo "  Admin:  http://127.0.0.1:$(PORT)/admin/      Sign in:  http://127.0.0.1:$(PORT)/accounts/login/"
	@echo "  Demo logins (password $(DEMO_PASSWORD) for all of them):"
	@echo "    streets      s01_staff  s01_deputy  s01_head  s01_party  s01_grid  s01_dispatcher  (s02 ... s18)"
	@echo "    departments  d01_staff  d01_head  (d02 ... d74)   stations  t01_staff ...   enterprises  e01_staff ..."
	@echo "    district     supervisor   hotline   admin"
	@echo "  Ctrl-C stops the web server, the Celery worker and beat together."
	@echo "================================================================================"
	@echo
	@# honcho gives each process its own process group and, on Ctrl-C or
	@# SIGTERM, terminates every group (SIGKILL after 15 s), so nothing is
	@# left behind. --env /dev/null: the processes see exactly the environment
	@# that migrate and seed_demo saw, not a stray .env file.
	PATH="$(CURDIR)/$(BIN):$$PATH" PYTHONUNBUFFERED=1 exec $(BIN)/python scripts/procfile.py start --procfile Procfile --env /dev/null --port $(PORT)

# The browser tests (tests/browser) load the pages with their front-end libraries: install those too.
test: $(PY_STAMP) $(VENDOR_STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(PY_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit -c bandit.yaml -q -r config departments escalation grids whistle workbench idempotency open311 monitoring backup

# Every bench/*.py except helper modules named _*.py; BENCH=bench/x.py runs one.
BENCH ?= $(filter-out bench/_%,$(wildcard bench/*.py))
bench: $(PY_STAMP)
	@if [ -z "$(strip $(BENCH))" ]; then echo "No benchmarks in bench/."; fi
	@for script in $(BENCH); do echo "== $$script"; PYTHONPATH="$(CURDIR)" $(BIN)/python "$$script"; done

clean:
	rm -rf var static/vendor

constraints: | $(BIN)/python
	scripts/freeze-constraints.sh $(PYTHON)

# English source strings, Chinese catalogue; the translation tests fail until
# every new message has its Chinese.
messages: $(PY_STAMP)
	$(BIN)/python manage.py makemessages -l zh_Hans --no-obsolete --ignore=.venv --ignore=node_modules \
		--ignore=var --ignore=tests --ignore=bench --ignore=static --ignore=scripts --ignore='*.egg-info'
	$(BIN)/python manage.py compilemessages --ignore=.venv
