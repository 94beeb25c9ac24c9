# Jixiao (绩效) — the two commands that matter: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HTMX   := core/static/vendor/htmx.min.js
MO     := core/translations/zh/LC_MESSAGES/messages.mo
HOST   ?= 127.0.0.1
PORT   ?= 5000
DEMO_TENANTS := tenants/jituan tenants/xiaoshou tenants/zhen

.PHONY: run test install setup demo translations extract-messages bench clean

run: setup demo  ## Create .venv, install, migrate, load the demo tenants, serve on http://127.0.0.1:5000
	$(BIN)/jixiao run --host $(HOST) --port $(PORT)

test: setup  ## Install and run the whole test suite (SQLite; PostgreSQL too when JIXIAO_TEST_DATABASE_URL is set)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

setup: $(STAMP) $(HTMX) $(MO)

install: $(STAMP)

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,prod]'
	touch $(STAMP)

# htmx comes from the npm registry at the version pinned in package-lock.json, served by the app.
$(HTMX): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p core/static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $(HTMX)

$(MO): core/translations/zh/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile -d core/translations

translations: $(MO)

extract-messages: $(STAMP)  ## Refresh the message catalog after changing UI text
	$(BIN)/pybabel extract -F babel.cfg -k _l -o core/translations/messages.pot core plugins templates
	$(BIN)/pybabel update -i core/translations/messages.pot -d core/translations --no-fuzzy-matching

demo: setup
	$(BIN)/jixiao db upgrade
	$(BIN)/jixiao tenant load --demo $(DEMO_TENANTS)
	$(BIN)/jixiao corporate demo-year jituan
	$(BIN)/jixiao sales demo-year xiaoshou
	$(BIN)/jixiao township demo-year zhen
	$(BIN)/jixiao platform create-admin platform --demo

# PostgreSQL figures use the local server unless JIXIAO_BENCH_DATABASE_URL names another.
bench: setup
	JIXIAO_BENCH_DATABASE_URL=$${JIXIAO_BENCH_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} $(BIN)/python -m bench

clean:
	rm -rf $(VENV) node_modules core/static/vendor instance .pytest_cache $(MO)
