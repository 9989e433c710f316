"""Conditions over one chunk's perceptions, and the perceptions snapshot they are evaluated on.

A condition answers True, False, or None ("not observed": no camera frame this chunk, or the perception
did not run). None leaves a watch's state unchanged, so a camera that stops neither alerts nor resets.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from omni_ros.data import Modality


class Need(enum.Enum):
    """A perception a condition or question reads; heavy ones run only while something needs them."""

    LIGHTS = 'lights'
    DIGITS = 'digits'
    TEXT = 'text'
    PEOPLE = 'people'
    SOUNDS = 'sounds'
    SPEECH = 'speech'
    ROOM_LIGHT = 'room_light'


class ConditionKind(enum.Enum):
    LIGHT_COLOR = 'light_color'  # value: red | yellow | green
    NUMBER_SHOWN = 'number_shown'  # value: digits, on a seven-segment display or a sign
    TEXT_SHOWN = 'text_shown'  # value: upper-case words on a sign
    PERSON_PRESENT = 'person_present'
    NOBODY_PRESENT = 'nobody_present'
    SOUND = 'sound'  # value: beep | ding | doorbell | knock
    SPEECH = 'speech'  # someone talking
    LIGHTING = 'lighting'  # value: dark (the room goes dark) | lit (the lights come on)
    PEOPLE_COUNT = 'people_count'  # value: '<op><n>', op one of >=, <=, == (e.g. '>=4', '==2')


@dataclass(frozen=True)
class SoundEvent:
    kind: str  # beep | ding | doorbell | knock | phone | kettle | smoke_alarm | co_alarm
    onset: float  # input time
    confidence: float
    frequency: float = 0.0  # Hz of the main tone (0 for knocks)


@dataclass
class Perceptions:
    """What one chunk showed. A field left None was not observed this chunk."""

    stamp: float
    has_frame: bool = False
    lights: dict[str, float] | None = None  # lit lamp colour -> confidence
    digits: list[tuple[str, float]] | None = None  # seven-segment readings
    texts: list[tuple[str, float]] | None = None  # scene text lines (upper case, filtered)
    people: int | None = None
    faces: int | None = None
    people_confidence: float = 0.0
    # Fewest and most people counted over the last steady window (see people.PeopleCounter): a count
    # holds only when every look in it agrees, so someone walking past does not change it.
    people_range: tuple[int, int] | None = None
    room_light: str | None = None  # dark | lit; None: not observed, or a level between the two
    room_level: float | None = None  # median brightness of the frame, 0..255
    sounds: list[SoundEvent] | None = None  # events decided in this chunk
    speech_fraction: float | None = None


@dataclass(frozen=True)
class Observation:
    state: bool | None
    confidence: float = 0.0
    detail: str = ''


# What each sound value is, as the user is told (the detectors follow exactly this, nothing wider).
SOUND_DESCRIPTIONS = {
    'beep': 'I hear a beep',
    'ding': 'I hear a ding',
    'doorbell': 'I hear a doorbell',
    'knock': 'I hear a knock',
    'phone': "a phone rings (a ringer's trill; a music ringtone is not recognised)",
    'kettle': 'a kettle whistles',
    'smoke_alarm': 'a smoke alarm sounds (its standard three-beep pattern, heard twice)',
    'co_alarm': 'a carbon-monoxide alarm sounds (its standard four-beep pattern, heard twice)',
}
SOUND_NAMES = {'phone': 'a phone ringing', 'kettle': 'a kettle whistling', 'smoke_alarm': 'a smoke alarm',
               'co_alarm': 'a carbon-monoxide alarm'}  # in answers; other kinds are 'a <kind>'
_SOUND_ALERTS = {
    'beep': 'I heard a beep.', 'ding': 'I heard a ding.', 'doorbell': 'The doorbell rang.',
    'knock': 'Someone is knocking.', 'phone': 'The phone is ringing.', 'kettle': 'The kettle is whistling.',
    'smoke_alarm': 'A smoke alarm is going off.', 'co_alarm': 'A carbon-monoxide alarm is going off.',
}
LIGHTING_VALUES = ('dark', 'lit')
_BOUND_WORDS = {'>=': 'at least', '<=': 'at most', '==': 'exactly'}
_COUNT = re.compile(r'^(>=|<=|==)(\d{1,2})$')


@dataclass(frozen=True)
class Condition:
    kind: ConditionKind
    value: str = ''
    # Debounce in seconds of observations (decisions.WatchTracker): a detector flicker must not re-arm the
    # edge (fall) or fire alone (rise).
    rise: int = 1
    fall: int = 2

    def __post_init__(self) -> None:
        # The parser builds these; a value the perceptions cannot follow is a bug there, not a watch.
        if self.kind is ConditionKind.LIGHTING and self.value not in LIGHTING_VALUES:
            raise ValueError(f'a LIGHTING condition needs the value dark or lit, not {self.value!r}')
        if self.kind is ConditionKind.PEOPLE_COUNT and not _COUNT.match(self.value):
            raise ValueError(f"a PEOPLE_COUNT condition needs '>=N', '<=N' or '==N', not {self.value!r}")

    @property
    def needs(self) -> frozenset[Need]:
        return _NEEDS[self.kind]

    @property
    def modality(self) -> Modality:
        return Modality.AUDIO if self.kind in (ConditionKind.SOUND, ConditionKind.SPEECH) else Modality.VISION

    @property
    def count_bound(self) -> tuple[str, int]:
        """(op, n) of a PEOPLE_COUNT condition."""
        m = _COUNT.match(self.value)
        assert m is not None, self
        return m.group(1), int(m.group(2))

    def describe(self) -> str:
        """Short English for confirmations and rejections."""
        kind = self.kind
        if kind is ConditionKind.SOUND:
            return SOUND_DESCRIPTIONS.get(self.value, f'I hear a {self.value}')
        if kind is ConditionKind.LIGHTING:
            return 'the room goes dark' if self.value == 'dark' else 'the lights come on'
        if kind is ConditionKind.PEOPLE_COUNT:
            op, n = self.count_bound
            verb = 'is' if n == 1 else 'are'
            return f"{_BOUND_WORDS[op]} {_people(n)} {verb} in view"
        return {
            ConditionKind.LIGHT_COLOR: f'the light turns {self.value}',
            ConditionKind.NUMBER_SHOWN: f'the display shows {self.value}',
            ConditionKind.TEXT_SHOWN: f'a sign says {self.value}',
            ConditionKind.PERSON_PRESENT: 'someone is in view',
            ConditionKind.NOBODY_PRESENT: 'nobody is in view',
            ConditionKind.SPEECH: 'someone speaks',
        }[kind]

    def alert_text(self) -> str:
        kind = self.kind
        if kind is ConditionKind.SOUND:
            return _SOUND_ALERTS.get(self.value, f'I heard a {self.value}.')
        if kind is ConditionKind.LIGHTING:
            return 'The room has gone dark.' if self.value == 'dark' else 'The lights are on.'
        if kind is ConditionKind.PEOPLE_COUNT:
            op, n = self.count_bound
            return f'I see {_BOUND_WORDS[op]} {_people(n)}.'
        return {
            ConditionKind.LIGHT_COLOR: f'The light is {self.value} now.',
            ConditionKind.NUMBER_SHOWN: f'The display shows {self.value}.',
            ConditionKind.TEXT_SHOWN: f'I see a sign that says {self.value}.',
            ConditionKind.PERSON_PRESENT: 'Someone is here.',
            ConditionKind.NOBODY_PRESENT: 'Nobody is in view any more.',
            ConditionKind.SPEECH: 'Someone is speaking.',
        }[kind]

    def evaluate(self, p: Perceptions) -> Observation:
        kind = self.kind
        if kind is ConditionKind.LIGHT_COLOR:
            if p.lights is None:
                return Observation(None)
            conf = p.lights.get(self.value, 0.0)
            return Observation(conf > 0.0, conf)
        if kind is ConditionKind.NUMBER_SHOWN:
            readings = (p.digits or []) + [(t, c) for t, c in (p.texts or [])]
            if p.digits is None and p.texts is None:
                return Observation(None)
            # A display reads the whole number: "16" must not match "116" or a sign "B16".
            conf = max((c for t, c in readings if self.value in t.split()), default=0.0)
            return Observation(conf > 0.0, conf)
        if kind is ConditionKind.TEXT_SHOWN:
            if p.texts is None:
                return Observation(None)
            conf = max((c for t, c in p.texts if contains_words(t, self.value)), default=0.0)
            return Observation(conf > 0.0, conf)
        if kind in (ConditionKind.PERSON_PRESENT, ConditionKind.NOBODY_PRESENT):
            if p.people is None:
                return Observation(None)
            present = p.people > 0 or (p.faces or 0) > 0
            if kind is ConditionKind.PERSON_PRESENT:
                return Observation(present, p.people_confidence if present else 0.0)
            return Observation(not present, 0.8 if not present else 0.0)
        if kind is ConditionKind.PEOPLE_COUNT:
            return self._count(p)
        if kind is ConditionKind.LIGHTING:
            # Between the dark and lit levels the detector says None: neither state changes there, so a
            # dimmed room is not dark and a lamp in the dark is not the lights coming on.
            if p.room_light is None:
                return Observation(None)
            return Observation(p.room_light == self.value, 0.9 if p.room_light == self.value else 0.0)
        if kind is ConditionKind.SOUND:
            if p.sounds is None:
                return Observation(None)
            conf = max((e.confidence for e in p.sounds if e.kind == self.value), default=0.0)
            return Observation(conf > 0.0, conf)
        if kind is ConditionKind.SPEECH:
            if p.speech_fraction is None:
                return Observation(None)
            return Observation(p.speech_fraction >= 0.2, p.speech_fraction)
        raise AssertionError(f"no evaluation for {kind}")

    def _count(self, p: Perceptions) -> Observation:
        """True when every look in the steady window meets the bound, False when none does, else None:
        while the count is changing (or one look missed someone) the watch's state stays as it was."""
        if p.people_range is None:
            return Observation(None)
        fewest, most = p.people_range
        op, n = self.count_bound
        if op == '>=':
            state = True if fewest >= n else False if most < n else None
        elif op == '<=':
            state = True if most <= n else False if fewest > n else None
        else:
            state = True if fewest == most == n else False if n < fewest or n > most else None
        if state is None:
            return Observation(None)
        return Observation(state, max(p.people_confidence, 0.6) if state else 0.0)


