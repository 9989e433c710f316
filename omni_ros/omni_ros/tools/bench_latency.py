"""Alert latency over DDS, wall clock: from the first message that shows a condition to the alert.

Replays scenarios at 1x through ``omni_replay`` and ``omni_node`` in separate processes (as on a robot)
and a probe (``omni_ros.ros.latency_probe``) that notes, on one wall clock, when each audio block and
camera frame arrives and when the node's alert events arrive. Per scenario watch with an onset ``at``:
latency = arrival of the alert - arrival of the first message showing the condition (the audio block
holding the onset sample, or the first frame stamped at or after it). Per backend and modality it
prints p50 / p95 / max for:

- ``cpu``: the CPU backend (deciding on its hop, speaking its alerts: speech is published meanwhile);
- ``double``: the scripted backend as the MiniCPM-o double, 1 s units and ``--model-time`` seconds of
  "model" per unit; beside it the excess over unit end + model time (the unit end: the arrival of the
  audio block that completes the unit holding the onset);
- ``floor``: the scripted backend without model time: a node that only forwards unit ends, the least
  this design allows for a backend that decides once per 1 s unit.

It also prints what the node adds between a backend's output and its publication (its diagnostics
``output_delay_*``), for every run and for one CPU run under a ``--camera`` (default 1920x1080 at 30 fps,
published by the probe: its latencies are left out, it shows no scene), and the machine load
(os.getloadavg) before and after each run. No rclpy here: the ROS side runs in the child processes. The
replayed microphone does not hear the robot's loudspeaker, so the node runs without echo cancellation or
barge-in.

Usage: python -m omni_ros.tools.bench_latency [--scenarios crossing suite:sounds-00 ...]
       [--backends cpu double floor] [--model-time 0.4] [--camera 1920x1080@30 | --camera none] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import yaml

from omni_ros.scenario import Scenario, cached_bag, load_scenario
from omni_ros.scenario.suite import parse_suite_scenario, suite_data
from omni_ros.tools import processes
from omni_ros.watches.table import normalize_instruction

DEFAULT_SCENARIOS = ('crossing', 'suite:light-00', 'suite:floor-00', 'suite:sounds-00', 'suite:sounds-01')
BACKENDS = ('cpu', 'double', 'floor')
EARLY_SLACK = 1.0  # an alert stamped up to this before the onset still counts (as omni_eval)


@dataclass
class Sample:
    backend: str
    scenario: str
    watch: str
    modality: str
    kind: str
    latency: float | None  # seconds, alert arrival - condition message arrival; None: missed
    over_unit: float | None = None  # alert arrival - unit end arrival (the unit holding the onset)


@dataclass
class Run:
    backend: str
    scenario: str
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    samples: list[Sample] = field(default_factory=list)
    diagnostics: dict[str, str] = field(default_factory=dict)
    camera: str = ''
    error: str = ''


def load_scenarios(names: Sequence[str]) -> list[Scenario]:
    """Bundled scenario names or paths, and ``suite:NAME`` for a generated one."""
    suite = {d['name']: d for d in suite_data()} if any(n.startswith('suite:') for n in names) else {}
    out = []
    for name in names:
        if name.startswith('suite:'):
            key = name.split(':', 1)[1]
            if key not in suite:
                raise SystemExit(f'bench_latency: no suite scenario {key!r}; e.g. {", ".join(sorted(suite)[:6])}')
            out.append(parse_suite_scenario(suite[key]))
        else:
            out.append(load_scenario(name))
    return out


def timeline(scn: Scenario, path: Path) -> Path:
    """A scripted-backend timeline that alerts each expected watch at its onset (the double's 'model')."""
    lines = [{'at': float(w.at), 'watch': normalize_instruction(w.instruction), 'say': f'{w.id} now.',
              'modality': w.modality.value} for w in scn.expected.watches if w.at is not None]
    path.write_text(yaml.safe_dump({'lines': lines, 'answers': []}), encoding='utf-8')
    return path


def _node_params(backend: str, scn: Scenario, work: Path, model_time: float) -> dict[str, Any]:
    # The replayed microphone does not hear the robot's loudspeaker: no echo to cancel, nobody to barge in.
    params: dict[str, Any] = {'use_sim_time': True, 'barge_in': False, 'self_hearing.strategy': 'none',
                              'standing_watches': [w.instruction for w in scn.expected.watches]}
    if backend == 'cpu':
        params['backend'] = 'cpu'
    else:
        params.update({'backend': 'scripted', 'scripted.timeline': str(timeline(scn, work / 'timeline.yaml')),
                       'scripted.model_time': model_time if backend == 'double' else 0.0})
    return params


def run_one(backend: str, scn: Scenario, *, model_time: float, camera: str = '', log_root: Path) -> Run:
    work = Path(tempfile.mkdtemp(prefix=f'{backend}_{scn.name}_', dir=log_root))
    env = processes.isolated_ros_env()
    bag = cached_bag(scn)
    image_topic = '/bench/camera' if camera else scn.camera.topic
    remaps = {'image': image_topic, 'audio': scn.audio.topic}
    run = Run(backend, scn.name, os.getloadavg(), (0.0, 0.0, 0.0), camera=camera)
    out, ready = work / 'arrivals.json', work / 'ready'
    probe_args = ['--out', str(out), '--ready', str(ready), '--audio-topic', scn.audio.topic,
                  '--image-topic', '' if camera else scn.camera.topic, '--events-topic', '/events']
    if camera:
        probe_args += ['--camera', camera, '--camera-topic', image_topic]
    procs = [processes.start_node(env, work, params=_node_params(backend, scn, work, model_time), remaps=remaps)]
    try:
        procs.append(processes.start('probe', 'omni_ros.ros.latency_probe', probe_args, env, work))
        deadline = time.monotonic() + 180.0
        while not ready.exists():
            if time.monotonic() > deadline or not all(p.running() for p in procs):
                run.error = 'the node or the probe did not come up; logs in ' + str(work)
                return run
            time.sleep(0.1)
        extra = ['--wait-for-subscribers', '30', '--tail', '3']
        if camera:  # the bag's camera goes nowhere: the probe's camera is the node's
            extra += ['--remap', f'{scn.camera.topic}:=/bench/unused']
        replay = processes.start_replay(env, work, bag, rate=1.0, extra=extra)
        procs.append(replay)
        if replay.wait(scn.duration + 120.0) != 0:
            run.error = f'replay failed: {replay.output()[-500:]}'
        time.sleep(2.0)  # the last units, and one more diagnostics message
    finally:
        for proc in reversed(procs):
            proc.stop()
        run.load_after = os.getloadavg()
    if not out.exists():
        run.error = run.error or f'the probe wrote nothing; logs in {work}'
        return run
    data = json.loads(out.read_text(encoding='utf-8'))
    run.diagnostics = data.get('diagnostics', {})
    run.samples = measure(backend, scn, data, unit=1.0)
    return run


def measure(backend: str, scn: Scenario, data: dict[str, Any], unit: float) -> list[Sample]:
    """Latency per expected watch with an onset, from the probe's arrivals."""
    start = scn.start_time
    audio = sorted(data['audio'])  # (stamp, seconds, arrival)
    frames = sorted(data['frames'])
    samples = []
    for index, w in enumerate(scn.expected.watches):
        if w.at is None:
            continue
        onset = start + w.at
        shown = _first_arrival(w.modality.value, onset, audio, frames)
        alert = next((e for e in sorted(data['events'], key=lambda e: e['arrival'])
                      if e['kind'] == 0 and e['watch_id'] == f'standing-{index}'
                      and w.at - EARLY_SLACK <= e['stamp'] - start <= w.at + w.window), None)
        latency = None if alert is None or shown is None else alert['arrival'] - shown
        # The unit the alert was decided on ends at its stamp + unit; its end arrived with this block.
        completes = None if alert is None else next(
            (a for s, d, a in audio if s + d >= alert['stamp'] + unit - 1e-6), None)
        over = None if alert is None or completes is None else alert['arrival'] - completes
        samples.append(Sample(backend, scn.name, w.id, w.modality.value, w.kind or w.id, latency, over))
    return samples


def _first_arrival(modality: str, onset: float, audio: list[Any], frames: list[Any]) -> float | None:
    if modality == 'audio':
        return next((a for s, d, a in audio if s + d > onset), None)
    return next((a for s, a in frames if s >= onset - 1e-6), None)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def _fmt(values: Sequence[float]) -> str:
    if not values:
        return f"{'-':>7} {'-':>7} {'-':>7}"
    return f'{percentile(values, 50):7.3f} {percentile(values, 95):7.3f} {max(values):7.3f}'


def report(runs: Sequence[Run], model_time: float) -> str:
    lines = [f"{'backend':<8} {'modality':<8} {'n':>3} {'miss':>4}   {'latency p50/p95/max (s)':<23}   "
             f"{'over unit end p50/p95/max (s)':<29}"]
    samples = [s for r in runs if not r.camera for s in r.samples]  # the camera run shows no scene
    for backend in BACKENDS:
        for modality in ('audio', 'vision'):
            group = [s for s in samples if s.backend == backend and s.modality == modality]
            if not group:
                continue
            lat = [s.latency for s in group if s.latency is not None]
            over = [s.over_unit for s in group if s.over_unit is not None]
            lines.append(f'{backend:<8} {modality:<8} {len(group):>3} {len(group) - len(lat):>4}   {_fmt(lat)}   '
                         f'{_fmt(over) if backend != "cpu" else "":<29}')
    kinds = sorted({s.kind for s in samples if s.backend == 'cpu'})
    if kinds:
        lines += ['', f"{'cpu, by kind':<17} {'n':>3} {'miss':>4}   latency p50/p95/max (s)"]
        for kind in kinds:
            group = [s for s in samples if s.backend == 'cpu' and s.kind == kind]
            lat = [s.latency for s in group if s.latency is not None]
            lines.append(f'{kind[:17]:<17} {len(group):>3} {len(group) - len(lat):>4}   {_fmt(lat)}')
    lines.append(f'double: the scripted backend with {model_time:g} s of model time per 1 s unit; floor: the same '
                 'without (a node that only forwards unit ends)')
    lines += ['', f"{'run':<34} {'load before':>16} {'load after':>16}  node-added delay (backend output -> "
              'publication, ms p50/max)']
    for r in runs:
        name = f'{r.backend}/{r.scenario}' + (f' camera {r.camera}' if r.camera else '')
        delay = f"{r.diagnostics.get('output_delay_p50_ms', '-')}/{r.diagnostics.get('output_delay_max_ms', '-')}"
        lines.append(f"{name[:34]:<34} {' '.join(f'{v:.2f}' for v in r.load_before):>16} "
                     f"{' '.join(f'{v:.2f}' for v in r.load_after):>16}  {delay}"
                     + (f'  ERROR {r.error}' if r.error else ''))
    lines.append(f'{os.cpu_count()} CPUs; load = os.getloadavg() (1, 5, 15 min)')
    return '\n'.join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='bench_latency', description=__doc__.splitlines()[0])
    parser.add_argument('--scenarios', nargs='+', default=list(DEFAULT_SCENARIOS),
                        help='bundled names or paths, suite:NAME for generated ones')
    parser.add_argument('--backends', nargs='+', default=list(BACKENDS), choices=BACKENDS)
    parser.add_argument('--model-time', type=float, default=0.4,
                        help="the double's seconds of model per unit (0.4: MiniCPM-o 4.5 on an RTX PRO 6000)")
    parser.add_argument('--camera', default='1920x1080@30',
                        help="camera for one extra CPU run on the first scenario ('none': no such run)")
    parser.add_argument('--json', metavar='PATH', help='also write every sample as JSON')
    args = parser.parse_args(argv)
    os.environ.setdefault('HF_HUB_OFFLINE', '1')
    scenarios = load_scenarios(args.scenarios)
    log_root = Path(tempfile.mkdtemp(prefix='omni_bench_latency_'))
    runs = []
    for scn in scenarios:
        for backend in args.backends:
            runs.append(run_one(backend, scn, model_time=args.model_time, log_root=log_root))
            print(f'bench_latency: {backend}/{scn.name} done', file=sys.stderr, flush=True)
    if args.camera != 'none' and 'cpu' in args.backends:
        runs.append(run_one('cpu', scenarios[0], model_time=args.model_time, camera=args.camera, log_root=log_root))
    print(report(runs, args.model_time))
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(r) for r in runs], indent=2) + '\n', encoding='utf-8')
    return 0 if any(s.latency is not None for r in runs for s in r.samples) else 1


if __name__ == '__main__':
    sys.exit(main())
