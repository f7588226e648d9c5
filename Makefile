VENV ?= .venv
PY := $(VENV)/bin/python
# uv installs exactly what uv.lock pins (hashes checked), here and in the Dockerfile.
UV_VERSION := 0.13.9
UV := $(VENV)/bin/uv
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never
# Bytecode compiled at install, as in the Dockerfile: where PYTHONDONTWRITEBYTECODE is set (the
# image, some shells and CI) nothing else writes it, and every start compiled every module from
# source (~1.3 s of the start-up's CPU, issue #19).
export UV_COMPILE_BYTECODE := 1
LOCK_STALE := uv.lock does not match pyproject.toml: run 'make lock' and commit uv.lock

.PHONY: run check test bench lock lock-upgrade lock-check

$(UV):
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet uv==$(UV_VERSION)

lock-check: $(UV)
	@$(UV) lock --check --quiet 2>/dev/null || { echo "$(LOCK_STALE)" >&2; exit 1; }

# `make run` installs what the Dockerfile installs (the lock, no dev extras); `make test` adds them.
# --inexact: keep uv and pip, which installed uv, in the venv.
$(VENV)/.run: pyproject.toml uv.lock | lock-check
	$(UV) sync --locked --inexact --quiet
	touch $@

$(VENV)/.dev: pyproject.toml uv.lock | lock-check
	$(UV) sync --locked --inexact --quiet --extra dev
	touch $(VENV)/.run $@

run: $(VENV)/.run
	$(PY) -m bot

# Checks the settings, Telegram, Gonka (and Redis if set), one line each, then exits.
check: $(VENV)/.run
	$(PY) -m bot check

test: lock-check $(VENV)/.dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(VENV)/bin/hadolint Dockerfile
	$(PY) -m pytest

# After changing dependencies in pyproject.toml: pins what was added, keeps every other pin.
lock: $(UV)
	$(UV) lock

# Moves every pin to the newest version pyproject.toml allows (then run `make test`).
lock-upgrade: $(UV)
	$(UV) lock --upgrade

bench: $(VENV)/.dev
	$(PY) bench/stream_bench.py
