# hikikomori: `make run` and `make test` do all set-up on a fresh machine (Python 3.11 + make).
PYTHON ?= python3.11
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
DATA_DIR ?= data
INBOX := $(DATA_DIR)/inbox
WAREHOUSE := $(DATA_DIR)/warehouse/hikikomori.duckdb

# Never download a Python: use the machine's 3.11.
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)

.DEFAULT_GOAL := help
.PHONY: help setup run test test-fast lint format examples bench bench-portal clean docs system-packages

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode
	$(VENV)/bin/python -m compileall -q hikikomori  # the project's own modules too (an editable install)
	@touch $@

setup: $(VENV)/.synced ## Create .venv from the lockfile (uv installed into .tools)

run: setup ## Copy the bundled example submissions into data/inbox and run the pipeline
	@mkdir -p $(INBOX)
	cp -pR examples/submissions/. $(INBOX)/  # -p keeps each example's own time: the order files are taken in
	$(VENV)/bin/hikikomori run --inbox $(INBOX) --warehouse $(WAREHOUSE)

# Tests run on every core (pytest-xdist): on 2 cores the suite took 339 s instead of 621 s.
test: setup system-packages ## Run the whole test suite (integration, browser and LibreOffice tests included)
	HIKIKOMORI_TESTS_NEED_SYSTEM_PACKAGES=1 $(VENV)/bin/pytest -n auto

# Programs some tests drive, from Debian's packages: the OS Chromium (Playwright cannot download its own
# browser here) with a Japanese font for the pages it photographs, and LibreOffice with poppler to open and
# print the workbooks as staff and analysts do. Installed as root when missing; under `make test` a test
# whose program is missing fails instead of being skipped (HIKIKOMORI_TESTS_NEED_SYSTEM_PACKAGES).
SYSTEM_PACKAGES := chromium fonts-noto-cjk libreoffice-calc poppler-utils
system-packages: ## Install the Debian packages the browser and LibreOffice tests drive (as root, when missing)
	@missing=$$(for package in $(SYSTEM_PACKAGES); do dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "ok installed" || echo $$package; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
		else \
			echo "make test needs the Debian packages: $$missing (run: sudo make system-packages)" >&2; exit 1; \
		fi; \
	fi

test-fast: setup ## Run the tests without the slower end-to-end ones
	$(VENV)/bin/pytest -n auto -m "not integration"

lint: setup ## Check style (ruff, sqlfluff), types (mypy) and the layer contract (import-linter, pyproject.toml)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/sqlfluff lint sql
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format: setup ## Apply ruff's formatting and safe fixes
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

examples: setup ## Regenerate examples/submissions (seeded, deterministic)
	$(VENV)/bin/python examples/generate_submissions.py

BENCH_VENV := .venv-bench

bench: setup ## Benchmark: hikikomori run on 2,000-10,000 generated files against DuckDB's floor (temp folder)
	@# Measured as production installs it: no dev dependencies (pandera imports hypothesis when present),
	@# bytecode compiled ahead (with PYTHONDONTWRITEBYTECODE set, every start would compile pandas and Prefect).
	@# The pre-check is measured in .venv too, the environment `make setup` builds.
	UV_PROJECT_ENVIRONMENT=$(BENCH_VENV) $(UV) sync --frozen --no-dev --compile-bytecode --quiet
	$(BENCH_VENV)/bin/python -m compileall -q hikikomori
	$(BENCH_VENV)/bin/python bench/run_bench.py --setup-venv $(VENV)

bench-portal: $(UV) ## Benchmark the portal: one upload's verdict, and 67 centers uploading at once (temp folder)
	UV_PROJECT_ENVIRONMENT=$(BENCH_VENV) $(UV) sync --frozen --no-dev --compile-bytecode --quiet
	$(BENCH_VENV)/bin/python -m compileall -q hikikomori
	$(BENCH_VENV)/bin/python bench/portal_bench.py

clean: ## Remove the working data folder (warehouse, archive, quarantine, inbox)
	rm -rf $(DATA_DIR)

docs: setup ## Regenerate docs/warehouse.md (from a warehouse built from the examples) and the rule table of docs/center_guide.md
	rm -rf $(DATA_DIR)/docs-build && mkdir -p $(DATA_DIR)/docs-build/inbox
	cp -pR examples/submissions/. $(DATA_DIR)/docs-build/inbox/
	$(VENV)/bin/hikikomori run --inbox $(DATA_DIR)/docs-build/inbox --warehouse $(DATA_DIR)/docs-build/warehouse.duckdb > /dev/null
	$(VENV)/bin/hikikomori docs --warehouse $(DATA_DIR)/docs-build/warehouse.duckdb --out docs/warehouse.md
	$(VENV)/bin/python -m hikikomori.schemas.center_guide docs/center_guide.md
