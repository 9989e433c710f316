"""Cut the audio and camera streams into time-aligned Chunks by their header stamps.

The model consumes contiguous units of ``spec.chunk_seconds`` of audio plus the camera frames of the
same span, so the synchronizer works on a fixed grid: chunk k of a stream covers
[origin + k*duration, origin + (k+1)*duration), where origin is the first stamp received.

Audio lives on a sample grid anchored at the origin. A block goes to round((stamp - origin) * rate),
except that a block whose position is within a jitter tolerance of a block already placed (right after
it, right before it, or on top of it) snaps to that block: audio drivers stamp blocks with the receive
time, which jitters by milliseconds while the sample count is exact, so trusting every stamp would
leave holes and overlaps of dozens of samples. Real gaps stay zero and are reported.

Frames are not decoded on arrival. Each chunk has N slots (spec.frames_per_chunk) targeting
start + (i + 0.5) * duration / N; a slot keeps the two received frames closest to its target, and when
the chunk is emitted a small order-preserving matching picks at most one distinct frame per slot
(as many slots as possible, then the closest), so only the picked frames are decoded.

A chunk is emitted when its data is complete (audio reaches its end, a frame at or after its end has
arrived) or when the watermark (newest stamp seen, or the clock given to ``poll``) passes its end by
``max_latency``. Stamps that jump by more than ``jump_threshold`` (looping bag, restarted clock)
start a new stream.

Long audio messages: a block arrives once its last sample is captured, so while a microphone publishes
blocks of B seconds the clock runs up to B seconds ahead of the audio still on its way. The clock's
watermark is held back by the longest block seen lately (at most ``max_audio_block`` seconds), so units
wait for that audio instead of being cut without it, and the gap between two long blocks is not taken
for a clock jump.

With ``decode_frames=False`` the picked frames travel undecoded in ``Chunk.undecoded`` and ``decode``
turns them into pixels later, so the thread that cuts units (a ROS callback) never decodes a large
image: the node's backend worker does, and a unit dropped from the backlog is never decoded at all.

Thread safety: every public method takes one lock, so ``add_*`` may run in subscription callbacks
while another thread polls; call ``poll``/``flush`` from one thread so the returned lists stay in order.
"""

from __future__ import annotations

import bisect
import collections
import math
import threading
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from omni_ros.errors import ConfigError, ConversionError
from omni_ros.data import Chunk, FloatArray, Frame, LazyFrame, StreamSpec

__all__ = ['ChunkSynchronizer', 'SyncStats']

# Stamps are float seconds; near 1.7e9 (epoch times) a double only resolves about 0.24 us, so time
# comparisons allow this much slack rather than trusting exact equality at chunk boundaries.
_EPS = 1e-6
# Candidates kept per frame slot. Two lets a slot give way to a neighbour when a camera runs at about
# N frames per chunk with its frames near slot boundaries (jitter puts two in one slot, none in the next).
_CANDIDATES_PER_SLOT = 2
# Audio block lengths remembered for the hold-back: a microphone that switches to shorter blocks gets
# its lower latency back after this many of them.
_RECENT_BLOCKS = 16


@dataclass
class SyncStats:
    """Counters the node reports on /diagnostics. Seconds are input time."""

    chunks: int = 0
    frames_received: int = 0
    frames_decoded: int = 0
    frames_dropped_late: int = 0
    audio_dropped_late_s: float = 0.0
    # Zeros put into chunks for audio never received (only counted when audio is expected).
    audio_gaps_filled_s: float = 0.0
    resets: int = 0
    decode_errors: int = 0
    last_decode_error: str = ''
    # Data that was pending (not yet emitted) when the stream was reset.
    frames_dropped_reset: int = 0
    audio_dropped_reset_s: float = 0.0
    last_reset_reason: str = ''


@dataclass
class _Candidate:
    distance: float  # from the slot's target, in slot widths
    frame: LazyFrame


