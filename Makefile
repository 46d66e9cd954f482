# The two commands of the README: `make daemon` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup daemon run test lint typecheck pytest bench lock clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# Run the daemon on the bundled haiti-mss topic with an embedded SQLite database (./factwatch.db).
daemon: setup
	$(BIN)/factwatch daemon

# One crawl cycle, then exit.
run: setup
	$(BIN)/factwatch run

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

pytest: setup
	$(BIN)/python -m pytest -q

test: lint typecheck pytest

bench: setup
	$(BIN)/python bench/extract.py
	$(BIN)/python bench/facts_eval.py
	$(BIN)/python bench/incremental.py
	$(BIN)/python bench/dedup_scale.py
	$(BIN)/python bench/daemon_memory.py

# Re-pin every dependency after changing pyproject.toml.
lock: setup
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
