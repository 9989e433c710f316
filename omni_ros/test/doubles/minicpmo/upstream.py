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
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

# Before transformers is imported (it reads these once): offline, and the dynamic-module copies that
# transformers makes of the processor/tokenizer code go to a per-run folder, not ~/.cache/huggingface.
os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('HF_MODULES_CACHE', tempfile.mkdtemp(prefix='omni_ros_hf_modules_'))

VOCODER_DIR = Path(__file__).resolve().parents[1] / 'vocoder'


@pytest.fixture(scope='session')
def tiny_checkpoint() -> Path:
    """The tiny random MiniCPM-o 4.5 checkpoint folder (built once per run, then cached)."""
    pytest.importorskip('torch', reason='needs requirements/test-minicpmo.txt')
    pytest.importorskip('transformers', reason='needs requirements/test-minicpmo.txt')
    from omni_ros.backends.minicpmo import checkpoint

    return checkpoint.cached_checkpoint('tiny')


@pytest.fixture(scope='session')
def loaded_models() -> Iterator[dict]:
    """Upstream duplex objects already loaded by a test through the real path, reused by later tests that
    need the same constructor settings (loading is the slow part; every prepare() resets upstream's state)."""
    cache: dict = {}
    yield cache
    cache.clear()


@pytest.fixture(scope='session')
def vocoder_standin() -> Iterator[object]:
    """``stepaudio2`` resolves to the stand-in Token2wav in this process (for the whole run: loaded models keep
    their vocoder object); yields its module. Tests that read ``CALLS`` clear it first."""
    sys.path.insert(0, str(VOCODER_DIR))
    sys.modules.pop('stepaudio2', None)
    try:
        import stepaudio2

        assert Path(stepaudio2.__file__).resolve().is_relative_to(VOCODER_DIR), stepaudio2.__file__
        yield stepaudio2
    finally:
        sys.path.remove(str(VOCODER_DIR))
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


class CallLog:
    """Records the calls our engine makes on the real upstream duplex object (and what they returned).

    The methods are wrapped on the instance, so upstream's code runs unchanged; ``before`` hooks run ahead
    of a call (a test's stand-in for "an interrupt arrives during this unit").
    """

    WATCHED = ('prepare', 'streaming_prefill', 'streaming_generate', 'finalize_unit', 'set_break_event',
               'set_session_stop')

    def __init__(self, duplex) -> None:
        self.duplex = duplex
        self.calls: list[tuple[str, dict]] = []
        self.results: list[tuple[str, object]] = []
        self.before: dict[str, list] = {}
        self.generate_forced_at_start: list[bool] = []  # upstream's own start-up force-listen, per generate
        self.tts_tokens: list[list[int]] = []  # speech tokens the TTS model sampled, per speaking unit
        self._wrapped: list[tuple[object, str]] = []
        for name in self.WATCHED:
            fn = getattr(duplex, name, None)
            if fn is not None:
                self._patch(duplex, name, self._wrap(name, fn))
        tts = duplex.model.tts
        generate_chunk = tts.generate_chunk

        def spy_generate_chunk(*args, **kwargs):
            new_tokens, kv = generate_chunk(*args, **kwargs)
            self.tts_tokens.append([int(t) for t in new_tokens.reshape(-1).tolist()])
            return new_tokens, kv

        self._patch(tts, 'generate_chunk', spy_generate_chunk)

    def _patch(self, obj, name, fn) -> None:
        obj.__dict__[name] = fn  # an instance attribute over the class's method; close() removes it
        self._wrapped.append((obj, name))

    def close(self) -> None:
        """Stop recording: upstream's own methods again (the model object may serve another test)."""
        for obj, name in self._wrapped:
            obj.__dict__.pop(name, None)
        self._wrapped.clear()

    def _wrap(self, name, fn):
        def call(*args, **kwargs):
            for hook in self.before.pop(name, []):
                hook()
            if name == 'streaming_generate':
                self.generate_forced_at_start.append(
                    self.duplex._streaming_generate_count < self.duplex.force_listen_count)
            self.calls.append((name, dict(kwargs, _args=args) if args else dict(kwargs)))
            result = fn(*args, **kwargs)
            self.results.append((name, result))
            return result
        return call

    def names(self, since: int = 0) -> list[str]:
        return [n for n, _ in self.calls[since:]]

    def of(self, name: str) -> list[dict]:
        return [kw for n, kw in self.calls if n == name]

    def returned(self, name: str) -> list:
        return [r for n, r in self.results if n == name]
