# Two commands on a fresh clone: `make demo` and `make test`. Each creates .venv on first use
# and installs the project with its extras; a ready .venv is reused (the stamp below changes only
# when pyproject.toml or the constraints change).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
EXTRAS := torch,cli,dask,dev
# Two test processes on CI's two cores; numba's on-disk cache is shared between them.
PYTEST_WORKERS ?= 2

.PHONY: demo test bench lint format clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml constraints-dev.txt | $(PY)
	$(PY) -m pip install --quiet -c constraints-dev.txt -e ".[$(EXTRAS)]"
	touch $(STAMP)

# --force: a rerun replaces the files of the last run in ./upsampling-demo/.
demo: $(STAMP)
	$(PY) -m upsampling demo --force

test: $(STAMP)
	$(PY) -m pytest -n $(PYTEST_WORKERS) -q

bench: $(STAMP)
	$(PY) benchmarks/run.py

lint: $(STAMP)
	$(PY) -m ruff check src tests benchmarks examples
	$(PY) -m ruff format --check src tests benchmarks examples

format: $(STAMP)
	$(PY) -m ruff format src tests benchmarks examples
	$(PY) -m ruff check --fix src tests benchmarks examples

clean:
	rm -rf $(VENV) upsampling-demo build dist src/*.egg-info
	find . -name __pycache__ -prune -exec rm -rf {} +
