"""AudioChunk payloads to float32 mono, and a streaming resampler, without ROS.

Inside omni_ros audio is float32 mono in [-1, 1] (types.py). ``decode_audio`` converts the PCM bytes of an
omni_ros_interfaces/AudioChunk; ``encode_audio`` does the reverse for speech output. ``StreamResampler``
converts between rates block by block with state carried across calls, so microphone blocks of any size
give the same samples as resampling the whole recording at once.
"""

from __future__ import annotations

import math
from typing import Any, cast
from fractions import Fraction

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from omni_ros.data import AudioBlock, FloatArray
from omni_ros.errors import ConversionError, UnsupportedEncodingError

MIN_SAMPLE_RATE = 8000
MAX_SAMPLE_RATE = 192000
MAX_CHANNELS = 32

# AudioChunk.encoding values, exactly as the message definition spells them.
_SAMPLE_TYPES: dict[str, np.dtype[Any]] = {'S16LE': np.dtype('<i2'), 'F32LE': np.dtype('<f4')}
SUPPORTED_AUDIO_ENCODINGS: tuple[str, ...] = tuple(_SAMPLE_TYPES)
_S16_SCALE = 32768.0


def _sample_type(encoding: str) -> np.dtype[Any]:
    dtype = _SAMPLE_TYPES.get(encoding)
    if dtype is None:
        raise UnsupportedEncodingError(
            f'audio encoding {encoding!r} is not supported; publish AudioChunk with encoding '
            f"{' or '.join(repr(e) for e in SUPPORTED_AUDIO_ENCODINGS)} (exact spelling)")
    return dtype


def _check_rate(sample_rate: int, what: str = 'audio sample_rate') -> None:
    if not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
        raise ConversionError(
            f'{what} is {sample_rate} Hz; it must be between {MIN_SAMPLE_RATE} and '
            f'{MAX_SAMPLE_RATE} Hz: set the microphone driver to a real capture rate such as 16000')


def too_long(seconds: float, limit: float) -> ConversionError:
    return ConversionError(f'audio message holds {seconds:.1f} s; the limit is max_audio_message_seconds = '
                           f'{limit:g} s: publish shorter blocks (e.g. 20-100 ms)')


def check_length(encoding: str, sample_rate: int, channels: int, size: int, limit: float) -> None:
    """Refuse a block of ``size`` bytes longer than ``limit`` seconds from its length alone, before a
    byte of it is copied or converted (a 32 MB message must not cost 100 MB to turn down)."""
    if not 1 <= channels <= MAX_CHANNELS:
        return  # decode_audio says what is wrong
    _check_rate(sample_rate)
    seconds = size / (_sample_type(encoding).itemsize * channels * sample_rate)
    if seconds > limit:
        raise too_long(seconds, limit)


def decode_block(stamp: float, encoding: str, sample_rate: int, channels: int,
                 data: bytes | bytearray | memoryview) -> AudioBlock:
    """A received microphone block (the fields of an AudioChunk) decoded; raises ConversionError."""
    return AudioBlock(stamp=stamp, samples=decode_audio(encoding, sample_rate, channels, data), sample_rate=sample_rate)


def decode_audio(encoding: str, sample_rate: int, channels: int,
                 data: bytes | bytearray | memoryview) -> FloatArray:
    """Interleaved PCM bytes to a new float32 mono array in [-1, 1] (channels averaged).

    S16LE is scaled by 1/32768; F32LE values beyond +-1 are clipped; NaN or infinity is an error.
    """
    dtype = _sample_type(encoding)
    _check_rate(sample_rate)
    if not 1 <= channels <= MAX_CHANNELS:
        raise ConversionError(
            f'audio channels is {channels}; it must be 1..{MAX_CHANNELS} (interleaved samples)')
    frame_bytes = dtype.itemsize * channels
    size = memoryview(data).nbytes
    if size % frame_bytes:
        raise ConversionError(
            f'{encoding} audio with {channels} channel(s) has {size} bytes, not a multiple of '
            f'{frame_bytes} ({dtype.itemsize} bytes per sample x {channels} channels); the block '
            'was cut mid-sample or channels/encoding do not match the data')
    samples = np.frombuffer(data, dtype=dtype).reshape(-1, channels)
    if dtype.kind == 'f':
        if not np.isfinite(samples).all():
            bad = int(np.count_nonzero(~np.isfinite(samples)))
            raise ConversionError(
                f'F32LE audio holds {bad} NaN or infinite sample(s); the microphone driver must '
                'publish finite values in [-1, 1]')
        mono = samples[:, 0].astype(np.float32) if channels == 1 else samples.mean(axis=1, dtype=np.float32)
        np.clip(mono, -1.0, 1.0, out=mono)
        return mono
    if channels == 1:
        mono = samples[:, 0].astype(np.float32)
    else:
        mono = samples.mean(axis=1, dtype=np.float32)
    mono *= np.float32(1.0 / _S16_SCALE)
    return mono


