"""The CPU backend: small offline models (silero VAD, pocketsphinx, Whisper tiny.en, rapidocr, OpenCV,
flite) and DSP, for machines without a GPU. Heavy imports happen in setup(), not here."""

from __future__ import annotations

from omni_ros.backends.cpu.backend import CpuBackend

__all__ = ['CpuBackend']
