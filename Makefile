# tongban — make run: serve the platform; make test: the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export TONGBAN_DATA_DIR ?= $(CURDIR)/var
# make run PORT=8010 serves on another port.
PORT ?= 8000

.PHONY: run test lint bench install migrate content dispatch clean federation conformance-deps browser-deps

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

# The Node.js packages of the protocol's second implementation (tests/conformance); without npm the
# conformance test is skipped, except where TONGBAN_REQUIRE_SERVICES=1 makes it fail.
CONFORMANCE_STAMP := tests/conformance/node_modules/.installed
$(CONFORMANCE_STAMP): tests/conformance/package.json tests/conformance/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd tests/conformance && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else echo "npm not found: the Node.js conformance test will be skipped"; fi

conformance-deps: $(CONFORMANCE_STAMP)

# The browser tests (tests/browser): Debian's Chromium at /usr/bin/chromium and axe-core from npm.
# Without them those tests are skipped, except where TONGBAN_REQUIRE_SERVICES=1 makes them fail.
CHROMIUM := /usr/bin/chromium
BROWSER_STAMP := tests/browser/node_modules/.installed
$(BROWSER_STAMP): tests/browser/package.json tests/browser/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd tests/browser && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else echo "npm not found: the browser tests will be skipped"; fi

APT_CHROMIUM := DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
browser-deps: $(BROWSER_STAMP)
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		$(APT_CHROMIUM) || (apt-get update && $(APT_CHROMIUM)); \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then \
		sudo $(APT_CHROMIUM) || (sudo apt-get update && sudo $(APT_CHROMIUM)); \
	else echo "$(CHROMIUM) not found and installing it needs root: run 'apt-get install chromium' as root," \
		"or the browser tests will be skipped"; fi

migrate: $(STAMP)
	$(VENV)/bin/tongban migrate --noinput

content: migrate
	$(VENV)/bin/tongban load_content
	$(VENV)/bin/tongban load_demo

# The embedded default through the production server: gunicorn, dispatcher and sweeper (tongban node).
run: content
	$(VENV)/bin/tongban node --role all --host 127.0.0.1 --port $(PORT)

dispatch: $(STAMP)
	$(VENV)/bin/tongban dispatch

test: $(STAMP) conformance-deps browser-deps
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