def _people(n: int) -> str:
    return f'{n} people' if n != 1 else '1 person'


def contains_words(line: str, wanted: str) -> bool:
    """Whole-word match, so "EXIT" matches "EMERGENCY EXIT" but not "EXITS" or "NEXIT"."""
    words = line.split()
    want = wanted.split()
    n = len(want)
    return any(words[i:i + n] == want for i in range(len(words) - n + 1))


_NEEDS: dict[ConditionKind, frozenset[Need]] = {
    ConditionKind.LIGHT_COLOR: frozenset({Need.LIGHTS}),
    # Floor numbers come from seven-segment displays; OCR lines are also read when OCR runs anyway.
    ConditionKind.NUMBER_SHOWN: frozenset({Need.DIGITS}),
    ConditionKind.TEXT_SHOWN: frozenset({Need.TEXT}),
    ConditionKind.PERSON_PRESENT: frozenset({Need.PEOPLE}),
    ConditionKind.NOBODY_PRESENT: frozenset({Need.PEOPLE}),
    ConditionKind.SOUND: frozenset({Need.SOUNDS}),
    ConditionKind.SPEECH: frozenset({Need.SPEECH}),
    ConditionKind.LIGHTING: frozenset({Need.ROOM_LIGHT}),
    ConditionKind.PEOPLE_COUNT: frozenset({Need.PEOPLE}),
}
