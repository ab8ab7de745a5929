# Portside — the commands a learner or CI needs:
#   make start       set everything up, then start JupyterLab on the lessons (prints the URL with its token)
#   make test        set everything up, then run every test: unit, engine, labs, and every notebook (nbval) on a
#                    current engine, then the compatibility run on Debian 12's Engine 20.10 (scripts/test-compat.sh)
#   make test-compat only the compatibility run
#   make test-unit   only the unit tier (tests/unit): no engine, no images, a few seconds
#   make test-browser only the browser test (tests/browser, also part of `make test`): JupyterLab in Debian's
#                    Chromium through Playwright, lesson 00 and lab 00 run from the Run menu; about a minute
.PHONY: setup start test test-unit test-browser test-compat doctor cleanup bench

VENV ?= .venv
# Test processes for `make test` (pytest-xdist). The suite mostly waits on the engine, registries and tools,
# so three workers keep two cores busy. `--dist loadfile` keeps each notebook's cells on one worker; conftest.py
# refines it so that the files using a lesson's shared local names go to one worker, one after the other.
TEST_WORKERS ?= 3

setup:
	scripts/setup.sh

start: setup
	$(VENV)/bin/portside start

test: setup
	scripts/test-deps.sh
	@$(VENV)/bin/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo 'make test: pytest collected no tests, which counts as a failure.' >&2; rc=1; fi; \
	TEST_WORKERS=$(TEST_WORKERS) scripts/test-compat.sh; compat=$$?; \
	if [ $$rc -ne 0 ]; then exit $$rc; fi; exit $$compat

test-compat:
	TEST_WORKERS=$(TEST_WORKERS) scripts/test-compat.sh

test-unit:
	scripts/setup.sh --venv-only
	@$(VENV)/bin/python -m pytest tests/unit $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo 'make test-unit: pytest collected no tests, which counts as a failure.' >&2; exit 1; fi; exit $$rc

test-browser: setup
	scripts/test-deps.sh
	@$(VENV)/bin/python -m pytest tests/browser $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo 'make test-browser: pytest collected no tests, which counts as a failure.' >&2; exit 1; fi; \
	echo 'make test-browser: screenshots in test-artifacts/browser/'; exit $$rc

doctor:
	$(VENV)/bin/portside doctor

cleanup:
	$(VENV)/bin/portside cleanup

bench: setup
	$(VENV)/bin/python benchmarks/run_all.py
