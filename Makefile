# Two commands on a fresh clone: `make demo` and `make test`. Each creates .venv on first use
# and installs the project with its extras; a ready .venv is reused (the stamp below changes only
# when pyproject.toml or the constraints change).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
EXTRAS := torch,cli,dask,dev,docs
# Two test processes on CI's two cores; numba's on-disk cache is shared between them.
PYTEST_WORKERS ?= 2

# The documentation site (docs/README.md): warnings are errors, and every warning is reported
# before the build fails. SPHINXOPTS adds options (e.g. -E to reread every page).
SPHINXOPTS ?=

.PHONY: demo test docs bench lint format clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml constraints-dev.txt | $(PY)
	$(PY) -m pip install --quiet -c constraints-dev.txt -e ".[$(EXTRAS)]"
	touch $(STAMP)

# --force: a rerun replaces the files of the last run in ./upsampling-demo/.
demo: $(STAMP)
	$(PY) -m upsampling demo --force

# The tests, then the site: a broken reference or a failing tutorial fails `make test` too.
test: $(STAMP)
	$(PY) -m pytest -n $(PYTEST_WORKERS) -q
	$(MAKE) --no-print-directory docs

docs: $(STAMP)
	$(PY) -m sphinx -b html -W --keep-going -q $(SPHINXOPTS) docs docs/_build/html

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
	rm -rf docs/_build docs/tutorials docs/_generated docs/api/generated
	find . -name __pycache__ -prune -exec rm -rf {} +
