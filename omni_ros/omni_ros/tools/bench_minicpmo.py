"""MiniCPM-o backend benchmarks: the adapter's own cost, and the real architecture through the backend.

Default: the ``minicpmo`` backend's own code per 1 s unit (frame conversion, stacked image, audio framing,
prompt, attribution, output mapping) against the scripted double from the source tree with zero-cost model
calls, for one 1280x720 frame + 1 s of audio and for 5 stacked frames. No torch is imported.

``--full-size``: OpenBMB's MiniCPM-o 4.5 code at its full size (Qwen3-8B, SigLIP2, Whisper-medium encoder,
TTS) with random bf16 weights, built once from ``$OMNI_MINICPMO_UPSTREAM`` into the cache by
``omni_ros.backends.minicpmo.checkpoint`` (~18 GB of disk; no download), loaded through the backend's real
loading path on a CUDA GPU, and driven through the backend: per-unit prefill / generate / total latency
and GPU memory, for 1 frame and for 5 stacked frames. Needs a CUDA GPU (~25 GB) and the packages of
``requirements/test-minicpmo.txt`` with a CUDA build of torch (torch, transformers==4.51.0, accelerate,
safetensors, soundfile). The Token2wav vocoder's weights are not part of a random checkpoint: give the real
ones with ``--vocoder-dir`` (the checkpoint's ``assets/token2wav``, needs minicpmo-utils[all]), otherwise the
test stand-in of the source tree is used and the vocoder's own time is not in the figures.
``--real --size tiny --device cpu`` runs the same measurement on the tiny checkpoint (how it is tested).

Usage: python -m omni_ros.tools.bench_minicpmo [--units N] [--full-size | --real --size tiny --device cpu]
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from omni_ros.backends.minicpmo.backend import MiniCPMoBackend
from omni_ros.backends.minicpmo.hf_engine import TransformersEngine
from omni_ros.backends.minicpmo.media import FrameSelector, UnitAudio, to_pil
from omni_ros.backends.minicpmo.options import MiniCPMoConfig
from omni_ros.backends.minicpmo.prompting import PromptBook
from omni_ros.data import Chunk, Frame, Watch

TEST_DIR = Path(__file__).resolve().parents[2] / 'test'
DOUBLE = TEST_DIR / 'doubles' / 'minicpmo' / 'duplex_double.py'
VOCODER_STANDIN = TEST_DIR / 'doubles' / 'vocoder'
WATCH = 'tell me when the light turns green'
REAL_PACKAGES = ('torch', 'transformers', 'accelerate', 'safetensors', 'soundfile')


def _double_module() -> Any:
    if not DOUBLE.is_file():
        sys.exit(f'bench_minicpmo: {DOUBLE} not found; run from a source checkout of omni_ros')
    spec = importlib.util.spec_from_file_location('omni_ros_bench_duplex_double', DOUBLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _BenchBackend(MiniCPMoBackend):
    """The real backend with the scripted double attached instead of a loaded checkpoint."""

    def __init__(self, config: MiniCPMoConfig, double: Any) -> None:
        super().__init__(config)
        self._double = double

    def _make_engine(self) -> TransformersEngine:
        engine = TransformersEngine(self.config, self.name)
        script = {'rules': [{'tag_of': 'light turns green', 'once': False,
                             'say': ['{tag} The light', ' is green now.']}]}
        engine.load = lambda: engine.attach(  # type: ignore[method-assign]
            self._double.DuplexDouble(engine._settings('sdpa'), script))
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
    config = MiniCPMoConfig(model_path='.', stacked_frames=stacked, warmup=False, generate_audio=False)
    b = _BenchBackend(config, double)
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
        'main + stacked 2x2 (5 frames)': _ms(lambda: sel5.frames(c5), repeat),
        'audio unit (16 kHz, 1 s)': _ms(lambda: ua.unit(c1), repeat),
        'audio unit from 48 kHz': _ms(lambda: ua.unit(Chunk(0, 0.0, 1.0, 48000, np.zeros(48000, np.float32), ())),
                                      repeat),
        'compose system prompt': _ms(book.compose, repeat),
        'attribute a spoken turn': _ms(lambda: book.attribute('The traffic light turned green now'), repeat),
    }


# --- the real architecture through the backend ----------------------------------------------------------------

class BenchError(RuntimeError):
    """The measurement cannot run here; the message says what is missing."""


def check_real(device: str) -> Any:
    """torch (with CUDA for a cuda device) and the other packages the real path needs, or BenchError."""
    missing = [m for m in REAL_PACKAGES if importlib.util.find_spec(m) is None]
    if missing:
        raise BenchError(f'missing packages {", ".join(missing)}; install requirements/test-minicpmo.txt with a '
                         "CUDA build of torch (pip install -r requirements/test-minicpmo.txt 'torch<=2.8' "
                         '--index-url https://download.pytorch.org/whl/cu126 for the torch line)')
    import torch
    if device.startswith('cuda') and not torch.cuda.is_available():
        raise BenchError(f'--full-size needs a CUDA GPU with ~25 GB free; torch {torch.__version__} sees none '
                         f'(torch.version.cuda = {torch.version.cuda}). Run it on a GPU machine, or measure the '
                         'tiny checkpoint on a CPU with --real --size tiny --device cpu')
    return torch


class _Timed:
    """Wall time of streaming_prefill / streaming_generate on the backend's duplex object (wraps them)."""

    def __init__(self, duplex: Any, torch: Any, device: str) -> None:
        self.prefill: list[float] = []
        self.generate: list[float] = []
        sync = torch.cuda.synchronize if device.startswith('cuda') else (lambda: None)
        for name, sink in (('streaming_prefill', self.prefill), ('streaming_generate', self.generate)):
            fn = getattr(duplex, name)

            def timed(*a: Any, _fn: Any = fn, _sink: list[float] = sink, **k: Any) -> Any:
                sync()
                t0 = time.perf_counter()
                out = _fn(*a, **k)
                sync()
                _sink.append(time.perf_counter() - t0)
                return out

            duplex.__dict__[name] = timed


