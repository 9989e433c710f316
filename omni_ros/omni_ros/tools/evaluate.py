"""Alert quality of a backend on a recording: per-watch precision, recall and latency, offline.

    omni_eval crossing                                  # a bundled scenario, rendered directly
    omni_eval crossing --via-bag                        # the same scenario through its (cached) rosbag2 bag
    omni_eval /data/my_bag --watches my_watches.yaml    # your own recording and expected alert times
    omni_eval crossing --backend scripted --json out.json
    omni_eval --suite                                   # the generated suite (omni_ros/scenario/suite.py),
                                                        # figures per watch kind against the acceptance floors
    omni_eval --instructions everyday                   # how the cpu backend reads a list of instructions
                                                        # (right / refused / wrong meaning), see instruction_eval

No DDS and no rclpy: the bag is read with rosbags, messages are decoded with the same code the node uses
(omni_ros.ingest.cdr / imaging / audio), cut into chunks by the ChunkSynchronizer with the backend's stream_spec,
and fed to the backend as fast as it goes. Every watch is set at the start of the recording.

Watch list (a scenario's ``expected.watches``, or a YAML file with ``watches:`` at the top level or under
``expected:``)::

    watches:
      - {id: light_green, instruction: tell me when the traffic light turns green, modality: vision,
         at: 5.0, window: 3.0}
      - {id: knock, instruction: tell me when someone knocks on the door, modality: audio, at: null}

``at`` is seconds from the start of the recording (a scenario's start_time; for a bag without one, the
first chunk's start); null means the condition never happens.

Alerts pass through a watch table as in the node (``watches.policy``: the node's default cooldown of
5 s, one-shot watches end at their first alert), so the figures are what a SetWatch client would get.

Matching: an alert stamped in [at - 1.0, at + window] is a true positive (the first one; later ones in
that span are duplicates, counted separately and not as false alarms); every other alert is a false
positive; a watch with ``at`` set and no true positive is a miss.

Latency is what a subscriber would see: the moment the alert would be published, in stream time (the end
of the input the decision used, i.e. the chunk's end, plus the backend's measured processing time of that
chunk), minus ``at``. The start of the unit the alert refers to (its event stamp) minus ``at`` is shown
beside it as ``unit start``; it says when the evidence began, not when anyone hears of it. Watches with a
``kind`` are also totalled per kind; with ``--suite`` the command exits 1 when a kind falls below the
floors (``scenario.suite.Floors``).
"""

from __future__ import annotations

import argparse
import fnmatch
import functools
import json
import math
import os
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence


from omni_ros.data import AudioBlock, Chunk, EventKind, LazyFrame, StreamSpec, Watch
from omni_ros.errors import ConfigError, ConversionError, OmniError
from omni_ros.ingest import audio as audio_codec
from omni_ros.ingest import imaging
from omni_ros.tools import instruction_eval
from omni_ros.scenario.model import ExpectedWatch, Scenario
from omni_ros.scenario.suite import SUITE_SEED, Floors
from omni_ros.session.pipeline import InputCutter
from omni_ros.watches.policy import DEFAULT_COOLDOWN
from omni_ros.watches.table import WatchTable

EARLY_SLACK = 1.0  # an alert up to this many seconds before `at` still counts (its chunk may start earlier)


# -- matching and metrics ----------------------------------------------------------------------------

@dataclass
class WatchResult:
    """How one watch's alerts (seconds from the start) compare with its expected time."""

    id: str
    modality: str
    at: float | None
    window: float
    kind: str = ''
    scenario: str = ''  # where the watch was evaluated, when several scenarios are
    alerts: list[float] = field(default_factory=list)
    true_positives: int = 0
    false_positives: int = 0
    duplicates: int = 0
    misses: int = 0
    latency: float | None = None  # publication time of the first true positive minus `at`
    unit_start: float | None = None  # event stamp (start of its unit) of the first true positive minus `at`
    published: list[float] = field(default_factory=list)  # publication times, aligned with `alerts`
    false_alarm_times: list[float] = field(default_factory=list)

    @property
    def expected_positives(self) -> int:
        return 0 if self.at is None else 1

    @property
    def precision(self) -> float | None:
        fired = self.true_positives + self.false_positives
        return self.true_positives / fired if fired else None

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.expected_positives if self.expected_positives else None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(precision=self.precision, recall=self.recall)
        return out


def match_alerts(expected: ExpectedWatch, alert_times: Iterable[float], scenario: str = '',
                 published: Iterable[float] | None = None) -> WatchResult:
    """Classify ``alert_times`` (event stamps, seconds from the start) against one expected watch.
    ``published``: when each alert would reach a subscriber (same order; default: at its stamp)."""
    result = WatchResult(expected.id, expected.modality.value, expected.at, expected.window, expected.kind, scenario)
    stamps = [float(t) for t in alert_times]
    sent = stamps if published is None else [float(t) for t in published]
    if len(sent) != len(stamps):
        raise ValueError(f'{len(stamps)} alert stamps but {len(sent)} publication times')
    pairs = sorted(zip(stamps, sent))
    result.alerts, result.published = [t for t, _ in pairs], [p for _, p in pairs]
    at = expected.at
    for t, sent_at in pairs:
        if at is None or not at - EARLY_SLACK <= t <= at + expected.window:
            result.false_positives += 1
            result.false_alarm_times.append(t)
        elif result.true_positives == 0:
            result.true_positives = 1
            result.latency, result.unit_start = sent_at - at, t - at
        else:
            result.duplicates += 1
    if expected.at is not None and result.true_positives == 0:
        result.misses = 1
    return result


@dataclass
class GroupResult:
    """Totals over several watches (one modality, or all)."""

    name: str
    watches: int
    true_positives: int
    false_positives: int
    duplicates: int
    misses: int
    precision: float | None
    recall: float | None
    latency_median: float | None
    latency_max: float | None
    latency_p95: float | None = None


def summarize(name: str, results: Sequence[WatchResult]) -> GroupResult:
    tp = sum(r.true_positives for r in results)
    fp = sum(r.false_positives for r in results)
    expected = sum(r.expected_positives for r in results)
    latencies = [r.latency for r in results if r.latency is not None]
    return GroupResult(
        name=name, watches=len(results), true_positives=tp, false_positives=fp,
        duplicates=sum(r.duplicates for r in results), misses=sum(r.misses for r in results),
        precision=tp / (tp + fp) if tp + fp else None, recall=tp / expected if expected else None,
        latency_median=statistics.median(latencies) if latencies else None,
        latency_max=max(latencies) if latencies else None, latency_p95=percentile(latencies, 95))


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (nearest rank: a value that occurred); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def group_results(per_watch: Sequence[WatchResult]) -> dict[str, Any]:
    """Per-watch results with their totals per kind (watches that name one), per modality and overall."""
    kinds = sorted({r.kind for r in per_watch if r.kind})
    modalities = sorted({r.modality for r in per_watch})
    return {
        'watches': list(per_watch),
        'kinds': [summarize(k, [r for r in per_watch if r.kind == k]) for k in kinds],
        'modalities': [summarize(m, [r for r in per_watch if r.modality == m]) for m in modalities],
        'overall': summarize('all', per_watch),
    }


def evaluate_alerts(expected: Sequence[ExpectedWatch], alerts: dict[str, list[float]]) -> dict[str, Any]:
    """Per-watch, per-kind, per-modality and overall figures for alerts keyed by watch id."""
    return group_results([match_alerts(w, alerts.get(w.id, ())) for w in expected])


def below_floors(group: GroupResult, floors: Floors) -> list[str]:
    """What a kind's totals miss of the floors (empty: all met). Undefined figures miss nothing: a kind
    with no expected event has no recall, one that never alerted no precision."""
    misses = []
    if group.recall is not None and group.recall < floors.recall:
        misses.append(f'recall {group.recall:.2f} < {floors.recall}')
    if group.precision is not None and group.precision < floors.precision:
        misses.append(f'precision {group.precision:.2f} < {floors.precision}')
    if group.latency_median is not None and group.latency_median > floors.median_latency:
        misses.append(f'median latency {group.latency_median:.2f} s > {floors.median_latency} s')
    if group.latency_max is not None and group.latency_max > floors.max_latency:
        misses.append(f'max latency {group.latency_max:.2f} s > {floors.max_latency} s')
    return misses


# -- watch lists -------------------------------------------------------------------------------------

def load_watch_list(path: str | Path) -> tuple[ExpectedWatch, ...]:
    """Expected watches from a YAML file: ``watches:`` at the top level or under ``expected:``."""
    import yaml

    from omni_ros.scenario.model import parse_expected

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding='utf-8'))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f'cannot read the watch list {path}: {exc}') from exc
    if isinstance(data, dict) and 'expected' in data:
        data = data['expected']
    if isinstance(data, dict):
        data = {'watches': data.get('watches')}
    watches = parse_expected(data, path.name).watches
    if not watches:
        raise ConfigError(f'{path.name}: no watches; list them under "watches:"')
    return watches


# -- input: bag or scenario --------------------------------------------------------------------------
# Items are microphone blocks and camera frames, in arrival order.

Item = AudioBlock | LazyFrame


def _bag_items(path: Path, audio_topic: str | None, image_topic: str | None) -> tuple[Iterator[Item], float]:
    from rosbags.rosbag2 import Reader

    from omni_ros.scenario import bagtypes

    store = bagtypes.typestore()
    reader = Reader(path)
    reader.open()
    by_type: dict[str, list[str]] = {}
    for conn in reader.connections:
        by_type.setdefault(conn.msgtype, []).append(conn.topic)

    def pick(given: str | None, types: tuple[str, ...], what: str) -> str | None:
        if given:
            if not any(given in by_type.get(t, []) for t in types):
                reader.close()
                raise ConfigError(f'{path}: no {what} topic {given!r}; it has {sorted(by_type)}')
            return given
        found = [topic for t in types for topic in by_type.get(t, [])]
        return found[0] if found else None

    atopic = pick(audio_topic, (bagtypes.AUDIO_CHUNK,), 'audio')
    itopic = pick(image_topic, (bagtypes.IMAGE, bagtypes.COMPRESSED_IMAGE), 'image')
    if atopic is None and itopic is None:
        reader.close()
        raise ConfigError(f'{path}: no AudioChunk, Image or CompressedImage topic to evaluate on')
    conns = [c for c in reader.connections if c.topic in (atopic, itopic)]
    duration = max(0.0, (reader.end_time - reader.start_time) * 1e-9)

    def items() -> Iterator[Item]:
        try:
            for conn, _, raw in reader.messages(connections=conns):
                raw = bytes(raw)
                if conn.msgtype == bagtypes.AUDIO_CHUNK:
                    msg: Any = store.deserialize_cdr(raw, conn.msgtype)  # rosbags' AudioChunk: the same fields
                    stamp = msg.header.stamp.sec + msg.header.stamp.nanosec / 1e9
                    yield audio_codec.decode_block(stamp, msg.encoding, msg.sample_rate, msg.channels, bytes(msg.data))
                else:  # the node's own path: the header stamp now, pixels if a unit uses the frame
                    yield imaging.serialized_frame(raw, conn.msgtype == bagtypes.COMPRESSED_IMAGE,
                                                   max_pixels=imaging.DEFAULT_MAX_PIXELS)
        finally:
            reader.close()

    return items(), duration


def _scenario_items(scn: Scenario) -> Iterator[Item]:
    """The scenario rendered directly, in the bag's message order (audio S16LE round trip included)."""
    from omni_ros.scenario.render import render_audio, render_frame, to_s16le

    rate = scn.audio.sample_rate
    pcm = to_s16le(render_audio(scn))
    block = scn.audio.block_samples
    n = len(pcm) // 2
    timeline: list[tuple[float, int, float]] = [(i / rate, 0, i) for i in range(0, n, block)]
    timeline += [(t, 1, t) for t in scn.camera.frame_times(scn.duration)]
    timeline.sort(key=lambda item: (item[0], item[1]))
    for t, kind, where in timeline:
        stamp = scn.stamp_ns(t) * 1e-9
        if kind == 0:
            first = int(where)  # a sample index for audio
            data = pcm[first * 2:min(first + block, n) * 2]
            yield audio_codec.decode_block(stamp, 'S16LE', rate, 1, data)
        else:
            yield LazyFrame(stamp=stamp, decode=functools.partial(render_frame, scn, where))


def _chunks(items: Iterable[Item], spec: StreamSpec) -> Iterator[Chunk]:
    """Chunks cut as the node's pipeline cuts them: resample to the backend's rate, then synchronize."""
    cutter = InputCutter(spec)
    for item in items:
        try:
            if isinstance(item, AudioBlock):
                cutter.add_audio(item)
            else:
                cutter.sync.add_frame(item)
        except ConversionError as exc:
            print(f'omni_eval: input dropped: {exc}', file=sys.stderr)
            continue
        yield from cutter.sync.poll(None)
    yield from cutter.sync.flush()


# -- running a backend -------------------------------------------------------------------------------

@dataclass
class RunResult:
    alerts: dict[str, list[float]]  # watch id -> alert stamps, seconds from the origin
    published: dict[str, list[float]]  # watch id -> when each would be published: chunk end + processing
    chunks: int
    stream_seconds: float
    wall_seconds: float


def run_backend(backend: Any, chunks: Iterable[Chunk], watches: Sequence[ExpectedWatch], origin: float | None, *,
                one_shot: bool = False, progress: Callable[[Chunk], None] | None = None,
                default_cooldown: float = DEFAULT_COOLDOWN) -> RunResult:
    """Feed ``chunks`` to a set-up backend with every watch active; collect alert times.

    Alerts go through a watch table as in the node, so cooldowns and one-shot endings are the node's."""
    table = WatchTable(default_cooldown)
    for w in watches:
        table.add(Watch(watch_id=w.id, instruction=w.instruction, continuous=not one_shot))
    backend.start_session()
    told = -1  # the table version the backend knows
    alerts: dict[str, list[float]] = {w.id: [] for w in watches}
    published: dict[str, list[float]] = {w.id: [] for w in watches}
    count, first, last = 0, None, None
    t0 = time.perf_counter()
    try:
        for chunk in chunks:
            if origin is None:
                origin = chunk.start
            first = chunk.start if first is None else first
            last = chunk.end
            count += 1
            if table.version != told:  # the node tells the backend of every change before the next unit
                told = table.version
                backend.set_watches(table.for_backend())
            fed = time.perf_counter()
            out = backend.feed(chunk)
            # Stream time the outputs exist: the chunk's end plus processing (not a replay's wait for its
            # clock to catch up with work the backend does beside the hops: CpuBackend.last_wait).
            took = time.perf_counter() - fed - getattr(backend, 'last_wait', 0.0)
            ready = chunk.end + took - origin
            for event in out.events:
                if event.kind is EventKind.ALERT and event.watch_id in alerts and table.route(event) is not None:
                    alerts[event.watch_id].append(event.stamp - origin)
                    published[event.watch_id].append(max(ready, event.stamp - origin))
            if progress is not None:
                progress(chunk)
    finally:
        backend.stop_session()
    stream = last - first if first is not None and last is not None else 0.0
    return RunResult(alerts, published, count, stream, time.perf_counter() - t0)


# -- output ------------------------------------------------------------------------------------------

