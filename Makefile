# The course's commands. Set-up is idempotent: the virtual environment is (re)installed only when
# pyproject.toml or requirements.txt changed since the last install, and the JupyterLab set-up
# (settings, the course's kernel) is redone after an install or when its files changed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PINS_HASH := $(shell cat pyproject.toml requirements.txt | sha1sum | cut -c1-12)
STAMP := $(VENV)/.installed-$(PINS_HASH)
ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)
PYTEST_WORKERS ?= 2
LAB_ARGS ?=
LAB_STAMP := $(VENV)/.lab-setup
# nbgrader runs helper programs (alembic, jupyter) by name: the environment's bin comes first.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: setup lab test test-browser html bench bench-timing bench-wavenet bench-mnist bench-sharing clean

setup: $(STAMP) $(LAB_STAMP)

$(STAMP): pyproject.toml requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	$(PY) -m pip install --disable-pip-version-check -q -e ".[dev]"
	@rm -f $(VENV)/.installed-*
	@touch $@

# pip (re)installs ipykernel's own kernel.json, so the course's kernel goes in after every install.
$(LAB_STAMP): $(STAMP) scripts/setup_lab.py course_lib/kernel.py
	$(PY) scripts/setup_lab.py
	@touch $@

lab: setup  ## open the course in JupyterLab; options after LAB_ARGS, e.g. make lab LAB_ARGS="--no-browser --port=8888"
	$(VENV)/bin/jupyter lab --notebook-dir=. $(ROOT_FLAG) $(LAB_ARGS)

test: setup  ## the whole test suite, notebooks included
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup --durations=30 tests

test-browser: setup  ## only the real-browser tests (needs Debian's chromium)
	$(PY) -m pytest -v -m browser tests/test_browser.py

html: setup  ## execute the lectures and render them with figures into _build/html/
	$(VENV)/bin/jupyter nbconvert --to html --execute --ExecutePreprocessor.timeout=600 \
		--output-dir _build/html lectures/*.ipynb

bench: bench-timing bench-wavenet bench-mnist bench-sharing  ## all benchmarks, about 3 hours on 2 cores (not part of make test)

bench-timing: setup  ## every notebook, the test suite and a fresh set-up, timed (about 40 min)
	$(PY) bench/course_timing.py

bench-wavenet: setup  ## WaveNet naive against cached generation (about a minute)
	$(PY) bench/wavenet_generation.py

bench-sharing: setup  ## lecture 05 alone against two copies at once, per kernel thread policy (a few minutes)
	$(PY) bench/sharing.py

bench-mnist: setup  ## binarized-MNIST NLL table against the papers (up to 30 min per model)
	$(PY) bench/mnist_table.py

clean:
	rm -rf $(VENV) _build dist .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

# ---------------------------------------------------------------- grading (instructors; see README "Instructors")
A ?= a2_nade_made
LMS ?= canvas
SUBMISSIONS ?= grading/submitted
GRADED_ASSIGNMENTS = $(basename $(notdir $(filter-out autograder/tasks/__init__.py,$(wildcard autograder/tasks/*.py))))
.PHONY: assignments release grade feedback export similarity dashboard check student-bundle demo-grade

assignments: setup  ## regenerate every student version in assignments/ from solutions/ with nbgrader
	@for a in $(notdir $(wildcard solutions/*)); do $(PY) -m autograder release $$a || exit 1; done

release: setup  ## make release A=a1_histograms: regenerate one student version
	$(PY) -m autograder release $(A)

# Optional: PRESET=canvas|moodle (LMS file names), ROSTER=roster.csv, ID_PATTERN='regex with (?P<student_id>...)',
# WORKERS=2, TIMEOUT=300 (seconds per submission), ONLY=<student id> (grade that student again).
GRADE_FLAGS = $(if $(PRESET),--preset $(PRESET)) $(if $(ROSTER),--roster $(ROSTER)) \
	$(if $(ID_PATTERN),--id-pattern '$(ID_PATTERN)') $(if $(WORKERS),--workers $(WORKERS)) \
	$(if $(TIMEOUT),--timeout $(TIMEOUT)) $(if $(ONLY),--only '$(ONLY)')
# export: LMS=canvas|moodle, ROSTER, DUE=due.csv, SUBMITTED=times.csv, COLUMN='A2 (123456)' (Canvas's column)
EXPORT_FLAGS = $(if $(ROSTER),--roster $(ROSTER)) $(if $(DUE),--due $(DUE)) \
	$(if $(SUBMITTED),--submitted $(SUBMITTED)) $(if $(COLUMN),--column '$(COLUMN)')

grade: setup  ## make grade A=a2_nade_made SUBMISSIONS=path/to/folder-or.zip [PRESET= ROSTER= ID_PATTERN= WORKERS= TIMEOUT= ONLY=]
	$(PY) -m autograder grade $(A) $(SUBMISSIONS) --out grading/$(A) $(GRADE_FLAGS)

feedback: setup  ## make feedback A=a2_nade_made: every student's grading/<A>/feedback page again, with the hand grades
	$(PY) -m autograder feedback $(A) --out grading/$(A)

export: setup  ## make export A=a2_nade_made LMS=canvas ROSTER=roster.csv DUE=due.csv: grading/<A>/<A>_<LMS>.csv
	$(PY) -m autograder export $(A) --lms $(LMS) --out grading/$(A) $(EXPORT_FLAGS)

similarity: setup  ## make similarity A=a2_nade_made SUBMISSIONS=...: grading/<A>/similarity.html (flags, never grades)
	$(PY) -m autograder similarity $(A) $(SUBMISSIONS) --out grading/$(A)/similarity.html

dashboard: setup  ## make dashboard A=a2_nade_made: grading/<A>/dashboard.html (static; open it in a browser)
	$(PY) -m autograder dashboard $(A) grading/$(A)

check: setup  ## self-test of the grading: solutions full marks, blank zero, every mutant caught
	@for a in $(if $(filter command line,$(origin A)),$(A),$(GRADED_ASSIGNMENTS)); do $(PY) -m autograder check $$a || exit 1; done

student-bundle: setup  ## dist/student-course.zip: what students get, no solutions or grading files
	$(PY) -m autograder.bundle

demo-grade: setup  ## grade a demo class for A2 (perfect, partial, blank, crashing, looping, ...) and print the table
	$(PY) -m autograder.demo
	$(PY) -m autograder dashboard $(A) grading/demo/out
