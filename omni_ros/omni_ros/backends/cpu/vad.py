"""Voice activity from the silero VAD model, run with onnxruntime (its pip package would pull torch)."""

from __future__ import annotations

from typing import Any

from dataclasses import dataclass

import numpy as np

from omni_ros.backends.cpu.deps import package_data, require_module
from omni_ros.data import FloatArray

SAMPLE_RATE = 16000
FRAME = 512  # samples per model step at 16 kHz (32 ms)
_CONTEXT = 64  # the model expects the previous step's last 64 samples in front of each step


@dataclass(frozen=True)
class VadResult:
    """Speech probability per 32 ms frame of one chunk (frame i covers samples [i*512, (i+1)*512))."""

    probs: FloatArray
    threshold: float

    @property
    def speech(self) -> np.ndarray:
        return self.probs >= self.threshold

    @property
    def speech_fraction(self) -> float:
        return float(self.speech.mean()) if len(self.probs) else 0.0


class SileroVad:
    """Streaming VAD: keeps the recurrent state and a sample carry-over across chunks."""

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = threshold
        self._session: Any = None
        self._state = np.zeros((2, 1, 128), np.float32)
        self._context = np.zeros(_CONTEXT, np.float32)
        self._carry = np.zeros(0, np.float32)

    def setup(self) -> None:
        ort = require_module('onnxruntime', 'onnxruntime')
        model = package_data('silero_vad', 'data/silero_vad.onnx', 'silero-vad', nodeps=True)
        options = ort.SessionOptions()
        # One thread: the model is tiny and the other perceptions need the second core.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(model), options, providers=['CPUExecutionProvider'])
        self.reset()

    def close(self) -> None:
        self._session = None

    def reset(self) -> None:
        """Forget the stream (new session or a clock jump)."""
        self._state = np.zeros((2, 1, 128), np.float32)
        self._context = np.zeros(_CONTEXT, np.float32)
        self._carry = np.zeros(0, np.float32)

    def process(self, audio: FloatArray) -> VadResult:
        assert self._session is not None, 'SileroVad.setup() was not called'
        samples = np.concatenate([self._carry, np.asarray(audio, np.float32)])
        count = len(samples) // FRAME
        self._carry = samples[count * FRAME:]
        probs = np.zeros(count, np.float32)
        sr = np.array(SAMPLE_RATE, np.int64)
        for i in range(count):
            frame = samples[i * FRAME:(i + 1) * FRAME]
            x = np.concatenate([self._context, frame])[None, :]
            out, self._state = self._session.run(None, {'input': x, 'state': self._state, 'sr': sr})
            probs[i] = out[0, 0]
            self._context = frame[-_CONTEXT:]
        return VadResult(probs, self.threshold)
