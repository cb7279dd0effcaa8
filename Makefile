# customer_credit harness: `make demo` and `make test` set everything up on a fresh
# Debian machine that has the Odoo 18.0 source at $(ODOO_PATH).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ODOO_PATH ?= /opt/odoo18
ODOO_GIT ?= https://github.com/odoo/odoo.git
CACHE ?= $(HOME)/.cache/customer_credit
VENV ?= $(CACHE)/venv
PYTHON ?= python3
BUILD := $(CURDIR)/.build
CONF := $(BUILD)/odoo.conf
PY := $(VENV)/bin/python
DB_HOST ?= 127.0.0.1
DB_PORT ?= 5432
DB_USER ?= odoo
DB_PASSWORD ?= odoo
PG_VERSION ?= 15
BASE_MODULES := point_of_sale,website_sale
BASE_DB ?= cc_base
DEMO_DB ?= customer_credit_demo
TEST_DB ?= customer_credit_test
HTTP_PORT ?= 8069
PYTEST_ARGS ?=
BENCH_N ?= 200
TESTS ?= tests
APT_PACKAGES := libpq-dev libldap2-dev libsasl2-dev postgresql chromium wkhtmltopdf
export PGHOST := $(DB_HOST)
export PGPORT := $(DB_PORT)
export PGUSER := $(DB_USER)
export PGPASSWORD := $(DB_PASSWORD)

.PHONY: help odoo system venv postgres config base template test demo bench bench-pos bench-ewallet bench-close bench-deps bench-src lint clean devtest devpytest

help:
	@echo "make demo   - set up and serve a demo database on http://127.0.0.1:$(HTTP_PORT) (admin/admin)"
	@echo "make test   - set up and run the whole test suite (pytest-odoo, tours in headless Chromium)"
	@echo "make lint   - ruff and pylint-odoo"

# --- Odoo 18 source ---------------------------------------------------------
odoo:
	@if [ ! -f "$(ODOO_PATH)/odoo-bin" ]; then \
	  echo "Odoo 18.0 not found at ODOO_PATH=$(ODOO_PATH); trying: git clone --depth 1 --branch 18.0 $(ODOO_GIT) $(ODOO_PATH)"; \
	  if ! git clone --depth 1 --branch 18.0 "$(ODOO_GIT)" "$(ODOO_PATH)" </dev/null; then \
	    echo "ERROR: Odoo 18.0 Community source is required and could not be found or cloned." >&2; \
	    echo "Provide it at \$$ODOO_PATH (default /opt/odoo18), for example:" >&2; \
	    echo "  git clone --depth 1 --branch 18.0 $(ODOO_GIT) /opt/odoo18" >&2; \
	    echo "or run: make test ODOO_PATH=/path/to/odoo-18.0" >&2; \
	    exit 1; \
	  fi; \
	fi
	@grep -q "version_info = (18, 0" "$(ODOO_PATH)/odoo/release.py" || { echo "ERROR: $(ODOO_PATH) is not Odoo 18.0" >&2; exit 1; }

# --- Debian packages --------------------------------------------------------
system:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# --- Python venv with Odoo's requirements and ours ----------------------------
VENV_KEY := $(shell cat $(ODOO_PATH)/requirements.txt requirements-dev.txt 2>/dev/null | sha1sum | cut -c1-12)
venv: odoo system
	@if [ ! -f "$(VENV)/.ok-$(VENV_KEY)" ]; then \
	  echo "Creating the venv in $(VENV)"; \
	  rm -rf "$(VENV)"; $(PYTHON) -m venv "$(VENV)"; \
	  $(PY) -m pip install -q --upgrade "pip<25" "setuptools<70" wheel; \
	  sed -e 's/^cbor2==5\.4\.2/cbor2==5.6.2/' "$(ODOO_PATH)/requirements.txt" > "$(VENV)/odoo-requirements.txt"; \
	  $(PY) -m pip install -q --no-build-isolation -r "$(VENV)/odoo-requirements.txt"; \
	  $(PY) -m pip install -q --no-build-isolation -r requirements-dev.txt; \
	  touch "$(VENV)/.ok-$(VENV_KEY)"; \
	fi
	@# Odoo itself, editable, so that click-odoo and pytest-odoo import it from $(ODOO_PATH)
	@$(PY) -c "import odoo, os, sys; sys.exit(os.path.realpath(os.path.dirname(odoo.__file__)) != os.path.realpath('$(ODOO_PATH)/odoo'))" 2>/dev/null \
	  || $(PY) -m pip install -q --no-deps --no-build-isolation -e "$(ODOO_PATH)"

