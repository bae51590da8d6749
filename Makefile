# Sportello: `make run` chats (terminal, or Telegram with TELEGRAM_BOT_TOKEN); `make test` checks everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench messages lock clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/sportello db upgrade
	$(BIN)/sportello run

test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check bot tests bench migrations
	$(BIN)/ruff format --check bot tests bench migrations
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q -n 2 --dist loadfile

bench: $(STAMP)
	$(BIN)/python bench/updates.py
	$(BIN)/python bench/faq.py
	$(BIN)/python bench/booking.py
	$(BIN)/python bench/whatsapp.py
	$(BIN)/python bench/broadcast.py --quick

# Re-extract the Italian source strings and merge them into every catalog.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ -o locale/sportello.pot --no-location --omit-header bot
	$(BIN)/pybabel update -i locale/sportello.pot -d locale -D sportello --no-fuzzy-matching --ignore-obsolete

# Exact versions for production installs (README: Install in production);
# `make lock LOCK_ARGS=--upgrade` takes the newest releases the ranges allow.
lock: $(STAMP)
	$(BIN)/pip-compile $(LOCK_ARGS) --quiet --strip-extras --no-emit-index-url --no-emit-find-links \
		--annotation-style=line --output-file=requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache
