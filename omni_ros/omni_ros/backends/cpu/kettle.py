"""A kettle whistling: a long whistle that builds up, unlike an electronic tone.

A kettle's whistle is one tonal track (700 Hz - 5 kHz) that goes on for seconds. It swells as the
steam builds (10 dB or more within its first 0.8 s) or its pitch creeps and wavers (1.5 % or more), where
a long electronic beep starts at full level on one exact pitch. Named once the track has lasted 1 s;
the whistle then stays one event until it has been silent for 3 s. A track that trills (a phone) is
not a whistle, nor one that decays and is struck again (notes of a melody lining up). Tracks that are
swelling are claimed from the start, so the beep detector does not name the first half second of a
whistle a beep.
"""

from __future__ import annotations

import math

import numpy as np

from omni_ros.backends.cpu.conditions import SoundEvent
from omni_ros.backends.cpu.tonal import DT, Claim, Track

_BAND = (700.0, 5000.0)
_NAMED_AFTER = 1.0  # seconds of whistle
_MIN_SWELL_DB = 10.0
_MIN_DRIFT = 0.015
_CLAIM_SWELL_DB = 3.0  # a track swelling this much may become a whistle: beeps wait
_SAME_WHISTLE = 3.0  # seconds of silence that end a whistle


def _swell(track: Track) -> float:
    """dB the track's level rose from its start to the loudest point of its first 0.8 s."""
    levels = np.asarray(track.levels)
    early = levels[:int(0.8 / DT)]
    if len(early) < 6:
        return 0.0
    # Past the onset: a track may begin a frame or two before its sound, on the noise at its pitch and on
    # frames the window only half covers, and from those a beep switching on "swells" 30 dB in 24 ms.
    start = float(np.median(levels[3:6]))
    return float(early[3:].max()) - start


def _steady(track: Track) -> bool:
    """Once swollen, a whistle holds its level (within 10 dB) and is never struck again: notes of a
    melody that happen to line up into one track decay and start anew."""
    levels = np.asarray(track.levels)
    if len(levels) < 12:
        return True
    smooth = np.convolve(levels, np.ones(3) / 3, mode='valid')
    rise = smooth[3:] - smooth[:-3]  # over 24 ms
    dip = np.maximum.accumulate(smooth)[:-3] - smooth[:-3]  # below the loudest so far, just before
    if np.any((rise >= 6.0) & (dip >= 6.0)):
        return False  # decayed, then struck again
    peak = int(np.argmax(smooth[:int(0.8 / DT)]))
    held = smooth[peak:len(smooth) - 3] if track.closed else smooth[peak:]
    return len(held) == 0 or float(held.max() - held.min()) <= 10.0


def _drift(track: Track) -> float:
    """Relative spread of the track's pitch (smoothed over 5 frames), past its onset."""
    freqs = np.asarray(track.freqs[3:])
    if len(freqs) < 10:
        return 0.0
    smooth = np.convolve(freqs, np.ones(5) / 5, mode='valid')
    return float((smooth.max() - smooth.min()) / smooth.mean())


class KettleDetector:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._whistling: list[list[float]] = []  # [freq, last heard]
        self._claims: list[Claim] = []

    def claims(self) -> list[Claim]:
        return self._claims

    def update(self, tracks: list[Track], trills: list[Claim], now: float) -> list[SoundEvent]:
        """``tracks``: the open ones and those closed since the last call; ``trills``: the ring detector's."""
        events: list[SoundEvent] = []
        claims = []
        for track in tracks:
            freq = track.freq
            if not _BAND[0] <= freq <= _BAND[1] or any(c.covers(track.onset, track.end, freq) for c in trills):
                continue
            # One kettle at a time: a two-tone whistle, or a whistle that broke off for a moment, is the same.
            ongoing = next((w for w in self._whistling if track.onset <= w[1] + _SAME_WHISTLE), None)
            if ongoing is not None:
                ongoing[1] = max(ongoing[1], track.end)
                claims.append(Claim(track.onset, track.end + 0.2, freq * 0.9, freq * 1.1))
                continue
            swell = _swell(track)
            if swell >= _CLAIM_SWELL_DB and not track.closed:
                claims.append(Claim(track.onset, math.inf, freq * 0.9, freq * 1.1))
            if track.duration < _NAMED_AFTER or track.speech > 0.3 * len(track.frames):
                continue
            if (swell >= _MIN_SWELL_DB or _drift(track) >= _MIN_DRIFT) and _steady(track):
                self._whistling.append([freq, track.end])
                claims.append(Claim(track.onset, track.end + 0.2, freq * 0.9, freq * 1.1))
                events.append(SoundEvent('kettle', track.onset, min(1.0, 0.6 + track.level / 100), freq))
        self._whistling = [w for w in self._whistling if w[1] > now - _SAME_WHISTLE]
        # Claims of whistles still fresh in the beep detector's memory stay, so a re-detection there of
        # a whistle's start is not named a beep later.
        self._claims = [c for c in self._claims if c.end > now - 3.0 and c.end != math.inf] + claims
        return events