def _fmt(value: float | None, pattern: str = '{:.2f}') -> str:
    return '-' if value is None else pattern.format(value)


def _watch_lines(results: Iterable[WatchResult], label: str = 'watch') -> list[str]:
    lines = [f"{label:<30} {'modality':<8} {'at':>6} {'alerts':>6} {'TP':>3} {'FP':>3} {'dup':>3} "
             f"{'miss':>4} {'precision':>9} {'recall':>6} {'latency':>8} {'unit start':>10}"]
    for r in results:
        name = f'{r.scenario}/{r.id}' if r.scenario else r.id
        lines.append(f"{name[:30]:<30} {r.modality:<8} {_fmt(r.at, '{:.1f}'):>6} {len(r.alerts):>6} "
                     f"{r.true_positives:>3} {r.false_positives:>3} {r.duplicates:>3} {r.misses:>4} "
                     f"{_fmt(r.precision):>9} {_fmt(r.recall):>6} {_fmt(r.latency, '{:+.2f} s'):>8} "
                     f"{_fmt(r.unit_start, '{:+.2f} s'):>10}")
    return lines


def _group_lines(title: str, groups: Iterable[GroupResult], floors: Floors | None = None) -> list[str]:
    lines = [f"{title:<18} {'watches':>7} {'TP':>3} {'FP':>3} {'miss':>4} {'precision':>9} "
             f"{'recall':>6} {'median latency':>14} {'p95 latency':>11} {'max latency':>11}"
             + ('  floors' if floors else '')]
    for g in groups:
        line = (f"{g.name:<18} {g.watches:>7} {g.true_positives:>3} {g.false_positives:>3} {g.misses:>4} "
                f"{_fmt(g.precision):>9} {_fmt(g.recall):>6} {_fmt(g.latency_median, '{:.2f} s'):>14} "
                f"{_fmt(g.latency_p95, '{:.2f} s'):>11} {_fmt(g.latency_max, '{:.2f} s'):>11}")
        if floors is not None:
            line += '  ' + ('; '.join(below_floors(g, floors)) or 'met')
        lines.append(line)
    return lines


def format_table(report: dict[str, Any]) -> str:
    lines = _watch_lines(report['watches'])
    if report['kinds']:
        lines += [''] + _group_lines('by kind', report['kinds'])
    lines += [''] + _group_lines('by modality', [*report['modalities'], report['overall']])
    return '\n'.join(lines)


def format_suite(report: dict[str, Any], floors: Floors) -> str:
    """Totals per kind against the floors, then every watch that missed or alerted falsely."""
    lines = _group_lines('by kind', report['kinds'], floors)
    lines += [''] + _group_lines('by modality', [*report['modalities'], report['overall']])
    wrong = [r for r in report['watches'] if r.false_positives or r.misses]
    lines += ['', f'{len(wrong)} of {len(report["watches"])} watches missed or alerted falsely'
              + (':' if wrong else '.')]
    if wrong:
        lines += _watch_lines(wrong, 'scenario/watch')
    return '\n'.join(lines)


