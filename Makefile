# mialab: `make lab` opens the course, `make test` runs every test. Both set up .venv first if needed.
PYTHON ?= python3
VENV   ?= .venv
# torch is pinned. On Linux, PyPI's torch is the CUDA build (several GB), so the set-up asks PyTorch's CPU index
# first and, where that index cannot be reached within TORCH_PROBE_S seconds, takes PyPI's torch with a note (on
# macOS and Windows PyPI's wheel is the CPU build). TORCH_INDEX=URL overrides, e.g. .../whl/cu128 for CUDA (README,
# "GPU"); TORCH_INDEX=pypi (or empty) takes PyPI's torch everywhere.
TORCH_VERSION ?= 2.13.0
TORCH_CPU_INDEX := https://download.pytorch.org/whl/cpu
TORCH_INDEX   ?= $(if $(filter Linux,$(shell uname -s)),auto,pypi)
TORCH_PROBE_S ?= 10
export MIALAB_PROGRESS ?= 1
# Inside an active conda env that already holds mialab and its dependencies (environment.yml), use that env and build
# no second .venv; MIALAB_CONDA=0 builds .venv anyway. Its set-up only hides nbgrader's instructor tools, once.
MIALAB_CONDA ?= 1
CONDA_READY := $(if $(and $(CONDA_PREFIX),$(filter 1,$(MIALAB_CONDA))),$(shell "$(CONDA_PREFIX)/bin/python" -c \
	"import importlib.metadata as m; [m.version(d) for d in ('mialab', 'torch', 'opacus', 'nbgrader', 'jupyterlab')]" \
	>/dev/null 2>&1 && echo yes))
ifeq ($(CONDA_READY),yes)
ENV_DIR := $(CONDA_PREFIX)
STAMP   := $(ENV_DIR)/.mialab-student-tools
else
ENV_DIR := $(VENV)
STAMP   := $(VENV)/.mialab-installed
endif
PY := $(ENV_DIR)/bin/python
JUPYTER := $(ENV_DIR)/bin/jupyter
# JupyterLab without the news pop-up, the update check and the extension manager's PyPI queries (a course needs none)
LAB_FLAGS := --LabApp.news_url=None --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate \
	--LabApp.extension_manager=readonly
# The package picks its own thread count (mialab.threads: one torch thread for these small models, set where it
# trains or queries), so tests, notebook runs and `make lab` run as a student's laptop does; benchmarks/contention.py
# measures that a busy core does not slow a notebook down.
TEST_ENV := MIALAB_PROGRESS=0
# the tests run on two pytest-xdist workers (the course's reference laptop has two cores; each test's models use one
# thread): a test file, or a notebook, stays on one worker (conftest.py). TEST_WORKERS=0 runs them in this process.
TEST_WORKERS ?= 2
PYTEST := $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

.PHONY: setup torch student-tools lab test lint test-unit test-notebooks release execute benchmark reproduce site clean

setup: $(STAMP)

ifeq ($(CONDA_READY),yes)
$(STAMP):
	@echo "using the active conda env $(CONDA_PREFIX) (it has mialab's dependencies): no .venv is built"
	$(MAKE) --no-print-directory student-tools
	touch $(STAMP)
else
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "mialab needs Python >= 3.10")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first and pinned, so nothing later pulls a CUDA build
	$(MAKE) --no-print-directory torch
	$(PY) -m pip install --quiet -e ".[course,dev,distributed]"
	$(MAKE) --no-print-directory student-tools
	touch $(STAMP)
endif

# torch alone, from TORCH_INDEX (auto: PyTorch's CPU index if it answers, else PyPI with a note)
torch:
ifeq ($(TORCH_INDEX),auto)
	@if $(PY) -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=float(sys.argv[2]))" \
		"$(TORCH_CPU_INDEX)/torch/" "$(TORCH_PROBE_S)" >/dev/null 2>&1; then \
		echo "torch $(TORCH_VERSION): CPU build from $(TORCH_CPU_INDEX)"; \
		$(PY) -m pip install --quiet "torch==$(TORCH_VERSION)" --index-url $(TORCH_CPU_INDEX) \
			--extra-index-url https://pypi.org/simple; \
	else \
		echo "note: $(TORCH_CPU_INDEX) cannot be reached, so torch $(TORCH_VERSION) comes from PyPI (or pip's"; \
		echo "      configured index); on Linux that can be the CUDA build, several GB. TORCH_INDEX=URL chooses."; \
		$(PY) -m pip install --quiet "torch==$(TORCH_VERSION)"; \
	fi
else ifeq ($(filter-out pypi,$(TORCH_INDEX)),)
	$(PY) -m pip install --quiet "torch==$(TORCH_VERSION)"
else
	$(PY) -m pip install --quiet "torch==$(TORCH_VERSION)" --index-url $(TORCH_INDEX) \
		--extra-index-url https://pypi.org/simple
endif

# students see the course, not nbgrader's instructor tools (docs/instructor_guide.md turns them back on), and a lab
# without the news pop-up (jupyter/overrides.json)
student-tools:
	$(JUPYTER) labextension disable --level=sys_prefix --log-level=WARN @jupyter/nbgrader
	for e in formgrader course_list assignment_list validate_assignment; do \
		$(JUPYTER) server extension disable --sys-prefix --log-level=WARN nbgrader.server_extensions.$$e; done
	mkdir -p $(ENV_DIR)/share/jupyter/lab/settings/overrides.d
	cp jupyter/overrides.json $(ENV_DIR)/share/jupyter/lab/settings/overrides.d/mialab.json

lab: $(STAMP)
	$(JUPYTER) lab $(LAB_FLAGS) notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)

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

# the paper-scale reproductions, one after another (minutes each, docs/reproduction.md says how long): each writes
# docs/reproduction/NAME.json and .png, then docs/reproduction.md is regenerated from all of them. One entry:
# `$(PY) -m mialab.reproduce NAME`; DEVICE=cuda trains on a GPU where torch has one.
DEVICE ?= cpu
reproduce: $(STAMP)
	$(PY) -m mialab.reproduce --all --device $(DEVICE)

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
