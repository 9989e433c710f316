"""The README's main job, run as users run it: default backend, bundled scenario, real processes."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.dds


def test_demo_prints_each_alert_with_sim_time_and_watch_id_and_exits_0() -> None:
    env = dict(os.environ)
    for key in ('ROS_DOMAIN_ID', 'ROS_HOME'):  # the demo makes its own private graph
        env.pop(key, None)
    run = subprocess.run([sys.executable, '-m', 'omni_ros.ros.demo'], env=env, capture_output=True, text=True,
                         timeout=300, stdin=subprocess.DEVNULL)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    alerts = re.findall(r'sim (1700000\d{3}\.\d\d) \(t=\s*([\d.]+) s\)\s+ALERT\s+watch ([0-9a-f]{32}) \((\w+)\)', out)
    assert {name for *_, name in alerts} == {'light_green', 'floor_16', 'ding'}, out
    for sim, offset, _, _ in alerts:
        assert float(sim) - 1_700_000_000 == pytest.approx(float(offset), abs=0.06)
    assert 'ok  knock' in out and 'all watches behaved as expected' in out
    # The table's latency is when the alert reached the demo (simulated time) minus the onset: after the
    # start of the unit it refers to, which is shown beside it.
    rows = re.findall(r'ok  (\w+)\s+[\d.]+ s\s+latency \+(\d\.\d\d) s \(unit start ([+-]\d\.\d\d) s\)', out)
    assert {name for name, *_ in rows} == {'light_green', 'floor_16', 'ding'}, out
    assert all(float(latency) > float(start) for _, latency, start in rows), rows