def report_json(report: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    return {
        **meta,
        'watches': [r.as_dict() for r in report['watches']],
        'kinds': [asdict(g) for g in report['kinds']],
        'modalities': [asdict(g) for g in report['modalities']],
        'overall': asdict(report['overall']),
    }


# -- command line ------------------------------------------------------------------------------------

def _parse_options(pairs: Sequence[str]) -> dict[str, Any]:
    import yaml

    options = {}
    for pair in pairs:
        key, sep, value = pair.partition('=')
        if not sep or not key:
            raise ConfigError(f'--option expects KEY=VALUE, got {pair!r}')
        options[key] = yaml.safe_load(value)
    return options


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog='omni_eval', description=__doc__.splitlines()[0],
        epilog='Input: a bundled scenario name, a scenario .yaml, or a rosbag2 directory; or --suite.')
    parser.add_argument('input', nargs='?', help='scenario name or .yaml path, or a rosbag2 bag directory')
    parser.add_argument('--suite', action='store_true',
                        help='evaluate on the generated suite instead of one input; totals per watch kind')
    parser.add_argument('--seed', type=int, default=SUITE_SEED,
                        help=f'with --suite: generate the suite from this seed (default {SUITE_SEED})')
    parser.add_argument('--only', action='append', default=[], metavar='PATTERN',
                        help="with --suite: only scenarios whose name matches (repeatable), e.g. 'light-*'")
    parser.add_argument('--save-scenarios', metavar='DIR',
                        help='with --suite: also write each scenario as a .yaml file into DIR (replay one with '
                        'omni_eval DIR/NAME.yaml)')
    parser.add_argument('--watches', metavar='YAML', help='watch list with expected alert times '
                        '(default: the scenario\'s expected.watches)')
    parser.add_argument('--scenario', metavar='NAME', help='for a bag: take watches and start time from this scenario')
    parser.add_argument('--backend', default='cpu', help='backend name (default cpu)')
    parser.add_argument('--option', action='append', default=[], metavar='KEY=VALUE',
                        help='a backend option (repeatable), e.g. --option speak=false')
    parser.add_argument('--via-bag', action='store_true', help='for a scenario: read its cached bag instead of '
                        'rendering it directly')
    parser.add_argument('--audio-topic', help='AudioChunk topic of a bag (default: the first one)')
    parser.add_argument('--image-topic', help='Image or CompressedImage topic of a bag (default: the first one)')
    parser.add_argument('--one-shot', action='store_true',
                        help='end each watch at its first alert, as the node ends a one-shot goal '
                        '(default: watches stay active, so every false alarm is counted)')
    parser.add_argument('--json', metavar='PATH', help='also write the figures as JSON ("-" for stdout)')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar on stderr')
    parser.add_argument('--instructions', metavar='LIST', help="score the backend's reading of an instruction list "
                        "instead (a YAML path, or a bundled list: 'everyday')")
    args = parser.parse_args(argv)
    if args.instructions:
        if args.input or args.suite:
            parser.error('--instructions takes no input and no --suite')
        try:
            return instruction_eval.run(args.instructions, args.backend, _parse_options(args.option), args.json)
        except OmniError as exc:
            print(f'omni_eval: {exc}', file=sys.stderr)
            return 2
    if args.suite == bool(args.input):
        parser.error('give an input (scenario or bag) or --suite, not both' if args.suite
                     else 'give an input (a scenario name, a scenario .yaml or a bag directory) or --suite')
    suite_only = [flag for flag, value in (('--only', args.only), ('--save-scenarios', args.save_scenarios),
                                           ('--seed', args.seed != SUITE_SEED)) if value]
    other_only = [flag for flag, value in (('--watches', args.watches), ('--scenario', args.scenario),
                                           ('--via-bag', args.via_bag)) if value]
    if not args.suite and suite_only:
        parser.error(f"{', '.join(suite_only)} only apply with --suite")
    if args.suite and other_only:
        parser.error(f"{', '.join(other_only)} do not apply with --suite")
    os.environ.setdefault('HF_HUB_OFFLINE', '1')  # nothing may be fetched at run time

    try:
        return _run_suite(args) if args.suite else _run(args)
    except (OmniError, OSError) as exc:
        print(f'omni_eval: {exc}', file=sys.stderr)
        return 2


def _progress(args: argparse.Namespace, total: int) -> Any:
    from tqdm import tqdm

    return tqdm(total=max(1, total), unit='chunk', file=sys.stderr, disable=args.no_progress, desc='omni_eval',
                leave=False)


def _backend(args: argparse.Namespace) -> Any:
    from omni_ros.backends import create_backend

    return create_backend(args.backend, _parse_options(args.option))


