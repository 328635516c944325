# Two commands for a fresh machine:
#   make demo   creates .venv, installs mlglass, trains if no model is present and screens the bundled candidates
#   make test   creates .venv, installs mlglass with test extras, runs the whole test suite
#   make lint   ruff and mypy on the package (configuration in pyproject.toml)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .

install-dev: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"

demo: install
	$(BIN)/mlglass demo

lint: install-dev
	$(BIN)/ruff check mlglass
	$(BIN)/mypy

test: install-dev
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --nbmake tests notebooks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
