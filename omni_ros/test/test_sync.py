"""ChunkSynchronizer: alignment, jitter, gaps, reordering, late data, clock jumps and frame choice.

Audio in these tests is a ramp (sample i has value i), so any misplaced, lost or duplicated sample
shows up as a wrong value at a known position.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from omni_ros.errors import ConfigError, ConversionError
from omni_ros.ingest.sync import ChunkSynchronizer
from omni_ros.data import Chunk, LazyFrame, StreamSpec

R = 16000
# Epoch-sized stamps: a double resolves only ~0.24 us here, so boundary handling must not rely on
# exact float equality.
T0 = 1_700_000_000.0

Event = tuple[float, str, object]


def spec(frames_per_chunk: int = 1) -> StreamSpec:
    return StreamSpec(sample_rate=R, frames_per_chunk=frames_per_chunk, chunk_seconds=1.0)


def ramp(first: int, n: int) -> np.ndarray:
    return np.arange(first, first + n, dtype=np.float32)


class Camera:
    """Makes LazyFrames and records which stamps were decoded."""

    def __init__(self, fail_at: tuple[float, ...] = ()) -> None:
        self.decoded: list[float] = []
        self.fail_at = set(fail_at)

    def frame(self, stamp: float) -> LazyFrame:
        def decode() -> np.ndarray:
            self.decoded.append(stamp)
            if stamp in self.fail_at:
                raise ConversionError('corrupt JPEG data')
            return np.zeros((2, 2, 3), dtype=np.uint8)

        return LazyFrame(stamp=stamp, decode=decode)


def audio_events(t0: float, seconds: float, block: int = 1600, *, first_sample: int = 0,
                 skip: frozenset[int] = frozenset()) -> list[Event]:
    total = round(seconds * R)
    return [(t0 + s / R, 'a', ramp(first_sample + s, min(block, total - s)))
            for b, s in enumerate(range(0, total, block)) if b not in skip]


def frame_events(cam: Camera, t0: float, seconds: float, fps: float, phase: float = 0.0) -> list[Event]:
    stamps = [t0 + phase + j / fps for j in range(round(seconds * fps))]
    return [(s, 'v', cam.frame(s)) for s in stamps]


def clock_events(t0: float, seconds: float, step: float = 0.1) -> list[Event]:
    return [(t0 + i * step, 'now', None) for i in range(round(seconds / step) + 1)]


def merged(*streams: list[Event]) -> list[Event]:
    return sorted((e for s in streams for e in s), key=lambda e: e[0])


def feed(sync: ChunkSynchronizer, events: list[Event]) -> list[tuple[Chunk, float]]:
    """Apply events in order, polling after each; return (chunk, stamp of the event that released it)."""
    out: list[tuple[Chunk, float]] = []
    for stamp, kind, payload in events:
        if kind == 'a':
            sync.add_audio(stamp, payload)  # type: ignore[arg-type]
            got = sync.poll()
        elif kind == 'v':
            sync.add_frame(payload)  # type: ignore[arg-type]
            got = sync.poll()
        else:
            got = sync.poll(now=stamp)
        out += [(c, stamp) for c in got]
    return out


def chunks_of(released: list[tuple[Chunk, float]]) -> list[Chunk]:
    return [c for c, _ in released]


def assert_contiguous(chunks: list[Chunk], first_index: int = 0) -> None:
    assert [c.index for c in chunks] == list(range(first_index, first_index + len(chunks)))
    for c in chunks:
        assert c.start == chunks[0].start + (c.index - first_index) * 1.0
        assert c.audio.shape == (R,) and c.audio.dtype == np.float32
        assert c.duration == 1.0 and c.sample_rate == R


# ---------------------------------------------------------------------------- alignment


@pytest.mark.parametrize('block', [1600, 4800, 1024, 16000])
def test_exact_alignment_and_sample_counts(block: int) -> None:
    cam = Camera()
    sync = ChunkSynchronizer(spec())
    chunks = chunks_of(feed(sync, merged(audio_events(T0, 3.0, block), frame_events(cam, T0, 3.1, 30))))

    assert_contiguous(chunks)
    assert [c.start for c in chunks] == [T0, T0 + 1.0, T0 + 2.0]
    assert [c.new_stream for c in chunks] == [True, False, False]
    assert [c.audio_missing for c in chunks] == [0.0, 0.0, 0.0]
    # Blocks that straddle a chunk boundary are split: the concatenation is the ramp, exactly.
    np.testing.assert_array_equal(np.concatenate([c.audio for c in chunks]), ramp(0, 3 * R))
    assert [[f.stamp for f in c.frames] for c in chunks] == [[T0 + 0.5], [T0 + 1.5], [T0 + 2.5]]
    assert cam.decoded == [T0 + 0.5, T0 + 1.5, T0 + 2.5]
    s = sync.stats
    assert (s.chunks, s.frames_received, s.frames_decoded, s.frames_dropped_late) == (3, 93, 3, 0)
    assert (s.audio_dropped_late_s, s.audio_gaps_filled_s, s.resets) == (0.0, 0.0, 0)


@pytest.mark.parametrize(('expect_video', 'with_video', 'released_after'), [
    (True, True, 1.0),    # waits for the frame at the chunk end
    (False, True, 0.9),   # the audio block covering the end is enough
    (False, False, 0.9),
    (True, False, 1.4),   # no camera: the watermark (audio end 1.5 = end + max_latency) releases it
])
def test_completion_rule(expect_video: bool, with_video: bool, released_after: float) -> None:
    cam = Camera()
    video = frame_events(cam, T0, 2.0, 30) if with_video else []
    sync = ChunkSynchronizer(spec(), expect_video=expect_video)
    released = feed(sync, merged(audio_events(T0, 2.0), video))
    assert released[0][1] == pytest.approx(T0 + released_after, abs=1e-6)
    first = released[0][0]
    assert first.audio_missing == 0.0
    assert [f.stamp for f in first.frames] == ([T0 + 0.5] if with_video else [])


def test_first_stamp_of_either_modality_starts_the_stream() -> None:
    cam = Camera()
    sync = ChunkSynchronizer(spec())
    sync.add_frame(cam.frame(T0 + 0.3))
    # 0.05 s of this block lies before the stream start: dropped as late, the rest placed.
    sync.add_audio(T0 + 0.25, ramp(0, 1600))
    assert sync.stats.audio_dropped_late_s == pytest.approx(0.05)
    chunk, = sync.flush()
    assert chunk.start == T0 + 0.3 and chunk.new_stream
    np.testing.assert_array_equal(chunk.audio[:800], ramp(800, 800))
    assert chunk.audio_missing == pytest.approx((R - 800) / R)


# ---------------------------------------------------------------------------- audio


@pytest.mark.parametrize('seed', [0, 1, 2, 3])
def test_jittered_stamps_give_continuous_audio(seed: int) -> None:
    rng = np.random.default_rng(seed)
    events = [(t + rng.uniform(-0.005, 0.005), k, p) for t, k, p in audio_events(T0, 5.0, block=800)]
    sync = ChunkSynchronizer(spec(), expect_video=False)
    chunks = chunks_of(feed(sync, events))

    assert_contiguous(chunks)
    assert len(chunks) == 5 and chunks[0].start == events[0][0]
    # Every sample exactly once, in order: no holes or overlaps from the +-5 ms stamp noise.
    np.testing.assert_array_equal(np.concatenate([c.audio for c in chunks]), ramp(0, 5 * R))
    assert all(c.audio_missing == 0.0 for c in chunks)
    assert sync.stats.audio_gaps_filled_s == 0.0 and sync.stats.audio_dropped_late_s == 0.0
    assert sync.flush() == []


def test_dropped_blocks_leave_zeros_and_are_counted() -> None:
    sync = ChunkSynchronizer(spec(), expect_video=False)
    released = feed(sync, audio_events(T0, 3.0, skip=frozenset({3, 12, 13})))
    chunks = chunks_of(released)

    expected = ramp(0, 3 * R)
    expected[3 * 1600:4 * 1600] = 0
    expected[12 * 1600:14 * 1600] = 0
    np.testing.assert_array_equal(np.concatenate([c.audio for c in chunks]), expected)
    assert [c.audio_missing for c in chunks] == pytest.approx([0.1, 0.2, 0.0])
    assert sync.stats.audio_gaps_filled_s == pytest.approx(0.3)
    # Incomplete chunks wait for end + max_latency; the complete one goes out at once.
    assert [t - T0 for _, t in released] == pytest.approx([1.4, 2.4, 2.9], abs=1e-6)


def run_reordered(perm: list[int]) -> tuple[list[Chunk], Camera, ChunkSynchronizer]:
    cam = Camera()
    events = merged(audio_events(T0, 3.0), frame_events(cam, T0, 3.2, 30))
    sync = ChunkSynchronizer(spec())
    return chunks_of(feed(sync, [events[i] for i in perm])), cam, sync


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_reordered_audio_and_frames_give_the_same_chunks(seed: int) -> None:
    base = merged(audio_events(T0, 3.0), frame_events(Camera(), T0, 3.2, 30))
    baseline, _, _ = run_reordered(list(range(len(base))))

    def index_of(kind: str, t: float) -> int:
        return next(i for i, e in enumerate(base) if e[1] == kind and abs(e[0] - (T0 + t)) < 1e-6)

    perm = list(range(len(base)))
    # Two long moves: the audio block at 0.5 s and the frame at 0.5 s (the one chunk 0 picks)
    # arrive after the audio block at 0.8 s.
    for kind in ('a', 'v'):
        moved = index_of(kind, 0.5)
        perm.remove(moved)
        perm.insert(perm.index(index_of('a', 0.8)) + 1, moved)
    rng = random.Random(seed)
    for _ in range(60):  # local swaps; the first event stays first since it fixes the stream start
        i = rng.randrange(1, len(perm) - 1)
        perm[i], perm[i + 1] = perm[i + 1], perm[i]
    chunks, cam, sync = run_reordered(perm)

    assert len(chunks) == len(baseline) == 3
    for got, want in zip(chunks, baseline):
        assert got.start == want.start and got.index == want.index
        np.testing.assert_array_equal(got.audio, want.audio)
        assert [f.stamp for f in got.frames] == [f.stamp for f in want.frames]
        assert got.audio_missing == 0.0
    assert [f.stamp for f in chunks[0].frames] == [T0 + 0.5]
    assert sync.stats.audio_dropped_late_s == 0.0
    assert len(cam.decoded) == 3


def test_duplicated_messages_are_harmless() -> None:
    cam = Camera()
    once = merged(audio_events(T0, 3.0), frame_events(cam, T0, 3.1, 30))
    twice: list[Event] = []
    for stamp, kind, payload in once:
        twice.append((stamp, kind, payload))
        twice.append((stamp, kind, cam.frame(stamp) if kind == 'v' else payload))
    sync = ChunkSynchronizer(spec())
    chunks = chunks_of(feed(sync, twice))

    np.testing.assert_array_equal(np.concatenate([c.audio for c in chunks]), ramp(0, 3 * R))
    assert [c.audio_missing for c in chunks] == [0.0, 0.0, 0.0]
    assert [[f.stamp for f in c.frames] for c in chunks] == [[T0 + 0.5], [T0 + 1.5], [T0 + 2.5]]
    assert len(cam.decoded) == 3


def test_late_data_is_dropped_and_counted() -> None:
    cam = Camera()
    sync = ChunkSynchronizer(spec(), expect_video=False)
    first, = chunks_of(feed(sync, audio_events(T0, 1.0)))
    feed(sync, audio_events(T0 + 1.1, 0.9, first_sample=17600))  # chunk 1 lacks [1.0, 1.1)

    sync.add_audio(T0 + 0.5, np.full(1600, -1.0, np.float32))  # wholly inside emitted chunk 0
    assert sync.stats.audio_dropped_late_s == pytest.approx(0.1)
    straddling = np.full(1600, -2.0, np.float32)  # [0.95, 1.05): first half late, second half kept
    sync.add_audio(T0 + 0.95, straddling)
    assert sync.stats.audio_dropped_late_s == pytest.approx(0.15)
    sync.add_frame(cam.frame(T0 + 0.5))
    assert sync.stats.frames_dropped_late == 1

    second, = sync.flush()
    assert second.index == 1
    np.testing.assert_array_equal(second.audio[:800], straddling[800:])
    np.testing.assert_array_equal(second.audio[800:1600], np.zeros(800, np.float32))
    np.testing.assert_array_equal(second.audio[1600:], ramp(17600, R - 1600))
    assert second.audio_missing == pytest.approx(0.05)
    assert second.frames == ()
    np.testing.assert_array_equal(first.audio, ramp(0, R))  # emitted chunk untouched
    assert cam.decoded == []


# ---------------------------------------------------------------------------- missing modalities


def test_audio_only_stream_has_no_frames() -> None:
    sync = ChunkSynchronizer(spec(), expect_video=False)
    chunks = chunks_of(feed(sync, audio_events(T0, 4.0)))
    assert_contiguous(chunks)
    assert len(chunks) == 4 and all(c.frames == () and c.audio_missing == 0.0 for c in chunks)


def test_video_only_stream_is_driven_by_the_clock() -> None:
    cam = Camera()
    sync = ChunkSynchronizer(spec())  # audio expected but the microphone is silent
    released = feed(sync, merged(frame_events(cam, T0, 2.0, 30), clock_events(T0, 6.0)))
    chunks = chunks_of(released)

    assert_contiguous(chunks)
    assert len(chunks) == 5  # chunk k leaves when the clock reaches its end + max_latency
    assert [t - T0 for _, t in released] == pytest.approx([1.5, 2.5, 3.5, 4.5, 5.5], abs=1e-6)
    assert all(c.audio_missing == 1.0 and not c.audio.any() for c in chunks)
    assert [[f.stamp for f in c.frames] for c in chunks] == [[T0 + 0.5], [T0 + 1.5], [], [], []]
    assert sync.stats.audio_gaps_filled_s == pytest.approx(5.0)


def test_neither_modality_expected_uses_the_watermark_only() -> None:
    sync = ChunkSynchronizer(spec(), expect_audio=False, expect_video=False)
    released = feed(sync, audio_events(T0, 3.0))
    assert [t - T0 for _, t in released] == pytest.approx([1.4, 2.4], abs=1e-6)
    assert sync.stats.audio_gaps_filled_s == 0.0  # nothing was expected, so nothing is a gap


def test_one_stuck_modality_keeps_memory_bounded() -> None:
    cam = Camera()
    sync = ChunkSynchronizer(spec())
    events = merged(audio_events(T0, 0.5), frame_events(cam, T0, 60.0, 30))
    chunks: list[Chunk] = []
    most_pending = 0
    for stamp, kind, payload in events:
        if kind == 'a':
            sync.add_audio(stamp, payload)  # type: ignore[arg-type]
        else:
            sync.add_frame(payload)  # type: ignore[arg-type]
        chunks += sync.poll()
        most_pending = max(most_pending, sync.pending_chunks)

    assert most_pending <= 2
    last = events[-1][0] - T0
    assert len(chunks) == sum(1 for k in range(60) if k + 1.5 <= last + 1e-6)
    assert_contiguous(chunks)
    assert chunks[0].audio_missing == pytest.approx(0.5)
    assert all(c.audio_missing == 1.0 for c in chunks[1:])
    assert len(cam.decoded) == len(chunks)


# ---------------------------------------------------------------------------- clock jumps


def bag(cam: Camera, t0: float, seconds: float, first_sample: int = 0) -> list[Event]:
    return merged(audio_events(t0, seconds, first_sample=first_sample),
                  frame_events(cam, t0, seconds, 30))


def test_looping_bag_resets_to_a_new_stream() -> None:
    cam = Camera()
    sync = ChunkSynchronizer(spec())
    before = chunks_of(feed(sync, bag(cam, 100.0, 4.5)))
    assert [c.start for c in before] == [100.0, 101.0, 102.0, 103.0]  # 104.0 is pending

    after = chunks_of(feed(sync, bag(cam, 90.0, 2.5, first_sample=1_000_000)))  # 14.5 s back

    assert [c.index for c in after] == [4, 5]  # indices continue, never reused
    assert [c.start for c in after] == [90.0, 91.0]
    assert [c.new_stream for c in after] == [True, False]
    np.testing.assert_array_equal(after[0].audio, ramp(1_000_000, R))
    assert [f.stamp for f in after[0].frames] == [90.5]
    s = sync.stats
    assert s.resets == 1 and 'went back' in s.last_reset_reason
    assert s.audio_dropped_reset_s == pytest.approx(0.5)
    assert s.frames_dropped_reset == 15


def test_looping_bag_back_by_ten_seconds_starts_at_the_new_stamp() -> None:
    sync = ChunkSynchronizer(spec(), expect_video=False)
    feed(sync, audio_events(100.0, 10.3))
    after = chunks_of(feed(sync, audio_events(90.3, 1.0)))
    assert [(c.start, c.index, c.new_stream) for c in after] == [(90.3, 10, True)]
    assert sync.stats.resets == 1


def test_messages_in_flight_from_before_a_jump_do_not_reset_again() -> None:
    cam = Camera()
    sync = ChunkSynchronizer(spec())
    feed(sync, bag(cam, 100.0, 4.5))
    new = bag(cam, 90.0, 5.0, first_sample=1_000_000)
    feed(sync, new[:1])
    assert sync.stats.resets == 1
    # Another topic still delivers old-timeline messages after the jump.
    sync.add_frame(cam.frame(104.48))
    sync.add_audio(104.5, ramp(0, 1600))
    assert sync.stats.resets == 1
    assert sync.stats.frames_dropped_late == 1
    assert sync.stats.audio_dropped_late_s == pytest.approx(0.1)

    after = chunks_of(feed(sync, new[1:]))
    assert after[0].start == 90.0 and after[0].new_stream and after[0].audio_missing == 0.0
    assert_contiguous(after, first_index=4)
    # Once the new stream has run jump_threshold seconds, a real jump into that range resets again.
    sync.add_audio(104.0, ramp(0, 1600))
    assert sync.stats.resets == 2


def test_forward_jump_resets() -> None:
    sync = ChunkSynchronizer(spec(), expect_video=False)
    feed(sync, audio_events(100.0, 2.5))
    after = chunks_of(feed(sync, audio_events(110.0, 1.0, first_sample=500_000)))
    assert [(c.start, c.index, c.new_stream) for c in after] == [(110.0, 2, True)]
    np.testing.assert_array_equal(after[0].audio, ramp(500_000, R))
    assert sync.stats.resets == 1 and 'jumped ahead' in sync.stats.last_reset_reason
    assert sync.stats.audio_dropped_reset_s == pytest.approx(0.5)


def test_clock_going_back_resets_and_ignores_old_timeline_data() -> None:
    sync = ChunkSynchronizer(spec(), expect_video=False)
    feed(sync, merged(audio_events(100.0, 2.5), clock_events(100.0, 2.5)))
    assert sync.poll(now=90.0) == []
    assert sync.stats.resets == 1 and 'clock' in sync.stats.last_reset_reason
    sync.add_audio(102.5, ramp(0, 1600))  # in flight before the clock went back
    assert sync.stats.audio_dropped_late_s == pytest.approx(0.1) and sync.pending_chunks == 0

    after = chunks_of(feed(sync, merged(audio_events(90.0, 1.0, first_sample=7), clock_events(90.0, 1.0))))
    assert [(c.start, c.index, c.new_stream) for c in after] == [(90.0, 2, True)]
    np.testing.assert_array_equal(after[0].audio, ramp(7, R))


def test_clock_going_back_after_the_data_did_is_not_a_second_reset() -> None:
    sync = ChunkSynchronizer(spec(), expect_video=False)
    feed(sync, merged(audio_events(100.0, 2.5), clock_events(100.0, 2.5)))
    sync.add_audio(90.0, ramp(0, 1600))
    sync.poll(now=90.05)
    assert sync.stats.resets == 1


def test_clock_far_ahead_of_the_input_does_not_flood_empty_chunks() -> None:
    sync = ChunkSynchronizer(spec(), expect_video=False)
    feed(sync, audio_events(100.0, 0.5))
    assert sync.poll(now=T0) == []  # e.g. wall time given while the stamps come from a bag
    assert sync.stats.resets == 1 and 'use_sim_time' in sync.stats.last_reset_reason
    sync.add_audio(100.5, ramp(0, 1600))  # the same timeline continues: still ignored
    assert sync.poll(now=T0 + 0.1) == [] and sync.pending_chunks == 0
    assert sync.stats.resets == 1


def test_explicit_reset_starts_a_new_stream_at_the_next_stamp() -> None:
    sync = ChunkSynchronizer(spec(), expect_video=False)
    feed(sync, audio_events(100.0, 1.5))
    sync.reset()
    assert sync.stats.resets == 1 and sync.stats.audio_dropped_reset_s == pytest.approx(0.5)
    after = chunks_of(feed(sync, audio_events(101.5, 1.0, first_sample=24000)))
    assert [(c.start, c.index, c.new_stream) for c in after] == [(101.5, 1, True)]
    np.testing.assert_array_equal(after[0].audio, ramp(24000, R))


# ---------------------------------------------------------------------------- frames


@pytest.mark.parametrize('phase', [0.0, 0.004, 0.0123, 0.025])
def test_one_frame_per_chunk_is_the_one_closest_to_the_middle(phase: float) -> None:
    cam = Camera()
    frames = frame_events(cam, T0, 10.1, 30, phase=phase)
    sync = ChunkSynchronizer(spec())
    chunks = chunks_of(feed(sync, merged(audio_events(T0, 10.0), frames)))

    assert len(chunks) == 10
    stamps = [s for s, _, _ in frames]
    expected = [min((s for s in stamps if T0 + k <= s < T0 + k + 1), key=lambda s: abs(s - (T0 + k + 0.5)))
                for k in range(10)]
    assert [[f.stamp for f in c.frames] for c in chunks] == [[e] for e in expected]
    assert cam.decoded == expected  # exactly one decode per chunk at 30 fps
    assert sync.stats.frames_received == len(frames) and sync.stats.frames_decoded == 10


@pytest.mark.parametrize('phase', [0.0, 0.011, 0.02])
def test_five_frames_per_chunk_at_30_fps(phase: float) -> None:
    cam = Camera()
    frames = frame_events(cam, T0, 3.1, 30, phase=phase)
    sync = ChunkSynchronizer(spec(5))
    chunks = chunks_of(feed(sync, merged(audio_events(T0, 3.0), frames)))

    assert len(chunks) == 3
    stamps = [s for s, _, _ in frames]
    for k, c in enumerate(chunks):
        targets = [T0 + k + (i + 0.5) / 5 for i in range(5)]
        expected = [min(stamps, key=lambda s: abs(s - t)) for t in targets]
        assert [f.stamp for f in c.frames] == expected
    assert len(cam.decoded) == 15


@pytest.mark.parametrize('seed', [0, 1, 2, 3, 4])
def test_five_frames_per_chunk_from_a_5_fps_camera_on_slot_boundaries(seed: int) -> None:
    # Frames sit on slot boundaries, so jitter can put two in one slot and none in the next; each
    # chunk must still get as many distinct frames as it received, up to five.
    rng = np.random.default_rng(seed)
    cam = Camera()
    stamps = [T0 + j * 0.2 + (abs(e) if j == 0 else e) for j, e in enumerate(rng.uniform(-0.005, 0.005, 22))]
    sync = ChunkSynchronizer(spec(5))
    chunks = chunks_of(feed(sync, merged(audio_events(T0, 4.0), [(s, 'v', cam.frame(s)) for s in stamps])))

    assert len(chunks) == 4
    for c in chunks:
        received = sum(1 for s in stamps if c.start <= s < c.end)
        got = [f.stamp for f in c.frames]
        assert received in (4, 5, 6) and len(got) == min(5, received)
        assert got == sorted(set(got))
        for i, s in enumerate(got):
            assert c.start <= s < c.end
            assert abs(s - (c.start + (i + 0.5) * 0.2)) < 0.2
    assert len(cam.decoded) == sum(len(c.frames) for c in chunks)


def test_five_slots_with_a_slower_camera_get_fewer_frames() -> None:
    cam = Camera()
    frames = frame_events(cam, T0, 3.4, 3)
    sync = ChunkSynchronizer(spec(5))
    chunks = chunks_of(feed(sync, merged(audio_events(T0, 3.0), frames)))
    assert [[round(f.stamp - T0, 3) for f in c.frames] for c in chunks] == [
        [0.0, 0.333, 0.667], [1.0, 1.333, 1.667], [2.0, 2.333, 2.667]]


def test_decode_error_skips_the_frame_and_is_counted() -> None:
    cam = Camera(fail_at=(T0 + 1.5,))
    sync = ChunkSynchronizer(spec())
    chunks = chunks_of(feed(sync, merged(audio_events(T0, 3.0), frame_events(cam, T0, 3.1, 30))))

    assert [[f.stamp for f in c.frames] for c in chunks] == [[T0 + 0.5], [], [T0 + 2.5]]
    assert cam.decoded == [T0 + 0.5, T0 + 1.5, T0 + 2.5]
    s = sync.stats
    assert (s.decode_errors, s.frames_decoded, s.chunks) == (1, 2, 3)
    assert 'corrupt JPEG data' in s.last_decode_error and '1700000001.500' in s.last_decode_error


# ---------------------------------------------------------------------------- flush, stress, errors


def test_flush_emits_the_partial_last_chunk() -> None:
    cam = Camera()
    sync = ChunkSynchronizer(spec())
    assert sync.flush() == []  # nothing received yet
    polled = chunks_of(feed(sync, merged(audio_events(T0, 2.3), frame_events(cam, T0, 2.3, 30))))
    assert len(polled) == 2

    last, = sync.flush()
    assert (last.index, last.start) == (2, T0 + 2.0)
    np.testing.assert_array_equal(last.audio[:4800], ramp(2 * R, 4800))
    assert not last.audio[4800:].any()
    assert last.audio_missing == pytest.approx(0.7)
    assert [f.stamp for f in last.frames] == [T0 + 68 / 30]  # closest received to the middle
    assert sync.flush() == []  # never emitted twice


@pytest.mark.parametrize('seed', range(5))
def test_random_traffic_keeps_every_invariant(seed: int) -> None:
    rng = random.Random(seed)
    n_slots = rng.choice([1, 3])
    cam = Camera()
    events: list[Event] = []
    for stamp, kind, payload in audio_events(T0, 20.0, block=1024):
        if rng.random() < 0.05:
            continue  # lost
        stamp += rng.uniform(-0.003, 0.003)
        events.append((stamp, kind, payload))
        if rng.random() < 0.05:
            events.append((stamp, kind, payload))  # duplicated
    events += [(s + rng.uniform(-0.004, 0.004), 'v', None) for s, _, _ in frame_events(cam, T0, 20.0, 15)]
    events = [(s, k, cam.frame(s) if k == 'v' else p) for s, k, p in merged(events)]
    events += [(T0 + i * 0.25, 'now', None) for i in range(1, 80)]
    events = merged(events)
    for _ in range(100):
        i = rng.randrange(1, len(events) - 1)
        events[i], events[i + 1] = events[i + 1], events[i]

    sync = ChunkSynchronizer(spec(n_slots))
    chunks = chunks_of(feed(sync, events)) + sync.flush()

    assert_contiguous(chunks)
    # The stream starts at the first (jittered, maybe reordered) stamp, up to ~7 ms before T0.
    assert sync.stats.resets == 0 and len(chunks) in (20, 21)
    assert chunks[0].start == min(s for s, k, _ in events if k != 'now')
    for c in chunks:
        stamps = [f.stamp for f in c.frames]
        assert stamps == sorted(set(stamps)) and len(stamps) <= n_slots
        assert all(c.start - 1e-6 <= s < c.end + 1e-6 for s in stamps)
        assert 0.0 <= c.audio_missing <= 1.0
        # Every received sample sits within the stamp noise of its true position.
        where = np.nonzero(c.audio)[0]
        true_pos = (c.start - T0) * R + where  # ramp value v belongs at T0 + v / R
        assert np.all(np.abs(c.audio[where] - true_pos) <= 2 * 0.003 * R + 2)


@pytest.mark.parametrize(('stream', 'options', 'message'), [
    (StreamSpec(sample_rate=0), {}, 'sample_rate'),
    (StreamSpec(frames_per_chunk=0), {}, 'frames_per_chunk'),
    (StreamSpec(chunk_seconds=0.0), {}, 'chunk_seconds'),
    (StreamSpec(chunk_seconds=float('nan')), {}, 'chunk_seconds'),
    (StreamSpec(chunk_seconds=1 / 3), {}, 'whole number of samples'),
    (StreamSpec(), {'max_latency': -0.1}, 'max_latency'),
    (StreamSpec(), {'jump_threshold': 0.4, 'max_latency': 0.5}, 'jump_threshold'),
    (StreamSpec(), {'jitter_tolerance': 0.5}, 'jitter_tolerance'),
])
def test_invalid_configuration_is_rejected(stream: StreamSpec, options: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ChunkSynchronizer(stream, **options)


def test_invalid_input_is_rejected_with_a_clear_error() -> None:
    sync = ChunkSynchronizer(spec())
    with pytest.raises(ConversionError, match='mono'):
        sync.add_audio(T0, np.zeros((160, 2), np.float32))
    with pytest.raises(ConversionError, match='finite'):
        sync.add_audio(float('nan'), np.zeros(160, np.float32))
    with pytest.raises(ConversionError, match='finite'):
        sync.add_frame(Camera().frame(float('inf')))
    with pytest.raises(ConversionError, match='finite'):
        sync.poll(now=float('nan'))
    sync.add_audio(T0, np.zeros(0, np.float32))  # an empty block is no data and starts nothing
    assert sync.flush() == [] and sync.stats.frames_received == 0


# ---------------------------------------------------------------------------- long audio messages


def delivered_at_end(t0: float, seconds: float, block_seconds: float, clock_step: float = 0.05) -> list[Event]:
    """A microphone publishing ``block_seconds`` blocks, each arriving when its last sample is captured,
    with the node clock polled every ``clock_step`` in between (real-time order of arrival)."""
    block = round(block_seconds * R)
    events: list[Event] = []
    total = round(seconds * R)
    for first in range(0, total, block):
        stamp, samples = t0 + first / R, ramp(first, min(block, total - first))
        events.append((stamp + samples.size / R, 'a-at', (stamp, samples)))
    events += [(t, 'now', None) for t, _, _ in clock_events(t0, seconds + 2.0, clock_step)]
    return sorted(events, key=lambda e: (e[0], e[1] != 'a-at'))


def feed_arrivals(sync: ChunkSynchronizer, events: list[Event]) -> list[Chunk]:
    out: list[Chunk] = []
    for at, kind, payload in events:
        if kind == 'a-at':
            stamp, samples = payload  # type: ignore[misc]
            sync.add_audio(stamp, samples)
            out += sync.poll()
        else:
            out += sync.poll(now=at)
    return out


@pytest.mark.parametrize('block_seconds', [0.1, 0.5, 2.0, 4.0, 9.9])
def test_long_audio_messages_arriving_after_their_units_lose_nothing(block_seconds: float) -> None:
    """Issue 16: 2 s blocks lost 40 % of their audio and 9.9 s blocks reset the stream, because the clock
    cut their units before the block arrived. Units now wait for the audio on its way."""
    sync = ChunkSynchronizer(spec(), expect_video=False)  # max_audio_block defaults to 10 s
    seconds = 30.0
    chunks = feed_arrivals(sync, delivered_at_end(T0, seconds, block_seconds))
    whole = [c for c in chunks if c.end <= T0 + seconds + 1e-6]
    assert len(whole) == int(seconds)
    assert_contiguous(chunks)
    assert sync.stats.resets == 0
    assert sync.stats.audio_dropped_late_s == 0.0
    assert all(c.audio_missing == 0.0 for c in whole)
    np.testing.assert_array_equal(np.concatenate([c.audio for c in whole]), ramp(0, round(seconds * R)))


def test_the_hold_back_is_bounded_and_follows_the_microphone() -> None:
    sync = ChunkSynchronizer(spec(), expect_video=False, max_audio_block=2.0)
    sync.add_audio(T0, ramp(0, 5 * R))  # a 5 s block counts as at most max_audio_block
    assert sync.audio_lead == pytest.approx(2.0)
    assert sync.burst_chunks == 2
    for i in range(20):  # the microphone switches to 50 ms blocks: latency comes back down
        sync.add_audio(T0 + 5.0 + i * 0.05, ramp(0, R // 20))
    assert sync.audio_lead == pytest.approx(0.05)
    video_only = ChunkSynchronizer(spec(), expect_audio=False)
    video_only.add_audio(T0, ramp(0, 3 * R))
    assert video_only.audio_lead == 0.0  # audio nobody waits for holds nothing back


def test_a_clock_far_ahead_is_still_a_jump_with_long_blocks() -> None:
    sync = ChunkSynchronizer(spec(), expect_video=False, max_audio_block=10.0)
    sync.add_audio(T0, ramp(0, 2 * R))  # newest input ends at T0 + 2
    sync.poll(now=T0 + 2.0 + 2.0 + 2.9)  # within block length + jump_threshold: audio on its way
    assert sync.stats.resets == 0
    # The watermark is now T0 + 4.9 (the clock minus the 2 s lead): a leap beyond lead + jump resets.
    sync.poll(now=T0 + 4.9 + 2.0 + 3.1)
    assert sync.stats.resets == 1 and 'jumped ahead' in sync.stats.last_reset_reason


def test_a_block_longer_than_the_recent_ones_is_late_audio_not_a_clock_jump() -> None:
    """Issue 16 (found by the fuzz tier): after 0.1 s blocks, a 9.9 s block arrives 9.9 s after its first
    sample, when most units it covers are cut. It reset the stream (its first stamp looked like the clock
    going back), dropping the pending units as well; now only what its cut units missed is lost, counted as
    late audio (the session warns), its tail is placed, and the next block of that length loses nothing."""
    sync = ChunkSynchronizer(spec(), expect_video=False)
    events = [e for e in delivered_at_end(T0, 5.0, 0.1) if e[0] <= T0 + 5.0]
    first, second = T0 + 5.0, T0 + 14.9
    for start in (first, second):
        events.append((start + 9.9, 'a-at', (start, ramp(0, round(9.9 * R)))))
    events += [(t, 'now', None) for t, _, _ in clock_events(first, 2 * 9.9 + 2.0, 0.05)]
    chunks = feed_arrivals(sync, sorted(events, key=lambda e: (e[0], e[1] != 'a-at')))
    assert sync.stats.resets == 0, sync.stats.last_reset_reason
    assert_contiguous(chunks)
    lost = sync.stats.audio_dropped_late_s
    # Each unit waited 0.1 s (the hold-back) + max_latency (0.5 s) past its end: when the block arrived
    # (9.9 s after its start) the units of its first 9 s were cut, the one from 9 s was still open.
    assert lost == pytest.approx(9.0)
    tail = next(c for c in chunks if c.start <= first + 9.5 < c.end)
    assert tail.audio_missing < 1.0  # the block's tail reached its unit
    after = [c for c in chunks if c.start >= second and c.end <= second + 9.9 + 1e-6]
    assert len(after) == 9 and all(c.audio_missing == 0.0 for c in after)  # the hold-back is now 9.9 s