def _set_up(backend: Any, watches: Iterable[ExpectedWatch]) -> float:
    """Check every instruction (before a slow set-up), set ``backend`` up; the seconds the set-up took."""
    for watch in watches:
        backend.check_instruction(watch.instruction)
    t0 = time.perf_counter()
    backend.setup()
    return time.perf_counter() - t0


def _write_json(args: argparse.Namespace, data: dict[str, Any]) -> None:
    text = json.dumps(data, indent=2)
    if args.json == '-':
        print(text)
    else:
        Path(args.json).write_text(text + '\n', encoding='utf-8')


def _run(args: argparse.Namespace) -> int:
    from omni_ros.scenario import cached_bag, load_scenario

    source = Path(args.input)
    is_bag = source.is_dir() and (source / 'metadata.yaml').is_file()
    scn = None
    if not is_bag:
        scn = load_scenario(args.input)
    elif args.scenario:
        scn = load_scenario(args.scenario)
    if args.watches:
        expected = load_watch_list(args.watches)
    elif scn is not None:
        expected = scn.expected.watches
        if not expected:
            raise ConfigError(f'scenario {scn.name!r} lists no expected.watches; pass --watches')
    else:
        raise ConfigError('a bag needs a watch list: pass --watches YAML (or --scenario NAME)')

    backend = _backend(args)
    spec = backend.stream_spec()
    origin = scn.start_time if scn is not None else None
    if is_bag:
        items, duration = _bag_items(source, args.audio_topic, args.image_topic)
        label = str(source)
    elif scn is None:
        raise ConfigError(f'{source} is neither a bag folder nor a scenario')
    elif args.via_bag:
        bag = cached_bag(scn)
        items, duration = _bag_items(bag, args.audio_topic, args.image_topic)
        label = str(bag)
    else:
        items, duration, label = _scenario_items(scn), scn.duration, f'scenario {scn.name}'

    setup_s = _set_up(backend, expected)
    bar = _progress(args, math.ceil(duration / spec.chunk_seconds))
    try:
        run = run_backend(backend, _chunks(items, spec), expected, origin, one_shot=args.one_shot,
                          progress=lambda chunk: bar.update(1))
    finally:
        bar.close()
        backend.shutdown()

    report = group_results([match_alerts(w, run.alerts[w.id], published=run.published[w.id]) for w in expected])
    rtf = run.wall_seconds / run.stream_seconds if run.stream_seconds else None
    print(f'{label}: backend {args.backend}, {run.chunks} chunks ({run.stream_seconds:.1f} s) in '
          f'{run.wall_seconds:.1f} s (real-time factor {_fmt(rtf)}), set-up {setup_s:.1f} s')
    print(format_table(report))
    print(_LATENCY_NOTE)
    if args.json:
        _write_json(args, report_json(report, {
            'input': label, 'backend': args.backend, 'chunks': run.chunks,
            'stream_seconds': run.stream_seconds, 'wall_seconds': round(run.wall_seconds, 3),
            'real_time_factor': rtf, 'setup_seconds': round(setup_s, 3), 'one_shot': args.one_shot,
            'early_slack_seconds': EARLY_SLACK}))
    return 0


_LATENCY_NOTE = ('latency: when the alert would be published (end of the input it was decided on plus the '
                 "backend's processing time) minus the expected time; unit start: the start of the input it "
                 'refers to (its event stamp) minus the expected time')


@dataclass
class SuiteRun:
    """Every watch of every scenario, matched, and what running them cost."""

    results: list[WatchResult]
    scenarios: int
    chunks: int
    stream_seconds: float
    wall_seconds: float


