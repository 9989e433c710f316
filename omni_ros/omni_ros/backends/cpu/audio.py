"""Audio helpers: WAV bytes to float32 and sample-rate conversion."""

from __future__ import annotations

import io
import wave

import numpy as np

from omni_ros.data import FloatArray


def wav_to_float(data: bytes) -> tuple[FloatArray, int]:
    """Mono float32 in [-1, 1] and the rate of a 16-bit PCM WAV file's bytes."""
    with wave.open(io.BytesIO(data)) as w:
        rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
        raw = w.readframes(w.getnframes())
    if width != 2:
        raise ValueError(f'expected 16-bit PCM WAV, got {8 * width}-bit')
    samples = np.frombuffer(raw, '<i2').astype(np.float32) / 32768.0
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return samples, rate


def resample(x: FloatArray, src: int, dst: int) -> FloatArray:
    """Band-limited resampling by FFT (exact for whole utterances, which is how TTS output arrives)."""
    if src == dst or len(x) == 0:
        return np.asarray(x, np.float32)
    n_out = int(round(len(x) * dst / src))
    spectrum = np.fft.rfft(x)
    n_bins = n_out // 2 + 1
    if n_bins <= len(spectrum):
        spectrum = spectrum[:n_bins]
    else:
        spectrum = np.concatenate([spectrum, np.zeros(n_bins - len(spectrum), spectrum.dtype)])
    return (np.fft.irfft(spectrum, n_out) * (n_out / len(x))).astype(np.float32)


def to_int16_bytes(x: FloatArray) -> bytes:
    return (np.clip(x, -1.0, 1.0) * 32767).astype('<i2').tobytes()