def encode_audio(samples: np.ndarray, encoding: str) -> bytes:
    """float samples in [-1, 1] to PCM bytes (clipped); shape (n,) mono or (n, channels) interleaved."""
    dtype = _sample_type(encoding)
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim not in (1, 2):
        raise ConversionError(f'encode_audio needs shape (n,) or (n, channels), got {x.shape}')
    if not np.isfinite(x).all():
        raise ConversionError('encode_audio got NaN or infinite samples; pass finite values in [-1, 1]')
    x = np.clip(x, -1.0, 1.0)
    if dtype.kind == 'f':
        return x.astype(dtype).tobytes()
    # Round to nearest so S16LE -> float -> S16LE is exact; +1.0 saturates at 32767.
    return cast(bytes, np.clip(np.rint(x * _S16_SCALE), -32768, 32767).astype(dtype).tobytes())


# Resampler design. The prototype low-pass runs at src * up (= dst * down) Hz with its cutoff at
# _ROLLOFF x the lower Nyquist, a Kaiser window and _ZERO_CROSSINGS sinc lobes on each side:
# about 80 dB of stopband, flat passband to ~0.75 of the lower Nyquist (6 kHz at 16 kHz).
_ROLLOFF = 0.9
_ZERO_CROSSINGS = 16
_KAISER_BETA = 8.0
# Rates with no small common ratio (e.g. 44056 -> 16000) would need huge filter banks; the ratio is
# then approximated by the nearest one with at most this many phases: 0.5 ppm off for that pair,
# 21 ppm for 47999 -> 16000, within the clock tolerance of real audio devices.
_MAX_PHASES = 1024
# Outputs are computed in passes whose gathered windows stay under this size: larger temporaries
# were measured 2-3x slower here (cache misses and fresh pages on every call).
_PASS_BYTES = 256 * 1024


def _ratio(src_rate: int, dst_rate: int) -> tuple[int, int]:
    """(up, down): dst/src as a reduced fraction with at most _MAX_PHASES phases."""
    frac = Fraction(src_rate, dst_rate).limit_denominator(_MAX_PHASES)  # = down / up
    return frac.denominator, frac.numerator


