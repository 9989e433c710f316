"""Scenario descriptions: what the synthetic camera sees and the microphone hears, and when.

A scenario file (see ``omni_ros/scenarios/crossing.yaml`` for the documented schema) holds the sensor
set-up, timed scene elements, the ground truth an evaluation compares alerts against (``expected``)
and the matching scripted-backend timeline (``script``). All times are seconds from the scenario start;
the bag's stamps are ``start_time`` + those seconds.
"""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from omni_ros.errors import ConfigError
from omni_ros.scenario._schema import Section
from omni_ros.scenario.script import MODALITIES, Timeline, parse_timeline
from omni_ros.data import Modality

BUNDLED_DIR = Path(__file__).resolve().parent.parent / 'scenarios'

Box = tuple[int, int, int, int]  # x, y, width, height in pixels (x right, y down)
Rgb = tuple[int, int, int]
Intervals = tuple[tuple[float, float], ...]  # [start, end) spans in seconds


def within(intervals: Intervals, t: float) -> bool:
    """Whether ``t`` falls in one of the [start, end) ``intervals``."""
    return any(start <= t < end for start, end in intervals)

LIGHT_COLORS = ('red', 'amber', 'green', 'dark')
TONE_KINDS = ('ding', 'beep', 'doorbell')  # sounds made of tones: they need a frequency
ALARM_KINDS = ('smoke_alarm', 'co_alarm')  # temporal-three and temporal-four patterns
SOUND_KINDS = (*TONE_KINDS, 'knock', 'speech', 'phone', 'kettle', *ALARM_KINDS)
RING_CADENCES = ('us', 'uk')
RING_STYLES = ('warble', 'bell')
KETTLE_STYLES = ('single', 'double')
SPEECH_VOICES = ('slt', 'kal', 'awb', 'rms')  # flite's built-in voices
# Characters a seven-segment digit can show.
SEGMENT_CHARS = frozenset('0123456789- ')


@dataclass(frozen=True)
class CameraSpec:
    topic: str = '/camera/image_raw'
    frame_id: str = 'camera'
    width: int = 640
    height: int = 480
    fps: float = 10.0
    encoding: str = 'rgb8'
    noise: float = 2.0  # per-pixel uniform noise amplitude, in 8-bit levels
    gaps: Intervals = ()  # spans in which the camera delivers no frames (a driver that stalls)

    def frame_times(self, duration: float) -> list[float]:
        """Capture times (s from start) of every frame in ``duration`` seconds."""
        times = (k / self.fps for k in range(int(round(duration * self.fps))))
        return [t for t in times if not within(self.gaps, t)]


@dataclass(frozen=True)
class AudioSpec:
    topic: str = '/audio'
    frame_id: str = 'microphone'
    sample_rate: int = 16000
    block: float = 0.05  # seconds per AudioChunk message
    encoding: str = 'S16LE'
    noise: float = 0.004  # background noise RMS (full scale 1.0)

    @property
    def block_samples(self) -> int:
        return int(round(self.block * self.sample_rate))


@dataclass(frozen=True)
class Step:
    """From ``at`` seconds on (until the next step), the element shows ``value``."""

    at: float
    value: str


def _value_at(steps: tuple[Step, ...], t: float) -> str:
    """Value of a piecewise-constant timeline at ``t`` (the first step's value before it starts)."""
    i = bisect.bisect_right([s.at for s in steps], t) - 1
    return steps[max(i, 0)].value


@dataclass(frozen=True)
class TrafficLight:
    box: Box  # the housing; three lamps top to bottom: red, amber, green
    states: tuple[Step, ...]  # value: red | amber | green | dark

    def state_at(self, t: float) -> str:
        return _value_at(self.states, t)


@dataclass(frozen=True)
class SegmentDisplay:
    box: Box
    values: tuple[Step, ...]  # value: the digits shown, right-aligned
    color: Rgb = (255, 60, 20)
    label: str = ''  # printed above the display, e.g. FLOOR

    @property
    def digits(self) -> int:
        return max(len(s.value) for s in self.values)

    def value_at(self, t: float) -> str:
        return _value_at(self.values, t)


@dataclass(frozen=True)
class Sign:
    box: Box
    text: str  # lines separated by newlines; empty: a plain board (a door, a panel)
    color: Rgb = (20, 20, 20)
    background: Rgb = (245, 245, 235)
    visible: Intervals = ()  # empty: always there

    def visible_at(self, t: float) -> bool:
        return not self.visible or within(self.visible, t)