PG_ADMIN := runuser -u postgres -- env -u PGHOST -u PGUSER -u PGPASSWORD psql -p $(DB_PORT) -d postgres

# --- PostgreSQL with a login role (Odoo refuses the postgres role) -----------
postgres: system
	@if ! pg_lsclusters -h | grep -q "^$(PG_VERSION) *main .*online"; then \
	  pg_ctlcluster $(PG_VERSION) main start || { pg_createcluster $(PG_VERSION) main && pg_ctlcluster $(PG_VERSION) main start; }; \
	fi
	@for i in $$(seq 30); do pg_isready -q -h $(DB_HOST) -p $(DB_PORT) && break; sleep 1; done
	@$(PG_ADMIN) -tAc "SELECT 1 FROM pg_roles WHERE rolname='$(DB_USER)'" | grep -q 1 \
	  || $(PG_ADMIN) -qc "CREATE ROLE $(DB_USER) LOGIN CREATEDB PASSWORD '$(DB_PASSWORD)'"

# --- Odoo config: the checkout is linked as customer_credit on the addons path
config: odoo
	@mkdir -p $(BUILD)/addons
	@ln -sfn $(CURDIR) $(BUILD)/addons/customer_credit
	@printf '%s\n' "[options]" \
	  "addons_path = $(ODOO_PATH)/odoo/addons,$(ODOO_PATH)/addons,$(BUILD)/addons" \
	  "data_dir = $(CACHE)/data" \
	  "db_host = $(DB_HOST)" "db_port = $(DB_PORT)" "db_user = $(DB_USER)" "db_password = $(DB_PASSWORD)" \
	  "admin_passwd = admin" "http_interface = 127.0.0.1" "http_port = $(HTTP_PORT)" \
	  "without_demo = False" "max_cron_threads = 1" > $(CONF)

# --- Databases: a cached template of the dependencies, then one per addon hash
ADDON_KEY := $(shell find . -path ./.git -prune -o -path ./.build -prune -o -path ./tests -prune \
	-o -path ./bench -prune -o -path ./readme -prune -o -path ./.ci -prune -o -path ./static/tests -prune -o -name '__pycache__' -prune \
	-o -type f ! -name '*.pyc' ! -name '*.rst' ! -name 'Makefile' ! -name 'requirements-dev.txt' ! -name '.gitignore' -print | LC_ALL=C sort | xargs sha1sum | sha1sum | cut -c1-12)
TPL_DB := cc_tpl_$(ADDON_KEY)

base: venv postgres config
	@$(VENV)/bin/click-odoo-initdb -c $(CONF) -n $(BASE_DB) -m $(BASE_MODULES) --unless-exists --cache-max-age -1 --log-level warn

template: base
	@if ! psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$(TPL_DB)'" | grep -q 1; then \
	  echo "Installing customer_credit in template $(TPL_DB)"; \
	  for db in $$(psql -d postgres -tAc "SELECT datname FROM pg_database WHERE datname LIKE 'cc_tpl_%'"); do \
	    $(VENV)/bin/click-odoo-dropdb -c $(CONF) "$$db"; done; \
	  $(VENV)/bin/click-odoo-copydb -c $(CONF) $(BASE_DB) $(TPL_DB); \
	  $(PY) $(ODOO_PATH)/odoo-bin -c $(CONF) -d $(TPL_DB) -i customer_credit --stop-after-init --no-http --log-level=warn \
	    || { $(VENV)/bin/click-odoo-dropdb -c $(CONF) $(TPL_DB); exit 1; }; \
	fi

test: template
	@$(VENV)/bin/click-odoo-dropdb -c $(CONF) --if-exists $(TEST_DB)
	@$(VENV)/bin/click-odoo-copydb -c $(CONF) $(TPL_DB) $(TEST_DB)
	@# pytest is given the linked path, so test modules import as odoo.addons.customer_credit.tests
	cd $(BUILD)/addons && $(VENV)/bin/pytest -p no:cacheprovider \
	  --odoo-config=$(CONF) --odoo-database=$(TEST_DB) --odoo-http --odoo-log-level=warn \
	  $(PYTEST_ARGS) $(addprefix $(BUILD)/addons/customer_credit/,$(TESTS))

