"""The one interface every backend implements.

Life cycle (as py_trees behaviours): ``__init__`` stores configuration and does no I/O; ``setup()``
loads models or connects and raises BackendSetupError with a message that says what to change;
``shutdown()`` releases everything and may be followed by ``setup()`` again.
Within a set-up backend: ``start_session()`` / ``stop_session()`` bracket one continuous stream;
``feed()`` is called once per chunk, in order, from one worker thread, and returns that chunk's
outputs. ``set_watches()`` replaces the whole set of standing watches and ``ask()`` queues a question;
both are called from the same worker thread between ``feed()`` calls, never concurrently.
Each watch comes with the cooldown that applies to it (``watches.policy``): a backend that decides
alerts itself applies that one.

A backend class declares its settings as ``Config`` (a dataclass of ``settings.setting`` fields: the
ROS parameters ``<name>.<field>``), is constructed with an instance of it, and may say whether it can
run here with ``usable(config)`` (cheap: no heavy imports, no I/O), for backend 'auto'. Settings
declared ``Change.LIVE`` are handed over while running through ``reconfigure(config)``.
"""

from __future__ import annotations

from typing import Any, Protocol, Sequence, runtime_checkable

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


@runtime_checkable
class Reconfigurable(Protocol):
    """A backend with settings that can change while it runs (``Change.LIVE`` in its Config)."""

    def reconfigure(self, config: Any) -> None:
        """Take ``config`` (the same Config, only live settings changed); called between feed() calls."""
        ...


class BackendClass(Protocol):
    """What the registry holds: a backend class with its typed settings and its availability check."""

    name: str
    Config: type

    def __call__(self, config: Any) -> Backend: ...

    def usable(self, config: Any) -> bool: ...

