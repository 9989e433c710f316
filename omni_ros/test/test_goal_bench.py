"""The goal benchmark runs briefly over DDS (figures are printed, not asserted beyond their being measured)."""

from __future__ import annotations

import pytest

from omni_ros.tools import bench_goals


@pytest.mark.bench
@pytest.mark.dds
def test_bench_goals_measures_acceptance_results_and_load_shedding(capsys) -> None:
    assert bench_goals.main(['--goals', '100', '--limit', '40']) == 0
    out = capsys.readouterr().out
    print(out)
    assert 'goals/s' in out and 'results/s' in out and 'beyond max_goals 40' in out
    # Measured, not made up: with matching QoS every request and every result is answered.
    assert '100 SetWatch requests at once, 100 accepted' in out
    assert '100 goals ended at once (cancel-all), 100 results' in out
    assert '80 at once, 40 accepted, 40 rejected with an answer, 0 unanswered' in out
