# Developer entry points. Every target sets up what it needs first (tools/bootstrap.sh is incremental).
VENV ?= $(CURDIR)/.venv
PY := $(VENV)/bin/python
export OMNI_VENV := $(VENV)

.PHONY: setup demo test bench clean
setup:
	@tools/bootstrap.sh

# Main job: replay the bundled scenario through omni_node, set a watch through the action, print alerts.
demo: setup
	@$(PY) -m omni_ros.ros.demo

test: setup
	@$(PY) -m pytest

# Ratios against baselines measured in the same run: input path, CPU backend, MiniCPM-o adapter, barge-in;
# goals per second omni_node accepts and what a client sees beyond that;
# alert latency over DDS at 1x next to the unit-end floor (a few minutes: every run replays in real time).
bench: setup
	@$(PY) -m omni_ros.tools.bench_ingest
	@$(PY) -m omni_ros.tools.bench_cpu
	@$(PY) -m omni_ros.tools.bench_minicpmo
	@$(PY) -m omni_ros.tools.bench_bargein
	@$(PY) -m omni_ros.tools.bench_goals
	@$(PY) -m omni_ros.tools.bench_latency

clean:
	rm -rf build .venv .venv-jazzy .pytest_cache
