"""The speaker's jitter buffer (audio_io.Player), the microphone's capture queue (audio_io.Capture) and
the WAV-file devices, without ROS or sound hardware: a fake clock and direct stream callbacks."""

from __future__ import annotations

import threading
import time
import wave
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from omni_ros.ingest import audio
from omni_ros.devices.sound import (CaptureConfig, PlaybackConfig, check_capture, open_capture,
                                    open_playback)
from omni_ros.devices.streams import Capture, PcmBlock, Player
from omni_ros.errors import ConfigError, ConversionError
from omni_ros.data import Speech, SpeechInterruption
from omni_ros.settings import load

T0 = 1_795_000_000.0  # epoch-scale times, as on a real node clock


class FakeClock:
    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def speech(value: float | np.ndarray, stamp: float, turn: int, rate: int = 16000, seconds: float = 0.1) -> Speech:
    samples = np.full(round(seconds * rate), value, np.float32) if np.isscalar(value) else np.asarray(value, np.float32)
    return Speech(samples, rate, stamp, turn_id=turn)


def play(player: Player, clock: FakeClock, seconds: float, block: int = 160, channels: int = 1) -> np.ndarray:
    """Run the device callback for ``seconds``, advancing the clock like a sound card; the mono output."""
    out = []
    for _ in range(round(seconds * player.sample_rate / block)):
        buf = np.zeros((block, channels), np.float32)
        player.on_output(buf, 0.0, False)
        out.append(buf)
        clock.t += block / player.sample_rate
    result = np.concatenate(out)
    assert (result == result[:, :1]).all()  # every channel gets the same speech
    return result[:, 0]


def runs(x: np.ndarray) -> list[tuple[float, int, int]]:
    """(value, first index, length) of each stretch of equal samples."""
    edges = np.flatnonzero(np.diff(x)) + 1
    starts = np.concatenate(([0], edges))
    ends = np.concatenate((edges, [x.size]))
    return [(float(x[s]), int(s), int(e - s)) for s, e in zip(starts, ends)]


def make_player(clock: FakeClock, rate: int = 16000, channels: int = 1, jitter: float = 0.0) -> Player:
    return Player(rate, channels, clock, jitter_delay=jitter, max_queue_seconds=10.0)


def test_blocks_play_at_their_stamps_with_silence_in_the_gaps() -> None:
    clock = FakeClock()
    player = make_player(clock)
    # Out of order, with a 0.1 s gap between the second and third block.
    assert player.add(speech(0.25, T0 + 0.2, turn=1))
    assert player.add(speech(0.5, T0 + 0.5, turn=1))
    assert player.add(speech(0.75, T0 + 0.6, turn=1))
    out = play(player, clock, 1.0)
    assert runs(out) == [(0.0, 0, 3200), (0.25, 3200, 1600), (0.0, 4800, 3200), (0.5, 8000, 1600),
                         (0.75, 9600, 1600), (0.0, 11200, 4800)]
    assert player.stats.blocks == 3 and player.stats.late == 0
    assert player.stats.played_seconds == pytest.approx(0.3)


def test_jitter_delay_shifts_playback_and_channels_get_the_same_audio() -> None:
    clock = FakeClock()
    player = make_player(clock, channels=2, jitter=0.03)
    player.add(speech(0.5, T0 + 0.1, turn=4))
    out = play(player, clock, 0.4, channels=2)
    assert runs(out) == [(0.0, 0, 2080), (0.5, 2080, 1600), (0.0, 3680, 2720)]


def test_interrupt_drops_queued_and_later_blocks_of_that_turn_and_earlier_ones() -> None:
    clock = FakeClock()
    player = make_player(clock)
    for k in range(10):  # one second of turn 2, queued ahead
        player.add(speech(0.1 * (k + 1), T0 + 0.1 * k, turn=2))
    player.add(speech(-0.3, T0 + 2.0, turn=1))  # an older turn, queued later in time
    first = play(player, clock, 0.25)
    assert runs(first)[0] == (pytest.approx(0.1), 0, 1600) and first[-1] == pytest.approx(0.3)

    dropped = player.interrupt(SpeechInterruption(turn_id=2, stamp=clock.t, reason='barge_in'))
    assert dropped == pytest.approx(0.75 + 0.1)  # the rest of turn 2 and all of turn 1
    assert not player.add(speech(0.9, T0 + 0.5, turn=2))  # a late block of the cut turn
    assert not player.add(speech(0.9, T0 + 0.5, turn=1))
    assert player.add(speech(-0.5, T0 + 0.4, turn=3))
    rest = play(player, clock, 2.0)
    assert runs(rest) == [(0.0, 0, 2400), (-0.5, 2400, 1600), (0.0, 4000, 28000)]
    assert player.stats.ignored == 2


