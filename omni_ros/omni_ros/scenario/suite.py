"""A generated set of short scenarios covering each kind of watch, for evaluating a backend's alerts.

    scenarios = suite_scenarios()          # the default, seeded set: same seed, same scenarios
    data = suite_data(seed=7)              # the same as YAML-shaped dicts (see crossing.yaml's schema)

Every scenario is built as the data a scenario file would hold and parsed with the same validation, so a
generated scenario can be written out and replayed like a hand-written one. Each one varies what a
robot meets: several phrasings of each instruction, dim, normal and bright rooms (and night, where only
light sources show), sensor and background noise, sounds from well above the noise down to near it, and
distractors that must not trigger (a blinking amber beacon and coloured signs beside a traffic light,
the digits' reversal and substrings on a floor display, other words and look-alike words on signs,
boards and posters where no one stands, beeps next to dings, single dings next to doorbells). The
robustness scenarios add silence, darkness, loud noise alone and a camera that stops.

Every scenario also carries a watch for each sound kind (``None`` where that sound never plays), so
every scenario checks the audio watches for false alarms.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass
from typing import Any, Callable

from omni_ros.scenario.model import Scenario, parse_scenario

SUITE_SEED = 2024
WIDTH, HEIGHT = 640, 480
FPS = 10
_START_TIME = 1_700_000_000.0
_WINDOW = 3.0  # seconds after the expected time within which an alert is on time


class Kind(enum.Enum):
    """What a watch is about; the evaluation reports each kind separately."""

    LIGHT = 'light'
    FLOOR = 'floor'
    TEXT = 'text'
    PERSON = 'person'
    NOBODY = 'nobody'
    DING = 'ding'
    BEEP = 'beep'
    DOORBELL = 'doorbell'
    KNOCK = 'knock'
    SPEECH = 'speech'
    DARK = 'dark'
    LIGHTS_ON = 'lights_on'
    PEOPLE_COUNT = 'people_count'
    PHONE = 'phone'
    KETTLE = 'kettle'
    SMOKE_ALARM = 'smoke_alarm'
    CO_ALARM = 'co_alarm'

    @property
    def modality(self) -> str:
        return 'audio' if self in SOUND_KINDS else 'vision'


# The sounds the first recipes play (kept as they were, so their scenarios do not change).
BASIC_SOUNDS = (Kind.DING, Kind.BEEP, Kind.DOORBELL, Kind.KNOCK, Kind.SPEECH)
SOUND_KINDS = (*BASIC_SOUNDS, Kind.PHONE, Kind.KETTLE, Kind.SMOKE_ALARM, Kind.CO_ALARM)
ALARMS = (Kind.SMOKE_ALARM, Kind.CO_ALARM)

# What people say. {color}, {n}, {words} (spelled number), {ordinal} and {word} are filled in per scenario.
PHRASINGS: dict[Kind, tuple[str, ...]] = {
    Kind.LIGHT: ('tell me when the light turns {color}', 'let me know when it goes {color}',
                 'alert me when the traffic light changes to {color}', 'say something when the signal is {color}',
                 'notify me once the pedestrian light turns {color}', 'when the light goes {color}, tell me'),
    Kind.FLOOR: ('alert me when we reach floor {n}', 'tell me when the display shows floor {n}',
                 'let me know when we get to the {ordinal} floor', 'ping me once we are on floor {words}',
                 'tell me when the elevator reaches {n}', 'say something when we arrive at level {n}'),
    Kind.TEXT: ('tell me when the sign says {word}', 'let me know when you see the word {word}',
                'alert me when the screen shows {word}', 'say something if you see a sign saying {word}',
                'tell me when the text {word} appears'),
    Kind.PERSON: ('say something if someone comes in', 'tell me when somebody shows up',
                  'let me know if a person appears', 'alert me when anyone is there', 'notify me when someone enters',
                  'warn me if somebody walks in'),
    Kind.NOBODY: ('tell me when everyone leaves', 'let me know when the room is empty',
                  'say something once nobody is there'),
    Kind.DING: ('tell me when you hear a ding', 'let me know if the microwave dings', 'alert me when you hear a chime',
                'tell me when the air fryer dings'),
    Kind.BEEP: ('tell me when the oven beeps', 'alert me when the microwave beeps', 'let me know when you hear a beep',
                'tell me when the timer goes off'),
    Kind.DOORBELL: ('tell me when the doorbell rings', 'let me know if someone rings the doorbell',
                    'alert me when the door bell goes', 'ping me if someone rings at the door'),
    Kind.KNOCK: ('tell me when someone knocks on the door', 'let me know if you hear knocking',
                 'alert me if someone is knocking', 'when you hear a knock'),
    Kind.SPEECH: ('tell me when someone talks', 'let me know if somebody speaks',
                  'alert me when you hear someone talking',
                  'tell me if you hear a voice'),
    Kind.DARK: ('let me know the moment the room goes dark', 'let me know if the lights go out',
                'alert me when it gets dark in here',
                'say something when the lights are switched off', 'tell me when the lights turn off'),
    Kind.LIGHTS_ON: ('tell me as soon as the lights come on', 'let me know when the room lights up',
                     'alert me when the lights are switched on', 'say something once the lights turn on',
                     'tell me when it gets light in here'),
    # {count} from COUNT_WORDS: a bound said in words ("at least two people").
    Kind.PEOPLE_COUNT: ('tell me when there are {count} in the room', 'let me know when there are {count} here',
                        'alert me when there are {count} in view', 'say something once there are {count} around'),
    Kind.PHONE: ('let me know as soon as the phone rings', 'let me know if the telephone rings',
                 'alert me when you hear the phone ringing', 'tell me if the phone is ringing'),
    Kind.KETTLE: ('tell me as soon as the kettle whistles', 'let me know when the kettle starts whistling',
                  'alert me when you hear the kettle', 'tell me when the kettle is whistling'),
    Kind.SMOKE_ALARM: ('tell me if the smoke alarm goes off', 'let me know when the smoke detector sounds',
                       'alert me if you hear the smoke alarm', 'tell me when the smoke alarm beeps'),
    Kind.CO_ALARM: ('warn me if the carbon monoxide alarm goes off', 'let me know when the CO alarm sounds',
                    'alert me if you hear the carbon monoxide detector', 'tell me when the CO detector goes off'),
}
# How a people count is said, per (op, n) of the condition it means.
COUNT_WORDS = {
    ('>=', 2): ('at least two people', 'two or more people', 'more than one person'),
    ('>=', 3): ('at least three people', 'three or more people', 'more than two people'),
    ('>=', 4): ('at least four people', 'four or more people', 'more than three people'),
    ('==', 2): ('exactly two people',),
    ('==', 1): ('exactly one person',),
    ('<=', 1): ('fewer than two people', 'at most one person', 'no more than one person'),
}
# Floor numbers with their spoken forms (cardinal, ordinal).
FLOORS = {3: ('three', 'third'), 7: ('seven', 'seventh'), 12: ('twelve', 'twelfth'), 16: ('sixteen', 'sixteenth'),
          21: ('twenty one', 'twenty first'), 34: ('thirty four', 'thirty fourth')}
# Words to wait for, each with a look-alike shown instead in some scenarios (it must not count).
SIGN_WORDS = {'EXIT': 'EDIT', 'OPEN': 'OVEN', 'STOP': 'SHOP', 'PHARMACY': 'FARMACIA', 'TOILETS': 'TICKETS',
              'GATE 12': 'GATE 21', 'NO ENTRY': 'ENTRY'}
OTHER_SIGNS = ('MAIN ST', 'PUSH', 'WELCOME', 'CAFE', 'BUS STOP\nLINE 4', 'PLATFORM 2', 'SALE')
# (text colour, background): dark on white, white on green, white on red, yellow on black, white on blue.
SIGN_COLORS = (((20, 20, 20), (245, 245, 235)), ((250, 250, 250), (20, 120, 50)), ((250, 250, 250), (190, 30, 30)),
               ((250, 210, 30), (25, 25, 25)), ((250, 250, 250), (30, 70, 160)))
SENTENCES = ('hello, is anybody home?', 'I brought the package you ordered.', 'excuse me, where is the train station?',
             'good morning, how are you today?', 'the meeting has been moved to three o clock.',
             'could you help me carry these boxes?')
VOICES = ('slt', 'kal', 'awb', 'rms')
LED_COLORS = ((255, 60, 20), (40, 230, 90), (255, 170, 20))
CLOTHES = ((40, 45, 70), (110, 30, 30), (35, 80, 45), (70, 70, 75))
# Room light (1.0: as bright as the crossing scenario); at night only light sources stand out, in the
# dark nothing else can be seen at all.
LIGHTING = {'dim': 0.4, 'normal': 1.0, 'bright': 1.35, 'night': 0.08, 'dark': 0.02}
# What the lighting watches mean in room light: up to DARK_LEVEL the room is dark, from LIT_LEVEL on it is
# lit (a dimmed room included); the suite never sets a level in between.
DARK_LEVEL, LIT_LEVEL = 0.1, 0.25
# Background noise RMS (full scale 1) and the peak level of each sound above it, in dB.
NOISE = {'quiet': 0.002, 'room': 0.006, 'noisy': 0.02}
PEAK_SNR_DB = (22.0, 28.0, 34.0, 40.0)
_CYCLE = ('green', 'amber', 'red')  # each colour follows the one before it


@dataclass(frozen=True)
class Floors:
    """The acceptance floors per watch kind (issue #4): what a good backend reaches on this suite."""

    recall: float = 0.9
    precision: float = 0.9
    # Latency as a subscriber sees it (omni_eval): publication (end of the input decided on + processing)
    # minus the condition's onset, in seconds of scenario time. A backend deciding once per 1 s unit
    # meets them when it alerts on the unit holding the onset (or, for the patterns that take longer
    # to tell apart, the next) within about half a second of the unit's end.
    median_latency: float = 2.0
    max_latency: float = 2.5


class _Builder:
    """One scenario's data, filled in by a recipe."""

    def __init__(self, name: str, description: str, rng: random.Random, duration: float, seed: int) -> None:
        self.rng = rng
        self.duration = duration
        self.lighting = 'normal'
        self.noise = ''
        self.data: dict[str, Any] = {
            'name': name, 'description': description, 'duration': duration, 'start_time': _START_TIME,
            'seed': seed,
            'camera': {'width': WIDTH, 'height': HEIGHT, 'fps': FPS, 'noise': float(rng.choice((2.0, 3.0, 5.0)))},
            'audio': {'sample_rate': 16000, 'block': 0.05},
            'scene': {}, 'expected': {'watches': []},
        }
        self.heard: dict[Kind, float] = {}  # sound kind -> when it is first heard as that kind
        self.windows: dict[Kind, float] = {}  # sound kind -> its watch's window, where not _WINDOW
        self.lighting_watched = False
        self.set_noise(rng.choice(tuple(NOISE)))

    @property
    def scene(self) -> dict[str, Any]:
        scene: dict[str, Any] = self.data['scene']
        return scene

    def add(self, element: str, item: dict[str, Any]) -> None:
        self.scene.setdefault(element, []).append(item)

    def watch(self, kind: Kind, at: float | None, suffix: str = '', phrasings: tuple[str, ...] = (),
              window: float = _WINDOW, **fill: str) -> None:
        instruction = self.rng.choice(phrasings or PHRASINGS[kind]).format(**fill)
        self.data['expected']['watches'].append({
            'id': f'{kind.value}{suffix}', 'kind': kind.value, 'instruction': instruction,
            'modality': kind.modality, 'at': None if at is None else round(at, 3), 'window': window})
        self.lighting_watched |= kind in (Kind.DARK, Kind.LIGHTS_ON)

    def time(self, low: float, high: float) -> float:
        return round(self.rng.uniform(low, high), 2)

    def set_lighting(self, level: str) -> None:
        self.lighting = level
        self.scene['lighting'] = LIGHTING[level]

    def set_noise(self, level: str) -> None:
        self.noise = level
        self.data['audio']['noise'] = NOISE[level]

    def level(self) -> float:
        """A random peak level above the background noise."""
        return round(min(0.9, NOISE[self.noise] * 10 ** (self.rng.choice(PEAK_SNR_DB) / 20)), 4)

    def play(self, kind: Kind, item: dict[str, Any], heard: float | None = None) -> None:
        """A sound given in full (``item`` without kind and level); ``heard``: when it becomes that kind."""
        self.add('sounds', {'kind': kind.value, 'level': self.level(), **item})
        self.heard.setdefault(kind, item['at'] if heard is None else heard)

    def sound(self, kind: Kind, at: float) -> None:
        """A sound of ``kind`` at ``at`` with random character, at a random level above the noise."""
        rng = self.rng
        level = min(0.9, NOISE[self.noise] * 10 ** (rng.choice(PEAK_SNR_DB) / 20))
        item: dict[str, Any] = {'kind': kind.value, 'at': round(at, 3), 'level': round(level, 4)}
        if kind is Kind.DING:
            item.update(frequency=rng.choice((660.0, 880.0, 1050.0, 1320.0, 1760.0)),
                        duration=round(rng.uniform(0.8, 1.6), 2))
        elif kind is Kind.BEEP:
            item.update(frequency=rng.choice((1000.0, 1500.0, 2000.0, 2500.0, 3000.0)),
                        duration=round(rng.uniform(0.1, 0.35), 2), count=rng.randint(1, 4),
                        gap=round(rng.uniform(0.08, 0.2), 2))
        elif kind is Kind.DOORBELL:
            item.update(frequency=rng.choice((587.0, 659.0, 784.0, 880.0)), duration=round(rng.uniform(1.0, 1.4), 2),
                        gap=round(rng.uniform(0.4, 0.65), 2))
        elif kind is Kind.KNOCK:
            item.update(count=rng.randint(2, 4), gap=round(rng.uniform(0.15, 0.3), 2))
        else:
            item.update(text=rng.choice(SENTENCES), voice=rng.choice(VOICES))
        self.add('sounds', item)
        self.heard[kind] = at

    def finish(self) -> dict[str, Any]:
        """The data, with a watch for every sound kind (never-happening ones included), and in a room
        that stays lit or dark a watch for it turning dark or lit that must not fire (a dimmed room is
        not dark; lamps, displays and traffic lights in a dark room are not the lights coming on)."""
        for kind in SOUND_KINDS:
            self.watch(kind, self.heard.get(kind), window=self.windows.get(kind, _WINDOW))
        if not self.lighting_watched and not isinstance(self.scene.get('lighting', 1.0), list):
            level = self.scene.get('lighting', 1.0)
            if level >= LIT_LEVEL:
                self.watch(Kind.DARK, None)
            elif level <= DARK_LEVEL:
                self.watch(Kind.LIGHTS_ON, None)
        self.data['description'] += f' Room light {self.lighting}, background noise {self.noise}.'
        return self.data


# -- scene elements ----------------------------------------------------------------------------------
# Three columns, so elements of one scenario never overlap: each recipe takes the columns it needs.
_COLUMNS = ((20, 200), (225, 415), (440, 620))


def _columns(rng: random.Random) -> list[tuple[int, int]]:
    return rng.sample(_COLUMNS, len(_COLUMNS))


def _traffic_light(b: _Builder, column: tuple[int, int], states: list[dict[str, Any]]) -> None:
    width = b.rng.randint(50, 95)
    height = int(width * 2.7)
    x = b.rng.randint(column[0], column[1] - width)
    b.add('traffic_lights', {'box': [x, b.rng.randint(30, 90), width, height], 'states': states})


def _display(b: _Builder, column: tuple[int, int], values: list[dict[str, Any]], *, label: str = 'FLOOR') -> None:
    width = min(b.rng.randint(120, 185), column[1] - column[0])
    height = int(width * b.rng.uniform(0.5, 0.65))
    x = b.rng.randint(column[0], column[1] - width)
    b.add('displays', {'box': [x, b.rng.randint(45, 150), width, height], 'label': label,
                       'color': list(b.rng.choice(LED_COLORS)), 'values': values})


def _sign(b: _Builder, column: tuple[int, int], text: str, *, y: int | None = None,
          visible: list[list[float]] | None = None, colors: tuple[Any, ...] | None = None) -> dict[str, Any]:
    lines = text.count('\n') + 1
    longest = max(len(line) for line in text.split('\n'))
    width = min(column[1] - column[0], max(110, 26 * longest + b.rng.randint(30, 60)))
    height = min(int(b.rng.randint(55, 80) * (1 + 0.6 * (lines - 1))), 150)
    x = b.rng.randint(column[0], column[1] - width)
    y = b.rng.randint(40, 250) if y is None else y
    color, background = colors if colors is not None else b.rng.choice(SIGN_COLORS)
    item: dict[str, Any] = {'box': [x, y, width, height], 'text': text, 'color': list(color),
                            'background': list(background)}
    if visible is not None:
        item['visible'] = visible
    b.add('signs', item)
    return item


def _beacon(b: _Builder, column: tuple[int, int]) -> None:
    """A blinking amber beacon on the wall: lit for 0.4 s every 0.8 s, through the whole scenario."""
    start = b.rng.uniform(0.0, 0.8)
    lit = [[round(t, 2), round(t + 0.4, 2)] for t in _steps(start, b.duration, 0.8)]
    b.add('lamps', {'center': [b.rng.randint(column[0] + 25, column[1] - 25), b.rng.randint(40, 120)],
                    'radius': b.rng.randint(14, 24), 'color': [255, 150, 0], 'lit': lit})


def _steps(start: float, stop: float, step: float) -> list[float]:
    out = []
    while start < stop - 0.05:
        out.append(start)
        start += step
    return out


def _person(b: _Builder, column: tuple[int, int], visible: list[list[float]]) -> None:
    height = b.rng.randint(270, 370)
    feet = [b.rng.randint(column[0] + 70, column[1] - 70), b.rng.randint(max(height + 20, 420), 470)]
    b.add('people', {'feet': feet, 'height': height, 'visible': visible, 'clothes': list(b.rng.choice(CLOTHES))})


def _door(b: _Builder, column: tuple[int, int]) -> None:
    """A tall plain board (a door, a cupboard): roughly a standing person's outline, with nobody in it."""
    width = b.rng.randint(70, 110)
    b.add('signs', {'box': [b.rng.randint(column[0], column[1] - width), 150, width, 260], 'text': '',
                    'background': list(b.rng.choice(((110, 80, 50), (60, 60, 66), (150, 150, 140))))})


def _audio_event(b: _Builder) -> None:
    """One sound somewhere in a vision scenario, so sound watches are checked here too."""
    b.sound(b.rng.choice(BASIC_SOUNDS), b.time(1.0, b.duration - 4.0))


# -- recipes: one scenario each ----------------------------------------------------------------------

def _light(b: _Builder, index: int) -> None:
    rng = b.rng
    target = _CYCLE[index % 3]
    before = _CYCLE[(_CYCLE.index(target) - 1) % 3]
    never = _CYCLE[(_CYCLE.index(target) + 1) % 3]
    b.set_lighting(('dim', 'normal', 'bright', 'night')[index % 4])
    at = b.time(3.2, 6.5)
    light_col, beacon_col, sign_col = _columns(rng)
    _traffic_light(b, light_col, [{'at': 0.0, 'show': before}, {'at': at, 'show': target}])
    _beacon(b, beacon_col)
    # A green exit sign and a red one: coloured, bright, but neither round nor a lamp.
    _sign(b, sign_col, 'EXIT', y=rng.randint(40, 80), colors=SIGN_COLORS[1])
    _sign(b, sign_col, 'NO ENTRY', y=rng.randint(170, 230), colors=SIGN_COLORS[2])
    seen = at
    if index % 5 == 4:  # the camera stalls across the change: the new colour is seen when frames return
        gap = [round(at - 1.3, 2), round(at + 1.7, 2)]
        b.data['camera']['gaps'] = [gap]
        seen = gap[1]
    b.watch(Kind.LIGHT, seen, color=_said(rng, target))
    b.watch(Kind.LIGHT, None, suffix='_never', color=_said(rng, never))
    _audio_event(b)


def _said(rng: random.Random, color: str) -> str:
    return rng.choice(('amber', 'yellow')) if color == 'amber' else color


def _floor(b: _Builder, index: int) -> None:
    rng = b.rng
    number = list(FLOORS)[index % len(FLOORS)]
    words, ordinal = FLOORS[number]
    b.set_lighting(('normal', 'dim', 'night', 'bright')[index % 4])
    step = -1 if index % 2 else 1
    start = max(number - step * rng.randint(3, 5), 1)
    shown = list(range(start, number + step, step))
    at = b.time(4.5, 7.5)
    times = [0.0] + sorted(round(at * k / (len(shown) - 1) + rng.uniform(-0.3, 0.3), 2)
                           for k in range(1, len(shown) - 1)) + [at]
    display_col, light_col, other_col = _columns(rng)
    _display(b, display_col, [{'at': t, 'show': str(v)} for t, v in zip(times, shown)],
             label=rng.choice(('FLOOR', 'LIFT', '')))
    # Watches that must not fire: the digits reversed ("61" for 16) or, for one digit, with a 1 in front;
    # and the last digit alone.
    reversed_number = int(str(number)[::-1]) if number >= 10 else number + 10
    never = {suffix: other for suffix, other in (('_reversed', reversed_number), ('_part', number % 10))
             if other not in shown and other > 0}
    if index % 3 == 0:  # a second display nearby (a clock, a thermometer) showing some other number
        other = rng.choice([n for n in range(40, 99) if n != number and n not in never.values()])
        _display(b, other_col, [{'at': 0.0, 'show': str(other)}], label='')
    if index % 3 == 1:
        _traffic_light(b, light_col, [{'at': 0.0, 'show': rng.choice(_CYCLE)}])
    b.watch(Kind.FLOOR, at, n=str(number), words=words, ordinal=ordinal)
    plain = tuple(p for p in PHRASINGS[Kind.FLOOR] if '{n}' in p)
    for suffix, other in never.items():
        b.watch(Kind.FLOOR, None, suffix=suffix, phrasings=plain, n=str(other))
    _audio_event(b)


def _text(b: _Builder, index: int) -> None:
    rng = b.rng
    word = list(SIGN_WORDS)[index % len(SIGN_WORDS)]
    b.set_lighting(('normal', 'dim', 'bright')[index % 3])
    at = b.time(3.0, 6.5)
    target_col, other_col, third_col = _columns(rng)
    colors = rng.choice(SIGN_COLORS)
    if index % 2:  # the sign changes from a look-alike word to the wanted one
        before = _sign(b, target_col, SIGN_WORDS[word], visible=[[0.0, at]], colors=colors)
        b.add('signs', {**before, 'text': word, 'visible': [[at, b.duration]]})
    else:  # a sign appears; the look-alike stands elsewhere the whole time
        _sign(b, target_col, word, visible=[[at, b.duration]], colors=colors)
        _sign(b, other_col, SIGN_WORDS[word])
    _sign(b, third_col, rng.choice(OTHER_SIGNS))
    b.watch(Kind.TEXT, at, word=word)
    shown = ' '.join(sign['text'] for sign in b.scene['signs'])
    b.watch(Kind.TEXT, None, suffix='_never', word=rng.choice([w for w in SIGN_WORDS if w not in shown]))
    _audio_event(b)


def _person_scene(b: _Builder, index: int) -> None:
    rng = b.rng
    b.set_lighting(('normal', 'dim', 'bright')[index % 3])
    person_col, poster_col, door_col = _columns(rng)
    comes = index % 4 != 3  # in every fourth scenario nobody comes: only the boards and posters are there
    at = b.time(3.0, 6.5) if comes else None
    _sign(b, poster_col, rng.choice(('WELCOME', 'SALE', 'CAFE')), y=rng.randint(60, 140))
    _door(b, door_col)
    if at is not None:
        _person(b, person_col, [[at, b.duration]])
    b.watch(Kind.PERSON, at)
    _audio_event(b)


def _nobody(b: _Builder, index: int) -> None:
    rng = b.rng
    b.set_lighting(('normal', 'dim', 'bright')[index % 3])
    person_col, poster_col, door_col = _columns(rng)
    at = b.time(3.5, 6.5)
    _person(b, person_col, [[0.0, at]])
    _sign(b, poster_col, rng.choice(OTHER_SIGNS), y=rng.randint(60, 140))
    _door(b, door_col)
    b.watch(Kind.NOBODY, at)
    _audio_event(b)


def _sounds(b: _Builder, index: int) -> None:
    """Three different sounds in a row, 3.5 s or more apart, at one noise level."""
    rng = b.rng
    b.set_noise(tuple(NOISE)[index % len(NOISE)])
    kinds = rng.sample(BASIC_SOUNDS, 3)
    at = rng.uniform(0.8, 1.8)
    for kind in kinds:
        b.sound(kind, round(at, 2))
        at += rng.uniform(3.6, 4.4)


def _robustness(b: _Builder, index: int) -> None:
    """Silence, darkness, loud noise alone, a camera that stops: nothing to alert on but what is seen."""
    rng = b.rng
    case = ('silence', 'darkness', 'noise', 'camera stops')[index % 4]
    light_col, display_col, sign_col = _columns(rng)
    light = rng.choice(_CYCLE)
    _traffic_light(b, light_col, [{'at': 0.0, 'show': 'dark' if case == 'darkness' else light}])
    _display(b, display_col, [{'at': 0.0, 'show': '  ' if case == 'darkness' else '5'}])
    _sign(b, sign_col, 'EXIT', y=rng.randint(200, 260))
    never = [c for c in _CYCLE if c != light]
    b.watch(Kind.LIGHT, None, color=_said(rng, never[0]))
    b.watch(Kind.FLOOR, None, n='9', words='nine', ordinal='ninth')
    b.watch(Kind.TEXT, None, word='OPEN')
    if case == 'silence':
        b.data['audio']['noise'] = 0.0
        b.noise = 'none (digital silence)'
    elif case == 'darkness':  # someone walks in with the lights off: nothing can be seen
        b.set_lighting('dark')
        _person(b, light_col, [[b.time(3.0, 5.0), b.duration]])
        b.watch(Kind.PERSON, None)
    elif case == 'noise':
        b.data['audio']['noise'] = 0.08
        b.noise = 'loud (0.08 RMS)'
    else:  # the light turns to another colour after the camera has stopped for good
        stop = b.time(2.5, 4.0)
        b.data['camera']['gaps'] = [[stop, b.duration]]
        b.scene['traffic_lights'][0]['states'].append({'at': round(stop + 1.5, 2), 'show': never[0]})
        _audio_event(b)


# -- recipes for what issue 13 added: room light, people counts, household sounds, alarms -------------

def _room_light(b: _Builder, index: int) -> None:
    """The room goes dark (after being dimmed, which is not dark) or the lights come on (after a lamp is
    switched on in the dark, which is not the lights): the watch must wait for the real change."""
    rng = b.rng
    light_col, lamp_col, sign_col = _columns(rng)
    goes_dark = index % 2 == 0
    variant = (index // 2) % 4  # 0, 1: the change after a distractor; 2: the change alone; 3: distractor only
    _sign(b, sign_col, rng.choice(OTHER_SIGNS), y=rng.randint(60, 200))
    if rng.random() < 0.5:
        _traffic_light(b, light_col, [{'at': 0.0, 'show': rng.choice(_CYCLE)}])
    _door(b, lamp_col)
    lamp = {'center': [rng.randint(lamp_col[0] + 25, lamp_col[1] - 25), rng.randint(40, 110)],
            'radius': rng.randint(12, 22), 'color': list(rng.choice(((255, 200, 120), (255, 150, 0), (240, 240, 255))))}
    first = b.time(1.6, 3.0)
    second = round(first + rng.uniform(2.2, 3.2), 2)
    if goes_dark:
        lit = rng.choice((0.7, 1.0, 1.35))
        dimmed = round(rng.uniform(0.3, 0.45), 2)
        off = rng.choice((0.02, 0.05, 0.08))
        steps = {0: [(0.0, lit), (first, dimmed), (second, off)], 1: [(0.0, lit), (first, dimmed), (second, off)],
                 2: [(0.0, lit), (second, off)], 3: [(0.0, lit), (first, dimmed)]}[variant]
        b.add('lamps', {**lamp, 'lit': [[0.0, b.duration]]})  # a lamp stays on: the room is dark around it
        b.watch(Kind.DARK, None if variant == 3 else second)
    else:
        dark = rng.choice((0.02, 0.05, 0.08))
        on = rng.choice((0.4, 0.7, 1.0, 1.35))
        steps = {0: [(0.0, dark), (second, on)], 1: [(0.0, dark), (second, on)], 2: [(0.0, dark), (second, on)],
                 3: [(0.0, dark)]}[variant]
        if variant != 2:  # a lamp (or a screen) comes on in the dark: a light source, not the room light
            b.add('lamps', {**lamp, 'lit': [[first, b.duration]]})
        b.watch(Kind.LIGHTS_ON, None if variant == 3 else second)
    b.scene['lighting'] = [{'at': at, 'level': level} for at, level in steps]
    b.lighting = ' to '.join(str(level) for _, level in steps)
    _audio_event(b)


def _counted(b: _Builder, op: str, n: int, at: float | None, suffix: str = '') -> None:
    b.watch(Kind.PEOPLE_COUNT, at, suffix=suffix, count=b.rng.choice(COUNT_WORDS[(op, n)]))


def _crowd(b: _Builder, index: int) -> None:
    """People arrive or leave one by one, and someone walks past (seen in one frame): a count changes
    only when people stay."""
    rng = b.rng
    b.set_lighting(('normal', 'dim', 'bright')[index % 3])
    columns = _columns(rng)
    variant = index % 3
    t1 = b.time(1.2, 2.2)
    t2 = round(t1 + rng.uniform(2.6, 3.4), 2)
    t3 = round(t2 + rng.uniform(2.6, 3.2), 2)

    def passer(after: float, before: float) -> None:
        # In view for 0.6 s around one chunk's frame (frames are taken at the middle of each second).
        mid = next((k + 0.5 for k in range(int(after) + 1, int(before))
                    if after + 0.3 <= k + 0.5 <= before - 0.8), None)
        if mid is not None:
            _person(b, columns[2], [[round(mid - 0.3, 2), round(mid + 0.3, 2)]])

    if variant == 0:  # two arrive; someone walks past before the second arrives and again after
        _person(b, columns[0], [[t1, b.duration]])
        _person(b, columns[1], [[t2, b.duration]])
        passer(t1, t2)
        passer(t2 + 1.0, b.duration)
        _counted(b, '>=', 2, t2)
        _counted(b, '>=', 3, None, suffix='_never')
    elif variant == 1:  # one is there, a second comes, then a third: exactly two for a while
        _person(b, columns[0], [[0.0, b.duration]])
        _person(b, columns[1], [[t2, b.duration]])
        _person(b, columns[2], [[t3, b.duration]])
        _counted(b, '==', 2, t2)
        _counted(b, '>=', 4, None, suffix='_never')
    else:  # three are there and two leave, one after the other
        _person(b, columns[0], [[0.0, b.duration]])
        _person(b, columns[1], [[0.0, t1 + 0.6]])
        _person(b, columns[2], [[0.0, t2 + 0.8]])
        _counted(b, '<=', 1, t2 + 0.8)
        _counted(b, '>=', 4, None, suffix='_never')
    _audio_event(b)


def _phone(b: _Builder, at: float) -> float:
    """A phone ringing from ``at``; returns when it stops."""
    rng = b.rng
    cadence = rng.choice(('us', 'uk'))
    item = {'at': round(at, 2), 'frequency': rng.choice((800.0, 1000.0, 1200.0, 1400.0)), 'pattern': cadence,
            'style': rng.choice(('warble', 'warble', 'bell')), 'trill': rng.choice((16.0, 20.0, 25.0)),
            'count': 1 if cadence == 'us' else 2}
    b.play(Kind.PHONE, item)
    return at + (2.0 if cadence == 'us' else 4.0)


def _kettle(b: _Builder, at: float) -> float:
    seconds = round(b.rng.uniform(2.5, 4.0), 2)
    b.play(Kind.KETTLE, {'at': round(at, 2), 'frequency': b.rng.choice((1200.0, 1600.0, 2000.0, 2600.0)),
                         'duration': seconds, 'style': b.rng.choice(('single', 'double'))})
    return at + seconds


def _household(b: _Builder, index: int) -> None:
    """A phone rings with the television talking nearby, a kettle whistles, and now and then something
    beeps: a long electronic tone (not a whistle) or the microwave."""
    rng = b.rng
    b.set_noise(tuple(NOISE)[index % len(NOISE)])
    t = rng.uniform(0.6, 1.2)
    if index % 2:  # a beep first: the microwave's three beeps, or one long tone
        microwave = index % 4 == 1
        item = ({'at': round(t, 2), 'frequency': rng.choice((1000.0, 2000.0, 2500.0)), 'duration': 0.4, 'count': 3,
                 'gap': 0.4} if microwave else
                {'at': round(t, 2), 'frequency': rng.choice((900.0, 1500.0, 3000.0)),
                 'duration': round(rng.uniform(1.6, 2.4), 2), 'count': 1, 'gap': 0.1})
        b.play(Kind.BEEP, item)
        t += (2.0 if microwave else item['duration']) + rng.uniform(1.2, 1.8)
    order = (_phone, _kettle) if index % 3 else (_kettle, _phone)
    for make in order:
        if make is _phone:  # the television talks just before the phone rings
            b.play(Kind.SPEECH, {'at': round(t, 2), 'text': rng.choice(SENTENCES), 'voice': rng.choice(VOICES)})
            t += 2.6 + rng.uniform(0.2, 0.6)
        t = make(b, t) + rng.uniform(1.6, 2.4)


def _alarm_beeps(b: _Builder, at: float, freq: float) -> float:
    """Beeps that are not an alarm: one group like an alarm's (the microwave's three long beeps, a
    keypad's four short ones), or an ordinary beep; returns when they end."""
    kind = b.rng.choice(('microwave', 'keypad', 'beep'))
    item = {'microwave': {'duration': 0.5, 'count': 3, 'gap': 0.5}, 'keypad': {'duration': 0.1, 'count': 4, 'gap': 0.1},
            'beep': {'duration': round(b.rng.uniform(0.15, 0.3), 2), 'count': 1, 'gap': 0.1}}[kind]
    b.play(Kind.BEEP, {'at': round(at, 2), 'frequency': freq, **item})
    return at + item['count'] * item['duration'] + (item['count'] - 1) * item['gap']


def _alarm(b: _Builder, index: int) -> None:
    """A smoke alarm (T3) and a CO alarm (T4), each sounding two cycles, after beeps that are not an
    alarm. An alarm's beeps are beeps too: the beep watch is on time at the first beep and everything
    after it in the scenario beeps."""
    rng = b.rng
    b.set_noise(tuple(NOISE)[index % len(NOISE)])
    t = _alarm_beeps(b, rng.uniform(0.5, 1.0), rng.choice((1000.0, 1500.0, 2000.0, 2400.0)))
    b.windows[Kind.BEEP] = b.duration
    t += rng.uniform(2.6, 3.2)  # longer than either pattern's pause: the beeps are not a group of it
    order = ALARMS if index % 2 == 0 else ALARMS[::-1]
    for kind in order:
        tempo = round(rng.uniform(0.9, 1.1), 2)
        freq = rng.choice((520.0, 3200.0, 3400.0)) if kind is Kind.SMOKE_ALARM else rng.choice((2700.0, 2950.0))
        steps = ALARM_PATTERNS[kind]
        cycle = sum(on + off for on, off in steps)
        length = tempo * (2 * cycle - steps[-1][1])
        # Recognisable once the pattern has sounded twice: at the end of the second group's last beep.
        b.play(kind, {'at': round(t, 2), 'frequency': freq, 'count': 2, 'tempo': tempo}, heard=round(t + length, 3))
        t += length + rng.uniform(1.6, 2.2)


# The standard temporal patterns, (on, off) seconds per beep (ISO 8201 / NFPA 72 T3, UL 2034 T4).
ALARM_PATTERNS = {Kind.SMOKE_ALARM: ((0.5, 0.5), (0.5, 0.5), (0.5, 1.5)),
                  Kind.CO_ALARM: ((0.1, 0.1), (0.1, 0.1), (0.1, 0.1), (0.1, 5.0))}


@dataclass(frozen=True)
class _Recipe:
    name: str
    build: Callable[[_Builder, int], None]
    count: int
    duration: float
    description: str


RECIPES = (
    _Recipe('light', _light, 12, 10.0, 'A traffic light changes colour beside a blinking beacon and coloured signs.'),
    _Recipe('floor', _floor, 12, 11.0, 'A floor display counts to the wanted floor.'),
    _Recipe('text', _text, 10, 10.0, 'A sign with the wanted word appears among other signs.'),
    _Recipe('person', _person_scene, 12, 10.0, 'Someone comes in (or nobody does) beside a poster and a door.'),
    _Recipe('nobody', _nobody, 8, 10.0, 'The person in the room leaves.'),
    _Recipe('sounds', _sounds, 12, 14.0, 'Three sounds in a row over background noise.'),
    _Recipe('robustness', _robustness, 4, 8.0, 'Silence, darkness, loud noise alone, or a camera that stops.'),
    _Recipe('roomlight', _room_light, 20, 7.0, 'The room goes dark or the lights come on, after a dimming or a lamp.'),
    _Recipe('people', _crowd, 12, 10.0, 'People arrive or leave one by one while someone walks past.'),
    _Recipe('household', _household, 10, 18.0, 'A phone rings near the television, a kettle whistles, things beep.'),
    _Recipe('alarm', _alarm, 10, 23.0, 'A smoke alarm and a CO alarm, two cycles each, after other beeps.'),
)


def suite_data(seed: int = SUITE_SEED) -> list[dict[str, Any]]:
    """The suite as scenario-file data (the schema of ``scenarios/crossing.yaml``), in a fixed order."""
    out = []
    for recipe in RECIPES:
        for index in range(recipe.count):
            name = f'{recipe.name}-{index:02d}'
            # One generator per scenario: changing one recipe leaves the others' scenarios as they were.
            rng = random.Random(f'{seed}/{name}')
            builder = _Builder(name, recipe.description, rng, recipe.duration, seed=rng.randrange(2 ** 31))
            recipe.build(builder, index)
            out.append(builder.finish())
    return out


def parse_suite_scenario(data: dict[str, Any]) -> Scenario:
    """One entry of ``suite_data``, parsed and validated like a scenario file."""
    return parse_scenario(data, f"suite {data['name']}")


def suite_scenarios(seed: int = SUITE_SEED) -> list[Scenario]:
    return [parse_suite_scenario(data) for data in suite_data(seed)]
