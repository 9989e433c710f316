"""audio.py: AudioChunk payload decoding/encoding and the streaming resampler."""

from __future__ import annotations

import struct
import time

import numpy as np
import pytest

from omni_ros.ingest import audio
from omni_ros.errors import ConversionError, UnsupportedEncodingError

RATE_PAIRS = [(44100, 16000), (48000, 16000), (16000, 24000), (24000, 48000), (22050, 16000),
              (16000, 44100), (8000, 16000), (96000, 16000)]


def tone(freq: float, rate: int, seconds: float, amplitude: float = 0.5, phase: float = 0.0) -> np.ndarray:
    t = np.arange(int(round(rate * seconds))) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t + phase)).astype(np.float32)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


# ---- decode / encode ---------------------------------------------------------------------------

def test_s16le_values() -> None:
    data = struct.pack('<5h', 0, 16384, -32768, 32767, -1)
    out = audio.decode_audio('S16LE', 16000, 1, data)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [0.0, 0.5, -1.0, 32767 / 32768, -1 / 32768])


def test_f32le_values_are_clipped() -> None:
    data = struct.pack('<5f', 0.25, -0.75, 1.0, 1.5, -3.0)
    np.testing.assert_allclose(audio.decode_audio('F32LE', 48000, 1, data), [0.25, -0.75, 1.0, 1.0, -1.0])


@pytest.mark.parametrize('encoding', audio.SUPPORTED_AUDIO_ENCODINGS)
@pytest.mark.parametrize('channels', [1, 2, 3, 6, 32])
def test_interleaved_channels_are_averaged(encoding: str, channels: int) -> None:
    rng = np.random.default_rng(channels)
    # Multiples of 1/256 are exact in both encodings, so the mean is exact too.
    frames = rng.integers(-200, 200, (50, channels)) / 256.0
    data = audio.encode_audio(frames, encoding)
    assert len(data) == frames.size * (2 if encoding == 'S16LE' else 4)
    out = audio.decode_audio(encoding, 16000, channels, data)
    np.testing.assert_allclose(out, frames.mean(axis=1), atol=1e-7)


def test_stereo_opposite_channels_cancel() -> None:
    frames = np.stack([tone(440, 16000, 0.01), -tone(440, 16000, 0.01)], axis=1)
    out = audio.decode_audio('S16LE', 16000, 2, audio.encode_audio(frames, 'S16LE'))
    assert np.abs(out).max() <= 1 / 32768


@pytest.mark.parametrize('encoding,channels,size,multiple', [
    ('S16LE', 1, 3, 2), ('S16LE', 2, 6, 4), ('S16LE', 6, 20, 12), ('F32LE', 1, 5, 4), ('F32LE', 2, 12, 8),
])
def test_odd_byte_counts(encoding: str, channels: int, size: int, multiple: int) -> None:
    with pytest.raises(ConversionError, match=f'not a multiple of {multiple}'):
        audio.decode_audio(encoding, 16000, channels, bytes(size))


@pytest.mark.parametrize('rate', [0, -16000, 7999, 192001, 1_000_000])
def test_bad_sample_rates(rate: int) -> None:
    with pytest.raises(ConversionError, match='between 8000 and 192000'):
        audio.decode_audio('S16LE', rate, 1, bytes(4))


@pytest.mark.parametrize('rate', [8000, 192000])
def test_rate_bounds_are_inclusive(rate: int) -> None:
    assert audio.decode_audio('S16LE', rate, 1, bytes(4)).shape == (2,)


@pytest.mark.parametrize('channels', [0, 33, 255])
def test_bad_channel_counts(channels: int) -> None:
    with pytest.raises(ConversionError, match='channels'):
        audio.decode_audio('S16LE', 16000, channels, bytes(132))


@pytest.mark.parametrize('encoding', ['s16le', 'S16BE', 'PCM16', 'F64LE', ''])
def test_unknown_encodings(encoding: str) -> None:
    with pytest.raises(UnsupportedEncodingError, match="'S16LE' or 'F32LE'"):
        audio.decode_audio(encoding, 16000, 1, bytes(4))
    with pytest.raises(UnsupportedEncodingError):
        audio.encode_audio(np.zeros(2), encoding)


@pytest.mark.parametrize('bad', [np.nan, np.inf, -np.inf])
def test_non_finite_floats(bad: float) -> None:
    data = np.array([0.1, bad, 0.2], dtype='<f4').tobytes()
    with pytest.raises(ConversionError, match='NaN or infinite'):
        audio.decode_audio('F32LE', 16000, 1, data)
    with pytest.raises(ConversionError, match='NaN or infinite'):
        audio.encode_audio(np.array([0.0, bad]), 'S16LE')


def test_empty_block_and_zero_copy_safety() -> None:
    assert audio.decode_audio('S16LE', 16000, 2, b'').shape == (0,)
    buf = bytearray(np.array([0.5, -0.5], dtype='<f4').tobytes())
    out = audio.decode_audio('F32LE', 16000, 1, memoryview(buf))
    buf[:] = bytes(len(buf))  # the decoded samples must not alias the message buffer
    np.testing.assert_array_equal(out, [0.5, -0.5])


