# make venv   create .venv with the pinned dependencies (requirements.lock) and the package
# make run    run the default pipeline (config.yaml) on all local cores
# make test   run the test suite
# make clean  remove results and Snakemake's bookkeeping (keeps .venv)

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# Rule jobs start `python` from PATH: make it the environment's.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: venv run test clean

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

run: venv
	$(BIN)/snakemake --cores all

test: venv
	$(BIN)/python -m pytest

clean:
	rm -rf results .snakemake
