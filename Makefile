# Two commands on a fresh machine (Python 3.11 or later, and make): `make run` and `make test`.
# DATABASE_URL (postgres://..., mysql://...) switches the database for both.

# The virtualenv's Python: PYTHON if given, else the first of these that runs and is 3.11 or later
# (a pyenv shim for a version pyenv has not selected is on PATH but does not run).
PYTHON_CANDIDATES ?= python3.11 python3.12 python3.13 python3.14 python3
ifndef PYTHON
PYTHON := $(shell for p in $(PYTHON_CANDIDATES); do \
	"$$p" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { command -v "$$p"; break; }; done)
endif
VENV ?= .venv
BIN = $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

# The Open edX harness (tests/openedx) runs on the platform's Python, 3.12, in its own venv.
# The first candidate that runs (a pyenv shim for a version pyenv has not selected does not).
PYTHON_OPENEDX ?= $(shell for p in python3.12 $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12*/bin/python3.12; do \
	"$$p" -c "" >/dev/null 2>&1 && { command -v "$$p"; break; }; done)
VENV_OPENEDX ?= .venv-openedx
BIN_OPENEDX = $(VENV_OPENEDX)/bin

.PHONY: help run port-free test test-openedx lint docs requirements upgrade upgrade-openedx clean

help:
	@echo "make run     - install, migrate, load the demo and serve on http://$(HOST):$(PORT)/ (PORT=8001 for another port)"
	@echo "make test    - install and run the test suite (SQLite unless DATABASE_URL is set)"
	@echo "make test-openedx - the Open edX suite, then it and the API suites in the taken-over harness LMS (Python 3.12)"
	@echo "make lint    - ruff and the migrations check"
	@echo "make bench   - the benchmarks on the configured database (BENCH_ARGS=\"--full\" for 100k transfers, 1M-row reads)"
	@echo "make docs    - build the Sphinx documentation into docs/_build/html"
	@echo "make upgrade - recompile the pinned requirements/*.txt from requirements/*.in"

# Stops with a clear message unless PYTHON is a Python 3.11 or later that runs.
CHECK_PYTHON = @test -n "$(PYTHON)" || { echo "No Python 3.11 or later found (tried: $(PYTHON_CANDIDATES))."; \
		echo "Install one, or name it: make $(or $(MAKECMDGOALS),help) PYTHON=/path/to/python3"; exit 1; }; \
	"$(PYTHON)" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
		echo "$(PYTHON) is not a Python 3.11 or later that runs: name another with PYTHON=/path/to/python3"; exit 1; }

$(BIN)/python:
	$(CHECK_PYTHON)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Each stamp records that the virtualenv has one requirements file installed.
$(VENV)/.%-installed: requirements/%.txt setup.py | $(BIN)/python
	$(BIN)/pip install --quiet -r $<
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@

MYSQL_DRIVER = $(if $(filter mysql%,$(DATABASE_URL)),$(VENV)/.mysql-installed)

# Debug mode serves the demo with the development secrets; without it the host refuses them.
run: export DJANGO_DEBUG ?= 1
run: port-free $(VENV)/.host-installed $(MYSQL_DRIVER)
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py setup_demo
	@echo ""
	@echo "  Admin:        http://$(HOST):$(PORT)/admin/   (username admin, password admin)"
	@echo "  Learners:     learner1, learner2, learner3    (password learner)"
	@echo "  API docs:     http://$(HOST):$(PORT)/api/program_enrollments/v1/docs/"
	@echo "  API client:   client_id demo-registrar, client_secret demo-registrar-secret"
	@echo "                (POST http://$(HOST):$(PORT)/oauth2/access_token with token_type=jwt)"
	@echo ""
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# Before any setup: the port `make run` serves on is free (PORT=... picks another).
port-free:
	$(CHECK_PYTHON)
	@"$(PYTHON)" -c 'import socket, sys; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); \
		s.bind(("$(HOST)", $(PORT)))' 2>/dev/null || { \
		echo "Port $(PORT) on $(HOST) is taken (another server?). Stop it, or serve on another port: make run PORT=8001"; \
		exit 1; }

test: $(VENV)/.test-installed $(MYSQL_DRIVER)
	$(BIN)/pytest $(PYTEST_ARGS)

# Every scenario in interleaved rounds, in a throwaway database beside DATABASE_URL's (docs/benchmarks.rst).
.PHONY: bench
bench: $(VENV)/.test-installed $(MYSQL_DRIVER)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

$(BIN_OPENEDX)/python:
	@test -n "$(PYTHON_OPENEDX)" || { echo "Python 3.12 is needed for the Open edX harness (the platform's Python); set PYTHON_OPENEDX=/path/to/python3.12"; exit 1; }
	$(PYTHON_OPENEDX) -m venv $(VENV_OPENEDX)
	$(BIN_OPENEDX)/python -m pip install --quiet --upgrade pip

$(VENV_OPENEDX)/.installed: requirements/openedx.txt setup.py | $(BIN_OPENEDX)/python
	$(BIN_OPENEDX)/pip install --quiet -r requirements/openedx.txt
	$(BIN_OPENEDX)/pip install --quiet --no-deps -e .
	@touch $@

# Two runs: the LMS as it is before the package is installed (the built-in app; our entry point
# left out), then a copy of the stand-in platform taken over as the install guide says. The second
# run also runs the Python API and REST suites (tests/api, tests/rest_api), the ones `make test`
# runs in the standalone host: tests/openedx/pytest.ini (the harness settings), the root
# tests/conftest.py (--confcutdir; tests/hosts.py picks the host from the installed apps).
TAKEN_OVER ?= var/openedx-platform
test-openedx: $(VENV_OPENEDX)/.installed
	OPENEDX_HOST_WITHOUT_PLUGINS=program_enrollments_plugin $(BIN_OPENEDX)/pytest tests/openedx $(PYTEST_ARGS)
	rm -rf $(TAKEN_OVER) && mkdir -p var && cp -R tests/openedx_host/platform $(TAKEN_OVER)
	find $(TAKEN_OVER) -name __pycache__ -prune -exec rm -rf {} +
	$(BIN_OPENEDX)/python -m program_enrollments.openedx.takeover $(TAKEN_OVER)
	OPENEDX_HOST_WITHOUT_PLUGINS= $(BIN_OPENEDX)/pytest -c tests/openedx/pytest.ini --rootdir=$(CURDIR) \
		--confcutdir=$(CURDIR)/tests -o pythonpath=$(CURDIR)/$(TAKEN_OVER) \
		tests/openedx tests/api tests/rest_api $(PYTEST_ARGS)

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

docs: $(VENV)/.doc-installed
	$(BIN)/sphinx-build -W -b html docs docs/_build/html

upgrade: $(VENV)/.dev-installed
	cd requirements && for name in base host test mysql doc dev; do \
		../$(BIN)/pip-compile --quiet --upgrade --allow-unsafe --no-strip-extras --no-emit-index-url \
			--no-emit-find-links --output-file=$$name.txt $$name.in; done

upgrade-openedx: $(VENV_OPENEDX)/.installed
	cd requirements && ../$(BIN_OPENEDX)/pip-compile --quiet --upgrade --allow-unsafe --no-strip-extras \
		--no-emit-index-url --no-emit-find-links --output-file=openedx.txt openedx.in

clean:
	rm -rf $(VENV) $(VENV_OPENEDX) var docs/_build .pytest_cache
