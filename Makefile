# Portside — the two commands a learner or CI needs:
#   make start   set everything up, then start JupyterLab on the lessons (prints the URL with its token)
#   make test    set everything up, then run the unit tests and every notebook (nbval)
.PHONY: setup start test doctor cleanup bench

VENV ?= .venv

setup:
	scripts/setup.sh

start: setup
	$(VENV)/bin/portside start

test: setup
	scripts/test-deps.sh
	@$(VENV)/bin/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo 'make test: pytest collected no tests, which counts as a failure.' >&2; exit 1; fi; exit $$rc

doctor:
	$(VENV)/bin/portside doctor

cleanup:
	$(VENV)/bin/portside cleanup

bench: setup
	$(VENV)/bin/python benchmarks/run_all.py
