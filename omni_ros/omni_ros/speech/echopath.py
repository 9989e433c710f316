"""Signal pieces of self-hearing suppression, without ROS: the played reference on the input clock,
the echo delay estimate, an adaptive echo canceller and a numpy energy VAD.

Everything runs at 16 kHz on absolute sample indices of the input clock (index = round((t - origin) * 16000)),
so the microphone and the reference of the robot's speech meet sample by sample.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass

import numpy as np

from omni_ros.data import FloatArray

SAMPLE_RATE = 16000
BLOCK = 128  # echo canceller block (8 ms): filter updates and suppression gains change on this grid
FLOOR_RISE = 1.008  # per 32 ms frame: a noise floor rises about 1 dB a second


def follow_floor(floor: float, power: float, rise: float = FLOOR_RISE) -> float:
    """Noise floor tracking: down to a quieter frame at once, up slowly, so speech does not lift it."""
    return power if floor == 0.0 or power < floor else floor * rise


class Reference:
    """What the speaker plays, by absolute sample index, and the spans during which it plays.

    Overlapping speech adds up, as it does in the speaker. Samples before ``trim`` are forgotten.
    """

    def __init__(self) -> None:
        self._start = 0
        self._buf = np.zeros(0, np.float32)
        self.spans: list[list[int]] = []  # [start, end) indices, sorted, merged

    def add(self, index: int, samples: FloatArray) -> None:
        if samples.size == 0:
            return
        end = index + samples.size
        if self._buf.size == 0:
            self._start, self._buf = index, np.zeros(0, np.float32)
        lo, hi = min(self._start, index), max(self._start + self._buf.size, end)
        if lo < self._start or hi > self._start + self._buf.size:
            grown = np.zeros(hi - lo, np.float32)
            grown[self._start - lo:self._start - lo + self._buf.size] = self._buf
            self._start, self._buf = lo, grown
        self._buf[index - self._start:end - self._start] += samples
        self._add_span(index, end)

    def _add_span(self, start: int, end: int) -> None:
        spans = self.spans + [[start, end]]
        spans.sort()
        merged: list[list[int]] = []
        for s, e in spans:
            if merged and s <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        self.spans = merged

    def get(self, start: int, end: int) -> FloatArray:
        """Samples [start, end); zeros where nothing was played."""
        out = np.zeros(end - start, np.float32)
        lo, hi = max(start, self._start), min(end, self._start + self._buf.size)
        if hi > lo:
            out[lo - start:hi - start] = self._buf[lo - self._start:hi - self._start]
        return out

    def cut(self, index: int) -> None:
        """Playback stopped at ``index``: nothing from there on is heard."""
        if index < self._start + self._buf.size:
            self._buf[max(index - self._start, 0):] = 0.0
        self.spans = [[s, min(e, index)] for s, e in self.spans if s < index]

    def trim(self, index: int) -> None:
        if index > self._start:
            drop = min(index - self._start, self._buf.size)
            self._buf = self._buf[drop:]
            self._start += drop
        self.spans = [span for span in self.spans if span[1] > index]

    def active(self, index: int, tail: int) -> bool:
        """True if ``index`` lies in a span or less than ``tail`` samples after one ends."""
        return any(s <= index < e + tail for s, e in self.spans)

    def clear(self) -> None:
        self._buf = np.zeros(0, np.float32)
        self.spans = []


@dataclass(frozen=True)
class DelayEstimate:
    lag: int  # samples from playback stamp to hearing the direct sound
    strength: float  # correlation peak over the mean of the searched lags


def estimate_delay(mic: FloatArray, ref: FloatArray, max_lag: int) -> DelayEstimate:
    """Lag of ``ref`` inside ``mic`` by phase-transform cross-correlation (GCC-PHAT).

    ``ref`` holds max_lag samples more than ``mic``, in front: mic[i] is compared with
    ref[i + max_lag - lag]. The phase transform whitens both signals, so the direct sound gives a
    sharp peak despite reverberation and the user's voice.
    """
    n = 1 << int(np.ceil(np.log2(mic.size + ref.size)))
    spec = np.conj(np.fft.rfft(mic, n)) * np.fft.rfft(ref, n)
    spec /= np.abs(spec) + 1e-12
    # Speech band only: outside it the whitened noise would weigh as much as the echo.
    freqs = np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE)
    spec[(freqs < 200.0) | (freqs > 4000.0)] = 0.0
    corr = np.fft.irfft(spec, n)[:max_lag + 1]
    j = int(np.argmax(corr))
    return DelayEstimate(lag=max_lag - j, strength=float(corr[j] / (np.mean(np.abs(corr)) + 1e-12)))


class EchoCanceller:
    """Partitioned-block frequency-domain NLMS filter with a foreground/background pair.

    The background filter always adapts; the foreground filter, whose estimate is subtracted, takes the
    background's weights only while they cancel better. A user talking over the robot makes the
    background diverge for a moment, but the foreground keeps the last good echo path.

    Per block of BLOCK samples: ``predict`` (the delayed reference for the block) returns the echo
    estimate before any microphone sample of the block is needed; ``update`` (the block's microphone
    samples) adapts. So the residual of a partial block is known sample by sample.
    """

    def __init__(self, taps: int, step: float = 0.5, regularize: float = 0.3) -> None:
        self._parts = taps // BLOCK
        self._step = step
        self._regularize = regularize
        self.reset()

    def reset(self) -> None:
        """Forget the echo path."""
        bins = BLOCK + 1
        self._fore = np.zeros((self._parts, bins), np.complex128)
        self._back = np.zeros((self._parts, bins), np.complex128)
        self._power = np.zeros(bins)
        self._level = np.zeros(bins)
        self._fore_err = 0.0
        self._back_err = 0.0
        self.clear_history()

    def clear_history(self) -> None:
        """Forget the reference (it fell silent, or the stream restarted); the echo path stays."""
        self._spectra = np.zeros((self._parts, BLOCK + 1), np.complex128)  # newest reference block first
        self._last = np.zeros(BLOCK)
        self._echo_fore = np.zeros(BLOCK)
        self._echo_back = np.zeros(BLOCK)

    def predict(self, ref: FloatArray) -> FloatArray:
        spectrum = np.fft.rfft(np.concatenate((self._last, ref)))
        self._last = np.asarray(ref, np.float64)
        self._spectra = np.roll(self._spectra, 1, axis=0)
        self._spectra[0] = spectrum
        self._echo_fore = np.fft.irfft(np.sum(self._spectra * self._fore, axis=0))[BLOCK:]
        self._echo_back = np.fft.irfft(np.sum(self._spectra * self._back, axis=0))[BLOCK:]
        return self._echo_fore.astype(np.float32)

    def update(self, mic: FloatArray) -> None:
        back_err = mic - self._echo_back
        fore_err = mic - self._echo_fore
        error = np.fft.rfft(np.concatenate((np.zeros(BLOCK), back_err)))
        # Per-bin NLMS step over the reference power in the whole filter span. Its floor follows each
        # bin's long-term power (the first blocks after a pause take no huge steps), plus a little of
        # the mean over bins (bins the speech never excites, such as rumble, do not adapt to noise).
        self._power = 0.5 * self._power + 0.5 * np.sum(np.abs(self._spectra) ** 2, axis=0)
        if self._power.any():
            self._level += (self._power - self._level) * (1.0 if not self._level.any() else 0.01)
        norm = (self._power + self._regularize * self._level + 0.01 * float(np.mean(self._level))
                + 2 * BLOCK * self._parts * 1e-6)
        grad = np.fft.irfft(np.conj(self._spectra) * error / norm, axis=1)
        grad[:, BLOCK:] = 0.0  # gradient constraint: linear, not circular, convolution
        self._back += self._step * np.fft.rfft(grad, axis=1)
        # Compared over ~40 ms, so one lucky block does not hand over a diverging filter.
        self._fore_err = 0.8 * self._fore_err + 0.2 * float(np.dot(fore_err, fore_err))
        self._back_err = 0.8 * self._back_err + 0.2 * float(np.dot(back_err, back_err))
        if self._back_err < 0.8 * self._fore_err:
            self._fore = self._back.copy()
            self._fore_err = self._back_err
        elif self._back_err > 4.0 * self._fore_err + 1e-9:
            self._back = self._fore.copy()
            self._back_err = self._fore_err


class LeakEstimator:
    """The fraction of echo power the canceller leaves: the median, over the last blocks where the
    echo estimate stands well above the noise, of residual (less noise) over estimate. A user talking
    over the robot raises the ratio only while they talk, which the median ignores."""

    def __init__(self, blocks: int = 250) -> None:
        self._ratios: collections.deque[float] = collections.deque(maxlen=blocks)  # about 2 s
        self.reset()

    def reset(self) -> None:
        self.leak = 1.0
        self._ratios.clear()

    @property
    def blocks(self) -> int:
        return len(self._ratios)

    def update(self, echo: float, residual: float, noise: float) -> None:
        if echo < 10.0 * noise:
            return  # residual echo would be lost in the noise
        self._ratios.append(max(residual - noise, 0.0) / echo)
        self.leak = float(np.clip(np.median(self._ratios), 1e-4, 1.0))


class EnergyVad:
    """Voice probability from frame energy over a tracked noise floor: 0 at 3 dB above it, 1 at 15 dB.

    The fallback when silero cannot be loaded: it tells loud from quiet, not voice from other sounds.
    """

    FRAME = 512

    def __init__(self) -> None:
        self.reset()

    def setup(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._carry = np.zeros(0, np.float32)
        self._floor = 0.0

    def process(self, audio: FloatArray) -> FloatArray:
        samples = np.concatenate((self._carry, np.asarray(audio, np.float32)))
        count = samples.size // self.FRAME
        self._carry = samples[count * self.FRAME:]
        powers = np.mean(samples[:count * self.FRAME].reshape(count, self.FRAME).astype(np.float64) ** 2, axis=1)
        probs = np.zeros(count, np.float32)
        for i, p in enumerate(powers):
            self._floor = follow_floor(self._floor, float(p))
            snr_db = 10.0 * np.log10((p + 1e-12) / (self._floor + 1e-12))
            probs[i] = np.clip((snr_db - 3.0) / 12.0, 0.0, 1.0) if p > 1e-8 else 0.0
        return probs
