"""A telephone ringing, by its ringer's trill and ring cadence.

A ringer trills: an electronic one switches between two tones 15-30 times a second, a bell ringer's
hammer strikes its gongs as fast, so each tone's loudness swings at that rate. Speech (syllables, 3-8 a
second), beeps and alarm patterns (at most 10 pulses a second) and bells (one strike, then a decay) do
not. Every 96 ms the last 0.32 s of each strong tonal frequency is checked for that swing; a phone is
named once trills cover 0.6 s of the last 1.5 s (one North American ring is 2 s, a British double
ring two 0.4 s bursts), and the bursts that follow within a ring cadence's pause (up to 6 s) are the
same ringing. Music ringtones have no trill and are not recognised.
"""

from __future__ import annotations

from typing import Any
import math

import numpy as np

from omni_ros.backends.cpu.conditions import SoundEvent
from omni_ros.backends.cpu.tonal import BIN_HZ, DT, LO, Claim, ToneStream

_WINDOW = 40  # frames analysed (0.32 s: six cycles of a 20 Hz trill)
_STEP = 12  # frames between analyses
_TRILL_HZ = (14.0, 30.0)
_MIN_SHARE = 0.5  # of the loudness variation that is at one trill rate
_MIN_DEPTH_DB = 1.0  # dB standard deviation around the trend, of each of two or more tones
_LONE_DEPTH_DB = 3.0  # ... or of one loud tone
_LONE_LEVEL_DB = 20.0
_MIN_LEVEL_DB = 12.0  # mean level above the floor of a frequency worth checking (a fading tone is not)
_TONAL_DB = 6.0  # dB a candidate stands above the median of the spectrum 6 bins around it
_NEEDED = 0.6  # seconds of trill within the last _LOOKBACK
_LOOKBACK = 1.5
_CLAIMED = 0.3  # seconds of trill (one window: several tones swinging at one rate) before tones are claimed
_SAME_RATE_HZ = 3.5
_SAME_RINGING = 6.5  # a ring cadence's longest pause, and some


