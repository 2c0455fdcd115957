# Two commands matter: `make run` and `make test`. Both set up .venv when it is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000
# Two processes on two cores; each test module keeps its own database, so modules run independently. Modules are
# handed out in collection order (tests/conftest.py puts the longest first), not by their number of tests.
PYTEST_ARGS ?= -n 2 --dist loadfile --no-loadscope-reorder

.PHONY: messages run test lint format migrate demo clean syscheck screenshots letters-preview bench-letters bench-dashboard bench-trail-export

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
	  { echo "TKM needs Python 3.11 or newer (found: $$($(PYTHON) --version 2>&1))."; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || \
	  { echo "Could not create $(VENV). On Debian/Ubuntu: sudo apt-get install python3-venv"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

syscheck: $(STAMP)
	@$(BIN)/python -m tkm.core.syscheck

run: syscheck
	$(BIN)/tkm run --host $(HOST) --port $(PORT)

test: syscheck
	$(BIN)/ruff check tkm tests bench
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check tkm tests bench

format: $(STAMP)
	$(BIN)/ruff format tkm tests bench
	$(BIN)/ruff check --fix tkm tests bench

migrate: $(STAMP)
	$(BIN)/tkm migrate

demo: $(STAMP)
	$(BIN)/tkm demo

# One letter of every kind from the demo, signed, as PNG pages in docs/letters (index: docs/letters/README.md).
letters-preview: syscheck
	$(BIN)/python -m tkm.documents.preview

# Letters: the renderer against plain WeasyPrint, then Celery with 1 and 2 workers; writes docs/benchmarks.md.
bench-letters: syscheck
	$(BIN)/python -m bench.letters --batch 500

# Dashboard: GET /api/v1/dashboard over HTTP against its raw SQL on `tkm demo --scale 10000` (PostgreSQL); writes docs/benchmarks.md.
bench-dashboard: syscheck
	$(BIN)/python -m bench.dashboard --groups 10000

# Whole funds-trail export: CSV and XLSX over HTTP (time, peak RSS of the server) against raw asyncpg + csv/openpyxl
# on `tkm demo --scale 34000` (about a million trail lines, PostgreSQL); writes docs/benchmarks.md.
bench-trail-export: syscheck
	$(BIN)/python -m bench.trail_export --groups 34000

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis

# Re-extract translatable text into tkm/locale/messages.pot and merge it into the id/en catalogs.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 -k N_ --no-location --sort-output \
	  --project=TKM -o tkm/locale/messages.pot tkm templates
	$(BIN)/pybabel update -i tkm/locale/messages.pot -d tkm/locale -w 120 --no-fuzzy-matching --ignore-obsolete

# Run the browser journey (Debian's chromium) and keep its screenshots of the main pages in docs/screenshots.
screenshots: $(STAMP)
	TKM_SCREENSHOTS=1 $(BIN)/python -m pytest tests/e2e/test_journey.py -q