@pytest.mark.parametrize('encoding,step', [('S16LE', 1 / 32768), ('F32LE', 1e-7)])
def test_encode_decode_round_trip(encoding: str, step: float) -> None:
    x = tone(1000, 16000, 0.05, amplitude=0.9)
    back = audio.decode_audio(encoding, 16000, 1, audio.encode_audio(x, encoding))
    assert np.abs(back - x).max() <= step / 2 + 1e-9
    # Values beyond full scale saturate instead of wrapping around.
    loud = audio.decode_audio(encoding, 16000, 1, audio.encode_audio(np.array([2.0, -2.0]), encoding))
    np.testing.assert_allclose(loud, [1.0 if encoding == 'F32LE' else 32767 / 32768, -1.0])


# ---- resampler ---------------------------------------------------------------------------------

def stream_in_blocks(x: np.ndarray, src: int, dst: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    r = audio.StreamResampler(src, dst)
    out, pos = [], 0
    while pos < x.size:
        # Sizes from 0 (empty) and 1 sample up to ~0.15 s, as microphone drivers deliver.
        n = int(rng.choice([0, 1, 7, 160, 441, 1024, int(rng.integers(1, src // 6))]))
        out.append(r.process(x[pos:pos + n]))
        pos += n
    out.append(r.flush())
    return np.concatenate(out)


@pytest.mark.parametrize('src,dst', RATE_PAIRS)
def test_block_cutting_does_not_change_the_output(src: int, dst: int) -> None:
    x = tone(440, src, 0.5) + tone(3100, src, 0.5, amplitude=0.2)
    whole = audio.resample(x, src, dst)
    assert whole.size == -(-x.size * dst // src)
    for seed in range(2):
        blocks = stream_in_blocks(x, src, dst, seed)
        assert blocks.shape == whole.shape
        assert np.abs(blocks - whole).max() < 1e-5


@pytest.mark.parametrize('src,dst', RATE_PAIRS)
def test_tone_amplitude_frequency_and_timing_are_preserved(src: int, dst: int) -> None:
    # The output is time-aligned (no delay): compare with the same tone generated at the new rate.
    y = audio.resample(tone(440, src, 0.5, phase=0.3), src, dst)
    ideal = tone(440, dst, 0.5, phase=0.3)
    edge = dst // 100  # the first and last 10 ms see the zeros outside the signal
    assert np.abs(y - ideal)[edge:-edge].max() < 1e-3


@pytest.mark.parametrize('src,dst,freq', [(48000, 16000, 10000), (48000, 16000, 20000), (44100, 16000, 9000),
                                          (24000, 16000, 8500), (96000, 16000, 30000)])
def test_tones_above_the_new_nyquist_are_suppressed(src: int, dst: int, freq: float) -> None:
    y = audio.resample(tone(freq, src, 0.5), src, dst)
    edge = dst // 50
    # Without anti-aliasing these would fold back at full amplitude (RMS 0.35); ask for < -60 dB.
    assert rms(y[edge:-edge]) < 0.35e-3


@pytest.mark.parametrize('src,dst,freq', [(48000, 16000, 5000), (16000, 24000, 5500), (44100, 16000, 100)])
def test_passband_is_flat(src: int, dst: int, freq: float) -> None:
    y = audio.resample(tone(freq, src, 0.5), src, dst)
    edge = dst // 50
    assert rms(y[edge:-edge]) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)


def test_identity_rate_is_a_passthrough() -> None:
    r = audio.StreamResampler(16000, 16000)
    x = tone(440, 16000, 0.1)
    assert r.process(x) is x
    assert r.lag_seconds == 0.0 and r.flush().size == 0
    assert audio.resample(x, 16000, 16000) is x


def test_reset_starts_a_new_stream() -> None:
    x = tone(440, 48000, 0.1)
    r = audio.StreamResampler(48000, 16000)
    first = r.process(x)
    r.process(tone(1000, 48000, 0.05))
    r.reset()
    np.testing.assert_array_equal(r.process(x), first)


def test_lag_seconds_gives_each_block_its_start_time() -> None:
    src, dst = 44100, 16000
    r = audio.StreamResampler(src, dst)
    emitted = 0
    for k in range(10):
        block_start = k * 0.1
        out_start = block_start - r.lag_seconds
        assert out_start == pytest.approx(emitted / dst, abs=1e-9)
        emitted += r.process(tone(440, src, 0.1)).size
        assert 0 <= r.lag_seconds < 0.002  # only the filter's look-ahead is held back


def test_uncommon_rates_are_approximated() -> None:
    r = audio.StreamResampler(44056, 16000)
    assert r.up <= 1024
    assert r.up / r.down == pytest.approx(16000 / 44056, rel=1e-6)
    assert audio.resample(tone(440, 44056, 0.25), 44056, 16000).size == pytest.approx(4000, abs=1)


def test_resampler_rejects_bad_input() -> None:
    with pytest.raises(ConversionError, match='between 8000 and 192000'):
        audio.StreamResampler(0, 16000)
    with pytest.raises(ConversionError, match='mono'):
        audio.StreamResampler(48000, 16000).process(np.zeros((10, 2)))


def test_48k_to_16k_is_fast() -> None:
    x = tone(440, 48000, 1.0)
    r = audio.StreamResampler(48000, 16000)
    r.process(x)
    best = float('inf')
    for _ in range(10):
        start = time.process_time()
        r.process(x)
        best = min(best, time.process_time() - start)
    assert best < 0.005, f'1 s of 48 kHz audio took {best * 1000:.1f} ms'