demo: template
	@pkill -f "[o]doo-bin .*-d $(DEMO_DB)" || true
	@$(VENV)/bin/click-odoo-dropdb -c $(CONF) --if-exists $(DEMO_DB)
	@$(VENV)/bin/click-odoo-copydb -c $(CONF) $(TPL_DB) $(DEMO_DB)
	@echo "Serving customer_credit demo on http://127.0.0.1:$(HTTP_PORT) (login admin / password admin)"
	$(PY) $(ODOO_PATH)/odoo-bin -c $(CONF) -d $(DEMO_DB) --db-filter='^$(DEMO_DB)$$'

# Developer loop (not CI): one persistent database per developer, updated in place, tests by tag.
#   make devtest DEV_DB=cc_dev_me DEV_PORT=8071 TAGS=/customer_credit:TestCreditMovements
DEV_DB ?= cc_dev
DEV_PORT ?= 8071
TAGS ?= /customer_credit
devtest: base
	@if psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$(DEV_DB)'" | grep -q 1; then mode=-u; \
	  else $(VENV)/bin/click-odoo-copydb -c $(CONF) $(BASE_DB) $(DEV_DB); mode=-i; fi; \
	$(PY) $(ODOO_PATH)/odoo-bin -c $(CONF) -d $(DEV_DB) $$mode customer_credit --test-tags '$(TAGS)' \
	  --stop-after-init --http-port $(DEV_PORT) --log-level=test 2>&1 | tee $(BUILD)/devtest-$(DEV_DB).log \
	  | grep -E "(ERROR|FAIL|CRITICAL|Traceback|tests when loading| ran [0-9]+ tests|failed, )" || true

# Same database, through pytest-odoo as `make test` runs it (needed for tests that open their own
# cursors in threads, e.g. test_concurrency.py): run `make devtest` first to update the addon.
#   make devpytest DEV_DB=cc_dev_me DEV_PORT=8071 TESTS=tests/test_concurrency.py
devpytest: config
	sed 's/^http_port = .*/http_port = $(DEV_PORT)/' $(CONF) > $(BUILD)/odoo-$(DEV_DB).conf
	cd $(BUILD)/addons && $(VENV)/bin/pytest -p no:cacheprovider -q \
	  --odoo-config=$(BUILD)/odoo-$(DEV_DB).conf --odoo-database=$(DEV_DB) --odoo-http --odoo-log-level=warn \
	  $(PYTEST_ARGS) $(addprefix $(BUILD)/addons/customer_credit/,$(TESTS)) 2>&1 | tail -40

# Benchmarks (bench/README.md). Every script runs on a scratch copy of $(BENCH_SRC): by default the
# test template (built if missing); BENCH_SRC=<db> uses another database with customer_credit
# installed (it is copied once to $(BENCH_DB)_src and updated there to the current code, never changed
# itself). The multi-process benches serve, one after the other, on 127.0.0.1:$(BENCH_PORT) and $(BENCH_PORT)+1.
#   make bench BENCH_SRC=cc_dev BENCH_DB=cc_bench_me BENCH_PORT=8074 BENCH_SCALE_N=100000
BENCH_SRC ?= $(TPL_DB)
BENCH_DB ?= cc_bench
BENCH_PORT ?= 8074
BENCH_POS_N ?= 1000
BENCH_MP_N ?= 400
BENCH_CHANNELS_N ?= 200
BENCH_SCALE_N ?= 1000000
BENCH_RESULTS := $(BUILD)/bench-results.jsonl
BENCH_ORIGIN := $(if $(filter $(TPL_DB),$(BENCH_SRC)),$(TPL_DB),$(BENCH_DB)_src)
# $(call bench_run,<script>,<db>,<args>): a fresh copy of the source, the script, the copy dropped; a
# script that fails is listed as such in the summary, and the other scripts still run
define bench_run
	$(VENV)/bin/click-odoo-dropdb -c $(CONF) --if-exists $(2)
	$(VENV)/bin/click-odoo-copydb -c $(CONF) $(BENCH_ORIGIN) $(2)
	$(if $(4),$(PY) $(ODOO_PATH)/odoo-bin -c $(CONF) -d $(2) -i $(4) --stop-after-init --no-http --log-level=warn || true)
	BENCH_RESULTS=$(BENCH_RESULTS) BENCH_LOGDIR=$(BUILD) $(PY) bench/$(1) $(CONF) $(2) $(3) \
	  || echo '{"figure": "$(1)", "measured": "failed", "target": "runs", "ok": false}' >> $(BENCH_RESULTS)
	$(VENV)/bin/click-odoo-dropdb -c $(CONF) --if-exists $(2)
