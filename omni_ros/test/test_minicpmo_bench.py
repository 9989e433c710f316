"""The adapter benchmark runs (figures are printed, not asserted)."""

from __future__ import annotations

import pytest

from omni_ros.tools import bench_minicpmo


@pytest.mark.bench
def test_bench_minicpmo_runs(capsys):
    assert bench_minicpmo.main(['--units', '3']) == 0
    out = capsys.readouterr().out
    assert '1 frame 1280x720' in out and '5 stacked frames' in out and 'ms' in out
