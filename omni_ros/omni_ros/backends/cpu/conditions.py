"""Conditions over one chunk's perceptions, and the perceptions snapshot they are evaluated on.

A condition answers True, False, or None ("not observed": no camera frame this chunk, or the perception
did not run). None leaves a watch's state unchanged, so a camera that stops neither alerts nor resets.
"""

from __future__ import annotations

import enum
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
    kind: str  # beep | ding | doorbell | knock
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
    sounds: list[SoundEvent] | None = None  # events decided in this chunk
    speech_fraction: float | None = None


@dataclass(frozen=True)
class Observation:
    state: bool | None
    confidence: float = 0.0
    detail: str = ''


@dataclass(frozen=True)
class Condition:
    kind: ConditionKind
    value: str = ''
    # Debounce in chunks: a detector flicker must not re-arm the edge (fall) or fire alone (rise).
    rise: int = 1
    fall: int = 2

    @property
    def needs(self) -> frozenset[Need]:
        return _NEEDS[self.kind]

    @property
    def modality(self) -> Modality:
        return Modality.AUDIO if self.kind in (ConditionKind.SOUND, ConditionKind.SPEECH) else Modality.VISION

    def describe(self) -> str:
        """Short English for confirmations and rejections."""
        return {
            ConditionKind.LIGHT_COLOR: f'the light turns {self.value}',
            ConditionKind.NUMBER_SHOWN: f'the display shows {self.value}',
            ConditionKind.TEXT_SHOWN: f'a sign says {self.value}',
            ConditionKind.PERSON_PRESENT: 'someone is in view',
            ConditionKind.NOBODY_PRESENT: 'nobody is in view',
            ConditionKind.SOUND: f'I hear a {self.value}',
            ConditionKind.SPEECH: 'someone speaks',
        }[self.kind]

    def alert_text(self) -> str:
        return {
            ConditionKind.LIGHT_COLOR: f'The light is {self.value} now.',
            ConditionKind.NUMBER_SHOWN: f'The display shows {self.value}.',
            ConditionKind.TEXT_SHOWN: f'I see a sign that says {self.value}.',
            ConditionKind.PERSON_PRESENT: 'Someone is here.',
            ConditionKind.NOBODY_PRESENT: 'Nobody is in view any more.',
            ConditionKind.SOUND: {'beep': 'I heard a beep.', 'ding': 'I heard a ding.',
                                  'doorbell': 'The doorbell rang.', 'knock': 'Someone is knocking.'}.get(
                                      self.value, f'I heard a {self.value}.'),
            ConditionKind.SPEECH: 'Someone is speaking.',
        }[self.kind]

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
            conf = max((c for t, c in p.texts if _contains_words(t, self.value)), default=0.0)
            return Observation(conf > 0.0, conf)
        if kind in (ConditionKind.PERSON_PRESENT, ConditionKind.NOBODY_PRESENT):
            if p.people is None:
                return Observation(None)
            present = p.people > 0 or (p.faces or 0) > 0
            if kind is ConditionKind.PERSON_PRESENT:
                return Observation(present, p.people_confidence if present else 0.0)
            return Observation(not present, 0.8 if not present else 0.0)
        if kind is ConditionKind.SOUND:
            if p.sounds is None:
                return Observation(None)
            conf = max((e.confidence for e in p.sounds if e.kind == self.value), default=0.0)
            return Observation(conf > 0.0, conf)
        if kind is ConditionKind.SPEECH:
            if p.speech_fraction is None:
                return Observation(None)
            return Observation(p.speech_fraction >= 0.2, p.speech_fraction)
        return Observation(None)


def _contains_words(line: str, wanted: str) -> bool:
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
}
