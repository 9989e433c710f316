"""The alert-latency benchmark runs over DDS and measures (figures are printed, not asserted)."""

from __future__ import annotations

import json

import pytest

from omni_ros.tools import bench_latency


@pytest.mark.bench
def test_bench_latency_measures_cpu_and_the_floor(tmp_path, capsys):
    out = tmp_path / 'latency.json'
    code = bench_latency.main(['--scenarios', 'crossing', '--backends', 'cpu', 'floor', '--camera', 'none',
                               '--json', str(out)])
    text = capsys.readouterr().out
    assert code == 0, text
    runs = json.loads(out.read_text())
    assert {r['backend'] for r in runs} == {'cpu', 'floor'} and not any(r['error'] for r in runs), runs
    measured = [s for r in runs for s in r['samples'] if s['latency'] is not None]
    assert {s['backend'] for s in measured} == {'cpu', 'floor'}
    assert all('output_delay_max_ms' in r['diagnostics'] for r in runs)  # the node-added delay was measured
    assert 'latency p50/p95/max' in text and 'load before' in text
