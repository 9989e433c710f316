"""Sound events (beep, ding, doorbell, knock; phone, kettle, smoke and CO alarms) by DSP: no bundled
audio-event classifier exists offline.

Tones are spectral peaks that stay at one frequency for tens of milliseconds, stand well above the noise
floor and are not during voiced speech (the VAD mask). Their loudness envelope names them: flat with an
abrupt end is a beep; a sharp attack then a steady decay is a bell tone; two bell tones of different pitch
in quick succession are a doorbell ("ding-dong"), a lone one is a ding. Knocks are clusters of two or more
broadband clicks: sharp attack, gone within ~50 ms, back to the background in between.

Each chunk analyses the last few seconds so events that straddle chunk boundaries are seen whole; an
event is reported once (deduplicated by onset) and only once enough audio after its onset is in hand to
name it, and no later (a ding waits to see whether a "dong" follows; a doorbell only for its "dong" to
ring a moment).

The patterns that take seconds (alarms.py, ringing.py, kettle.py) run on a streaming tonal analysis
(tonal.py) of every sample once. What the phone and kettle detectors hear, or may be about to name, they
claim: a tone in a claimed span of time and pitch is not also a beep, ding or doorbell. An alarm's
pulses are not claimed: an alarm beeps, and is named an alarm only seconds later.
"""

from __future__ import annotations

from typing import Any
from dataclasses import dataclass, field

import numpy as np

from omni_ros.backends.cpu.alarms import AlarmDetector
from omni_ros.backends.cpu.conditions import SoundEvent
from omni_ros.backends.cpu.kettle import KettleDetector
from omni_ros.backends.cpu.ringing import RingDetector
from omni_ros.backends.cpu.tonal import Claim, ToneStream
from omni_ros.data import FloatArray

SR = 16000
_N, _HOP = 512, 256  # tone analysis: 32 ms windows, 16 ms hop, 31 Hz bins
_KN, _KHOP = 256, 128  # click analysis: 16 ms windows, 8 ms hop
_HISTORY = 3.0  # seconds analysed each chunk
# Seconds after a lone bell tone's onset before it is a ding: a doorbell's "dong" comes up to 0.65 s after
# its "ding" and shows as a tone ~0.1 s later; sooner, the first note of a doorbell is taken for a ding
# (0.7 s: one doorbell of the suite is).
_BELL_WAIT = 0.75
# Seconds after a doorbell's second note before it is named: the note must ring ~0.2 s to be told a bell
# (attack, decay), and a third note that soon (a tune) is still seen.
_DONG_WAIT = 0.25
# Seconds a flat tone still sounding must last to be named a beep before it ends: an electronic tone that
# switched on out of the noise floor (rose _SWITCHED_ON dB or more in its own bins) at _OPEN_BEEP; one that
# was already sounding there (a kettle's whistle picked up again mid-swell, its track broken by a pitch
# glide) at _OPEN_TONE, by when the kettle and phone detectors have claimed theirs. The suite's beeps last
# 0.1-0.5 s, its long ones 1.6-2.4 s; those still sounding when named rose 28 dB or more (with 0.2 s for
# every tone, one kettle of the suite was called a beep).
_OPEN_BEEP = 0.2
_OPEN_TONE = 0.35
_SWITCHED_ON = 12.0
_MAX_AGE = 2.6  # an event first named later than this after its onset is dropped, not reported late
_SAME_BEEPING = 6.0  # seconds: a beep at the same pitch this soon after the last is the same beeping


@dataclass
class _Track:
    start: int  # frame index
    bins: list[float] = field(default_factory=list)
    levels: list[float] = field(default_factory=list)
    last: int = 0

    @property
    def length(self) -> int:
        return len(self.bins)


@dataclass(frozen=True)
class _Tone:
    onset: float
    end: float
    freq: float
    level: float  # dB above the noise floor at the peak
    slope: float  # dB/s from the peak to the end
    attack: float  # seconds from onset to peak
    spread: float  # dB standard deviation of the level over the tone's middle
    jump: float  # dB rise of the whole band's energy at the onset (a strike, not a partial emerging)
    rise: float  # dB from the loudest of its own bins (+-3) just before the onset to its peak (switched on)
    open: bool  # still sounding at the end of the analysed audio

    @property
    def duration(self) -> float:
        return self.end - self.onset

    @property
    def bell_like(self) -> bool:
        """Struck: loudest at once, then a steady decay lasting a while."""
        return self.attack <= 0.05 and self.slope <= -12.0 and self.duration >= 0.2 and self.jump >= 6.0

    @property
    def flat(self) -> bool:
        """Electronic: level holds steady until it stops."""
        return self.spread <= 3.0 and abs(self.slope) < 15.0


