# The course's commands. Set-up is idempotent: the virtual environment is (re)installed only when
# pyproject.toml or requirements.txt changed since the last install.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PINS_HASH := $(shell cat pyproject.toml requirements.txt | sha1sum | cut -c1-12)
STAMP := $(VENV)/.installed-$(PINS_HASH)
ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)
PYTEST_WORKERS ?= 2
# nbgrader runs helper programs (alembic, jupyter) by name: the environment's bin comes first.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: setup lab test test-browser html bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	$(PY) -m pip install --disable-pip-version-check -q -e ".[dev]"
	$(PY) -m course_lib.setup_lab
	@rm -f $(VENV)/.installed-*
	@touch $@

lab: setup  ## open the course in JupyterLab
	$(VENV)/bin/jupyter lab --notebook-dir=. $(ROOT_FLAG)

test: setup  ## the whole test suite, notebooks included
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup tests

test-browser: setup  ## only the real-browser tests (needs Debian's chromium)
	$(PY) -m pytest -v -m browser tests/test_browser.py

html: setup  ## execute the lectures and render them with figures into _build/html/
	$(VENV)/bin/jupyter nbconvert --to html --execute --ExecutePreprocessor.timeout=600 \
		--output-dir _build/html lectures/*.ipynb

bench: setup  ## timing and quality benchmarks (not part of make test)
	$(PY) bench/course_timing.py

clean:
	rm -rf $(VENV) _build dist .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
