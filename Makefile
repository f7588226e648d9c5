VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test bench

# `make run` installs what the Dockerfile installs (pip install .); `make test` adds the dev extras.
$(VENV)/.run: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.dev: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(VENV)/.run $@

run: $(VENV)/.run
	$(PY) -m bot

test: $(VENV)/.dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(VENV)/bin/hadolint Dockerfile
	$(PY) -m pytest

bench: $(VENV)/.dev
	$(PY) bench/stream_bench.py
