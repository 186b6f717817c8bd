# Kefu developer entry points. `make test` is what CI runs (.ci/run).
#   make venv            create .venv, install '.[dev]' when pyproject.toml changed, compile translations
#   make run [PORT=8000] migrate, create demo data (prints logins), serve with uvicorn
#   make test            scripts/test.sh: embedded + PostgreSQL/Redis phases (+ bench smoke)
#   make lint            ruff check + ruff format --check + mypy
#   make bench           bench/chat_load.py (BENCH_ARGS="..." to pass options)

PYTHON ?= python3
VENV   := .venv
STAMP  := $(VENV)/.installed
KEFU   := $(VENV)/bin/kefu
PORT   ?= 8000
BENCH_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help venv install run test lint bench

help:
	@sed -n '2,6s/^# */  /p' Makefile

# Reinstall only when pyproject.toml is newer than the stamp (a new venv has none).
# Debian's python3 needs python3-venv for `-m venv` (ensurepip).
$(STAMP): pyproject.toml
	@if [ ! -x $(VENV)/bin/pip ]; then \
		$(PYTHON) -c 'import ensurepip' 2>/dev/null || scripts/apt-ensure.sh python3-venv; \
		echo "==> creating $(VENV)"; \
		$(PYTHON) -m venv $(VENV); \
	fi
	$(VENV)/bin/pip install --disable-pip-version-check -q -e '.[dev]'
	@touch $@

venv: $(STAMP)
	$(KEFU) compilemessages_po

install: venv

run: export DJANGO_SETTINGS_MODULE := kefu.settings.dev
run: venv
	$(KEFU) migrate --noinput
	$(KEFU) demo --bot
	$(VENV)/bin/uvicorn kefu.asgi:application --host 127.0.0.1 --port $(PORT)

test:
	scripts/test.sh

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy kefu

bench: venv
	$(VENV)/bin/python bench/chat_load.py $(BENCH_ARGS)
