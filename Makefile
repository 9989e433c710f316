# Developer entry points. Every target sets up what it needs first (tools/bootstrap.sh is incremental).
VENV ?= $(CURDIR)/.venv
PY := $(VENV)/bin/python
export OMNI_VENV := $(VENV)

.PHONY: setup demo test bench clean
setup:
	@tools/bootstrap.sh

# Main job: replay the bundled scenario through omni_node, set a watch through the action, print alerts.
demo: setup
	@$(PY) -m omni_ros.tools.demo

test: setup
	@$(PY) -m pytest

bench: setup
	@$(PY) -m omni_ros.tools.bench_ingest

clean:
	rm -rf build .venv .pytest_cache