@dataclass
class _Pending:
    """A chunk that has received data but is not emitted yet."""

    audio: FloatArray
    filled_mask: npt.NDArray[np.bool_]
    slots: list[list[_Candidate]]
    filled: int = 0  # samples received (duplicates counted once)
    frames_seen: int = 0


@dataclass
class _StaleWindow:
    """Stamps of the timeline a jump left behind.

    Messages already in flight on other topics still carry old stamps; without this window each of
    them would look like a jump back and reset the new stream again.
    """

    low: float
    high: float
    expires_at: float | None = None  # watermark of the new stream at which the window is forgotten


def _finite_stamp(value: float, what: str) -> float:
    stamp = float(value)
    if not math.isfinite(stamp):
        raise ConversionError(f'{what}: stamp must be a finite time in seconds, got {value!r}')
    return stamp


class ChunkSynchronizer:
    """Turns stamped audio blocks and lazily decoded frames into contiguous Chunks, in order."""

    # Stream state (reset by _clear_stream): newest input time seen, and newest frame stamp.
    _wm: float
    _video_latest: float

    def __init__(self, spec: StreamSpec, *, max_latency: float = 0.5, jump_threshold: float = 3.0,
                 expect_audio: bool = True, expect_video: bool = True,
                 jitter_tolerance: float = 0.02, max_audio_block: float = 10.0,
                 decode_frames: bool = True) -> None:
        duration = float(spec.chunk_seconds)
        if not (math.isfinite(duration) and duration > 0.0):
            raise ConfigError(f'chunk_seconds must be a positive number, got {spec.chunk_seconds!r}')
        if int(spec.sample_rate) != spec.sample_rate or spec.sample_rate <= 0:
            raise ConfigError(f'sample_rate must be a positive whole number of Hz, got {spec.sample_rate!r}')
        if int(spec.frames_per_chunk) != spec.frames_per_chunk or spec.frames_per_chunk < 1:
            raise ConfigError(f'frames_per_chunk must be a whole number >= 1, got {spec.frames_per_chunk!r}')
        rate = int(spec.sample_rate)
        exact = duration * rate
        if abs(exact - round(exact)) > 1e-6:
            # Otherwise chunk starts and sample positions would drift apart by a fraction per chunk.
            raise ConfigError(
                f'chunk_seconds * sample_rate must be a whole number of samples, got {duration} s * '
                f'{rate} Hz = {exact}')
        if not (math.isfinite(max_latency) and max_latency >= 0.0):
            raise ConfigError(f'max_latency must be >= 0 seconds, got {max_latency!r}')
        if not (math.isfinite(jump_threshold) and jump_threshold > max_latency):
            # Data up to max_latency late is still placed; a smaller threshold would take that ordinary
            # latency for a clock jump and reset. It should also exceed the longest gap between messages.
            raise ConfigError(
                f'jump_threshold must be greater than max_latency ({max_latency} s), got {jump_threshold!r}')
        if not (math.isfinite(jitter_tolerance) and 0.0 <= jitter_tolerance < duration / 2):
            raise ConfigError(
                f'jitter_tolerance must be in [0, chunk_seconds / 2) = [0, {duration / 2}), '
                f'got {jitter_tolerance!r}')

        if not (math.isfinite(max_audio_block) and max_audio_block >= 0.0):
            raise ConfigError(f'max_audio_block must be >= 0 seconds, got {max_audio_block!r}')

        self.spec = spec
        self.stats = SyncStats()
        self._max_audio_block = float(max_audio_block)
        self._decode_frames = bool(decode_frames)
        self._duration = duration
        self._rate = rate
        self._n_samples = round(exact)
        self._n_slots = int(spec.frames_per_chunk)
        self._max_latency = float(max_latency)
        self._jump = float(jump_threshold)
        self._jitter_samples = round(jitter_tolerance * rate)
        self._expect_audio = bool(expect_audio)
        self._expect_video = bool(expect_video)
        self._lock = threading.Lock()
        self._next_index = 0  # global: indices are never reused across resets
        self._stale: _StaleWindow | None = None
        self._idle_now: float | None = None  # clock seen while no stream is running
        self._clear_stream()

    # ------------------------------------------------------------------ public API

    @property
    def audio_lead(self) -> float:
        """Seconds the clock watermark is held back for audio on its way (longest recent block)."""
        with self._lock:
            return self._lead()

    @property
    def burst_chunks(self) -> int:
        """Chunks one audio message may complete at once (a long block fills several units)."""
        with self._lock:
            return math.ceil(self._lead() / self._duration - _EPS)

    @property
    def pending_chunks(self) -> int:
        """Chunks holding data that are not emitted yet (bounded by max_latency and the poll rate)."""
        with self._lock:
            return len(self._pending)

    def add_audio(self, stamp: float, samples: npt.ArrayLike) -> None:
        """Add a block of float32 mono samples at spec.sample_rate; ``stamp`` is its first sample."""
        stamp = _finite_stamp(stamp, 'add_audio')
        block = np.asarray(samples, dtype=np.float32)
        if block.ndim != 1:
            raise ConversionError(
                f'add_audio: expected mono samples as a 1-D array, got shape {block.shape}; '
                'downmix before adding')
        n = int(block.shape[0])
        if n == 0:
            return
        with self._lock:
            # A long block's first samples are old by the time it arrives: whether it went back in time
            # is judged by its last sample, so one longer than the recent ones is late, not a clock jump.
            if not self._admit(stamp, last=stamp + n / self._rate):
                self.stats.audio_dropped_late_s += n / self._rate
                return
            assert self._origin is not None
            self._recent_blocks.append(min(n / self._rate, self._max_audio_block))
            self._wm = max(self._wm, stamp + n / self._rate)
            raw = round((stamp - self._origin) * self._rate)
            self._place_audio(self._snap(raw, n), block)

    def add_frame(self, frame: LazyFrame) -> None:
        """Offer a frame; it is decoded only if it is picked when its chunk is emitted."""
        stamp = _finite_stamp(frame.stamp, 'add_frame')
        with self._lock:
            self.stats.frames_received += 1
            if not self._admit(stamp):
                self.stats.frames_dropped_late += 1
                return
            assert self._origin is not None
            self._wm = max(self._wm, stamp)
            self._video_latest = max(self._video_latest, stamp)
            rel = (stamp - self._origin) / self._duration
            k = math.floor(rel + _EPS / self._duration)
            if k < self._next_k:
                self.stats.frames_dropped_late += 1
                return
            pending = self._pending_for(k)
            pending.frames_seen += 1
            self._offer(pending, (rel - k) * self._n_slots, frame)

    def poll(self, now: float | None = None) -> list[Chunk]:
        """Return the chunks completed so far, in order. ``now`` is the node clock (sim time)."""
        if now is not None:
            now = _finite_stamp(now, 'poll(now)')
        with self._lock:
            if now is not None:
                self._observe_now(now)
            return self._emit(force_through=None)

    def flush(self) -> list[Chunk]:
        """Emit everything pending, partial chunks included (end of stream).

        The stream continues afterwards: data for the flushed span is late; call reset() to start over.
        """
        with self._lock:
            return self._emit(force_through=max(self._pending, default=None))

    def decode(self, chunk: Chunk) -> tuple[Chunk, list[ConversionError]]:
        """``chunk`` with its undecoded frames decoded (any thread; the lock is not held while decoding),
        and the errors of frames that could not be (those frames are left out, and counted)."""
        frames, errors = list(chunk.frames), []
        for lazy in chunk.undecoded:
            try:
                frames.append(Frame(stamp=lazy.stamp, image=lazy.decode()))
            except ConversionError as exc:  # one bad frame must not cost the chunk
                errors.append(exc)
                with self._lock:
                    self.stats.decode_errors += 1
                    self.stats.last_decode_error = f'frame at {lazy.stamp:.3f} s: {exc}'
                continue
            with self._lock:
                self.stats.frames_decoded += 1
        return replace(chunk, frames=tuple(frames), undecoded=()), errors

    def reset(self) -> None:
        """Drop pending data (counted); the next chunk starts a new stream at the next stamp."""
        with self._lock:
            self._reset_stream('reset() was called')
            self._stale = None  # not a clock jump: data continuing at the same times is fine
            self._idle_now = None

    # ------------------------------------------------------------------ stream state

    def _clear_stream(self) -> None:
        self._origin: float | None = None
        self._next_k = 0  # chunk of this stream to emit next
        self._pending: dict[int, _Pending] = {}
        self._wm = -math.inf
        self._video_latest = -math.inf
        self._blocks: list[tuple[int, int]] = []  # placed audio [start, end) sample spans, sorted
        self._recent_blocks: collections.deque[float] = collections.deque(maxlen=_RECENT_BLOCKS)
        self._new_stream = True

    def _lead(self) -> float:
        if not self._expect_audio or not self._recent_blocks:
            return 0.0
        return max(self._recent_blocks)

    def _chunk_start(self, k: int) -> float:
        assert self._origin is not None
        return self._origin + k * self._duration  # not accumulated, so no drift over long runs

    def _start(self, stamp: float) -> None:
        self._origin = stamp
        self._next_k = 0
        self._wm = stamp  # clock values seen while idle may be on another time base; ignore them
        self._idle_now = None
        if self._stale is not None:
            self._stale.expires_at = stamp + self._jump

    def _reset_stream(self, reason: str) -> None:
        self.stats.resets += 1
        self.stats.last_reset_reason = reason
        self.stats.audio_dropped_reset_s += sum(p.filled for p in self._pending.values()) / self._rate
        self.stats.frames_dropped_reset += sum(p.frames_seen for p in self._pending.values())
        if self._origin is not None:
            head = self._chunk_start(self._next_k)
            self._stale = _StaleWindow(low=head - self._jump, high=self._wm + self._jump)
        self._clear_stream()

    def _is_stale(self, stamp: float, reference: float | None) -> bool:
        window = self._stale
        if window is None:
            return False
        if window.expires_at is not None and self._wm >= window.expires_at:
            self._stale = None  # in-flight messages are long delivered by now
            return False
        if not window.low <= stamp <= window.high:
            return False
        return reference is None or abs(stamp - reference) > self._jump

    def _admit(self, stamp: float, last: float | None = None) -> bool:
        """Start or reset the stream as ``stamp`` requires; False if it belongs to an abandoned timeline.

        ``last`` is the end of the input (an audio block's last sample), which decides a jump back."""
        if self._origin is None:
            if self._is_stale(stamp, self._idle_now):
                return False
            self._start(stamp)
            return True
        head = self._chunk_start(self._next_k)
        if (stamp if last is None else last) < head - self._jump:
            reason = (f'input stamp {stamp:.3f} s is {head - stamp:.3f} s before the current chunk '
                      f'({head:.3f} s): the clock went back (looping bag or restarted clock)')
        elif stamp > self._wm + self._jump:
            reason = (f'input stamp {stamp:.3f} s is {stamp - self._wm:.3f} s after the newest input '
                      f'({self._wm:.3f} s): the clock jumped ahead')
        else:
            return True
        if self._is_stale(stamp, None):
            return False
        self._reset_stream(reason)
        self._start(stamp)
        return True

    def _observe_now(self, now: float) -> None:
        if self._origin is None:
            self._idle_now = now
            return
        head = self._chunk_start(self._next_k)
        lead = self._lead()
        if now < head - self._jump:
            # Data that had already jumped back would have moved head, so only the clock moved.
            self._reset_stream(f'clock {now:.3f} s is {head - now:.3f} s before the current chunk '
                               f'({head:.3f} s): the clock went back')
            self._idle_now = now
        elif now > self._wm + lead + self._jump:
            # Filling the whole jump with empty chunks could mean millions of them (wrong clock).
            self._reset_stream(f'clock {now:.3f} s is {now - self._wm:.3f} s after the newest input '
                               f'({self._wm:.3f} s): the clock jumped ahead or is not the input clock '
                               '(use_sim_time?)')
            self._idle_now = now
        else:
            self._wm = max(self._wm, now - lead)

    def _pending_for(self, k: int) -> _Pending:
        pending = self._pending.get(k)
        if pending is None:
            # Preallocated once per chunk; blocks are copied in, never concatenated.
            pending = _Pending(audio=np.zeros(self._n_samples, dtype=np.float32),
                               filled_mask=np.zeros(self._n_samples, dtype=np.bool_),
                               slots=[[] for _ in range(self._n_slots)])
            self._pending[k] = pending
        return pending

    # ------------------------------------------------------------------ audio

    def _snap(self, raw: int, n: int) -> int:
        """Position for a block whose stamp says ``raw``: next to (or on) a placed block if near one."""
        # Half a block at most, so a whole missing block is still seen as a gap.
        tolerance = min(self._jitter_samples, n // 2)
        if tolerance == 0 or not self._blocks:
            return raw
        i = bisect.bisect_left(self._blocks, (raw, -1))
        best, best_err = raw, tolerance + 1
        for start, end in self._blocks[max(0, i - 3):i + 3]:
            for candidate in (end, start - n, start):  # after it, before it, duplicate of it
                err = abs(candidate - raw)
                if err < best_err:
                    best, best_err = candidate, err
        return best if best_err <= tolerance else raw

    def _place_audio(self, pos: int, block: FloatArray) -> None:
        n = int(block.shape[0])
        span = (pos, pos + n)
        i = bisect.bisect_left(self._blocks, span)
        if i == len(self._blocks) or self._blocks[i] != span:
            self._blocks.insert(i, span)
        src = 0
        head = self._next_k * self._n_samples
        if pos < head:  # part (or all) of it belongs to chunks already emitted
            late = min(n, head - pos)
            self.stats.audio_dropped_late_s += late / self._rate
            src, pos = late, pos + late
        while src < n:
            k, offset = divmod(pos, self._n_samples)
            take = min(self._n_samples - offset, n - src)
            pending = self._pending_for(k)
            mask = pending.filled_mask[offset:offset + take]
            pending.filled += take - int(np.count_nonzero(mask))
            pending.audio[offset:offset + take] = block[src:src + take]
            mask[:] = True
            src += take
            pos += take

    def _prune_blocks(self) -> None:
        # Keep the block ending at the emitted edge so the next block can still snap to it.
        limit = self._next_k * self._n_samples - self._jitter_samples
        drop = 0
        while drop < len(self._blocks) and self._blocks[drop][1] < limit:
            drop += 1
        if drop:
            del self._blocks[:drop]

    # ------------------------------------------------------------------ frames

    def _offer(self, pending: _Pending, x: float, frame: LazyFrame) -> None:
        """Offer a frame at ``x`` slot widths into its chunk to the (at most two) slots it is near."""
        first = max(0, math.floor(x - 0.5))
        for i in range(first, min(self._n_slots, first + 2)):
            distance = abs(x - (i + 0.5))
            if distance > 1.0:
                continue
            slot = pending.slots[i]
            if any(abs(c.frame.stamp - frame.stamp) <= _EPS for c in slot):
                continue  # a duplicated message is not a second frame
            entry = _Candidate(distance, frame)
            if len(slot) < _CANDIDATES_PER_SLOT:
                slot.append(entry)
            elif distance < slot[-1].distance:
                slot[-1] = entry
            else:
                continue
            slot.sort(key=lambda c: c.distance)  # stable: on a tie the earlier arrival stays ahead

    def _select(self, pending: _Pending) -> list[LazyFrame]:
        """At most one distinct frame per slot, in time order: as many slots as possible, then closest.

        An order-preserving matching over at most 2N candidates (dynamic programming, N <= a few).
        """
        frames: dict[float, LazyFrame] = {}
        allowed: dict[tuple[int, float], float] = {}
        for i, slot in enumerate(pending.slots):
            for c in slot:
                frames.setdefault(c.frame.stamp, c.frame)
                allowed[(i, c.frame.stamp)] = c.distance
        if not frames:
            return []
        stamps = sorted(frames)
        n, m = self._n_slots, len(stamps)
        # best[i][j]: (matched, -total distance) using the first i slots and the first j frames.
        best = [[(0, 0.0)] * (m + 1) for _ in range(n + 1)]
        move = [[''] * (m + 1) for _ in range(n + 1)]
        for i in range(1, n + 1):
            for j in range(1, m + 1):
                value, how = best[i - 1][j], 'slot'
                if best[i][j - 1] > value:
                    value, how = best[i][j - 1], 'frame'
                distance = allowed.get((i - 1, stamps[j - 1]))
                if distance is not None:
                    matched, neg = best[i - 1][j - 1]
                    if (matched + 1, neg - distance) > value:
                        value, how = (matched + 1, neg - distance), 'match'
                best[i][j], move[i][j] = value, how
        picked: list[LazyFrame] = []
        i, j = n, m
        while i > 0 and j > 0:
            how = move[i][j]
            if how == 'match':
                picked.append(frames[stamps[j - 1]])
                i, j = i - 1, j - 1
            elif how == 'slot':
                i -= 1
            else:
                j -= 1
        picked.reverse()
        return picked

    def _decode(self, picked: list[LazyFrame]) -> tuple[Frame, ...]:
        out: list[Frame] = []
        for lazy in picked:
            try:
                image = lazy.decode()
            except ConversionError as exc:  # one bad frame must not cost the chunk
                self.stats.decode_errors += 1
                self.stats.last_decode_error = f'frame at {lazy.stamp:.3f} s: {exc}'
                continue
            self.stats.frames_decoded += 1
            out.append(Frame(stamp=lazy.stamp, image=image))
        return tuple(out)

    # ------------------------------------------------------------------ emission

    def _complete(self, k: int, end: float) -> bool:
        if not (self._expect_audio or self._expect_video):
            return False  # nothing to wait for: only the watermark decides
        if self._expect_audio:
            pending = self._pending.get(k)
            if pending is None or pending.filled < self._n_samples:
                return False
        return not self._expect_video or self._video_latest >= end - _EPS

    def _emit(self, force_through: int | None) -> list[Chunk]:
        out: list[Chunk] = []
        if self._origin is None:
            return out
        while True:
            k = self._next_k
            end = self._chunk_start(k) + self._duration
            forced = force_through is not None and k <= force_through
            due = end + self._max_latency <= self._wm + _EPS
            if not (forced or due or self._complete(k, end)):
                return out
            out.append(self._emit_chunk(k))

    def _emit_chunk(self, k: int) -> Chunk:
        pending = self._pending.pop(k, None)
        self._next_k = k + 1  # advance first: whatever happens below, k is never emitted twice
        self._prune_blocks()
        frames: tuple[Frame, ...] = ()
        undecoded: tuple[LazyFrame, ...] = ()
        if pending is None:
            audio = np.zeros(self._n_samples, dtype=np.float32)
            filled = 0
        else:
            audio = pending.audio
            filled = pending.filled
            if self._decode_frames:
                frames = self._decode(self._select(pending))
            else:
                undecoded = tuple(self._select(pending))
        missing = (self._n_samples - filled) / self._rate
        if self._expect_audio:
            self.stats.audio_gaps_filled_s += missing
        chunk = Chunk(index=self._next_index, start=self._chunk_start(k), duration=self._duration,
                      sample_rate=self._rate, audio=audio, frames=frames, audio_missing=missing,
                      new_stream=self._new_stream, undecoded=undecoded)
        self._next_index += 1
        self._new_stream = False
        self.stats.chunks += 1
        return chunk
