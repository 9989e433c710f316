"""The seam between the shared duplex session logic and one way of running MiniCPM-o.

An engine runs prepare / one unit / break on a concrete runtime (transformers model object, or a
llama.cpp-omni server). Everything above it (prompt, watches, pacing, output mapping) is shared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Protocol

import numpy as np

from omni_ros.backends.minicpmo.prompting import SystemPrompt
from omni_ros.data import FloatArray


@dataclass(frozen=True)
class ModelUnit:
    audio: FloatArray  # float32 mono 16 kHz, chunk_ms long (first_chunk_ms for the first unit)
    frames: list[Any]  # PIL images: [] / [main] / [main, stacked grid]
    max_slice_nums: int  # for the main frame; the grid always uses 1
    force_listen: bool = False


@dataclass(frozen=True)
class UnitResult:
    is_listen: bool
    text: str
    end_of_turn: bool
    speech: Optional[FloatArray]  # float32 mono at speech_rate, None while listening
    speech_rate: int = 24000
    model_s: float = 0.0  # wall time inside the runtime
    halted: bool = False  # the runtime refused the unit because a break arrived during it (nothing to map)


class DuplexEngine(Protocol):
    #: Whether step() honours force_listen; if not, the session turns FORCE_LISTEN into a break (and logs it).
    supports_force_listen: bool

    def load(self) -> None:
        """Load or connect; raise BackendSetupError saying what to change."""

    def close(self) -> None: ...

    def prepare(self, prompt: SystemPrompt, ref_audio: Optional[np.ndarray]) -> Optional[str]:
        """Start a fresh context with this prompt; may return the prompt text as the runtime got it."""

    def step(self, unit: ModelUnit) -> UnitResult: ...

    def request_break(self) -> None:
        """Stop the current turn now (thread-safe); the session prepares again before the next unit."""

    def end_session(self) -> None: ...