class RingDetector:
    def __init__(self) -> None:
        self._taper = np.hanning(_WINDOW)
        self._rates = np.fft.rfftfreq(_WINDOW, DT)
        self._band = np.flatnonzero((self._rates >= _TRILL_HZ[0]) & (self._rates <= _TRILL_HZ[1]))
        self.reset()

    def reset(self) -> None:
        self._analysed = -1  # last frame number an analysis ended on
        # start, end, low Hz, high Hz, level, trill rate, whether it is one of a run (then claimed)
        self._spans: list[tuple[float, float, float, float, float, float, bool]] = []
        self._ringing_until = -math.inf
        self._ringing_from = -math.inf

    def trills(self) -> list[Claim]:
        """Where runs of trill were heard (named a phone or not yet)."""
        return [Claim(s, e, 0.0, math.inf) for s, e, *_, sure in self._spans if sure]

    def claims(self) -> list[Claim]:
        """Where no tone is a beep or a bell: around runs of trill, and while a phone rings around every
        trilling window (a ringer's harmonics and switching clicks make tones of their own at other
        pitches; the next burst is claimed from its first window)."""
        ringing = self._ringing_until > -math.inf
        claims = [Claim(s - 0.4, e + 0.4, 0.0, math.inf) for s, e, *_, sure in self._spans
                  if sure or (ringing and s <= self._ringing_until + _SAME_RINGING)]
        if ringing:
            claims.append(Claim(self._ringing_from, self._ringing_until + 0.4, 0.0, math.inf))
        return claims

    def update(self, stream: ToneStream) -> list[SoundEvent]:
        events: list[SoundEvent] = []
        last = stream.frames - 1
        first = max(self._analysed + 1, last - len(stream.power) + _WINDOW)
        for frame in range(first, last + 1):
            if frame % _STEP != _STEP - 1:
                continue
            found = self._trill(stream, frame)
            if found is None:
                continue
            # Trills at one rate add up to a ringing; the first window already claims its tones.
            self._spans.append(found + (False,))
            coverage = self._coverage(self._spans[-1])
            span = self._spans[-1] = found + (coverage >= _CLAIMED,)
            if span[0] <= self._ringing_until + _SAME_RINGING:
                self._ringing_until = max(self._ringing_until, span[1])  # the same phone still ringing
                continue
            if coverage >= _NEEDED:
                start = min(s[0] for s in self._spans if s[1] >= span[1] - _LOOKBACK)
                self._ringing_from, self._ringing_until = start, span[1]
                events.append(SoundEvent('phone', start, min(1.0, 0.6 + span[4] / 100), (span[2] + span[3]) / 2))
        self._analysed = max(self._analysed, last)
        now = stream.time(last)
        self._spans = [s for s in self._spans if s[1] > now - 4.0]
        return events

    def _coverage(self, latest: tuple[Any, ...]) -> float:
        """Seconds of the last _LOOKBACK covered by trills at the rate of the ``latest`` (a ringer trills
        at one rate; speech that happens to swing fast changes its rate from one window to the next)."""
        covered = 0.0
        edge = latest[1] - _LOOKBACK
        for start, end, *_ in sorted(s for s in self._spans if abs(s[5] - latest[5]) <= _SAME_RATE_HZ):
            start = max(start, edge)
            if end > start:
                covered += end - start
                edge = end
        return covered

    def _trill(self, stream: ToneStream, frame: int) -> tuple[float, float, float, float, float, float] | None:
        """(start, end, low Hz, high Hz, level, rate) when the window ending at ``frame`` trills."""
        window = stream.rows(frame - _WINDOW + 1, frame)
        mean = window.mean(axis=0)
        # Tonal: a peak standing well above the spectrum around it (a rough, noisy sound swings too).
        around = np.median(np.lib.stride_tricks.sliding_window_view(np.pad(mean, 6, mode='edge'), 13), axis=1)
        local = (mean >= np.roll(mean, 1)) & (mean >= np.roll(mean, -1)) & (mean >= _MIN_LEVEL_DB) \
            & (mean - around >= _TONAL_DB)
        local[:1] = local[-1:] = False
        candidates = np.flatnonzero(local)
        candidates = candidates[np.argsort(mean[candidates])[-4:]]
        swings: list[tuple[int, float, float]] = []  # bin, depth, rate
        for b in candidates:
            x = np.clip(window[:, b], 0.0, None)
            # The swing around the trend (a decaying bell is no trill, however regular its ripple).
            x = x - np.polyval(np.polyfit(np.arange(_WINDOW), x, 1), np.arange(_WINDOW))
            depth = float(x.std())
            if depth < _MIN_DEPTH_DB:
                continue
            spectrum = np.abs(np.fft.rfft(x * self._taper)) ** 2
            total = spectrum[1:].sum()
            if total <= 0:
                continue
            k = int(self._band[np.argmax(spectrum[self._band])])
            if spectrum[k - 1:k + 2].sum() >= _MIN_SHARE * total:
                swings.append((int(b), depth, float(self._rates[k])))
        if not swings:
            return None
        # A ringer swings several of its tones (two tones or gongs, their harmonics) at one rate; a lone
        # swinging tone counts only when it swings hard.
        rate = float(np.median([r for _, _, r in swings]))
        together = [s for s in swings if abs(s[2] - rate) <= _SAME_RATE_HZ]
        if len(together) < 2 and not any(d >= _LONE_DEPTH_DB and mean[b] >= _LONE_LEVEL_DB for b, d, _ in swings):
            return None  # (noise alone swings a faint tone by a few dB)
        trilling = [b for b, _, _ in (together if len(together) >= 2 else swings)]
        rates = [rate]
        freqs = [(b + LO) * BIN_HZ for b in trilling]
        return (stream.time(frame - _WINDOW + 1) - DT / 2, stream.time(frame) + DT / 2,
                min(freqs) - 2 * BIN_HZ, max(freqs) + 2 * BIN_HZ, float(max(mean[b] for b in trilling)),
                float(np.median(rates)))