def test_a_late_block_is_played_whole_and_its_turn_follows_it_contiguously() -> None:
    clock = FakeClock()
    player = make_player(clock)
    play(player, clock, 0.3)
    # Stamped 0.1 s in the past: it starts now, and the next block of its turn follows without a gap.
    player.add(speech(0.5, T0 + 0.2, turn=7))
    player.add(speech(0.25, T0 + 0.3, turn=7))
    out = play(player, clock, 0.5)
    assert runs(out) == [(0.5, 0, 1600), (0.25, 1600, 1600), (0.0, 3200, 4800)]
    assert player.stats.late == 1 and player.stats.late_seconds == pytest.approx(0.1)


def test_speech_is_resampled_to_the_device_rate_continuously_across_blocks() -> None:
    clock = FakeClock()
    player = make_player(clock, rate=48000)
    rate, block = 24000, 3840  # 0.16 s blocks, as omni_node publishes
    tone = (0.5 * np.sin(2 * np.pi * 440 * np.arange(5 * block) / rate)).astype(np.float32)
    for k in range(5):
        player.add(speech(tone[k * block:(k + 1) * block], T0 + 0.1 + k * block / rate, turn=1, rate=rate))
    out = play(player, clock, 1.0, block=960)
    start = round(0.1 * 48000)
    assert not out[:start].any()
    expected = audio.resample(tone, rate, 48000)
    # The same as resampling the whole turn at once, held-back last samples included, then silence.
    np.testing.assert_allclose(out[start:start + expected.size], expected, atol=1e-5)
    assert not out[start + expected.size:].any()


def test_a_block_stamped_far_ahead_is_rejected() -> None:
    clock = FakeClock()
    player = make_player(clock)
    with pytest.raises(ConversionError, match='same clock'):
        player.add(speech(0.5, T0 + 60.0, turn=1))


def test_playback_follows_the_node_clock_when_the_device_drifts_off() -> None:
    clock = FakeClock()
    player = make_player(clock)
    player.add(speech(0.5, T0 + 1.3, turn=1))
    play(player, clock, 0.2)
    clock.t += 1.0  # the device stalled for a second
    out = play(player, clock, 0.3)
    assert player.stats.resyncs == 1
    assert runs(out) == [(0.0, 0, 1600), (0.5, 1600, 1600), (0.0, 3200, 1600)]


def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def delivered(capture: Capture, count: int) -> list[PcmBlock]:
    """Start delivery, wait for ``count`` blocks (5 s at most), stop."""
    got: list[PcmBlock] = []
    capture.start(got.append)
    until(lambda: len(got) >= count)
    capture.stop()
    return got


def test_capture_stamps_are_contiguous_despite_callback_jitter() -> None:
    clock = FakeClock()
    capture = Capture(16000, 2, 'S16LE', clock, max_queue=100)
    rng = np.random.default_rng(1)
    blocks = [rng.integers(-32768, 32767, (800, 2), dtype=np.int16) for _ in range(20)]
    for k, block in enumerate(blocks):
        clock.t = T0 + (k + 1) * 0.05 + rng.uniform(0, 0.008)  # called up to 8 ms late
        capture.on_block(block, clock.t - (T0 + k * 0.05), False)
    got = delivered(capture, 20)
    assert [b.stamp for b in got] == pytest.approx([T0 + 0.05 * k for k in range(20)], abs=1e-6)
    assert b''.join(b.data for b in got) == b''.join(b.tobytes() for b in blocks)
    assert {(b.sample_rate, b.channels, b.encoding) for b in got} == {(16000, 2, 'S16LE')}
    assert capture.stats.resyncs == 0