def run_suite(backend: Any, scenarios: Sequence[Scenario], *, one_shot: bool = False,
              progress: Callable[[Scenario, Chunk], None] | None = None) -> SuiteRun:
    """Each scenario rendered in-process and fed to one set-up backend (a new session each)."""
    spec = backend.stream_spec()
    results: list[WatchResult] = []
    chunks = 0
    stream = wall = 0.0
    for scn in scenarios:
        step = None if progress is None else (lambda chunk, scn=scn: progress(scn, chunk))
        run = run_backend(backend, _chunks(_scenario_items(scn), spec), scn.expected.watches, scn.start_time,
                          one_shot=one_shot, progress=step)
        results += [match_alerts(w, run.alerts[w.id], scn.name, run.published[w.id]) for w in scn.expected.watches]
        chunks += run.chunks
        stream += run.stream_seconds
        wall += run.wall_seconds
    return SuiteRun(results, len(scenarios), chunks, stream, wall)


def select_scenarios(scenarios: Sequence[Scenario], patterns: Sequence[str]) -> list[Scenario]:
    """The scenarios whose names match any of ``patterns`` (all of them when there are none)."""
    chosen = [s for s in scenarios if not patterns or any(fnmatch.fnmatchcase(s.name, p) for p in patterns)]
    if not chosen:
        names = sorted({s.name.rsplit('-', 1)[0] + '-*' for s in scenarios})
        raise ConfigError(f"--only {' '.join(patterns)} matches no scenario of the suite; try {', '.join(names)}")
    return chosen


def _run_suite(args: argparse.Namespace) -> int:
    import yaml

    from omni_ros.scenario.suite import parse_suite_scenario, suite_data

    data = suite_data(args.seed)
    scenarios = select_scenarios([parse_suite_scenario(d) for d in data], args.only)
    if args.save_scenarios:
        out = Path(args.save_scenarios)
        out.mkdir(parents=True, exist_ok=True)
        chosen = {s.name for s in scenarios}
        for item in data:
            if item['name'] in chosen:
                (out / f"{item['name']}.yaml").write_text(yaml.safe_dump(item, sort_keys=False), encoding='utf-8')
    backend = _backend(args)
    setup_s = _set_up(backend, [w for s in scenarios for w in s.expected.watches])
    spec = backend.stream_spec()
    bar = _progress(args, sum(math.ceil(s.duration / spec.chunk_seconds) for s in scenarios))

    def step(scn: Scenario, chunk: Chunk) -> None:
        bar.set_postfix_str(scn.name, refresh=False)
        bar.update(1)

    try:
        run = run_suite(backend, scenarios, one_shot=args.one_shot, progress=step)
    finally:
        bar.close()
        backend.shutdown()

    report = group_results(run.results)
    floors = Floors()
    rtf = run.wall_seconds / run.stream_seconds if run.stream_seconds else None
    print(f'suite (seed {args.seed}): {run.scenarios} scenarios, backend {args.backend}, {run.chunks} chunks '
          f'({run.stream_seconds:.0f} s) in {run.wall_seconds:.1f} s (real-time factor {_fmt(rtf)}), '
          f'set-up {setup_s:.1f} s')
    print(format_suite(report, floors))
    print(_LATENCY_NOTE)
    failing = [g.name for g in report['kinds'] if below_floors(g, floors)]
    print(f"floors (recall and precision >= {floors.recall}, median latency <= {floors.median_latency} s, "
          f"max latency <= {floors.max_latency} s): "
          + (f"not met by {', '.join(failing)}" if failing else 'met by every kind'))
    if args.json:
        _write_json(args, report_json(report, {
            'input': 'suite', 'seed': args.seed, 'scenarios': [s.name for s in scenarios], 'backend': args.backend,
            'chunks': run.chunks, 'stream_seconds': run.stream_seconds, 'wall_seconds': round(run.wall_seconds, 3),
            'real_time_factor': rtf, 'setup_seconds': round(setup_s, 3), 'one_shot': args.one_shot,
            'early_slack_seconds': EARLY_SLACK, 'floors': asdict(floors),
            'below_floors': {g.name: below_floors(g, floors) for g in report['kinds'] if below_floors(g, floors)}}))
    return 1 if failing else 0


if __name__ == '__main__':
    sys.exit(main())
