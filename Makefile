# Two commands on a fresh clone: `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint format venv clean-data bench storefront storefront-test

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# The uni-app storefront (storefront/): npm ci from the lock file, then the builds. `make run`
# needs the H5 build (served at /h5/); `make storefront` builds all three targets.
SF := storefront
SF_DEPS := $(SF)/node_modules/.package-lock.json
SF_SRC := $(shell find $(SF)/src -type f 2>/dev/null) $(SF)/package.json $(SF)/vite.config.js $(SF)/index.html
H5 := $(SF)/dist/build/h5/index.html
MPW := $(SF)/dist/build/mp-weixin/app.json
MPT := $(SF)/dist/build/mp-toutiao/app.json

$(SF_DEPS): $(SF)/package-lock.json
	cd $(SF) && npm ci --no-audit --no-fund --loglevel=error
	touch $(SF_DEPS)

$(H5): $(SF_DEPS) $(SF_SRC)
	cd $(SF) && npm run --silent build:h5

$(MPW): $(SF_DEPS) $(SF_SRC)
	cd $(SF) && npm run --silent build:mp-weixin

$(MPT): $(SF_DEPS) $(SF_SRC)
	cd $(SF) && npm run --silent build:mp-toutiao

storefront: $(H5) $(MPW) $(MPT)

storefront-test: storefront
	cd $(SF) && npm test --silent

run: $(STAMP) $(H5)
	$(PY) -m infra.devstack run

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(MAKE) --no-print-directory storefront-test
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
