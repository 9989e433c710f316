"""A streaming view of the tonal part of the microphone signal, for the sound patterns that take seconds
to recognise (alarms, phone rings, kettle whistles).

Audio is cut into 16 ms frames every 8 ms as it arrives (only new samples are analysed), each frame's
spectrum between 300 Hz and 5 kHz is compared with a per-frequency noise floor, and the tonal peaks
(narrow, well above the floor) are followed from frame to frame as tracks. Everything is state of the
stream, not of the chunk it came in: feeding the same audio in 1 s or 0.1 s pieces gives the same
frames, tracks and decisions, so the pattern detectors built on it can decide at any hop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omni_ros.data import FloatArray

SR = 16000
N, HOP = 256, 128  # 16 ms windows every 8 ms: 62.5 Hz bins, fine enough in time for a 20 Hz trill
DT = HOP / SR
BIN_HZ = SR / N
LO, HI = int(300 / BIN_HZ), int(5000 / BIN_HZ) + 1  # analysed bins
HISTORY = 9.0  # seconds of frames kept (an alarm's two cycles fit)
_FLOOR_EVERY = 32  # frames between noise-floor renewals
_FLOOR_PERCENTILE = 20
_PEAKY_DB = 6.0  # a tonal peak stands this far above the spectrum 2 bins either side
_MAX_PEAKS = 4  # per frame
_MAX_GAP = 2  # frames a track may miss and go on


@dataclass
class Track:
    """A tonal peak followed over consecutive frames (a beep, one alarm pulse, a whistle)."""

    frames: list[int]  # frame numbers (of the stream) seen in
    times: list[float]  # their centres, stream seconds
    freqs: list[float]  # Hz, interpolated, per frame seen
    levels: list[float]  # dB above the noise floor, per frame seen
    speech: int = 0  # frames seen while the VAD said speech
    closed: bool = False

    @property
    def last(self) -> int:
        return self.frames[-1]

    @property
    def onset(self) -> float:
        return self.times[0] - DT / 2

    @property
    def end(self) -> float:
        return self.times[-1] + DT / 2

    @property
    def duration(self) -> float:
        return self.end - self.onset

    @property
    def freq(self) -> float:
        return float(np.median(self.freqs))

    @property
    def level(self) -> float:
        return float(max(self.levels))


class ToneStream:
    """Frames, noise floor, tonal peaks and tracks of one audio stream.

    Frame k (counted from the stream's start) covers samples [k * HOP, k * HOP + N). ``push`` returns
    the tracks closed by the new audio; ``open_tracks`` are those still sounding. The noise floor is
    the 20th percentile of each frequency over the kept history, renewed every 32 frames (at fixed
    frame numbers, so chunking does not change it): a tone sounding less than most of the time (an
    alarm, a ring, a beep) stays well above it.
    """

    def __init__(self, snr_db: float = 12.0) -> None:
        self.snr_db = snr_db
        self._window = np.hanning(N).astype(np.float32)
        self.reset()

    def reset(self) -> None:
        self.origin: float | None = None
        self._pending = np.zeros(0, np.float32)  # samples not yet in a frame (plus the overlap)
        self._pending_speech = np.zeros(0, bool)
        self._consumed = 0  # samples of the stream framed so far (frame starts)
        self.frames = 0  # frames made so far
        self.power = np.zeros((0, HI - LO), np.float32)  # dB per analysed bin, the last HISTORY seconds
        self.speech = np.zeros(0, bool)
        self.floor: np.ndarray | None = None
        self.open_tracks: list[Track] = []

    @property
    def now(self) -> float:
        """Stream time up to which audio has been analysed."""
        return (self.origin or 0.0) + self._consumed / SR

    def time(self, frame: float) -> float:
        """Stream time of the centre of frame number ``frame``."""
        return (self.origin or 0.0) + (frame * HOP + N / 2) / SR

    def rows(self, first: int, last: int) -> np.ndarray:
        """dB above the current floor of frames ``first``..``last`` (frame numbers, inclusive, kept)."""
        assert self.floor is not None
        base = self.frames - len(self.power)
        rows: np.ndarray = self.power[first - base:last - base + 1] - self.floor
        return rows

    def push(self, audio: FloatArray, speech_mask: np.ndarray, start: float) -> list[Track]:
        # Contiguity is the caller's business (SoundEventDetector resets the stream on a gap).
        if self.origin is None:
            self.origin = start
        self._pending = np.concatenate([self._pending, np.asarray(audio, np.float32)])
        self._pending_speech = np.concatenate([self._pending_speech, np.asarray(speech_mask, bool)[:len(audio)]])
        count = (len(self._pending) - N) // HOP + 1 if len(self._pending) >= N else 0
        if count <= 0:
            return []
        frames = np.lib.stride_tricks.sliding_window_view(self._pending, N)[::HOP][:count] * self._window
        power = (10 * np.log10(np.abs(np.fft.rfft(frames, axis=1))[:, LO:HI] ** 2 + 1e-10)).astype(np.float32)
        speech = np.lib.stride_tricks.sliding_window_view(self._pending_speech, N)[::HOP][:count].mean(axis=1) > 0.5
        self._pending = self._pending[count * HOP:]
        self._pending_speech = self._pending_speech[count * HOP:]
        self._consumed += count * HOP
        closed: list[Track] = []
        k = 0
        while k < count:
            # Up to the next floor renewal: the frames in between are judged against one floor.
            frame = self.frames
            if self.floor is None or frame % _FLOOR_EVERY == 0:
                self._update_floor(power[k:k + 1] if self.floor is None else None)
            stop = min(count, k + _FLOOR_EVERY - frame % _FLOOR_EVERY)
            block = power[k:stop]
            self._append(block, speech[k:stop])
            closed += self._track(block, speech[k:stop])
            k = stop
        return closed

    def _append(self, power: np.ndarray, speech: np.ndarray) -> None:
        keep = int(HISTORY / DT)
        self.power = np.concatenate([self.power, power])[-keep:]
        self.speech = np.concatenate([self.speech, speech])[-keep:]

    def _update_floor(self, first: np.ndarray | None) -> None:
        if first is not None and not len(self.power):
            self.floor = first[0].copy()
            return
        self.floor = np.percentile(self.power[::2], _FLOOR_PERCENTILE, axis=0).astype(np.float32)

    def _track(self, power: np.ndarray, speech: np.ndarray) -> list[Track]:
        """Peaks of a block of frames against the floor, then the tracks they extend, open and close."""
        assert self.floor is not None
        above = power - self.floor
        pad = np.pad(power, ((0, 0), (3, 3)), mode='edge')
        left, right = pad[:, 1:-5], pad[:, 5:-1]  # 2 bins either side: past a tone's main lobe
        near_l, near_r = pad[:, 2:-4], pad[:, 4:-2]
        peak = (power >= near_l) & (power >= near_r) & (above >= self.snr_db) \
            & (power - np.maximum(left, right) >= _PEAKY_DB)
        peak[:, 0] = peak[:, -1] = False
        closed: list[Track] = []
        for k in range(len(power)):
            bins = np.flatnonzero(peak[k])
            if len(bins) > _MAX_PEAKS:
                bins = bins[np.argsort(above[k, bins])[-_MAX_PEAKS:]]
            peaks = [(float(b + _vertex(power[k], int(b))), float(above[k, b])) for b in bins]
            closed += self._step(peaks, bool(speech[k]))
            self.frames += 1
        return closed

    def _step(self, peaks: list[tuple[float, float]], speech: bool) -> list[Track]:
        frame = self.frames
        if not peaks and not self.open_tracks:
            return []
        now = self.time(frame)
        used: set[int] = set()
        still_open: list[Track] = []
        closed: list[Track] = []
        for track in sorted(self.open_tracks, key=lambda tr: -tr.levels[-1]):
            here = track.freqs[-1] / BIN_HZ - LO
            near = [i for i, (b, _) in enumerate(peaks) if i not in used and abs(b - here) <= 1.2]
            if near:
                i = max(near, key=lambda j: peaks[j][1])
                used.add(i)
                track.freqs.append((peaks[i][0] + LO) * BIN_HZ)
                track.levels.append(peaks[i][1])
                track.frames.append(frame)
                track.times.append(now)
                track.speech += speech
                still_open.append(track)
            elif frame - track.last > _MAX_GAP:
                track.closed = True
                closed.append(track)
            else:
                still_open.append(track)
        for i, (b, level) in enumerate(peaks):
            if i not in used:
                still_open.append(Track(frames=[frame], times=[now], freqs=[(b + LO) * BIN_HZ], levels=[level],
                                        speech=int(speech)))
        self.open_tracks = still_open
        return closed


def _vertex(power: np.ndarray, b: int) -> float:
    """Sub-bin offset of a spectral peak by a parabola through it and its neighbours."""
    a, c, e = power[b - 1], power[b], power[b + 1]
    denom = a - 2 * c + e
    return float(0.5 * (a - e) / denom) if denom < 0 else 0.0


def overlaps(a0: float, a1: float, b0: float, b1: float) -> bool:
    return a0 < b1 and b0 < a1


@dataclass(frozen=True)
class Claim:
    """A span of time and frequency that a pattern detector is hearing (or may be about to name): the
    plain beep and bell detector leaves tones inside it alone."""

    start: float
    end: float
    low_hz: float
    high_hz: float

    def covers(self, onset: float, end: float, freq: float) -> bool:
        return overlaps(onset, end, self.start, self.end) and self.low_hz <= freq <= self.high_hz