endef

# matplotlib for the chart; gevent's zope.* for the longpolling process of odoo-bin --workers (versions whose
# metadata the venv's old pkg_resources still finds)
bench-deps: venv config
	@$(PY) -W ignore -c "import matplotlib, pkg_resources; pkg_resources.require('gevent')" 2>/dev/null \
	  || $(PY) -m pip install -q matplotlib "zope.interface<7" "zope.event<6"

bench-src: $(if $(filter $(TPL_DB),$(BENCH_SRC)),template) bench-deps
	@if [ "$(BENCH_ORIGIN)" != "$(TPL_DB)" ]; then \
	  $(VENV)/bin/click-odoo-dropdb -c $(CONF) --if-exists $(BENCH_ORIGIN); \
	  $(VENV)/bin/click-odoo-copydb -c $(CONF) $(BENCH_SRC) $(BENCH_ORIGIN); \
	  $(PY) $(ODOO_PATH)/odoo-bin -c $(CONF) -d $(BENCH_ORIGIN) -u customer_credit --stop-after-init --no-http \
	    --log-level=warn; \
	fi

bench: bench-src
	@rm -f $(BENCH_RESULTS)
	$(call bench_run,bench_service.py,$(BENCH_DB),$(BENCH_N))
	$(call bench_run,bench_pos_sync.py,$(BENCH_DB),$(BENCH_POS_N))
	$(call bench_run,bench_pos_ewallet.py,$(BENCH_DB)_loyalty,$(BENCH_POS_N),pos_loyalty)
	$(call bench_run,bench_session_close.py,$(BENCH_DB),$(BENCH_POS_N))
	$(call bench_run,bench_workers.py,$(BENCH_DB)_mp,$(BENCH_MP_N) $(BENCH_PORT))
	$(call bench_run,bench_channels.py,$(BENCH_DB)_mp,$(BENCH_CHANNELS_N) $(BENCH_PORT))
	$(call bench_run,bench_scale.py,$(BENCH_DB)_scale,$(BENCH_SCALE_N) bench/spend_vs_ledger.png)
	@if [ "$(BENCH_ORIGIN)" != "$(TPL_DB)" ]; then $(VENV)/bin/click-odoo-dropdb -c $(CONF) $(BENCH_ORIGIN); fi
	@$(PY) bench/summary.py $(BENCH_RESULTS)

# $(call bench_only,<script>,<db>,<args>[,<module>]): one script, as `make bench` runs it, and its summary
define bench_only
	@rm -f $(BENCH_RESULTS)
	$(call bench_run,$(1),$(2),$(3),$(4))
	@if [ "$(BENCH_ORIGIN)" != "$(TPL_DB)" ]; then $(VENV)/bin/click-odoo-dropdb -c $(CONF) $(BENCH_ORIGIN); fi
	@$(PY) bench/summary.py $(BENCH_RESULTS)
endef

bench-pos: bench-src
	$(call bench_only,bench_pos_sync.py,$(BENCH_DB)_pos,$(BENCH_POS_N))

bench-ewallet: bench-src
	$(call bench_only,bench_pos_ewallet.py,$(BENCH_DB)_loyalty,$(BENCH_POS_N),pos_loyalty)

bench-close: bench-src
	$(call bench_only,bench_session_close.py,$(BENCH_DB)_close,$(BENCH_POS_N))

lint: venv config
	@$(PY) -m pip install -q ruff pylint-odoo
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .
	cd $(BUILD)/addons && $(VENV)/bin/pylint --load-plugins=pylint_odoo --disable=all --enable=odoolint \
	  --valid-odoo-versions=18.0 --disable=manifest-required-author customer_credit

clean:
	rm -rf $(BUILD)
