"""The pipeline without ROS: a fake backend records what it is given and returns scripted outputs."""

from __future__ import annotations

import threading
import time
from typing import Callable, Sequence

import numpy as np
import pytest

from omni_ros.errors import BackendError, ConversionError
from omni_ros.session.pipeline import Pipeline
from omni_ros.data import (AudioBlock, BackendOutput, Chunk, Event, EventKind, InterruptMode, LazyFrame, Question,
                           Speaker, Speech, StreamSpec, Transcript, Watch)
from omni_ros.watches.table import WatchState, WatchTable

SPEC = StreamSpec(sample_rate=16000, frames_per_chunk=1, chunk_seconds=1.0)


class FakeBackend:
    name = 'fake'

    def __init__(self, respond: Callable[[Chunk], BackendOutput] | None = None, delay: float = 0.0) -> None:
        self.calls: list[tuple[str, object]] = []
        self.respond = respond or (lambda chunk: BackendOutput())
        self.delay = delay
        self.fed = threading.Event()

    def stream_spec(self) -> StreamSpec:
        return SPEC

    def setup(self) -> None: ...

    def shutdown(self) -> None: ...

    def start_session(self) -> None:
        self.calls.append(('start', None))

    def stop_session(self) -> None:
        self.calls.append(('stop', None))

    def check_instruction(self, instruction: str) -> None: ...

    def set_watches(self, watches: Sequence[Watch]) -> None:
        self.calls.append(('watches', tuple(w.watch_id for w in watches)))

    def ask(self, question: Question) -> None:
        self.calls.append(('ask', question.question_id))

    def feed(self, chunk: Chunk) -> BackendOutput:
        time.sleep(self.delay)
        self.calls.append(('feed', chunk.index))
        self.fed.set()
        return self.respond(chunk)

    def interrupt(self, mode: InterruptMode) -> None:
        self.calls.append(('interrupt', mode))


class Sink:
    def __init__(self) -> None:
        self.events: list[tuple[Event, WatchState | None]] = []
        self.transcripts: list[Transcript] = []
        self.speeches: list[Speech] = []
        self.failures: list[Exception] = []
        self.bad_frames: list[Exception] = []

    def event(self, event: Event, watch: WatchState | None) -> None:
        self.events.append((event, watch))

    def transcript(self, transcript: Transcript) -> None:
        self.transcripts.append(transcript)

    def speech(self, speech: Speech) -> None:
        self.speeches.append(speech)

    def backend_failed(self, error: Exception) -> None:
        self.failures.append(error)

    def frame_failed(self, error: Exception) -> None:
        self.bad_frames.append(error)


def make(backend: FakeBackend, table: WatchTable | None = None, max_backlog: int = 3) -> tuple[Pipeline, Sink]:
    sink = Sink()
    pipeline = Pipeline(backend, SPEC, table if table is not None else WatchTable(), sink, max_latency=0.2,
                        jump_threshold=3.0,
                        max_backlog=max_backlog, expect_audio=True, expect_video=False)
    return pipeline, sink


def feed_seconds(pipeline: Pipeline, seconds: int, rate: int = 48000, start: float = 100.0) -> None:
    block = rate // 10
    for i in range(seconds * 10):
        pipeline.add_audio(AudioBlock(start + i * 0.1, np.zeros(block, np.float32), rate))
    pipeline.poll(start + seconds + 1.0)


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, 'condition not reached'
        time.sleep(0.01)


def test_audio_at_any_rate_becomes_backend_rate_chunks_in_order() -> None:
    seen: list[Chunk] = []
    backend = FakeBackend(lambda chunk: seen.append(chunk) or BackendOutput())
    pipeline, _ = make(backend)
    pipeline.start()
    feed_seconds(pipeline, 3, rate=48000)
    wait_until(lambda: len(seen) >= 3)
    pipeline.stop()
    assert [c.index for c in seen[:3]] == [0, 1, 2]
    assert all(c.audio.shape == (16000,) and c.sample_rate == 16000 for c in seen)
    assert backend.calls[0] == ('start', None) and backend.calls[-1] == ('stop', None)
    assert pipeline.stats.chunks_processed == len(seen)


def test_watch_changes_and_questions_reach_the_backend_before_the_next_chunk() -> None:
    table = WatchTable()
    backend = FakeBackend()
    pipeline, _ = make(backend, table)
    pipeline.start()
    table.add(Watch('w1', 'light green'))
    pipeline.ask(Question('q1', 'what floor?'))
    feed_seconds(pipeline, 1)
    wait_until(backend.fed.is_set)
    pipeline.stop()
    names = [c for c, _ in backend.calls]
    assert names.index('watches') < names.index('feed') and names.index('ask') < names.index('feed')
    assert ('watches', ('w1',)) in backend.calls and ('ask', 'q1') in backend.calls


