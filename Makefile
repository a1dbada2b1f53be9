# Two commands on a fresh clone: `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint format venv clean-data bench

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(PY) -m infra.devstack run

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) -m infra.devstack test $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(STAMP)
	@# the load generator: Debian's wrk (bench/hello.py falls back to its own Python generator)
	@command -v wrk >/dev/null || apt-get install -y wrk >/dev/null 2>&1 || sudo -n apt-get install -y wrk >/dev/null 2>&1 || echo "wrk not installed: bench/hello.py uses its Python load generator"
	$(PY) -m infra.devstack exec $(PY) bench/provision.py
	$(PY) -m infra.devstack exec $(PY) bench/hello.py
	$(PY) -m infra.devstack exec $(PY) bench/orders.py
	$(PY) -m infra.devstack exec $(PY) bench/export.py
	$(PY) -m infra.devstack exec $(PY) bench/commission.py

clean-data:
	rm -rf .data
