# One command to set up and run the demo crawl, one to set up and run the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint bench-setup clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/archiver demo --out demo-out

# services.sh: redis-server and the scrapy-redis overlay the distributed-crawl tests need
test: $(STAMP)
	bash .ci/services.sh
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check archiver spiders pipelines tests benchmarks
	$(BIN)/mypy

bench-setup: $(STAMP)
	$(BIN)/pip install --quiet -e ".[test,bench]"

clean:
	rm -rf $(VENV) demo-out .pytest_cache .mypy_cache .ruff_cache