def test_alerts_are_routed_to_watches_and_answers_resolve_questions() -> None:
    table = WatchTable()
    state = table.add(Watch('w1', 'light green'))

    def respond(chunk: Chunk) -> BackendOutput:
        return BackendOutput(events=[
            Event(EventKind.ALERT, 'green', chunk.start, watch_id='w1'),
            Event(EventKind.ALERT, 'stale', chunk.start, watch_id='gone'),
            Event(EventKind.ANSWER, 'floor 16', chunk.start, question_id='q1'),
            Event(EventKind.COMMENT, 'hello', chunk.start)],
            transcripts=[Transcript(Speaker.ASSISTANT, 'green', 1, chunk.start)])

    backend = FakeBackend(respond)
    pipeline, sink = make(backend, table)
    pipeline.start()
    pending = pipeline.ask(Question('q1', 'which floor?'))
    feed_seconds(pipeline, 1)
    assert pending.answered.wait(5)
    pipeline.stop()
    assert pending.answer is not None and pending.answer.text == 'floor 16'
    texts = [(e.text, w is state) for e, w in sink.events]
    assert ('green', True) in texts and ('hello', False) in texts and ('floor 16', False) in texts
    assert 'stale' not in [t for t, _ in texts]  # alert for a watch that does not exist
    assert state.finished and state.reason == 'triggered'
    assert sink.transcripts[0].text == 'green'


def test_slow_backend_drops_oldest_chunks_and_counts_them() -> None:
    backend = FakeBackend(delay=0.3)
    pipeline, _ = make(backend, max_backlog=2)
    pipeline.start()
    feed_seconds(pipeline, 8)
    wait_until(pipeline.idle, timeout=10)
    pipeline.stop()
    stats = pipeline.stats
    assert stats.chunks_processed + stats.chunks_skipped == 8
    assert stats.chunks_skipped >= 5  # 8 cut at once, at most one in flight plus two waiting
    assert stats.real_time_factor == pytest.approx(0.3, abs=0.15)


@pytest.mark.parametrize('error', [BackendError('model crashed'), RuntimeError('bug')])
def test_backend_failure_is_reported_and_the_worker_goes_on(error: Exception) -> None:
    def respond(chunk: Chunk) -> BackendOutput:
        if chunk.index == 0:
            raise error
        return BackendOutput()

    backend = FakeBackend(respond)
    pipeline, sink = make(backend)
    pipeline.start()
    feed_seconds(pipeline, 3)
    wait_until(lambda: pipeline.stats.chunks_processed >= 2)
    pipeline.stop()
    assert sink.failures == [error]
    assert pipeline.stats.backend_errors == 1 and str(error) in pipeline.stats.last_backend_error


def test_interrupt_reaches_the_backend_without_waiting_for_a_chunk() -> None:
    backend = FakeBackend()
    pipeline, _ = make(backend)
    pipeline.start()
    pipeline.interrupt(InterruptMode.FORCE_LISTEN)
    wait_until(lambda: ('interrupt', InterruptMode.FORCE_LISTEN) in backend.calls)
    pipeline.stop()


def test_a_unit_goes_to_the_backend_with_its_last_message_not_at_the_next_poll() -> None:
    """Issue 14: units were cut only by the node's 50 ms poll timer, which added up to 50 ms to every
    alert of a per-unit backend. The message that completes a unit (its last audio block, and with a
    camera a frame at or after its end) now hands it on; poll only cuts units whose data stop coming."""
    sink = Sink()
    backend = FakeBackend()
    pipeline = Pipeline(backend, SPEC, WatchTable(), sink, max_latency=0.2, jump_threshold=3.0, max_backlog=3,
                        expect_audio=True, expect_video=True)
    pipeline.start()
    for i in range(10):  # exactly one unit of audio, no poll
        pipeline.add_audio(AudioBlock(100.0 + i * 0.1, np.zeros(1600, np.float32), 16000))
    pipeline.add_frame(LazyFrame(100.5, lambda: np.zeros((4, 4, 3), np.uint8)))
    time.sleep(0.2)
    assert ('feed', 0) not in backend.calls  # a frame stamped before the end may still be on its way
    pipeline.add_frame(LazyFrame(101.0, lambda: np.zeros((4, 4, 3), np.uint8)))
    wait_until(lambda: ('feed', 0) in backend.calls, timeout=2.0)
    pipeline.stop()
    assert [c for c in backend.calls if c[0] == 'feed'] == [('feed', 0)]


def test_frames_are_decoded_only_when_used() -> None:
    decoded: list[float] = []
    sink = Sink()
    backend = FakeBackend()
    pipeline = Pipeline(backend, SPEC, WatchTable(), sink, max_latency=0.2, jump_threshold=3.0, max_backlog=3,
                        expect_audio=False, expect_video=True)
    pipeline.start()
    for i in range(90):  # 3 s of a 30 fps camera
        stamp = 100.0 + i / 30

        def decode(stamp: float = stamp) -> np.ndarray:
            decoded.append(stamp)
            return np.zeros((4, 4, 3), np.uint8)

        pipeline.add_frame(LazyFrame(stamp, decode))
    pipeline.poll(104.0)
    wait_until(lambda: pipeline.stats.chunks_processed >= 3)
    pipeline.stop()
    assert len(decoded) == 3