def _design(up: int, down: int) -> tuple[np.ndarray, int]:
    """Polyphase bank (up, taps) and delay in samples at the upsampled rate.

    bank[p, k] = up * h[p + k * up], where h is the symmetric prototype low-pass of odd length.
    """
    # Cutoff as a fraction of the upsampled sample rate.
    cutoff = _ROLLOFF * 0.5 / max(up, down)
    half = int(math.ceil(_ZERO_CROSSINGS / (2 * cutoff)))
    n = np.arange(-half, half + 1, dtype=np.float64)
    h = 2 * cutoff * np.sinc(2 * cutoff * n) * np.kaiser(2 * half + 1, _KAISER_BETA)
    h *= up / h.sum()  # unity gain at DC after zero-stuffing by `up`
    taps = -(-h.size // up)
    padded = np.zeros(taps * up)
    padded[:h.size] = h
    return padded.reshape(taps, up).T.astype(np.float32), half


class StreamResampler:
    """Rational-ratio polyphase resampler (windowed sinc) with state carried across ``process`` calls.

    Output sample n lies at input time n * src / dst (no delay): it is emitted as soon as the input
    it needs has arrived, about 16 output periods of look-ahead (1 ms at 16 kHz), so ``process`` may
    return slightly fewer samples than the ratio suggests; ``flush`` returns the held-back rest.
    Concatenated outputs do not depend on how the input was cut into blocks. Equal rates are a
    passthrough: ``process`` returns its input (as float32) and holds nothing back.
    """

    def __init__(self, src_rate: int, dst_rate: int) -> None:
        _check_rate(src_rate, 'resampler source rate')
        _check_rate(dst_rate, 'resampler target rate')
        self.src_rate = src_rate
        self.dst_rate = dst_rate
        self.up, self.down = _ratio(src_rate, dst_rate)
        self._identity = self.up == self.down
        if not self._identity:
            self._bank, self._delay = _design(self.up, self.down)
            self._taps = self._bank.shape[1]
            # Reversed taps so that a forward window x[m - taps + 1 .. m] dots straight with it.
            self._bank_rev = np.ascontiguousarray(self._bank[:, ::-1])
            # Decimation needs no gathered windows, only output-sized temporaries.
            self._pass = 1 << 16 if self.up == 1 else max(64, _PASS_BYTES // (4 * self._taps))
        self.reset()

    def reset(self) -> None:
        """Forget all input: the next sample starts a new stream at time 0."""
        self._n_in = 0  # input samples received
        self._n_out = 0  # output samples emitted
        if self._identity:
            return
        # Input history, starting at absolute input index _buf_start (negative: zeros before time 0).
        self._buf_start = self._first_needed(0)
        self._buf = np.zeros(-self._buf_start, dtype=np.float32)

    @property
    def lag_seconds(self) -> float:
        """How far before the next input block's first sample the next ``process`` output starts.

        Read it before ``process`` to stamp the output: output start = block stamp - lag_seconds.
        """
        return self._n_in / self.src_rate - self._n_out * self.down / (self.up * self.src_rate)

    def _last_needed(self, n: int) -> int:
        """Newest input index output n depends on."""
        return int((n * self.down + self._delay) // self.up)

    def _first_needed(self, n: int) -> int:
        return self._last_needed(n) - int(self._taps) + 1

    def _ready(self) -> int:
        """Number of outputs whose input has all arrived."""
        # Largest n with _last_needed(n) <= _n_in - 1, plus one.
        return max(self._n_out, (self._n_in * self.up - 1 - self._delay) // self.down + 1)

    def process(self, x: np.ndarray) -> FloatArray:
        """Resample the next block of float mono input; returns the outputs now computable."""
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 1:
            raise ConversionError(f'StreamResampler.process needs mono samples (n,), got shape {x.shape}')
        if self._identity:
            self._n_in += x.size
            self._n_out += x.size
            return x
        self._buf = np.concatenate((self._buf, x)) if self._buf.size else x.copy()
        self._n_in += x.size
        return self._emit(self._ready())

    def flush(self) -> FloatArray:
        """Outputs for the rest of the input (the future taken as silence), then reset()."""
        if self._identity:
            self.reset()
            return np.zeros(0, dtype=np.float32)
        # Outputs up to time _n_in exclusive: n * down / up < n_in.
        end = -(-self._n_in * self.up // self.down)
        needed = 0
        if end > self._n_out:
            needed = self._last_needed(end - 1) + 1 - (self._buf_start + self._buf.size)
        if needed > 0:
            self._buf = np.concatenate((self._buf, np.zeros(needed, dtype=np.float32)))
        out = self._emit(max(end, self._n_out))
        self.reset()
        return out

    def _emit(self, end: int) -> FloatArray:
        out = np.empty(end - self._n_out, dtype=np.float32)
        pos = 0
        while self._n_out < end:
            stop = min(end, self._n_out + self._pass)
            out[pos:pos + stop - self._n_out] = self._compute(self._n_out, stop)
            pos += stop - self._n_out
            self._n_out = stop
        # Keep only the input the next output still needs.
        drop = self._first_needed(self._n_out) - self._buf_start
        if drop > 0:
            self._buf = self._buf[drop:].copy()
            self._buf_start += drop
        return out

    def _compute(self, start: int, stop: int) -> FloatArray:
        if self.up == 1:
            return self._decimate(start, stop)
        return self._gather(start, stop)

    def _decimate(self, start: int, stop: int) -> FloatArray:
        """Integer down-sampling, split into `down` sub-filters that each run at the output rate.

        Output n = sum_k c[k] x[first + n*down + k]; with k = q*down + r that is a sum over r of
        plain correlations of x[first + r :: down] with c[r :: down], which np.correlate runs in C.
        """
        count = stop - start
        first = self._first_needed(start) - self._buf_start
        coeffs = self._bank_rev[0]
        out = np.zeros(count, dtype=np.float32)
        for r in range(self.down):
            sub = coeffs[r::self.down]
            if sub.size == 0:
                continue
            stream = self._buf[first + r::self.down][:count + sub.size - 1]
            out += np.correlate(stream, sub, mode='valid')
        return out

    def _gather(self, start: int, stop: int) -> FloatArray:
        """Any ratio: copy each output's input window (one fancy index over a no-copy view of all
        windows) and dot it with the filter phase that output falls on."""
        pos = np.arange(start, stop, dtype=np.int64) * self.down + self._delay
        first = pos // self.up - (self._taps - 1) - self._buf_start
        windows = sliding_window_view(self._buf, self._taps)[first]
        out: FloatArray = np.einsum('ij,ij->i', windows, self._bank_rev[pos % self.up])
        return out


def resample(x: np.ndarray, src_rate: int, dst_rate: int) -> FloatArray:
    """One-shot resampling of a whole float mono signal: ceil(len * dst / src) samples, time-aligned."""
    if src_rate == dst_rate:
        return np.asarray(x, dtype=np.float32)
    r = StreamResampler(src_rate, dst_rate)
    head = r.process(x)
    tail = r.flush()
    return np.concatenate((head, tail)) if tail.size else head
