"""The MiniCPM-o benchmarks run (figures are printed, not asserted)."""

from __future__ import annotations

import sys

import pytest

from omni_ros.tools import bench_minicpmo


@pytest.mark.bench
def test_bench_minicpmo_adapter_cost_runs(capsys):
    assert bench_minicpmo.main(['--units', '3']) == 0
    out = capsys.readouterr().out
    assert '1 frame 1280x720' in out and '5 stacked frames' in out and 'ms' in out


@pytest.mark.bench
@pytest.mark.upstream
def test_bench_real_architecture_at_tiny_size_on_cpu(capsys, tiny_checkpoint, vocoder_standin):
    """What --full-size does on a GPU, on the tiny checkpoint on the CPU (the same code path)."""
    try:
        assert bench_minicpmo.main(['--real', '--size', 'tiny', '--device', 'cpu', '--units', '1']) == 0
    finally:
        if str(bench_minicpmo.VOCODER_STANDIN) in sys.path:
            sys.path.remove(str(bench_minicpmo.VOCODER_STANDIN))
    out = capsys.readouterr().out
    assert 'tiny architecture' in out and out.count('prefill   median') == 2 and out.count('generate  median') == 2
    assert '5 stacked frames' in out and 'vocoder: test stand-in' in out


def test_full_size_without_cuda_says_what_it_needs(capsys):
    torch = pytest.importorskip('torch')
    if torch.cuda.is_available():
        pytest.skip('a CUDA GPU is visible here: --full-size would run')
    assert bench_minicpmo.main(['--full-size', '--units', '1']) == 2
    err = capsys.readouterr().err
    assert 'needs a CUDA GPU' in err and '--real --size tiny --device cpu' in err
    assert bench_minicpmo.main(['--full-size', '--device', 'cpu']) == 2