def test_frames_are_decoded_on_the_worker_and_bad_ones_reported() -> None:
    """Issue 16: a large image was decoded by whichever thread cut the unit (a ROS timer or subscription
    callback, holding the executor); the backend worker decodes it now, and reports frames it cannot."""
    threads: list[str] = []
    sink = Sink()
    pipeline = Pipeline(FakeBackend(), SPEC, WatchTable(), sink, max_latency=0.2, jump_threshold=3.0, max_backlog=10,
                        expect_audio=False, expect_video=True)
    pipeline.start()
    for i in range(4):
        def decode(i: int = i) -> np.ndarray:
            threads.append(threading.current_thread().name)
            if i == 1:
                raise ConversionError('compressed image claimed as png could not be decoded')
            return np.zeros((4, 4, 3), np.uint8)

        pipeline.add_frame(LazyFrame(100.5 + i, decode))
    pipeline.poll(105.0)  # cuts four units on this thread
    wait_until(lambda: pipeline.stats.chunks_processed >= 4)
    pipeline.stop()
    assert threads == ['omni_backend_worker'] * 4
    assert [str(e) for e in sink.bad_frames] == ['compressed image claimed as png could not be decoded']
    assert pipeline.sync.stats.decode_errors == 1 and pipeline.sync.stats.frames_decoded == 3


def test_questions_the_backend_had_are_asked_again_after_a_restart() -> None:
    """Issue 16: an Ask accepted shortly before deactivate was given to a backend session that then
    ended; the next session never heard of it and the answer was lost."""
    backend = FakeBackend()  # the first session stops before it answers
    pipeline, _ = make(backend)
    pipeline.start()
    pending = pipeline.ask(Question('q1', 'what floor?'))
    answered = pipeline.ask(Question('q0', 'are you there?'))
    answered.answered.set()  # answered already: not asked again
    wait_until(lambda: ('ask', 'q1') in backend.calls)
    pipeline.stop()
    backend.respond = lambda chunk: BackendOutput(events=[Event(EventKind.ANSWER, 'floor 16', chunk.start,
                                                                question_id='q1')])
    pipeline.start()
    feed_seconds(pipeline, 2)
    wait_until(pending.answered.is_set)
    pipeline.stop()
    second = backend.calls[backend.calls.index(('start', None), 1):]
    assert ('ask', 'q1') in second and ('ask', 'q0') not in second
    assert pending.answer is not None and pending.answer.text == 'floor 16'


def test_spoken_watch_requests_are_adopted_into_the_watch_table() -> None:
    from omni_ros.data import WatchSource

    spoken = Watch('spoken-1', 'tell me when the light turns green', source=WatchSource.SPOKEN)
    table = WatchTable()
    backend = FakeBackend(lambda chunk: BackendOutput(watch_requests=[spoken] if chunk.index == 0 else []))
    pipeline, _ = make(backend, table)
    pipeline.start()
    feed_seconds(pipeline, 2)
    wait_until(lambda: ('watches', ('spoken-1',)) in backend.calls)
    pipeline.stop()
    assert table.get('spoken-1') is not None and table.get('spoken-1').watch.source is WatchSource.SPOKEN


def test_one_long_audio_message_is_not_trimmed_as_a_backlog() -> None:
    """Issue 16: a single 9.9 s audio message completed ten units at once and all but max_backlog of them
    were dropped before the backend could see them."""
    backend = FakeBackend(delay=0.02)
    pipeline, _ = make(backend, max_backlog=3)
    pipeline.start()
    for start in (100.0, 109.9):  # each message arrives when its last sample is captured
        pipeline.add_audio(AudioBlock(start, np.zeros(round(9.9 * 16000), np.float32), 16000))
        pipeline.poll(start + 9.9)
        wait_until(pipeline.idle, timeout=10)
    pipeline.stop()
    assert pipeline.stats.chunks_skipped == 0
    assert pipeline.stats.chunks_processed == 19  # 19.8 s of audio: the last unit is still open


def test_watches_cancelled_by_voice_leave_the_table_with_a_reason() -> None:
    table = WatchTable()
    light = table.add(Watch('light', 'tell me when the light turns green'))
    table.add(Watch('bell', 'tell me when the doorbell rings'))
    backend = FakeBackend(lambda chunk: BackendOutput(watch_cancellations=['light'] if chunk.index == 1 else []))
    pipeline, _ = make(backend, table)
    pipeline.start()
    feed_seconds(pipeline, 3)
    wait_until(lambda: ('watches', ('bell',)) in backend.calls)  # the backend is told the remaining set
    pipeline.stop()
    assert [w.watch_id for w in table.watches()] == ['bell']
    assert light.finished and light.reason == 'canceled by voice'  # an action goal ends with this message