def test_capture_reanchors_after_lost_input_or_drift() -> None:
    clock = FakeClock()
    capture = Capture(16000, 1, 'F32LE', clock, max_queue=100)
    block = np.zeros((160, 1), np.float32)
    capture.on_block(block, 0.0, False)
    clock.t += 0.01
    capture.on_block(block, 0.0, False)
    clock.t += 0.5  # half a second missing
    capture.on_block(block, 0.0, False)
    clock.t += 0.01
    capture.on_block(block, 0.0, True)  # the device says it lost input
    got = delivered(capture, 4)
    assert [b.stamp - T0 for b in got] == pytest.approx([0.0, 0.01, 0.51, 0.52])
    assert capture.stats.resyncs == 2 and capture.stats.overflows == 1


def test_capture_drops_the_oldest_blocks_when_the_sink_falls_behind() -> None:
    clock = FakeClock()
    capture = Capture(16000, 1, 'S16LE', clock, max_queue=3)
    entered, release = threading.Event(), threading.Event()
    got: list[int] = []

    def slow_sink(block: PcmBlock) -> None:
        entered.set()
        release.wait(5)
        got.append(block.data[0])

    capture.start(slow_sink)
    for k in range(10):
        capture.on_block(np.full((160, 1), k, np.int16), 0.0, False)
        if k == 0:
            assert entered.wait(5)
    release.set()
    until(lambda: len(got) >= 4)
    capture.stop()
    assert got == [0, 7, 8, 9] and capture.stats.dropped == 6


def write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    with wave.open(str(path), 'wb') as wav:
        wav.setnchannels(samples.shape[1] if samples.ndim == 2 else 1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.astype('<i2').tobytes())


def test_wav_capture_delivers_the_file_in_real_time(tmp_path: Path) -> None:
    samples = np.random.default_rng(2).integers(-32768, 32767, (8000, 2), dtype=np.int16)
    write_wav(tmp_path / 'in.wav', samples, 16000)
    settings = load(CaptureConfig, {'device': f'wav:{tmp_path}/in.wav', 'channels': 2, 'block_size': 1600}).stream
    blocks: list[tuple[np.ndarray, float]] = []
    stream = open_capture(settings, lambda block, age, xrun: blocks.append((block.copy(), age)))
    started = time.monotonic()
    stream.start()
    until(lambda: not stream.active)
    elapsed = time.monotonic() - started
    stream.close()
    assert np.array_equal(np.concatenate([b for b, _ in blocks]), samples)
    assert elapsed >= 0.45  # 0.5 s of audio is not delivered faster than real time
    assert all(0.1 <= age < 0.5 for _, age in blocks)  # each block: its first sample is one block old


def test_wav_capture_with_another_rate_fails_with_the_settings_to_use(tmp_path: Path) -> None:
    write_wav(tmp_path / 'in.wav', np.zeros(100, np.int16), 22050)
    settings = load(CaptureConfig, {'device': f'wav:{tmp_path}/in.wav'}).stream
    with pytest.raises(ConfigError, match='set sample_rate: 22050 and channels: 1'):
        check_capture(settings)
    missing = load(CaptureConfig, {'device': f'wav:{tmp_path}/missing.wav'}).stream
    with pytest.raises(ConfigError, match='missing.wav'):
        check_capture(missing)


def test_wav_playback_records_what_the_player_plays(tmp_path: Path) -> None:
    settings = load(PlaybackConfig, {'device': f'wav:{tmp_path}/out.wav', 'sample_rate': 16000,
                                     'block_size': 160}).stream
    player = Player(16000, 1, time.time, jitter_delay=0.0, max_queue_seconds=10.0)
    player.add(speech(0.5, time.time() + 0.1, turn=1))
    stream = open_playback(settings, player.on_output)
    stream.start()
    time.sleep(0.5)
    stream.close()
    with wave.open(str(tmp_path / 'out.wav'), 'rb') as wav:
        assert wav.getframerate() == 16000 and wav.getnchannels() == 1
        out = np.frombuffer(wav.readframes(wav.getnframes()), '<i2')
    assert 0.4 * 16000 <= out.size <= 0.6 * 16000
    values = runs(out.astype(np.float32))
    assert [v for v, _, _ in values] == [0.0, 16384.0, 0.0] and values[1][2] == 1600
    assert values[1][1] == pytest.approx(1600, abs=320)  # started 0.1 s in, within a few blocks
