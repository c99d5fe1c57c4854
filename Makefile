# mialab: `make lab` opens the course, `make test` runs every test. Both set up .venv first if needed.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# torch is pinned; leave TORCH_INDEX empty for PyPI (CPU wheels on macOS/Windows and on this course's
# reference machine). On Linux elsewhere use TORCH_INDEX=https://download.pytorch.org/whl/cpu for a
# small CPU build, or .../whl/cu128 for CUDA (see README, "GPU").
TORCH_VERSION ?= 2.13.0
TORCH_INDEX   ?=
STAMP  := $(VENV)/.mialab-installed
export MIALAB_PROGRESS ?= 1
# The package picks its own thread count (mialab.threads: one torch thread for these small models, set where it
# trains or queries), so tests, notebook runs and `make lab` run as a student's laptop does; benchmarks/contention.py
# measures that a busy core does not slow a notebook down.
TEST_ENV := MIALAB_PROGRESS=0
# the tests run on two pytest-xdist workers (the course's reference laptop has two cores; each test's models use one
# thread): a test file, or a notebook, stays on one worker (conftest.py). TEST_WORKERS=0 runs them in this process.
TEST_WORKERS ?= 2
PYTEST := $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

.PHONY: setup lab test lint test-unit test-notebooks release execute benchmark site clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "mialab needs Python >= 3.10")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first and pinned, so nothing later pulls a CUDA build
	$(PY) -m pip install --quiet "torch==$(TORCH_VERSION)" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX) --extra-index-url https://pypi.org/simple)
	$(PY) -m pip install --quiet -e ".[course,dev,distributed]"
	# students see the course, not nbgrader's instructor tools (docs/instructor_guide.md turns them back on)
	$(VENV)/bin/jupyter labextension disable --level=sys_prefix @jupyter/nbgrader
	for e in formgrader course_list assignment_list validate_assignment; do \
		$(VENV)/bin/jupyter server extension disable --sys-prefix nbgrader.server_extensions.$$e; done
	touch $(STAMP)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)

test: $(STAMP)
	$(PY) -m ruff check .
	$(TEST_ENV) $(PYTEST) tests
	$(TEST_ENV) $(PYTEST) --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg solutions

lint: $(STAMP)
	$(PY) -m ruff check .

test-unit: $(STAMP)
	$(TEST_ENV) $(PYTEST) tests -m "not notebook"

test-notebooks: $(STAMP)
	$(TEST_ENV) $(PYTEST) --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg solutions

# re-run the solution notebooks in place (stores outputs), then regenerate the student notebooks
execute: $(STAMP)
	$(TEST_ENV) $(PY) -m mialab.course execute solutions/*.ipynb
	$(PY) -m mialab.course release

# keeps a student's edited notebooks (it says which); FORCE=1 replaces them after a copy to notebooks/backups/
release: $(STAMP)
	$(PY) -m mialab.course release $(if $(FORCE),--force)

# the course website, from the stored outputs (nothing runs), into build/site/html; `make test` also checks it in
# headless Chromium (tests/test_site.py)
site: $(STAMP)
	$(PY) docs/site/build.py build/site

# notebooks: median of 3 with the shared cache, then each from an empty cache (a student's first run: the per-notebook
# table and the course's total); a notebook with one core kept busy; many-model training; autograding against each
# notebook's own run; `make test` from a fresh clone. The ART comparison needs its own venv (benchmarks/art_comparison.py).
benchmark: $(STAMP)
	$(TEST_ENV) $(PY) benchmarks/notebooks.py
	$(TEST_ENV) $(PY) benchmarks/notebooks.py --empty-cache --repeat 1 --budget 60
	$(TEST_ENV) $(PY) benchmarks/contention.py
	MIALAB_PROGRESS=0 $(PY) benchmarks/many_models.py
	$(TEST_ENV) $(PY) benchmarks/grading.py
	$(PY) benchmarks/test_time.py

clean:
	rm -rf $(VENV) datasets/cache .pytest_cache build/site
