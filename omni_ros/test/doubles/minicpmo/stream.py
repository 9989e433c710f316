"""Shared helpers of the MiniCPM-o backend tests (chunks with coloured frames, options)."""

from __future__ import annotations

import numpy as np

from omni_ros.data import Chunk, Frame

GREEN_WATCH = 'tell me when the light turns green'


def frame(color: str = 'red', w: int = 1280, h: int = 720, value: int = 200) -> np.ndarray:
    img = np.zeros((h, w, 3), np.uint8)
    img[..., {'red': 0, 'green': 1, 'blue': 2}[color]] = value
    return img


def chunk(i: int, color: str = 'red', n_frames: int = 1, audio: np.ndarray | None = None,
          new_stream: bool = False) -> Chunk:
    a = np.zeros(16000, np.float32) if audio is None else audio
    frames = tuple(Frame(i + k / max(n_frames, 1), frame(color)) for k in range(n_frames))
    return Chunk(index=i, start=float(i), duration=1.0, sample_rate=16000, audio=a, frames=frames,
                 new_stream=new_stream)


def ramp(i: int) -> np.ndarray:
    """Audio whose samples identify their position in the stream (checks order and continuity)."""
    return ((np.arange(16000, dtype=np.float32) + 16000 * i) % 1000 / 2000.0).astype(np.float32)
