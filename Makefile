# Two commands on a fresh machine (Python 3.11 and make): `make run` and `make test`.
# DATABASE_URL (postgres://..., mysql://...) switches the database for both.

PYTHON ?= python3.11
VENV ?= .venv
BIN = $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help run test test-all lint docs requirements upgrade clean

help:
	@echo "make run     - install, migrate, load the demo and serve on http://$(HOST):$(PORT)/"
	@echo "make test    - install and run the test suite (SQLite unless DATABASE_URL is set)"
	@echo "make lint    - ruff and the migrations check"
	@echo "make docs    - build the Sphinx documentation into docs/_build/html"
	@echo "make upgrade - recompile the pinned requirements/*.txt from requirements/*.in"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Each stamp records that the virtualenv has one requirements file installed.
$(VENV)/.%-installed: requirements/%.txt setup.py | $(BIN)/python
	$(BIN)/pip install --quiet -r $<
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@

MYSQL_DRIVER = $(if $(filter mysql%,$(DATABASE_URL)),$(VENV)/.mysql-installed)

run: $(VENV)/.host-installed $(MYSQL_DRIVER)
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

test: $(VENV)/.test-installed $(MYSQL_DRIVER)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

docs: $(VENV)/.doc-installed
	$(BIN)/sphinx-build -W -b html docs docs/_build/html

upgrade: $(VENV)/.dev-installed
	cd requirements && for name in base host test mysql doc dev; do \
		../$(BIN)/pip-compile --quiet --upgrade --allow-unsafe --no-strip-extras --no-emit-index-url \
			--no-emit-find-links --output-file=$$name.txt $$name.in; done

clean:
	rm -rf $(VENV) var docs/_build .pytest_cache
