"""Input to outputs, without ROS: resample audio, cut chunks, run the backend on a worker thread.

The node's subscription callbacks call ``add_audio`` / ``add_frame`` (cheap: no image decoding), which hand
on a unit as soon as its data are complete; a timer calls ``poll`` with the node clock for the units whose
data stop coming (cut once late by ``max_latency``), and a single worker thread decodes the frames of each unit
and feeds the backend, so no ROS callback ever waits for the model or for a large image. The backlog
between the two is bounded: when the backend falls behind, the oldest waiting chunk is dropped (undecoded)
and counted.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from omni_ros.ingest.audio import StreamResampler
from omni_ros.backends.base import Backend, Reconfigurable
from omni_ros.errors import OmniError, WatchRejectedError
from omni_ros.ingest.sync import ChunkSynchronizer
from omni_ros.data import (AudioBlock, BackendOutput, Chunk, Event, EventKind, FloatArray, InterruptMode, LazyFrame,
                           Question, Speech, StreamSpec, Transcript)
from omni_ros.watches.table import WatchState, WatchTable

log = logging.getLogger(__name__)


class OutputSink(Protocol):
    """Where the pipeline's results go (the node publishes them). Called from the worker thread."""

    def event(self, event: Event, watch: WatchState | None) -> None: ...

    def transcript(self, transcript: Transcript) -> None: ...

    def speech(self, speech: Speech) -> None: ...

    def backend_failed(self, error: Exception) -> None: ...

    def frame_failed(self, error: Exception) -> None:
        """A camera frame picked for a unit could not be decoded (it is left out of the unit)."""
        ...


AudioFilter = Callable[[float, FloatArray], FloatArray]
"""Microphone audio at the backend's rate (stamp, samples) -> what the backend hears (same length)."""


class InputCutter:
    """Audio of any rate resampled to the backend's, then cut into chunks with the frames.

    Shared by the node's pipeline and the offline evaluation so both cut input the same way.
    ``audio_filter`` (the node's self-hearing) sees the resampled audio before it is cut.
    Not thread-safe: the pipeline calls it under its input lock.
    """

    def __init__(self, spec: StreamSpec, audio_filter: AudioFilter | None = None, **sync_args: Any) -> None:
        self.sync = ChunkSynchronizer(spec, **sync_args)
        self._target_rate = spec.sample_rate
        self._resampler: StreamResampler | None = None
        self._filter = audio_filter

    def add_audio(self, block: AudioBlock) -> None:
        resampler = self._resampler
        if resampler is None or resampler.src_rate != block.sample_rate:
            resampler = self._resampler = StreamResampler(block.sample_rate, self._target_rate)
        # The resampler holds back ~1 ms of look-ahead: its output starts that much earlier.
        stamp = block.stamp - resampler.lag_seconds
        samples = resampler.process(block.samples)
        if self._filter is not None and samples.size:
            samples = self._filter(stamp, samples)
        self.sync.add_audio(stamp, samples)


@dataclass
class PendingQuestion:
    question: Question
    answered: threading.Event = field(default_factory=threading.Event)
    answer: Event | None = None


@dataclass
class PipelineStats:
    chunks_processed: int = 0
    chunks_skipped: int = 0
    backlog: int = 0
    real_time_factor: float = 0.0
    speaking: bool = False
    backend_errors: int = 0
    last_backend_error: str = ''
    last_chunk_end: float | None = None
    # Seconds from a backend output (feed() returning) to its events handed to the sink (published), for
    # the recent outputs that had events: what the node adds to a backend's latency.
    output_delays: collections.deque[float] = field(default_factory=lambda: collections.deque(maxlen=500))