@dataclass(frozen=True)
class Lamp:
    """A round light (e.g. an amber beacon) that is lit during the ``lit`` intervals."""

    center: tuple[int, int]
    radius: int
    color: Rgb
    lit: Intervals  # YAML key 'lit' ('on' would read as true)

    def lit_at(self, t: float) -> bool:
        return within(self.lit, t)


@dataclass(frozen=True)
class Person:
    """A standing figure, there during the ``visible`` intervals."""

    feet: tuple[int, int]  # where the figure stands (pixels)
    height: int  # pixels from the soles to the top of the head
    visible: Intervals
    clothes: Rgb = (40, 45, 70)

    def visible_at(self, t: float) -> bool:
        return within(self.visible, t)


@dataclass(frozen=True)
class Sound:
    """Something the microphone hears from ``at`` on (see ``render.py`` for how each kind sounds).

    ding: a struck bell at ``frequency``; doorbell: a ding then, ``gap`` seconds later, a "dong" a major
    third lower; beep: a steady tone, ``count`` times; knock: ``count`` knuckle raps ``gap`` apart;
    speech: ``text`` spoken by a flite ``voice``; phone: ``count`` rings in a ``pattern`` cadence (us, uk)
    by a ``style`` ringer (warble, bell) trilling ``trill`` times a second at ``frequency``; kettle: a
    whistle at ``frequency`` for ``duration`` seconds (``style`` single or double tone); smoke_alarm,
    co_alarm: ``count`` cycles of the T3 or T4 pattern at ``frequency``, timings scaled by ``tempo``.
    """

    kind: str
    at: float
    level: float  # peak amplitude, full scale 1.0
    frequency: float = 0.0  # Hz; tones only
    duration: float = 0.0  # seconds of one tone; tones only
    count: int = 1  # beeps and knocks
    gap: float = 0.1  # seconds between beeps, knocks, or a doorbell's two notes
    text: str = ''  # speech only
    voice: str = 'slt'  # speech only
    pattern: str = ''  # phone: ring cadence
    style: str = ''  # phone: ringer; kettle: single or double whistle
    trill: float = 0.0  # phone: trills per second
    tempo: float = 1.0  # alarms: every duration of the pattern scaled by this

    @property
    def length(self) -> float:
        """Seconds the sound lasts (for ground truth: when it is over)."""
        from omni_ros.backends.cpu.synth import ALARM_PATTERNS
        from omni_ros.backends.cpu.synth import RING_CADENCES as CADENCES

        if self.kind in ALARM_KINDS:
            steps = ALARM_PATTERNS['T3' if self.kind == 'smoke_alarm' else 'T4']
            return self.tempo * (self.count * sum(on + off for on, off in steps) - steps[-1][1])
        if self.kind == 'phone':
            steps = CADENCES[self.pattern]
            return self.count * sum(on + off for on, off in steps) - steps[-1][1]
        if self.kind == 'beep':
            return self.count * self.duration + (self.count - 1) * self.gap
        return self.duration


@dataclass(frozen=True)
class Scene:
    traffic_lights: tuple[TrafficLight, ...] = ()
    displays: tuple[SegmentDisplay, ...] = ()
    signs: tuple[Sign, ...] = ()
    lamps: tuple[Lamp, ...] = ()
    sounds: tuple[Sound, ...] = ()
    people: tuple[Person, ...] = ()
    lighting: float = 1.0  # scene illumination; light sources (lamps, LED digits) keep their brightness
    relit: tuple[tuple[float, float], ...] = ()  # (at, level): the room light changes at these times

    def lighting_at(self, t: float) -> float:
        level = self.lighting
        for at, value in self.relit:
            if t >= at:
                level = value
        return level


@dataclass(frozen=True)
class ExpectedWatch:
    """Ground truth for one watch: when its condition first becomes visible or audible."""

    id: str
    instruction: str
    modality: Modality
    at: float | None  # None: never happens, so any alert is a false alarm
    window: float = 3.0  # an alert in [at, at + window] counts as correct
    kind: str = ''  # what is watched (light, floor, ding, ...), to group results; free text


@dataclass(frozen=True)
class ExpectedAnswer:
    """Ground truth for a question asked between ``start`` and ``end``."""

    question: str
    contains: tuple[str, ...]  # the answer must mention each of these (case-insensitive)
    start: float = 0.0
    end: float | None = None  # None: until the end of the scenario


@dataclass(frozen=True)
class Expected:
    watches: tuple[ExpectedWatch, ...] = ()
    questions: tuple[ExpectedAnswer, ...] = ()


