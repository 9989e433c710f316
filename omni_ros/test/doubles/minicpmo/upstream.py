"""Support for the ``upstream`` test tier: OpenBMB's MiniCPM-o 4.5 code with tiny random weights.

One random checkpoint is built per test run from the upstream code (``$OMNI_MINICPMO_UPSTREAM``, default
``../shared/upstream/MiniCPM-o-Demo/MiniCPMO45``) into the run's cache (``OMNI_ROS_CACHE``, see conftest.py) by
``omni_ros.backends.minicpmo.checkpoint`` and reused by every test of the tier.

The one piece that cannot run here is the Token2wav vocoder (CUDA only, needs weight files): the folder
``doubles/vocoder`` holds a stand-in ``stepaudio2`` package that goes first on ``sys.path`` (this process)
or ``PYTHONPATH`` (omni_node in another process); see its docstring.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Iterator

import pytest

VOCODER_DIR = Path(__file__).resolve().parents[1] / 'vocoder'


@pytest.fixture(scope='session')
def tiny_checkpoint() -> Path:
    """The tiny random MiniCPM-o 4.5 checkpoint folder (built once per run, then cached)."""
    pytest.importorskip('torch', reason='needs requirements/test-minicpmo.txt')
    pytest.importorskip('transformers', reason='needs requirements/test-minicpmo.txt')
    os.environ.setdefault('HF_HUB_OFFLINE', '1')
    from omni_ros.backends.minicpmo import checkpoint

    return checkpoint.cached_checkpoint('tiny')


@pytest.fixture
def vocoder_standin(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """``stepaudio2`` resolves to the stand-in Token2wav in this process; yields its module (``CALLS``)."""
    monkeypatch.syspath_prepend(str(VOCODER_DIR))
    sys.modules.pop('stepaudio2', None)
    import stepaudio2

    assert Path(stepaudio2.__file__).resolve().is_relative_to(VOCODER_DIR), stepaudio2.__file__
    stepaudio2.CALLS.clear()
    yield stepaudio2
    sys.modules.pop('stepaudio2', None)


def vocoder_env(trace: Path) -> dict[str, str]:
    """Environment for a process that should load the stand-in vocoder and trace its calls to ``trace``."""
    path = os.pathsep.join(p for p in (str(VOCODER_DIR), os.environ.get('PYTHONPATH', '')) if p)
    return {'PYTHONPATH': path, 'OMNI_TOKEN2WAV_TRACE': str(trace)}


def read_jsonl(path: Path) -> list[dict]:
    """Complete lines only: the writer may be in the middle of the next one."""
    if not path.exists():
        return []
    lines = path.read_text(encoding='utf-8').split('\n')[:-1]
    return [json.loads(line) for line in lines if line.strip()]
