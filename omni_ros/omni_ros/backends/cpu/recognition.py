"""Speech recognition off the hop path: one worker thread runs the recognizers on finished utterances.

A hop hands a finished utterance to the worker and goes on deciding sounds and lights; the transcript is
folded in at the first hop that starts after the recognition is done (in order, nothing dropped). Fed in
real time, the hops never wait for it. Fed faster than real time (an offline evaluation), a hop arriving
sooner in stream time than the recognition has run in wall time waits for the difference, so a transcript
lands on the hop where it would land in real time, not later because the replay raced ahead; that wait is
the replay's clock catching up, not processing, and is counted apart (``waited``).
"""

from __future__ import annotations

import collections
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass(eq=False)
class Job:
    audio: np.ndarray
    start: float  # input time of the utterance
    end: float
    submitted: float  # stream time of the end of the hop that cut it
    wall: float = field(default_factory=time.perf_counter)
    done: threading.Event = field(default_factory=threading.Event)
    result: object = None
    error: BaseException | None = None
    dropped: bool = False


class RecognitionWorker:
    """FIFO of utterances; ``recognize`` runs on the worker thread only (the models are not shared)."""

    def __init__(self, recognize: Callable[[np.ndarray], object]) -> None:
        self._recognize = recognize
        self._jobs: queue.Queue[Job | None] = queue.Queue()
        self._pending: collections.deque[Job] = collections.deque()
        self._thread: threading.Thread | None = None
        self.waited = 0.0  # seconds hops spent waiting for stream time to catch up (offline replay only)
        self.last_wait = 0.0  # ... in the last call of ready()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name='cpu-asr', daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Ends the thread after the recognition in progress; pending utterances are dropped."""
        self.drop()
        thread, self._thread = self._thread, None
        if thread is not None:
            self._jobs.put(None)
            thread.join()

    def submit(self, audio: np.ndarray, start: float, end: float, now: float) -> None:
        job = Job(audio, start, end, now)
        self._pending.append(job)
        self._jobs.put(job)

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def drop(self) -> None:
        """Forget the utterances not handed out yet (the session ended); the worker skips them."""
        for job in self._pending:
            job.dropped = True
        self._pending.clear()

    def ready(self, now: float, wait_all: bool = False) -> list[Job]:
        """Finished jobs, in order, at stream time ``now`` (the start of the hop being fed)."""
        self.last_wait = 0.0
        out: list[Job] = []
        while self._pending:
            job = self._pending[0]
            if not job.done.is_set():
                ahead = (now - job.submitted) - (time.perf_counter() - job.wall)
                if wait_all or ahead > 0:
                    t0 = time.perf_counter()
                    job.done.wait(None if wait_all else ahead)
                    self.last_wait += time.perf_counter() - t0
                if not job.done.is_set():
                    break
            out.append(self._pending.popleft())
        self.waited += self.last_wait
        return out

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            if job.dropped:
                job.done.set()
                continue
            try:
                job.result = self._recognize(job.audio)
            except BaseException as exc:  # handed to the hop thread, raised there
                job.error = exc
            job.done.set()
