"""The one interface every backend implements.

Life cycle (as py_trees behaviours): ``__init__`` stores configuration and does no I/O; ``setup()``
loads models or connects and raises BackendSetupError with a message that says what to change;
``shutdown()`` releases everything and may be followed by ``setup()`` again.
Within a set-up backend: ``start_session()`` / ``stop_session()`` bracket one continuous stream;
``feed()`` is called once per chunk, in order, from one worker thread, and returns that chunk's
outputs. ``set_watches()`` replaces the whole set of standing watches and ``ask()`` queues a question;
both are called from the same worker thread between ``feed()`` calls, never concurrently.
"""

from __future__ import annotations

from typing import Any, Mapping, Protocol, Sequence, runtime_checkable

from omni_ros.data import BackendOutput, Chunk, InterruptMode, Question, StreamSpec, Watch


@runtime_checkable
class Backend(Protocol):
    name: str

    def stream_spec(self) -> StreamSpec:
        """Sample rate, frames per chunk and chunk length this backend wants; valid after setup()."""
        ...

    def setup(self) -> None: ...

    def shutdown(self) -> None: ...

    def start_session(self) -> None: ...

    def stop_session(self) -> None: ...

    def check_instruction(self, instruction: str) -> str:
        """Raise WatchRejectedError (saying what is understood) if this backend cannot follow it; otherwise
        return the meaning it will follow as a short sentence for the user ('' or the instruction itself when
        the backend has no narrower reading of its own)."""
        ...

    def set_watches(self, watches: Sequence[Watch]) -> None: ...

    def ask(self, question: Question) -> None: ...

    def feed(self, chunk: Chunk) -> BackendOutput: ...

    def interrupt(self, mode: InterruptMode) -> None: ...


BackendOptions = Mapping[str, Any]