class Pipeline:
    def __init__(self, backend: Backend, spec: StreamSpec, watches: WatchTable, sink: OutputSink, *,
                 max_latency: float, jump_threshold: float, max_backlog: int,
                 expect_audio: bool, expect_video: bool, audio_filter: AudioFilter | None = None,
                 max_audio_block: float = 10.0) -> None:
        self.backend = backend
        self.spec = spec
        self.watches = watches
        self._sink = sink
        self._sync_args: dict[str, Any] = dict(max_latency=max_latency, jump_threshold=jump_threshold,
                                               expect_audio=expect_audio, expect_video=expect_video,
                                               audio_filter=audio_filter,
                                               max_audio_block=max_audio_block, decode_frames=False)
        self._input = InputCutter(spec, **self._sync_args)
        self._input_lock = threading.Lock()
        self._queue: collections.deque[Chunk] = collections.deque()
        self._max_backlog = max_backlog
        self._cv = threading.Condition()
        self._questions: dict[str, PendingQuestion] = {}
        self._new_questions: list[Question] = []
        self._interrupts: list[InterruptMode] = []
        self._new_config: Any = None  # live settings for the backend, handed over by the worker
        self._applied_watch_version = -1
        self._worker: threading.Thread | None = None
        self._running = False
        self._busy = False
        self.stats = PipelineStats()

    # -- life cycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        self.backend.start_session()
        with self._input_lock:
            self._input = InputCutter(self.spec, **self._sync_args)
        with self._cv:  # the backend session that was asked is gone: open questions are asked again
            self._new_questions = [p.question for p in self._questions.values() if not p.answered.is_set()]
        self._applied_watch_version = -1
        self._running = True
        self._worker = threading.Thread(target=self._run, name='omni_backend_worker', daemon=True)
        self._worker.start()

    def stop(self) -> None:
        with self._cv:
            self._running = False
            self._queue.clear()
            self._cv.notify_all()
        if self._worker is not None:
            self._worker.join()
            self._worker = None
        self.backend.stop_session()

    @property
    def sync(self) -> ChunkSynchronizer:
        """The current synchronizer (its stats go to diagnostics)."""
        return self._input.sync

    # -- input (any thread) -------------------------------------------------------------------------
    def add_audio(self, block: AudioBlock) -> None:
        with self._input_lock:
            self._input.add_audio(block)
            self._cut(None)

    def add_frame(self, frame: LazyFrame) -> None:
        with self._input_lock:
            self._input.sync.add_frame(frame)
            self._cut(None)

    def poll(self, now: float | None) -> None:
        with self._input_lock:
            self._cut(now)

    def _cut(self, now: float | None) -> None:
        """Hand the worker every unit the input so far completes (or the clock ``now`` makes late). Called
        under the input lock on each message, so a unit goes to the backend the moment its last audio
        block or frame arrives, not at the next poll; the lock keeps the units in order."""
        chunks = self._input.sync.poll(now)
        if chunks:
            self._enqueue(chunks)

    def flush(self) -> None:
        with self._input_lock:
            chunks = self._input.sync.flush()
        self._enqueue(chunks)

    def ask(self, question: Question) -> PendingQuestion:
        pending = PendingQuestion(question)
        with self._cv:
            self._questions[question.question_id] = pending
            self._new_questions.append(question)
        return pending

    def forget_question(self, question_id: str) -> None:
        with self._cv:
            self._questions.pop(question_id, None)

    def reconfigure(self, config: Any) -> None:
        """Hand the backend its new live settings (``reconfigure``) before its next unit."""
        with self._cv:
            self._new_config = config
            self._cv.notify_all()

    def interrupt(self, mode: InterruptMode) -> None:
        with self._cv:
            self._interrupts.append(mode)
            self._cv.notify_all()

    def idle(self) -> bool:
        """True when every cut chunk has been processed."""
        with self._cv:
            return not self._queue and not self._busy

    # -- worker -------------------------------------------------------------------------------------
    def _enqueue(self, chunks: list[Chunk]) -> None:
        # Units one long audio message completes together are not a backlog the backend caused.
        limit = self._max_backlog + max(0, self._input.sync.burst_chunks - 1)
        with self._cv:
            for chunk in chunks:
                self._queue.append(chunk)
                while len(self._queue) > limit:
                    self._queue.popleft()
                    self.stats.chunks_skipped += 1
            self.stats.backlog = len(self._queue)
            self._cv.notify_all()

    def _next(self) -> tuple[Chunk | None, list[Question], list[InterruptMode], Any]:
        with self._cv:
            self._cv.wait_for(lambda: not self._running or self._queue or self._interrupts
                              or self._new_config is not None, timeout=0.2)
            if not self._running:
                return None, [], [], None
            chunk = self._queue.popleft() if self._queue else None
            questions, self._new_questions = self._new_questions, []
            interrupts, self._interrupts = self._interrupts, []
            config, self._new_config = self._new_config, None
            self.stats.backlog = len(self._queue)
            self._busy = chunk is not None
            return chunk, questions, interrupts, config

    def _run(self) -> None:
        while True:
            chunk, questions, interrupts, config = self._next()
            if not self._running:
                return
            try:
                if config is not None and isinstance(self.backend, Reconfigurable):
                    self.backend.reconfigure(config)
                for mode in interrupts:
                    self.backend.interrupt(mode)
                version = self.watches.version
                if version != self._applied_watch_version:
                    self.backend.set_watches(self.watches.for_backend())
                    self._applied_watch_version = version
                for question in questions:
                    self.backend.ask(question)
                if chunk is not None:
                    chunk = self._decode(chunk)
                    started = time.perf_counter()
                    output = self.backend.feed(chunk)
                    elapsed = time.perf_counter() - started
                    self._account(chunk, elapsed)
                    self._dispatch(output, started + elapsed)
            except Exception as error:  # a backend bug must not kill the node: report and go on
                self.stats.backend_errors += 1
                self.stats.last_backend_error = f'{type(error).__name__}: {error}'
                if not isinstance(error, OmniError):
                    log.exception('backend %s raised', self.backend.name)
                self._sink.backend_failed(error)
            finally:
                with self._cv:
                    self._busy = False

    def _decode(self, chunk: Chunk) -> Chunk:
        decoded, errors = self.sync.decode(chunk)
        for error in errors:
            self._sink.frame_failed(error)
        return decoded

    def _account(self, chunk: Chunk, elapsed: float) -> None:
        rtf = elapsed / chunk.duration
        s = self.stats
        # Exponential average over roughly the last ten units: steady yet quick to show a slowdown.
        s.real_time_factor = rtf if s.chunks_processed == 0 else 0.9 * s.real_time_factor + 0.1 * rtf
        s.chunks_processed += 1
        s.last_chunk_end = chunk.end

    def _dispatch(self, output: BackendOutput, produced: float) -> None:
        """Route and hand on ``output`` (feed() returned at perf_counter ``produced``)."""
        self.stats.speaking = output.speaking
        for watch in output.watch_requests:
            try:
                self.watches.add(watch)
            except WatchRejectedError as error:
                log.warning('spoken watch %r not adopted: %s', watch.instruction, error)
        for watch_id in output.watch_cancellations:
            self.watches.remove(watch_id, 'canceled by voice')
        for event in output.events:
            if event.kind is EventKind.ALERT:
                state = self.watches.route(event)
                if state is None:
                    log.debug('dropped alert for inactive or cooling-down watch %r', event.watch_id)
                    continue
                self._sink.event(event, state)
                continue
            if event.kind is EventKind.ANSWER:
                with self._cv:
                    pending = self._questions.pop(event.question_id, None)
                if pending is not None:
                    pending.answer = event
                    pending.answered.set()
            self._sink.event(event, None)
        if output.events:  # published: what the node added to the backend's latency
            self.stats.output_delays.append(time.perf_counter() - produced)
        for transcript in output.transcripts:
            self._sink.transcript(transcript)
        for speech in output.speech:
            self._sink.speech(speech)

