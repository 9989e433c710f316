"""Smoke and carbon-monoxide alarms by their standard temporal patterns.

A smoke alarm sounds the temporal-three pattern (ISO 8201, NFPA 72: three 0.5 s beeps 0.5 s apart, then
1.5 s of silence, over and over); a CO alarm the temporal-four pattern (UL 2034, NFPA 720: four 0.1 s
beeps 0.1 s apart, then about 5 s of silence). One group alone is what microwaves, ovens and keypads
also do ("beep beep beep"), so an alarm is named only once its pattern has sounded twice: two groups of
the same pitch, separated by the pattern's long pause and by nothing else at that pitch. Timings are
accepted within about 30 % of the standard (the standards allow 10 %; sounders and rooms smear more).
The beeps themselves remain beeps for the beep detector: an alarm beeps.

Decided from closed tonal tracks (tonal.ToneStream), so the decision falls on the frame the last pulse
of the second group ends, whatever the chunking.
"""

from __future__ import annotations

from typing import Any
from dataclasses import dataclass

from omni_ros.backends.cpu.conditions import SoundEvent
from omni_ros.backends.cpu.tonal import Track


@dataclass(frozen=True)
class Pattern:
    kind: str  # the SoundEvent kind
    pulses: int  # per group
    on: tuple[float, float]  # seconds a pulse lasts
    off: tuple[float, float]  # seconds between pulses of a group
    pause: tuple[float, float]  # seconds from a group's last pulse to the next group's first


PATTERNS = (
    Pattern('smoke_alarm', 3, on=(0.33, 0.7), off=(0.33, 0.7), pause=(1.1, 2.2)),
    Pattern('co_alarm', 4, on=(0.05, 0.17), off=(0.05, 0.17), pause=(3.6, 7.0)),
)


@dataclass(frozen=True)
class Pulse:
    onset: float
    end: float
    freq: float
    level: float

    @property
    def duration(self) -> float:
        return self.end - self.onset


_SAME_PITCH = 0.05  # relative frequency difference of pulses of one sounder
_SAME_LEVEL_DB = 12.0
_EPISODE_GAP = 9.0  # seconds without a pulse at that pitch before the same alarm counts as new
_KEEP = 16.0  # seconds of pulses kept


class AlarmDetector:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._pulses: list[Pulse] = []
        self._episodes: list[list[Any]] = []  # [kind, freq, last pulse end]

    def update(self, closed: list[Track], now: float) -> list[SoundEvent]:
        """Events decided by the tracks closed since the last call."""
        new = _pulses(closed)
        events: list[SoundEvent] = []
        for pulse in sorted(new, key=lambda p: p.onset):
            # The same sounder: same pitch, about as loud (speech or a quieter beep at that pitch between
            # two groups is not one of its pulses).
            same = [p for p in self._pulses if abs(p.freq - pulse.freq) <= _SAME_PITCH * pulse.freq
                    and abs(p.level - pulse.level) <= _SAME_LEVEL_DB]
            for episode in self._episodes:
                if abs(episode[1] - pulse.freq) <= _SAME_PITCH * pulse.freq:
                    episode[2] = max(episode[2], pulse.end)
            self._pulses.append(pulse)
            same.append(pulse)
            for pattern in PATTERNS:
                if _matches(pattern, same) and not self._ongoing(pattern.kind, pulse):
                    first = same[-2 * pattern.pulses]
                    self._episodes.append([pattern.kind, pulse.freq, pulse.end])
                    events.append(SoundEvent(pattern.kind, first.onset, min(1.0, 0.6 + pulse.level / 100),
                                             pulse.freq))
        self._pulses = [p for p in self._pulses if p.end > now - _KEEP]
        self._episodes = [e for e in self._episodes if e[2] > now - _EPISODE_GAP]
        return events

    def _ongoing(self, kind: str, pulse: Pulse) -> bool:
        return any(k == kind and abs(f - pulse.freq) <= _SAME_PITCH * pulse.freq for k, f, _ in self._episodes)


def _pulses(tracks: list[Track]) -> list[Pulse]:
    """One pulse per sound: tracks that start and stop together (a sounder's harmonics) are one."""
    candidates = sorted((t for t in tracks if 0.03 <= t.duration <= 1.0), key=lambda t: -t.level)
    kept: list[Track] = []
    for track in candidates:
        if any(abs(track.onset - k.onset) <= 0.03 and abs(track.end - k.end) <= 0.04 for k in kept):
            continue
        kept.append(track)
    return [Pulse(t.onset, t.end, t.freq, t.level) for t in kept]


def _matches(pattern: Pattern, pulses: list[Pulse]) -> bool:
    """Whether the last pulses at one pitch are two whole groups of ``pattern`` (and nothing just before)."""
    n = 2 * pattern.pulses
    if len(pulses) < n:
        return False
    group = pulses[-n:]
    if any(not pattern.on[0] <= p.duration <= pattern.on[1] for p in group):
        return False
    for i in range(1, n):
        gap = group[i].onset - group[i - 1].end
        wanted = pattern.pause if i == pattern.pulses else pattern.off
        if not wanted[0] <= gap <= wanted[1]:
            return False
    # The first group starts after a pause of its own (or the stream's start): a longer run of beeps
    # is not this pattern.
    return len(pulses) == n or group[0].onset - pulses[-n - 1].end >= pattern.pause[0]
