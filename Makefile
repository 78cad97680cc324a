# make book : set up .venv, execute every notebook, build the HTML book into _build/html
# make test : set up .venv, unit tests, nbval over every notebook, book build with warnings as errors,
#             and every page opened offline in headless Chromium
# make lab  : JupyterLab on the notebooks
# make generate : regenerate core/fast (the formulas as numpy functions) and core/catalogs after a change
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# --all: every page rebuilt (citation labels such as 2025a/2025b are assigned over the whole bibliography, so
# an incremental build can keep a stale label on an unchanged page); executions still come from the cache
JB     := $(BIN)/jupyter-book build . --all --warningiserror --nitpick --keep-going
# pytest workers: one per core (2 on the project's machines); a file's tests stay on one worker
JOBS   ?= $(shell nproc 2>/dev/null || echo 2)
XDIST  := -n $(JOBS) --dist loadfile

.PHONY: book test unit nbval nbval-baseline book-check browser print lab bench generate refit kernel-data aiter-data aic-side-by-side clean

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

book: $(STAMP)
	$(BIN)/python scripts/execute_notebooks.py
	$(JB)
	@echo "The book: $(CURDIR)/_build/html/index.html"

test: unit nbval nbval-baseline book-check browser print

unit: $(STAMP)
	$(BIN)/python -m pytest -q $(XDIST) tests

nbval: $(STAMP)
	$(BIN)/python -m pytest -q $(XDIST) --nbval notebooks --nbval-sanitize-with tests/nbval-sanitize.cfg

# nbval again on numpy's baseline code paths: committed outputs must not depend on the CPU's SIMD
# kernels.  numpy dispatches hot loops at run time to X86_V3 (AVX2), X86_V4 / AVX512_ICL /
# AVX512_SPR (AVX-512) kernels that may differ in the last bit; NPY_DISABLE_CPU_FEATURES turns
# off every dispatched target this CPU has (tests/cpu_dispatch.py lists them), so the two runs
# take different paths on any x86-64 machine with AVX2 or better.  Skipped, with a message,
# where there is nothing to disable (other architectures, or an x86-64 CPU without AVX2).
nbval-baseline: $(STAMP)
	@disable="$$($(BIN)/python tests/cpu_dispatch.py)"; \
	if [ -z "$$disable" ]; then \
	  echo "nbval-baseline: skipped: no dispatched numpy CPU features to disable on $$(uname -m)"; \
	else \
	  echo "nbval-baseline: NPY_DISABLE_CPU_FEATURES=\"$$disable\""; \
	  NPY_DISABLE_CPU_FEATURES="$$disable" $(BIN)/python -m pytest -q $(XDIST) -p no:cacheprovider --nbval notebooks \
	    --nbval-sanitize-with tests/nbval-sanitize.cfg; \
	fi

# The book built with warnings as errors from the committed outputs, which nbval has just re-executed and
# compared (one execution shared by nbval and the build; the Markdown pages, which have no stored outputs,
# are executed).  `make book` executes every notebook and page itself, side by side into the build's cache
# (scripts/execute_notebooks.py), so that the build finds each one executed.
book-check: $(STAMP)
	@sed 's|^  execute_notebooks: .*|  execute_notebooks: force\n  exclude_patterns: ["notebooks/*"]|' _config.yml > .book-check.yml
	$(JB) --config .book-check.yml

# Every built page in headless Chromium with no network (installs Debian's chromium when missing).
browser: book-check
	@command -v chromium >/dev/null 2>&1 || { echo "installing chromium (Debian package)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@if unshare -n true 2>/dev/null; then \
	  unshare -n sh -c 'ip link set lo up && exec $(BIN)/python tests/browser_check.py _build/html --screenshots _build/screenshots'; \
	else \
	  echo "note: cannot make a network namespace here; checking without one"; \
	  $(BIN)/python tests/browser_check.py _build/html --screenshots _build/screenshots; \
	fi

# Static SVG of every captioned chart on one page, for print and PDF (vl-convert, no browser).
print: $(STAMP)
	$(BIN)/python book/_ext/print_view.py . _build/print

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks

bench: $(STAMP)
	$(BIN)/python benchmarks/decode_sweep.py
	$(BIN)/python benchmarks/plan_search.py
	$(BIN)/python benchmarks/cli_speed.py

# Regenerate src/inference_arithmetic/core/fast/ (every formula as a plain numpy function, the answer path's
# numbers without sympy) after adding or changing a formula, and core/catalogs/ (the catalogs an answer reads, as
# Python literals) after editing one; tests/test_fast.py and tests/test_catalog_cache.py check both are current.
generate: $(STAMP)
	$(BIN)/python -m inference_arithmetic.book.codegen --write
	$(BIN)/python -m inference_arithmetic.book.catalog_codegen --write

# Re-fit the pipeline efficiency on DeepSeek's profiles and store it (data/fitted.yaml), then store the validation
# error per class (data/validation_classes.yaml) that the planner quotes; tests check both equal a fresh computation.
refit: $(STAMP)
	$(BIN)/python -m inference_arithmetic.evidence.calibration --write
	$(BIN)/python -m inference_arithmetic.evidence.error_table --write >/dev/null
	$(BIN)/python -m inference_arithmetic.book.catalog_codegen --write

# Re-extract the measured kernel tables of aiconfigurator-core (Apache-2.0) into data/aiconfigurator_kernels.csv.gz,
# in a separate venv (it pulls pandas, pyarrow and scipy); never part of make test or make book.
AIC_VENV ?= /tmp/aic-venv
kernel-data:
	test -x $(AIC_VENV)/bin/python || $(PYTHON) -m venv $(AIC_VENV)
	$(AIC_VENV)/bin/python -m pip install --quiet --disable-pip-version-check aiconfigurator-core==0.12.0
	$(AIC_VENV)/bin/python scripts/extract_kernel_tables.py

# Re-extract AMD AITER's tuned-GEMM and fused-MoE tables (MIT) into data/aiter_kernels.csv.gz and
# data/aiter_moe_kernels.csv.gz from a git mirror of ROCm/aiter at a
# pinned commit (files read with git show; nothing imported); never part of make test or make book.
AITER_MIRROR ?= /work/.mirror/ROCm+aiter/repo
AITER_COMMIT ?= e4048607a535ace3a2b51ded31b1c8c2d45c0879
aiter-data:
	$(PYTHON) scripts/extract_aiter_tables.py $(AITER_MIRROR) $(AITER_COMMIT)

# Re-run aiconfigurator on every validation entry it can express (data/aiconfigurator_predictions.yaml, read by the
# side-by-side in the validation chapter); same separate venv, plus this library's numpy/sympy/PyYAML; never in CI.
aic-side-by-side:
	test -x $(AIC_VENV)/bin/python || $(PYTHON) -m venv $(AIC_VENV)
	$(AIC_VENV)/bin/python -m pip install --quiet --disable-pip-version-check aiconfigurator-core==0.12.0 \
		$$(grep -iE '^(numpy|sympy|pyyaml)==' requirements.txt)
	PYTHONPATH=src $(AIC_VENV)/bin/python benchmarks/aiconfigurator_side_by_side.py

clean:
	rm -rf _build $(VENV) .book-check.yml