@dataclass(frozen=True)
class Scenario:
    name: str
    duration: float  # seconds
    start_time: float  # epoch seconds of the first frame and first audio sample
    seed: int  # sensor noise seed: same seed, same bytes
    camera: CameraSpec
    audio: AudioSpec
    scene: Scene
    expected: Expected = Expected()
    script: Timeline | None = None
    description: str = ''
    # Where it was loaded from; not part of identity (cache keys use the repr).
    source: Path | None = field(default=None, repr=False, compare=False)

    @property
    def start_ns(self) -> int:
        return int(round(self.start_time * 1e9))

    def stamp_ns(self, t: float) -> int:
        """Epoch nanoseconds of scenario time ``t``."""
        return self.start_ns + int(round(t * 1e9))


def bundled_scenarios() -> list[str]:
    return sorted(p.stem for p in BUNDLED_DIR.glob('*.yaml'))


def scenario_path(name_or_path: str | Path) -> Path:
    """A bundled scenario's file for a bare name, else the given path."""
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or text.endswith(('.yaml', '.yml')) or '/' in text:
        path = Path(name_or_path)
        if not path.is_file():
            raise ConfigError(f'scenario file {path} does not exist')
        return path
    path = BUNDLED_DIR / f'{text}.yaml'
    if not path.is_file():
        raise ConfigError(
            f"unknown scenario {text!r}; bundled: {', '.join(bundled_scenarios()) or 'none'} "
            '(or give a path to a .yaml file)')
    return path


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load a bundled scenario by name (``crossing``) or a scenario file by path."""
    path = scenario_path(name_or_path)
    try:
        data = yaml.safe_load(path.read_text(encoding='utf-8'))
    except yaml.YAMLError as exc:
        raise ConfigError(f'{path} is not valid YAML: {exc}') from exc
    return parse_scenario(data, str(path), source=path)


def parse_scenario(data: Any, where: str = 'scenario', *, source: Path | None = None) -> Scenario:
    """Scenario from parsed YAML; ``where`` (usually the file name) starts error messages."""
    root = Section(data, where)
    name = root.string('name', nonempty=True)
    duration = root.number('duration', positive=True, maximum=3600.0)
    camera = _camera(root.mapping('camera'))
    audio = _audio(root.mapping('audio'))
    scene = _scene(root.mapping('scene'), camera, duration)
    expected = _expected(root.mapping('expected', required=False), duration)
    script_data = root.raw('script')
    script = parse_timeline(script_data, root.at('script')) if script_data is not None else None
    scn = Scenario(
        name=name,
        description=root.string('description', ''),
        duration=duration,
        start_time=root.number('start_time', 1_700_000_000.0, minimum=0.0),
        seed=root.integer('seed', 0, minimum=0),
        camera=camera, audio=audio, scene=scene, expected=expected, script=script, source=source,
    )
    root.done()
    return scn


def _camera(sec: Section) -> CameraSpec:
    spec = CameraSpec(
        topic=sec.string('topic', CameraSpec.topic, nonempty=True),
        frame_id=sec.string('frame_id', CameraSpec.frame_id),
        width=sec.integer('width', minimum=16, maximum=4096),
        height=sec.integer('height', minimum=16, maximum=4096),
        fps=sec.number('fps', positive=True, maximum=120.0),
        encoding=sec.string('encoding', 'rgb8', choices=('rgb8',)),
        noise=sec.number('noise', CameraSpec.noise, minimum=0.0, maximum=64.0),
        gaps=_intervals(sec, 'gaps'),
    )
    sec.done()
    return spec


def _audio(sec: Section) -> AudioSpec:
    spec = AudioSpec(
        topic=sec.string('topic', AudioSpec.topic, nonempty=True),
        frame_id=sec.string('frame_id', AudioSpec.frame_id),
        sample_rate=sec.integer('sample_rate', minimum=8000, maximum=96000),
        block=sec.number('block', positive=True, maximum=1.0),
        encoding=sec.string('encoding', 'S16LE', choices=('S16LE',)),
        noise=sec.number('noise', AudioSpec.noise, minimum=0.0, maximum=0.5),
    )
    sec.done()
    if abs(spec.block * spec.sample_rate - spec.block_samples) > 1e-6:
        raise ConfigError(f'{sec.at("block")}: must be a whole number of samples at {spec.sample_rate} Hz')
    return spec


def _box(sec: Section, key: str, camera: CameraSpec) -> Box:
    x, y, w, h = sec.numbers(key, 4, integer=True, minimum=0)
    if w < 4 or h < 4 or x + w > camera.width or y + h > camera.height:
        raise ConfigError(f'{sec.at(key)}: [x, y, width, height] = {[x, y, w, h]} must lie inside the '
                          f'{camera.width}x{camera.height} image and be at least 4x4 pixels')
    return (x, y, w, h)


def _intervals(sec: Section, key: str, *, required: bool = False) -> Intervals:
    spans = []
    for item, where in sec.items(key, required=required):
        if (not isinstance(item, list) or len(item) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in item)
                or not 0 <= item[0] < item[1]):
            raise ConfigError(f'{where}: must be [start, end] in seconds with 0 <= start < end, got {item!r}')
        spans.append((float(item[0]), float(item[1])))
    if required and not spans:
        raise ConfigError(f'{sec.at(key)}: needs at least one [start, end] span')
    return tuple(spans)


def _rgb(sec: Section, key: str, default: Rgb) -> Rgb:
    return sec.numbers(key, 3, default, integer=True, minimum=0, maximum=255)


def _steps(sec: Section, key: str, duration: float, *, choices: tuple[str, ...] = (),
           chars: frozenset[str] | None = None) -> tuple[Step, ...]:
    steps = []
    for entry in sec.mappings(key, required=True):
        value = entry.string('show', choices=choices)
        if chars is not None and (not value or set(value) - chars):
            raise ConfigError(f"{entry.at('show')}: a seven-segment display shows only digits, '-' and "
                              f'spaces; got {value!r}')
        steps.append(Step(at=entry.number('at', minimum=0.0, maximum=duration), value=value))
        entry.done()
    if not steps:
        raise ConfigError(f'{sec.at(key)}: needs at least one entry')
    if any(b.at <= a.at for a, b in zip(steps, steps[1:])):
        raise ConfigError(f'{sec.at(key)}: times (at) must increase from one entry to the next')
    return tuple(steps)


def _scene(sec: Section, camera: CameraSpec, duration: float) -> Scene:
    lights = []
    for entry in sec.mappings('traffic_lights'):
        lights.append(TrafficLight(box=_box(entry, 'box', camera),
                                   states=_steps(entry, 'states', duration, choices=LIGHT_COLORS)))
        entry.done()
    displays = []
    for entry in sec.mappings('displays'):
        displays.append(SegmentDisplay(
            box=_box(entry, 'box', camera),
            values=_steps(entry, 'values', duration, chars=SEGMENT_CHARS),
            color=_rgb(entry, 'color', SegmentDisplay.color),
            label=entry.string('label', ''),
        ))
        entry.done()
    signs = []
    for entry in sec.mappings('signs'):
        signs.append(Sign(
            box=_box(entry, 'box', camera),
            text=entry.string('text', '').strip(),
            color=_rgb(entry, 'color', Sign.color),
            background=_rgb(entry, 'background', Sign.background),
            visible=_intervals(entry, 'visible'),
        ))
        entry.done()
    lamps = []
    for entry in sec.mappings('lamps'):
        cx, cy = entry.numbers('center', 2, integer=True, minimum=0)
        radius = entry.integer('radius', minimum=2, maximum=min(camera.width, camera.height) // 2)
        lamps.append(Lamp(center=(cx, cy), radius=radius, color=_rgb(entry, 'color', (255, 150, 0)),
                          lit=_intervals(entry, 'lit', required=True)))
        entry.done()
    people = []
    for entry in sec.mappings('people'):
        x, y = entry.numbers('feet', 2, integer=True, minimum=0)
        height = entry.integer('height', minimum=16, maximum=camera.height)
        if x >= camera.width or y > camera.height or y < height:
            raise ConfigError(f"{entry.at('feet')}: a person {height} px tall standing at {[x, y]} must be inside "
                              f'the {camera.width}x{camera.height} image')
        people.append(Person(feet=(x, y), height=height, visible=_intervals(entry, 'visible', required=True),
                             clothes=_rgb(entry, 'clothes', Person.clothes)))
        entry.done()
    sounds = [_sound(entry, duration) for entry in sec.mappings('sounds')]
    lighting, relit = _lighting(sec, duration)
    sec.done()
    return Scene(tuple(lights), tuple(displays), tuple(signs), tuple(lamps), tuple(sounds), tuple(people),
                 lighting, relit)


def _lighting(sec: Section, duration: float) -> tuple[float, tuple[tuple[float, float], ...]]:
    """``lighting: 0.4`` (all along) or ``lighting: [{at: 0, level: 1.0}, {at: 5.2, level: 0.02}]``."""
    if not isinstance(sec.raw('lighting'), list):
        return sec.number('lighting', 1.0, positive=True, maximum=4.0), ()
    steps = []
    for entry in sec.mappings('lighting'):
        steps.append((entry.number('at', minimum=0.0, maximum=duration),
                      entry.number('level', positive=True, maximum=4.0)))
        entry.done()
    if not steps or steps[0][0] != 0.0:
        raise ConfigError(f"{sec.at('lighting')}: a lighting timeline starts with an entry at 0")
    if any(b[0] <= a[0] for a, b in itertools.pairwise(steps)):
        raise ConfigError(f"{sec.at('lighting')}: times (at) must increase from one entry to the next")
    return steps[0][1], tuple(steps[1:])


def _sound(entry: Section, duration: float) -> Sound:
    """One sound; only the keys its kind uses are read, so a stray one (a knock's frequency) is an error."""
    kind = entry.string('kind', choices=SOUND_KINDS)
    values: dict[str, Any] = {'kind': kind, 'at': entry.number('at', minimum=0.0, maximum=duration),
                              'level': entry.number('level', minimum=0.0, maximum=1.0)}
    if kind in TONE_KINDS:
        values['frequency'] = entry.number('frequency', minimum=50.0, maximum=7000.0)
        values['duration'] = entry.number('duration', positive=True, maximum=10.0)
    if kind in ('beep', 'knock'):
        values['count'] = entry.integer('count', 1, minimum=1, maximum=20)
    if kind in ('beep', 'knock', 'doorbell'):
        values['gap'] = entry.number('gap', 0.5 if kind == 'doorbell' else Sound.gap, minimum=0.0, maximum=5.0)
    if kind == 'speech':
        values['text'] = entry.string('text', nonempty=True)
        values['voice'] = entry.string('voice', Sound.voice, choices=SPEECH_VOICES)
    if kind in ('phone', 'kettle', *ALARM_KINDS):
        values['frequency'] = entry.number('frequency', minimum=300.0, maximum=4500.0)
    if kind in ('phone', *ALARM_KINDS):
        values['count'] = entry.integer('count', 2, minimum=1, maximum=50)
    if kind == 'phone':
        values['pattern'] = entry.string('pattern', 'us', choices=RING_CADENCES)
        values['style'] = entry.string('style', 'warble', choices=RING_STYLES)
        values['trill'] = entry.number('trill', 20.0, minimum=10.0, maximum=35.0)
    if kind == 'kettle':
        values['duration'] = entry.number('duration', positive=True, maximum=60.0)
        values['style'] = entry.string('style', 'single', choices=KETTLE_STYLES)
    if kind in ALARM_KINDS:
        values['tempo'] = entry.number('tempo', 1.0, minimum=0.7, maximum=1.3)
    entry.done()
    return Sound(**values)


def parse_expected(data: Any, source: str, duration: float = math.inf) -> Expected:
    """An ``expected:`` section (watches and questions) read from plain YAML data; ``source`` names it in
    errors."""
    return _expected(Section(data, source), duration)


def _expected(sec: Section, duration: float) -> Expected:
    watches = []
    ids: set[str] = set()
    for entry in sec.mappings('watches'):
        item = ExpectedWatch(
            id=entry.string('id', nonempty=True),
            instruction=entry.string('instruction', nonempty=True),
            modality=Modality(entry.string('modality', choices=MODALITIES)),
            at=entry.optional_number('at', minimum=0.0),
            window=entry.number('window', ExpectedWatch.window, positive=True),
            kind=entry.string('kind', ''),
        )
        entry.done()
        if item.id in ids:
            raise ConfigError(f"{entry.at('id')}: {item.id!r} is used twice; ids must be unique")
        if item.at is not None and item.at > duration:
            raise ConfigError(f"{entry.at('at')}: {item.at} is after the end of the scenario ({duration} s)")
        ids.add(item.id)
        watches.append(item)
    questions = []
    for entry in sec.mappings('questions'):
        questions.append(ExpectedAnswer(
            question=entry.string('question', nonempty=True),
            contains=entry.strings('contains'),
            start=entry.number('from', 0.0, minimum=0.0),
            end=entry.optional_number('until', minimum=0.0),
        ))
        entry.done()
    sec.done()
    return Expected(tuple(watches), tuple(questions))
