# Build, test and re-execute the book. Everything runs inside a local virtual
# environment (.venv) that the first target creates; see README.md.
#
#   make book      build the HTML book into _build/html (readable offline: MathJax and the
#                  widget manager are installed into _vendor/ with npm; CDN without npm)
#   make test      lint + unit tests + nbval (strict) + warnings-as-errors build
#                  + the student edition, checked to hold no solution
#   make test-browser  headless Chromium, network off, opens every page of the built book
#                  (math typeset, figures load, widgets render, no console errors);
#                  screenshots in _build/screenshots/
#   make student   the student edition (solutions removed): HTML in _build/student/html,
#                  notebooks in _build/student/notebooks
#   make lab       JupyterLab on the chapters (live widgets, MyST rendered), in .venv's
#                  python3 kernel; LAB_DIR=_build/student/notebooks for the student copy
#   make test-live JupyterLab on 127.0.0.1 + headless Chromium: run chapter 4, move a Try-it
#                  slider, check the figure and printed numbers redraw
#   make code-budget  visible code lines per chapter (<= 80, none over 88 characters)
#   make execute   re-run notebooks in place (NB=book/xx.ipynb for just one)
#   make bench     print the performance figures
#   make clean     remove _build

# Interpreter used to create .venv: python3.11 when available, else python3.
PY ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
# `python -m pytest` puts the repository root on sys.path, so tests import the `tools` package.
PYTEST := $(BIN)/python -m pytest
STAMP := $(VENV)/.installed
# torch is pinned in requirements.txt to a CPU build (torch==2.13.0); an unpinned torch
# would pull a multi-GB CUDA build.

JB_FLAGS := -W -n --keep-going
INLINE_BACKEND := module://matplotlib_inline.backend_inline
NBVAL_FLAGS := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
	-p no:cacheprovider
# nbval checks every notebook under book/; `make execute` re-runs book/*.ipynb.
ALL_NOTEBOOKS := $(shell find book -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' 2>/dev/null)
NB ?= $(wildcard book/*.ipynb)

# Chromium for `make test-browser` (Debian/Ubuntu: apt-get install chromium chromium-driver)
CHROMIUM ?= $(shell for c in chromium chromium-browser google-chrome google-chrome-stable; do \
	command -v $$c 2>/dev/null && break; done)

.PHONY: install vendor book student test lint unit nbval build student-check execute bench bench-discovery \
	clean test-browser chromium-check lab test-live code-budget

install: $(STAMP)

$(BIN)/python:
	$(PY) -m venv $(VENV)

# Re-installs only when the requirements or the package metadata change.
$(STAMP): requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt
	$(BIN)/python -m ipykernel install --sys-prefix --name python3
	touch $@

# MathJax, require.js and the Jupyter widgets HTML manager, pinned, into _vendor/static
# (never committed); without npm it says so in one line and the pages use the CDN.
vendor: install
	@$(BIN)/python -m tools.vendor_assets

book: install vendor
	$(BIN)/jupyter-book build . $(JB_FLAGS)
	@echo "Book: _build/html/index.html"

# `make test` builds the book under this name.
build: book

test: install lint code-budget unit nbval build student-check

lint: install
	$(BIN)/ruff check .

unit: install
	SYMLAB_PROGRESS=0 $(PYTEST) tests -q -p no:cacheprovider \
		--ignore=tests/test_student_edition.py --ignore=tests/test_browser.py \
		--ignore=tests/test_live.py

# Notebooks are stored with matplotlib's inline backend (figures become display outputs);
# nbval must use the same backend, or every figure cell reports missing outputs.
# pytest exits 5 when it collects nothing; accept that only if book/ has no notebooks.
nbval: install
ifeq ($(strip $(ALL_NOTEBOOKS)),)
	@echo "nbval: no notebooks under book/, skipping"
else
	SYMLAB_PROGRESS=0 MPLBACKEND=$(INLINE_BACKEND) $(PYTEST) $(NBVAL_FLAGS) book/
endif

# The student edition: the same book with every exercise solution removed.
student: install vendor
	$(BIN)/python -m tools.student_edition

student-check: build student
	$(PYTEST) tests/test_student_edition.py -q -p no:cacheprovider

# Checked before the build, so a machine without Chromium fails fast with the fix.
chromium-check:
	@if [ -z "$(CHROMIUM)" ]; then \
		echo "make test-browser needs Chromium: sudo apt-get install -y chromium chromium-driver" \
			"(Debian/Ubuntu), or pass CHROMIUM=/path/to/chrome"; exit 1; fi

test-browser: chromium-check build
	CHROMIUM=$(CHROMIUM) $(PYTEST) tests/test_browser.py -v -s -p no:cacheprovider --tb=short

# JupyterLab in this environment: this .venv's python3 kernel comes first on JUPYTER_PATH
# (before any user-level kernel of that name); jupyterlab-myst renders the book's MyST.
LAB_DIR ?= book
LAB_FLAGS ?=
lab: install
	JUPYTER_PATH="$(abspath $(VENV))/share/jupyter$${JUPYTER_PATH:+:$$JUPYTER_PATH}" \
		$(BIN)/jupyter lab --notebook-dir="$(LAB_DIR)" \
		$$([ "$$(id -u)" = 0 ] && echo --allow-root) $(LAB_FLAGS)

test-live: install chromium-check
	CHROMIUM=$(CHROMIUM) $(PYTEST) tests/test_live.py -v -s -p no:cacheprovider --tb=short

# Each chapter within its budget of visible code, and no code block repeated across chapters.
code-budget: install
	$(BIN)/python -m tools.code_budget

execute: install
	SYMLAB_PROGRESS=0 $(BIN)/python -m tools.execute_notebooks $(NB)

bench: install
	$(BIN)/python -m symlab.bench

# The discovery suite: sl.discover with its defaults on every problem of symlab.problems.
bench-discovery: install
	$(BIN)/python -m symlab.bench discovery

clean:
	rm -rf _build