class SoundEventDetector:
    def __init__(self, tone_snr_db: float = 14.0, click_snr_db: float = 9.0, min_beep_hz: float = 700.0) -> None:
        self.tone_snr_db = tone_snr_db
        self.click_snr_db = click_snr_db
        self.min_beep_hz = min_beep_hz
        self._tonal = ToneStream()
        self._alarms = AlarmDetector()
        self._rings = RingDetector()
        self._kettle = KettleDetector()
        self._window = np.hanning(_N).astype(np.float32)
        self._kwindow = np.hanning(_KN).astype(np.float32)
        self.reset()

    def setup(self) -> None:
        """Pure numpy: nothing to load."""

    def close(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._audio = np.zeros(0, np.float32)
        self._speech = np.zeros(0, bool)
        self._t0 = 0.0
        self._reported: list[list[Any]] = []  # [kind, onset, end, frequency]
        self._knock_until = -1e9
        self._claims: list[Claim] = []
        for part in (self._tonal, self._alarms, self._rings, self._kettle):
            part.reset()

    def process(self, audio: FloatArray, speech_mask: np.ndarray, start: float) -> list[SoundEvent]:
        """Events decided with this chunk; ``speech_mask`` flags samples the VAD calls speech."""
        audio = np.asarray(audio, np.float32)
        if len(self._audio) and abs(self._t0 + len(self._audio) / SR - start) > 0.05:
            self.reset()  # a gap or clock jump: old audio is not contiguous with this chunk
        if not len(self._audio):
            self._t0 = start
        self._audio = np.concatenate([self._audio, audio])
        self._speech = np.concatenate([self._speech, np.asarray(speech_mask, bool)[:len(audio)]])
        excess = len(self._audio) - int(_HISTORY * SR)
        if excess > 0:
            self._audio = self._audio[excess:]
            self._speech = self._speech[excess:]
            self._t0 += excess / SR
        end = self._t0 + len(self._audio) / SR
        events = self._patterns(audio, speech_mask, start)
        events += self._tone_events(end) + self._knock_events(end)
        horizon = end - max(2 * _HISTORY, _HISTORY + _SAME_BEEPING)
        self._reported = [r for r in self._reported if r[2] > horizon]
        return events

    # -- alarms, phones, kettles ---------------------------------------------------------------------
    def _patterns(self, audio: np.ndarray, speech_mask: np.ndarray, start: float) -> list[SoundEvent]:
        closed = self._tonal.push(audio, speech_mask, start)
        now = self._tonal.now
        events = self._alarms.update(closed, now) + self._rings.update(self._tonal)
        events += self._kettle.update(self._tonal.open_tracks + closed, self._rings.trills(), now)
        self._claims = self._rings.claims() + self._kettle.claims()
        return events

    def _claimed(self, tone: _Tone) -> bool:
        return any(claim.covers(tone.onset, tone.end, tone.freq) for claim in self._claims)

    # -- tones ---------------------------------------------------------------------------------------
    def _tones(self) -> list[_Tone]:
        x = self._audio
        if len(x) < _N * 4:
            return []
        frames = np.lib.stride_tricks.sliding_window_view(x, _N)[::_HOP] * self._window
        power = 10 * np.log10(np.abs(np.fft.rfft(frames, axis=1)) ** 2 + 1e-10)
        floor = np.percentile(power, 20, axis=0)
        lo, hi = int(250 / (SR / _N)), int(6000 / (SR / _N))
        band = power[:, lo:hi]
        above = band - floor[lo:hi]
        # Peaky: well above the neighbouring bins, not a broadband burst.
        local = np.maximum(np.roll(band, 6, axis=1), np.roll(band, -6, axis=1))
        is_peak = (band >= np.roll(band, 1, axis=1)) & (band >= np.roll(band, -1, axis=1)) \
            & (above >= self.tone_snr_db) & (band - local >= 8)
        speech_frames = np.lib.stride_tricks.sliding_window_view(self._speech, _N)[::_HOP].mean(axis=1) > 0.5
        tracks: list[_Track] = []
        live: list[_Track] = []
        for t in range(band.shape[0]):
            peaks = np.flatnonzero(is_peak[t])
            if len(peaks) > 3:
                peaks = peaks[np.argsort(above[t, peaks])[-3:]]
            next_live = []
            used = set()
            for track in live:
                if t - track.last > 2:
                    continue
                near = [p for p in peaks if abs(p - track.bins[-1]) <= 1 and p not in used]
                if near:
                    p = max(near, key=lambda q: above[t, q])
                    used.add(p)
                    track.bins.append(float(p))
                    track.levels.append(float(above[t, p]))
                    track.last = t
                next_live.append(track)
            for p in peaks:
                if p not in used:
                    track = _Track(start=t, bins=[float(p)], levels=[float(above[t, p])], last=t)
                    tracks.append(track)
                    next_live.append(track)
            live = next_live
        n_frames = band.shape[0]
        band_energy = 10 * np.log10(np.sum(10 ** (band / 10), axis=1) + 1e-10)
        tones = []
        dt = _HOP / SR
        for track in tracks:
            if track.length < 4 or np.std(track.bins) > 0.8:
                continue
            if speech_frames[track.start:track.last + 1].mean() > 0.3:
                continue
            levels = np.asarray(track.levels)
            peak = int(np.argmax(levels))
            # Decay from the peak, leaving out the last frames (a beep's cut-off smeared by the window); a
            # tone still open may have just been cut off, too: its last frames falling steeply are left out.
            tail = levels[peak:-2] if track.last < n_frames - 2 else _before_cutoff(levels[peak:])
            slope = float(np.polyfit(np.arange(len(tail)) * dt, tail, 1)[0]) if len(tail) >= 6 else 0.0
            # Onset and release frames are smeared by the window: judge steadiness on the middle.
            middle = levels[1:-1] if len(levels) > 4 else levels
            tones.append(_Tone(
                onset=self._t0 + track.start * dt, end=self._t0 + (track.last + 1) * dt + _N / SR,
                freq=float((np.mean(track.bins) + lo) * SR / _N), level=float(levels.max()), slope=slope,
                attack=peak * dt, spread=float(np.std(middle)),
                jump=float(band_energy[track.start:track.start + 2].max()
                           - band_energy[max(0, track.start - 4):max(1, track.start - 1)].min()),
                rise=_rise(above, track, levels.max()),
                open=track.last >= n_frames - 2))
        return _merge_partials(tones)

    def _tone_events(self, end: float) -> list[SoundEvent]:
        events: list[SoundEvent] = []
        tones = sorted((t for t in self._tones() if not self._claimed(t)), key=lambda tone: tone.onset)
        bells = [t for t in tones if t.bell_like]

        def strikes_near(start: float, stop: float) -> int:
            """Separate bell strikes starting in [start, stop] (partials of one strike start together):
            a melody has many, a doorbell two, a ding one."""
            onsets = sorted(t.onset for t in tones if start <= t.onset <= stop and t.jump >= 3.0)
            return sum(1 for k, t in enumerate(onsets) if k == 0 or t - onsets[k - 1] > 0.08)

        used: set[int] = set()
        for i, first in enumerate(bells):
            for j in range(i + 1, len(bells)):
                second = bells[j]
                gap = second.onset - first.onset
                # Ding-dong: the second note is the lower one (a tune rising by a step is not a doorbell).
                ratio = first.freq / second.freq
                if not (0.15 <= gap <= 1.2 and 1.08 <= ratio <= 1.7):
                    continue
                used.update((i, j))
                # Decide once the "dong" has rung long enough to be a bell and no third note (music) came.
                if end - second.onset >= _DONG_WAIT and \
                        strikes_near(first.onset - 1.2, second.onset + _DONG_WAIT) == 2:
                    self._report(events, 'doorbell', first.onset,
                                 _tone_conf(min(first.level, second.level)), first.freq, end=second.end)
                break
        for i, bell in enumerate(bells):
            # Wait to see whether a second tone makes it a doorbell, or more notes make it music.
            if i in used or end - bell.onset < _BELL_WAIT:
                continue
            if strikes_near(bell.onset - 1.2, bell.onset + _BELL_WAIT) == 1:
                self._report(events, 'ding', bell.onset, _tone_conf(bell.level), bell.freq, end=bell.end)
        for tone in tones:
            if tone.bell_like or not tone.flat or tone.freq < self.min_beep_hz or tone.duration > 1.5:
                continue
            if any(_rings_within(tone, bell) for bell in bells):
                continue  # a partial of a ringing bell, picked up again after fading into the noise
            if tone.open and tone.duration < (_OPEN_BEEP if tone.rise >= _SWITCHED_ON else _OPEN_TONE):
                continue  # may still turn into a long tone or a bell; decide next hop
            self._report(events, 'beep', tone.onset, _tone_conf(tone.level), tone.freq, end=tone.end)
        return events

    # -- knocks --------------------------------------------------------------------------------------
    def _knock_events(self, end: float) -> list[SoundEvent]:
        x = self._audio
        if len(x) < _KN * 8:
            return []
        frames = np.lib.stride_tricks.sliding_window_view(x, _KN)[::_KHOP]
        frames = (frames - frames.mean(axis=1, keepdims=True)) * self._kwindow
        energy = 10 * np.log10((frames ** 2).mean(axis=1) + 1e-12)
        speech = np.lib.stride_tricks.sliding_window_view(self._speech, _KN)[::_KHOP].mean(axis=1) > 0.5
        background = float(np.percentile(energy, 30))
        dt = _KHOP / SR
        clicks: list[float] = []
        t = 3
        n = len(energy)
        while t < n - 6:
            peak = max(energy[t], energy[t + 1])
            height = peak - background
            # A quiet knock cannot rise or fall further than its height above the background: then it
            # must rise by most of it (within two hops: its onset may straddle them) and fall back close
            # to the background.
            sharp = peak - energy[t - 3:t].max() >= min(9.0, 0.6 * height)
            loud = height >= self.click_snr_db
            gone = energy[t + 3:t + 7].min() <= max(peak - 12.0, background + 3.0)  # within ~50 ms
            if sharp and loud and gone and not speech[t]:
                clicks.append(self._t0 + t * dt)
                t += 8  # refractory: one click is one event
                continue
            t += 1
        events: list[SoundEvent] = []
        cluster: list[float] = []
        for c in clicks + [float('inf')]:
            if cluster and 0.08 <= c - cluster[-1] <= 0.7:
                cluster.append(c)
                continue
            if len(cluster) >= 2:
                # Two knocks are a knocking at once: more are the same knocking (_knock_until).
                if cluster[0] <= self._knock_until:
                    self._knock_until = max(self._knock_until, cluster[-1] + 1.0)  # the same knocking
                else:
                    self._knock_until = cluster[-1] + 1.0
                    self._report(events, 'knock', cluster[0], min(1.0, 0.55 + 0.15 * len(cluster)))
            cluster = [c]
        return events

    # -- bookkeeping ---------------------------------------------------------------------------------
    def _already_reported(self, kind: str, onset: float, end: float) -> bool:
        """One sound is one event: a tone starting inside a reported tone's span (a re-detection, a
        track broken by noise, a doorbell's second note) is not new, whatever it would be named now.
        A sound named while it still rings (a ding) is seen again as it goes on: its span grows with it,
        so its fading tail is not a new sound either."""
        tonal = kind != 'knock'
        for previous in self._reported:
            if (previous[0] != 'knock') == tonal and previous[1] - 0.1 <= onset <= previous[2] + 0.1:
                previous[2] = max(previous[2], end)
                return True
        return False

    def _report(self, events: list[SoundEvent], kind: str, onset: float, confidence: float,
                freq: float = 0.0, end: float | None = None) -> None:
        end = end if end is not None else onset
        if self._already_reported(kind, onset, end) or onset < self._t0 + len(self._audio) / SR - _MAX_AGE:
            return  # a repeat, or too old to alert on now
        if kind == 'beep':
            for previous in self._reported:
                # "beep beep beep" is one event: same pitch, starting soon after the previous beep ended.
                if previous[0] == 'beep' and 0 <= onset - previous[2] <= _SAME_BEEPING and \
                        abs(previous[3] - freq) <= 0.03 * freq + 32:
                    previous[2] = max(previous[2], end)
                    return
        self._reported.append([kind, onset, end, freq])
        events.append(SoundEvent(kind, onset, confidence, freq))


def _rings_within(tone: _Tone, bell: _Tone) -> bool:
    """``tone`` starts after ``bell``, is quieter and is over before the bell is: part of its sound."""
    return bell.onset < tone.onset < bell.end and tone.end <= bell.end + 0.1 and tone.level < bell.level


def _before_cutoff(levels: np.ndarray) -> np.ndarray:
    """``levels`` without the last frames that each fall 3 dB or more below the one before: a tone switched
    off within the analysis window (a bell decays well under 1 dB a frame)."""
    n = len(levels)
    while n > 2 and levels[n - 2] - levels[n - 1] >= 3.0:
        n -= 1
    return levels[:n]


def _rise(above: np.ndarray, track: _Track, peak: float) -> float:
    """dB from the loudest of the track's bins (and 3 either side) in the 3 frames before it began to its
    peak: an electronic tone switches on out of the noise floor, a whistle picked up again mid-swell (its
    track broken by a pitch glide) was already sounding there."""
    b = int(round(float(np.mean(track.bins))))
    before = above[max(0, track.start - 3):track.start, max(0, b - 3):b + 4]
    return float(peak - max(0.0, float(before.max()))) if before.size else float(peak)


def _tone_conf(level_db: float) -> float:
    return float(min(1.0, 0.4 + level_db / 50.0))


def _merge_partials(tones: list[_Tone]) -> list[_Tone]:
    """Tones starting together are one sound (harmonics, bell partials): keep the loudest of each. A
    quieter tone that starts with a louder one and dies first is one of its partials (a bell's upper
    partials fade fastest); one that outlasts it is a sound of its own."""
    tones = sorted(tones, key=lambda t: -t.level)
    kept: list[_Tone] = []
    for tone in tones:
        if any(abs(tone.onset - k.onset) <= 0.05 and tone.end <= k.end + 0.4 for k in kept):
            continue
        kept.append(tone)
    return kept
