# One command to set up and run the demo crawl, one to set up and run the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# test tools with their own venvs (pins: pyproject.toml [tool.archiver.tools]); never in $(VENV)
TOOLS := $(VENV)/tools
PYWB_STAMP := $(TOOLS)/pywb/.installed
TOOL_PINS := import sys, tomllib; print(" ".join(tomllib.load(open("pyproject.toml", "rb"))["tool"]["archiver"]["tools"][sys.argv[1]]))

.PHONY: setup demo test lint bench-setup clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	@# a venv built when pywb was a test extra: its brotlipy shadowed brotli (br decoding) and its redis pin
	$(BIN)/pip uninstall --quiet --yes pywb brotlipy fakeredis 2>/dev/null || true
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

# pywb (replay tests): its own venv, so its dependencies never reach the product's
$(PYWB_STAMP): pyproject.toml
	$(PYTHON) -m venv $(TOOLS)/pywb
	$(TOOLS)/pywb/bin/pip install --quiet $$($(PYTHON) -c '$(TOOL_PINS)' pywb)
	touch $(PYWB_STAMP)

setup: $(STAMP) $(PYWB_STAMP)

demo: $(STAMP)
	$(BIN)/archiver demo --out demo-out

# services.sh: the redis-server binary the distributed-crawl tests start
test: setup
	bash .ci/services.sh
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check archiver spiders pipelines tests benchmarks
	$(BIN)/mypy

bench-setup: $(STAMP)
	$(BIN)/pip install --quiet -e ".[test,bench]"

clean:
	rm -rf $(VENV) demo-out .pytest_cache .mypy_cache .ruff_cache
