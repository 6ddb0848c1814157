# pi2mqtt — every target sets up what it needs (virtual environment, install).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
MPY_DIR := tests/micropython
MPY_STAMP := $(MPY_DIR)/node_modules/.installed
# npm packages of the browser and Node-RED tests (chromium itself is Debian's: .ci/run installs it).
NPM_DIRS := tests/web/node tests/nodered/node
NPM_STAMPS := $(addsuffix /node_modules/.installed,$(NPM_DIRS))

.PHONY: all demo test lint typecheck unit bench install clean micropython npm-tests

all: test

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# Real MicroPython (WebAssembly build) on the machine's Node.js, for the firmware tests.
$(MPY_STAMP): $(MPY_DIR)/package.json
	@if command -v npm >/dev/null 2>&1; then \
	  cd $(MPY_DIR) && npm install --no-audit --no-fund --silent && touch node_modules/.installed; \
	else echo "npm not found: MicroPython tests will skip"; fi

micropython: $(MPY_STAMP)

# playwright-core (drives /usr/bin/chromium) and node-red, each from its package.json.
%/node_modules/.installed: %/package.json
	@if command -v npm >/dev/null 2>&1; then \
	  cd $* && npm install --no-audit --no-fund --silent && touch node_modules/.installed; \
	else echo "npm not found: the browser and Node-RED tests will skip"; fi

npm-tests: $(NPM_STAMPS)

# Mosquitto when installed, else the `demo` extra (amqtt, a broker library from PyPI).
demo: $(STAMP)
	@command -v mosquitto >/dev/null 2>&1 || test -x /usr/sbin/mosquitto || \
	  $(PY) -c 'import amqtt' 2>/dev/null || $(PY) -m pip install --quiet -e '.[demo]'
	$(VENV)/bin/pi2mqtt demo

lint: $(STAMP)
	$(VENV)/bin/ruff check device hwsim firmware tests bench

typecheck: $(STAMP)
	$(VENV)/bin/mypy

test: $(STAMP) micropython npm-tests lint typecheck
	$(VENV)/bin/pytest -q

bench: $(STAMP) micropython
	$(PY) bench/run_all.py

# On a Raspberry Pi: venv under /opt/pi2mqtt, the systemd unit, a config, the device groups.
# `sudo make install` on the Pi; ARGS=--dry-run prints what it would do, ARGS=--enable also starts it.
install:
	systemd/install.sh $(ARGS)

clean:
	rm -rf $(VENV) $(MPY_DIR)/node_modules $(addsuffix /node_modules,$(NPM_DIRS)) .pytest_cache .mypy_cache .ruff_cache
