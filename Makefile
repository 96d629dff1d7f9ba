# Thin wrapper: tasks.py does everything (only Python 3.11+ and pip are required).
PYTHON ?= python3
ARGS ?=

.PHONY: lab demo test setup

lab:
	$(PYTHON) tasks.py lab $(ARGS)

demo:
	$(PYTHON) tasks.py demo $(ARGS)

test:
	$(PYTHON) tasks.py test $(ARGS)

setup:
	$(PYTHON) tasks.py setup test,compare,notebooks