def _stats_ms(values: list[float]) -> str:
    v = sorted(values)
    return f'median {1000 * statistics.median(v):7.1f} ms  p95 {1000 * v[int(0.95 * (len(v) - 1))]:7.1f} ms'


def _vocoder(args: argparse.Namespace, checkpoint: Path) -> str:
    """Where Token2wav comes from: the real weights (--vocoder-dir) or the source tree's stand-in."""
    target = checkpoint / 'assets' / 'token2wav'
    if args.vocoder_dir:
        for p in Path(args.vocoder_dir).iterdir():
            if p.is_file() and not (target / p.name).exists():
                (target / p.name).symlink_to(p.resolve())
        return f'Token2wav from {args.vocoder_dir}'
    if not VOCODER_STANDIN.is_dir():
        raise BenchError(f'{VOCODER_STANDIN} not found (run from a source checkout) and no --vocoder-dir given')
    sys.path.insert(0, str(VOCODER_STANDIN))
    return 'test stand-in (no --vocoder-dir): the vocoder\'s own time is not included'


def run_real(args: argparse.Namespace) -> int:
    from omni_ros.backends.minicpmo import checkpoint

    torch = check_real(args.device)
    up = checkpoint.check_upstream_dir(checkpoint.default_upstream_dir())
    root = checkpoint.default_cache_root()
    if args.size == 'full':
        root.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(root).free / 1e9
        built = any(root.glob('MiniCPM-o-4_5-random-full-*/config.json'))
        if free < 20 and not built:
            raise BenchError(f'{root} has {free:.0f} GB free; the full checkpoint needs ~18 GB '
                             f'(set {checkpoint.CACHE_ENV} to a bigger disk)')
    t0 = time.perf_counter()
    folder = checkpoint.cached_checkpoint(args.size, up, device=args.device)
    build_s = time.perf_counter() - t0
    vocoder = _vocoder(args, folder)
    dtype = 'bfloat16' if args.device.startswith('cuda') else 'float32'
    print(f'MiniCPM-o 4.5 {args.size} architecture, random weights ({folder.name}); {args.device}, {dtype}; '
          f'vocoder: {vocoder}')
    print(f'  checkpoint ready in {build_s:.1f} s')
    config = MiniCPMoConfig(model_path=str(folder), device=args.device, allow_cpu=args.device == 'cpu', dtype=dtype,
                            stacked_frames=5, warmup=True, max_lag_s=30.0)
    backend = MiniCPMoBackend(config)
    cuda = args.device.startswith('cuda')
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    backend.setup()
    print(f'  set-up through the backend (load, vocoder, warm-up unit) {time.perf_counter() - t0:.1f} s'
          + (f'; GPU memory {torch.cuda.memory_allocated() / 2**30:.1f} GiB' if cuda else ''))
    engine = backend.engine
    assert isinstance(engine, TransformersEngine)
    timed = _Timed(engine.duplex, torch, args.device)
    backend.set_watches([Watch('w1', WATCH)])
    try:
        for frames, label in ((1, '1 frame 1280x720 + 1 s audio'), (5, '5 stacked frames 1280x720 + 1 s audio')):
            timed.prefill.clear()
            timed.generate.clear()
            if cuda:
                torch.cuda.reset_peak_memory_stats()
            backend.stop_session()
            backend.start_session()
            total, speaking = [], 0
            for c in _chunks(args.units, frames):
                backend._governor.reset_lag()  # every unit runs with its stacked image: measure, do not pace
                t0 = time.perf_counter()
                out = backend.feed(c)
                total.append(time.perf_counter() - t0)
                speaking += int(out.speaking)
            print(f'  {label}: {args.units} units ({speaking} speaking)')
            print(f'    prefill   {_stats_ms(timed.prefill)}')
            print(f'    generate  {_stats_ms(timed.generate)}')
            print(f'    total     {_stats_ms(total)}  (the unit through the backend; real time needs < 1000 ms)')
            if cuda:
                print(f'    GPU memory peak {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB')
    finally:
        backend.shutdown()
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--units', type=int, default=30, help='units per configuration (default 30)')
    ap.add_argument('--full-size', action='store_true', help='the real 4.5 architecture on a CUDA GPU '
                    '(same as --real --size full --device cuda)')
    ap.add_argument('--real', action='store_true', help='measure the upstream architecture through the backend')
    ap.add_argument('--size', choices=('tiny', 'full'), default='full')
    ap.add_argument('--device', default='cuda')
    ap.add_argument('--vocoder-dir', help='folder with the real Token2wav weights (the checkpoint\'s '
                    'assets/token2wav)')
    args = ap.parse_args(argv)
    if args.full_size:
        args.real, args.size = True, 'full'
    if args.real:
        if args.size == 'full' and not args.device.startswith('cuda'):
            print('bench_minicpmo: the full-size architecture needs a CUDA GPU (--device cuda)', file=sys.stderr)
            return 2
        try:
            return run_real(args)
        except BenchError as exc:
            print(f'bench_minicpmo: {exc}', file=sys.stderr)
            return 2
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
