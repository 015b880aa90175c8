# tongban — make run: serve the platform; make test: the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export TONGBAN_DATA_DIR ?= $(CURDIR)/var

.PHONY: run test lint bench install migrate content dispatch clean federation

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

migrate: $(STAMP)
	$(VENV)/bin/tongban migrate --noinput

content: migrate
	$(VENV)/bin/tongban load_content
	$(VENV)/bin/tongban load_demo

run: content
	TONGBAN_DISPATCH=thread $(VENV)/bin/tongban runserver 127.0.0.1:8000

dispatch: $(STAMP)
	$(VENV)/bin/tongban dispatch

test: $(STAMP)
	$(VENV)/bin/ruff check src tests tools
	$(VENV)/bin/python -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests tools
	$(VENV)/bin/ruff format --check src tests tools

bench: $(STAMP)
	$(VENV)/bin/python -m tongban.bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var

federation: $(STAMP)
	$(VENV)/bin/python -m tongban.federation $(FEDERATION_ARGS)
