"""Adapter cost of the MiniCPM-o backend per 1 s unit, excluding the model call.

Runs the ``minicpmo`` backend's own code (frame conversion to PIL, stacked grid, audio unit framing,
prompt composition, tag attribution, output mapping) against the contract double from the source tree
with zero-cost model calls, for one 1280x720 frame + 1 s of audio per unit and for 5 stacked frames.
No torch is imported. Usage: python -m omni_ros.tools.bench_minicpmo [--units N]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from omni_ros.backends.minicpmo.backend import MiniCPMoBackend
from omni_ros.backends.minicpmo.hf_engine import TransformersEngine
from omni_ros.backends.minicpmo.media import FrameSelector, UnitAudio, to_pil
from omni_ros.backends.minicpmo.prompting import PromptBook
from omni_ros.settings import resolve
from omni_ros.data import Chunk, Frame, Watch

DOUBLE = Path(__file__).resolve().parents[2] / 'test' / 'doubles' / 'minicpmo' / 'duplex_double.py'
WATCH = 'tell me when the light turns green'


def _double_module() -> Any:
    if not DOUBLE.is_file():
        sys.exit(f'bench_minicpmo: {DOUBLE} not found; run from a source checkout of omni_ros')
    spec = importlib.util.spec_from_file_location('omni_ros_bench_duplex_double', DOUBLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _BenchBackend(MiniCPMoBackend):
    """The real backend with the double attached instead of a loaded checkpoint."""

    def __init__(self, options: Any, double: Any) -> None:
        super().__init__(options)
        self._double = double

    def _make_engine(self) -> TransformersEngine:
        engine = TransformersEngine(self._opts, self.name)
        settings = dict(chunk_ms=1000, first_chunk_ms=1035, sample_rate=16000)
        script = {'rules': [{'tag_of': 'light turns green', 'once': False,
                             'say': ['{tag} The light', ' is green now.']}]}
        engine.load = lambda: engine.attach(self._double.DuplexDouble(settings, script))  # type: ignore[method-assign]
        return engine


def _chunks(n: int, frames: int) -> list[Chunk]:
    rng = np.random.default_rng(0)
    imgs = [rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8) for _ in range(frames)]
    audio = (rng.standard_normal(16000) * 0.05).astype(np.float32)
    return [Chunk(i, float(i), 1.0, 16000, audio, tuple(Frame(i + k / frames, imgs[k]) for k in range(frames)))
            for i in range(n)]


def _ms(f: Callable[[], Any], repeat: int) -> float:
    t = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        t.append(time.perf_counter() - t0)
    return 1000 * statistics.median(t)


def run(units: int, stacked: int, double: Any) -> dict[str, float]:
    opts = resolve(MiniCPMoBackend.OPTIONS, {'model_path': '.', 'stacked_frames': stacked, 'warmup': False})
    b = _BenchBackend(opts, double)
    b.setup()
    b.set_watches([Watch('w1', WATCH), Watch('w2', 'tell me if someone knocks at the door')])
    b.start_session()
    own, model = [], []
    for c in _chunks(units, stacked):
        t0 = time.perf_counter()
        b.feed(c)
        wall = time.perf_counter() - t0
        own.append(wall - b.stats.model_s_last)
        model.append(b.stats.model_s_last)
    b.shutdown()
    own.sort()
    return {'mean': 1000 * statistics.fmean(own), 'p95': 1000 * own[int(0.95 * (len(own) - 1))],
            'double': 1000 * statistics.fmean(model)}


def parts(repeat: int = 20) -> dict[str, float]:
    c1, c5 = _chunks(1, 1)[0], _chunks(1, 5)[0]
    sel5 = FrameSelector(stacked=5)
    ua = UnitAudio()
    book = PromptBook(persona='You are a robot.')
    book.set_watches([Watch('w1', WATCH), Watch('w2', 'tell me if someone knocks at the door')])
    return {
        'to_pil 1280x720': _ms(lambda: to_pil(c1.frames[0].image), repeat),
        'main + grid of 4 (5 frames)': _ms(lambda: sel5.frames(c5), repeat),
        'audio unit (16 kHz, 1 s)': _ms(lambda: ua.unit(c1), repeat),
        'audio unit from 48 kHz': _ms(lambda: ua.unit(Chunk(0, 0.0, 1.0, 48000, np.zeros(48000, np.float32), ())),
                                      repeat),
        'compose system prompt': _ms(book.compose, repeat),
        'attribute a spoken turn': _ms(lambda: book.attribute('The traffic light turned green now'), repeat),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--units', type=int, default=30, help='units per configuration (default 30)')
    args = ap.parse_args(argv)
    double = _double_module()
    print('MiniCPM-o adapter cost per 1 s unit (model calls excluded; zero-cost double)')
    for stacked, label in ((1, '1 frame 1280x720 + 1 s audio'), (5, '5 stacked frames 1280x720 + 1 s audio')):
        r = run(args.units, stacked, double)
        print(f"  {label:40s} mean {r['mean']:6.2f} ms   p95 {r['p95']:6.2f} ms   (double itself "
              f"{r['double']:.2f} ms)")
    print('Parts (median):')
    for name, ms in parts().items():
        print(f'  {name:40s} {ms:6.2f} ms')
    return 0


if __name__ == '__main__':
    sys.exit(main())
