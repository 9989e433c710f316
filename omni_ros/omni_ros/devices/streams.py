"""Microphone capture and speaker playback without ROS: stamping captured blocks, and a jitter buffer
that plays speech blocks at their stamps.

Both sides are driven by an audio stream's callback on the stream's own thread (see ``AudioStream``;
the devices are in ``audio_devices``), so every method here is quick and never blocks on I/O. Times are
float seconds on the node clock, read through the ``now`` callable each side is given.

Capture: each block from the device is stamped with the node time of its first sample and queued; a
delivery thread hands the blocks to a sink (the node publishes them). Consecutive blocks get
consecutive stamps (block n+1 starts where block n ended) while the device clock keeps within
``max_drift`` of the node clock, so downstream cutters see gap-free audio.

Playback: speech blocks are placed on a sample timeline at ``stamp + jitter_delay``, resampled to the
device rate one turn at a time (continuous across the blocks of a turn), and the device callback
copies out whatever covers the time it is about to play, silence elsewhere. A block that arrives after
its time has partly passed is not cut: its turn is shifted later so the turn stays whole and contiguous.
An interruption drops the queued audio of the named turn and every earlier one, and blocks of those
turns arriving later are ignored.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Protocol

import numpy as np

from omni_ros.ingest.audio import StreamResampler
from omni_ros.errors import ConversionError
from omni_ros.data import FloatArray, Speech, SpeechInterruption

Clock = Callable[[], float]

# sounddevice/numpy sample types for the AudioChunk encodings a capture stream can deliver directly.
DEVICE_DTYPES: dict[str, str] = {'S16LE': 'int16', 'F32LE': 'float32'}


class AudioStream(Protocol):
    """An open capture or playback stream; it calls its callback from its own thread once started.

    Capture callback: ``(block, age, xrun)`` with ``block`` (frames, channels) in the stream's sample
    type, ``age`` = seconds since its first sample was captured, ``xrun`` = the device lost input.
    Playback callback: ``(out, delay, xrun)`` with ``out`` (frames, channels) float32 zeros to fill,
    ``delay`` = seconds until its first sample is heard, ``xrun`` = the device ran out of output.
    """

    @property
    def active(self) -> bool:
        """False once the stream has stopped delivering blocks (closed, or its source ended)."""
        ...

    def start(self) -> None: ...

    def close(self) -> None: ...


InputCallback = Callable[[np.ndarray, float, bool], None]
OutputCallback = Callable[[np.ndarray, float, bool], None]


@dataclass(frozen=True)
class PcmBlock:
    """Interleaved PCM as the microphone delivered it: one AudioChunk. ``stamp`` = first sample."""

    stamp: float
    sample_rate: int
    channels: int
    encoding: str
    data: bytes


# -- capture ---------------------------------------------------------------------------------------

@dataclass
class CaptureStats:
    blocks: int = 0
    dropped: int = 0  # blocks lost because the sink fell behind the device
    overflows: int = 0  # blocks during which the device reported lost input
    resyncs: int = 0  # stamps re-anchored to the node clock (device clock drift, lost input)


class Capture:
    """Stamps device blocks and hands them, in order, to ``sink`` on a delivery thread.

    ``on_block`` is the stream callback. At most ``max_queue`` blocks wait for the sink; older ones are
    dropped (and counted) rather than letting the device callback block.
    """

    def __init__(self, sample_rate: int, channels: int, encoding: str, now: Clock, *, max_queue: int,
                 max_drift: float = 0.02) -> None:
        if encoding not in DEVICE_DTYPES:
            raise ConversionError(f'capture encoding {encoding!r} is not one of {", ".join(DEVICE_DTYPES)}')
        self.sample_rate, self.channels, self.encoding = sample_rate, channels, encoding
        self.stats = CaptureStats()
        self._now = now
        self._max_drift = max_drift
        self._next_stamp: float | None = None
        self._queue: deque[PcmBlock] = deque()
        self._max_queue = max_queue
        self._wake = threading.Condition()
        self._running = False
        self._thread: threading.Thread | None = None

    def on_block(self, block: np.ndarray, age: float, xrun: bool) -> None:
        captured = self._now() - age
        frames = block.shape[0]
        if xrun:
            self.stats.overflows += 1
        predicted = self._next_stamp
        # Re-anchor when input was lost or the device clock wandered off the node clock; otherwise
        # continue exactly where the previous block ended (measured times jitter by a few ms).
        if predicted is None or xrun or abs(predicted - captured) > self._max_drift:
            if predicted is not None:
                self.stats.resyncs += 1
            predicted = captured
        self._next_stamp = predicted + frames / self.sample_rate
        pcm = PcmBlock(predicted, self.sample_rate, self.channels, self.encoding,
                       np.ascontiguousarray(block).tobytes())
        with self._wake:
            self.stats.blocks += 1
            if len(self._queue) >= self._max_queue:
                self._queue.popleft()
                self.stats.dropped += 1
            self._queue.append(pcm)
            self._wake.notify()

    def start(self, sink: Callable[[PcmBlock], None]) -> None:
        """Deliver queued blocks to ``sink`` on a new thread until ``stop``."""
        self._running = True
        self._thread = threading.Thread(target=self._deliver, args=(sink,), name='capture_delivery', daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._wake:
            self._running = False
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        self._thread = None
        self._queue.clear()
        self._next_stamp = None

    def _deliver(self, sink: Callable[[PcmBlock], None]) -> None:
        while True:
            with self._wake:
                while self._running and not self._queue:
                    self._wake.wait()
                if not self._running:
                    return
                block = self._queue.popleft()
            sink(block)


# -- playback --------------------------------------------------------------------------------------

@dataclass
class PlaybackStats:
    blocks: int = 0
    ignored: int = 0  # blocks of a turn that was already interrupted
    late: int = 0  # blocks that came after their time and shifted their turn later
    late_seconds: float = 0.0  # the largest such shift
    interrupted_seconds: float = 0.0  # queued audio dropped by interruptions
    resyncs: int = 0  # playback position re-anchored to the node clock
    underruns: int = 0  # the device reported it ran out of output
    played_seconds: float = 0.0  # speech (not silence) sent to the device


@dataclass
class _Run:
    """Device-rate samples starting at timeline index ``start``."""

    start: int
    samples: FloatArray

    @property
    def end(self) -> int:
        return self.start + self.samples.size


@dataclass
class _Turn:
    resampler: StreamResampler
    source_rate: int
    next_stamp: float  # stamp a contiguous next block has
    next_index: int  # timeline index where its resampled samples go
    shift: float = 0.0  # seconds this turn plays later than its stamps (it came late)
    runs: list[_Run] = field(default_factory=list)


class Player:
    """Jitter buffer and playback scheduler for a device at ``sample_rate`` with ``channels`` channels.

    ``add`` (from the subscription) queues a block; ``interrupt`` drops turns; ``on_output`` is the
    playback stream callback. Thread-safe.
    """

    # Blocks of one turn whose stamps continue within this many seconds are one continuous stream.
    CONTIGUOUS = 0.002
    _KEEP_TURNS = 16  # resampler state kept for this many recent turns

    def __init__(self, sample_rate: int, channels: int, now: Clock, *, jitter_delay: float,
                 max_queue_seconds: float, resync_threshold: float = 0.05) -> None:
        self.sample_rate, self.channels = sample_rate, channels
        self.jitter_delay = jitter_delay
        self.max_queue_seconds = max_queue_seconds
        self.stats = PlaybackStats()
        self._now = now
        self._resync = max(1, round(resync_threshold * sample_rate))
        self._lock = threading.Lock()
        # Timeline: sample index i plays at node time anchor + i / sample_rate.
        self._anchor = now()
        self._cursor = 0  # next index the device will play
        self._started = False
        self._turns: dict[int, _Turn] = {}
        self._stopped_turn = -1  # this turn and every earlier one were interrupted

    def _index(self, t: float) -> int:
        return round((t - self._anchor) * self.sample_rate)

    def add(self, speech: Speech) -> bool:
        """Queue a block of ``speech.turn_id`` for playback at ``speech.stamp`` (+ jitter delay).

        Returns False for a block of an interrupted turn (ignored). Raises ConversionError for a block
        stamped more than ``max_queue_seconds`` ahead of what plays now (a clock mismatch).
        """
        with self._lock:
            if speech.turn_id <= self._stopped_turn:
                self.stats.ignored += 1
                return False
            turn = self._turns.get(speech.turn_id)
            contiguous = (turn is not None and turn.source_rate == speech.sample_rate
                          and abs(speech.stamp - turn.next_stamp) <= self.CONTIGUOUS)
            if not contiguous:
                shift = turn.shift if turn is not None else 0.0
                start = self._index(speech.stamp + self.jitter_delay + shift)
                ahead = (start - self._cursor) / self.sample_rate
                if ahead > self.max_queue_seconds:
                    raise ConversionError(
                        f'speech block stamped {ahead:.1f} s after the audio playing now; the limit is '
                        f'max_queue_seconds = {self.max_queue_seconds:g} s: the speech publisher and this node '
                        'must use the same clock (both use_sim_time, or neither)')
                if turn is None:
                    turn = self._new_turn(speech.turn_id, speech.sample_rate, speech.stamp, start)
                else:
                    # A new stretch of the same turn: place the held-back tail of the previous one first.
                    self._place(turn, turn.resampler.flush())
                    if turn.source_rate != speech.sample_rate:
                        turn.resampler = StreamResampler(speech.sample_rate, self.sample_rate)
                        turn.source_rate = speech.sample_rate
                    turn.next_index = start
            assert turn is not None  # contiguous means the turn exists
            if turn.next_index < self._cursor:
                # Its time has (partly) passed: play it, and the rest of its turn, that much later.
                late = (self._cursor - turn.next_index) / self.sample_rate
                turn.shift += late
                turn.next_index = self._cursor
                self.stats.late += 1
                self.stats.late_seconds = max(self.stats.late_seconds, late)
            turn.next_stamp = speech.stamp + speech.samples.size / speech.sample_rate
            self._place(turn, turn.resampler.process(speech.samples))
            self.stats.blocks += 1
            return True

    def _new_turn(self, turn_id: int, rate: int, stamp: float, start: int) -> _Turn:
        turn = _Turn(StreamResampler(rate, self.sample_rate), rate, stamp, start)
        self._turns[turn_id] = turn
        for old in sorted(self._turns)[:-self._KEEP_TURNS]:
            if not self._turns[old].runs:
                del self._turns[old]
        return turn

    def _place(self, turn: _Turn, samples: FloatArray) -> None:
        if samples.size:
            turn.runs.append(_Run(turn.next_index, samples))
            turn.next_index += samples.size

    def interrupt(self, interruption: SpeechInterruption) -> float:
        """Drop every queued block of ``interruption.turn_id`` and earlier turns; returns the seconds dropped."""
        with self._lock:
            self._stopped_turn = max(self._stopped_turn, interruption.turn_id)
            dropped = 0
            for turn_id in [t for t in self._turns if t <= interruption.turn_id]:
                dropped += sum(max(0, r.end - max(r.start, self._cursor)) for r in self._turns.pop(turn_id).runs)
            seconds = dropped / self.sample_rate
            self.stats.interrupted_seconds += seconds
            return seconds

    def on_output(self, out: np.ndarray, delay: float, xrun: bool) -> None:
        """Playback stream callback: fill ``out`` (frames, channels) with what plays from now + delay."""
        plays_at = self._now() + delay
        frames = out.shape[0]
        mix = np.zeros(frames, dtype=np.float32)
        with self._lock:
            if xrun:
                self.stats.underruns += 1
            measured = self._index(plays_at)
            # Follow the device's own sample count (seamless), unless it drifted off the node clock.
            if not self._started or abs(measured - self._cursor) > self._resync:
                if self._started:
                    self.stats.resyncs += 1
                self._cursor, self._started = measured, True
            start, end = self._cursor, self._cursor + frames
            played = 0
            for turn in self._turns.values():
                if turn.next_index <= end and turn.resampler.lag_seconds > 0:
                    # The turn's audio runs out in this buffer: the resampler's held-back last samples
                    # are due now (a later block of the turn is then late and restarts it).
                    self._place(turn, turn.resampler.flush())
                for run in turn.runs:
                    a, b = max(run.start, start), min(run.end, end)
                    if a < b:
                        mix[a - start:b - start] += run.samples[a - run.start:b - run.start]
                        played += b - a
                turn.runs = [r for r in turn.runs if r.end > end]
            self._cursor = end
            self.stats.played_seconds += played / self.sample_rate
        np.clip(mix, -1.0, 1.0, out=mix)  # overlapping turns are mixed
        out[:] = mix[:, None]
