"""Chunk -> model unit conversion: 16 kHz float32 mono audio of the exact unit length, PIL frames.

Kept free of torch so the llama.cpp-omni client and the benchmark share it. PIL is imported lazily
(it is a core dependency, but importing it costs ~50 ms the CPU path does not need to pay).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from omni_ros.data import Chunk, FloatArray, ImageArray

MODEL_RATE = 16000


def resample_linear(samples: np.ndarray, src_rate: int, dst_rate: int) -> FloatArray:
    """Linear-interpolation resampling: enough for a reference voice or a mis-rated chunk (rare paths)."""
    x = np.asarray(samples, dtype=np.float32)
    if src_rate == dst_rate or x.size == 0:
        return x.astype(np.float32, copy=False)
    n_out = int(round(x.size * dst_rate / src_rate))
    t = np.arange(n_out, dtype=np.float64) * (src_rate / dst_rate)
    return np.interp(t, np.arange(x.size), x).astype(np.float32)


def to_mono_float32(samples: np.ndarray) -> FloatArray:
    x = np.asarray(samples)
    if x.ndim == 2:  # (frames, channels) as WAV readers give it
        x = x.mean(axis=1)
    if np.issubdtype(x.dtype, np.integer):
        x = x.astype(np.float32) / float(np.iinfo(x.dtype).max)
    return np.ascontiguousarray(x, dtype=np.float32)


@dataclass
class UnitAudio:
    """Cuts chunk audio into model units.

    The first unit after each prepare must be ``first_ms`` long (1035 ms upstream) while chunks are
    ``chunk_ms``: the difference is zero-padded in front of the first chunk, so every received sample
    reaches the model exactly once and in order (no carry, no added latency).
    """

    chunk_ms: int = 1000
    first_ms: int = 1035
    rate: int = MODEL_RATE
    first_pending: bool = True
    padded_samples: int = 0  # samples of audio trimmed or padded because a chunk had the wrong length

    @property
    def chunk_samples(self) -> int:
        return self.rate * self.chunk_ms // 1000

    @property
    def first_samples(self) -> int:
        return self.rate * self.first_ms // 1000

    def restart(self) -> None:
        """Call after every prepare(): the next unit is a first unit again."""
        self.first_pending = True

    def unit(self, chunk: Chunk) -> FloatArray:
        audio = to_mono_float32(chunk.audio)
        if chunk.sample_rate != self.rate:
            audio = resample_linear(audio, chunk.sample_rate, self.rate)
        n = self.chunk_samples
        if audio.size != n:
            self.padded_samples += abs(audio.size - n)
            audio = audio[:n] if audio.size > n else np.pad(audio, (0, n - audio.size))
        if self.first_pending:
            lead = self.first_samples - n
            if lead > 0:
                audio = np.concatenate((np.zeros(lead, np.float32), audio))
        return np.ascontiguousarray(audio, dtype=np.float32)

    def silent_unit(self) -> FloatArray:
        return np.zeros(self.first_samples if self.first_pending else self.chunk_samples, np.float32)

    def consumed(self) -> None:
        """The unit was given to the model (a skipped unit does not use up the first-unit padding)."""
        self.first_pending = False


def to_pil(image: ImageArray) -> Any:
    from PIL import Image
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.shape[2] == 4:
        arr = arr[:, :, :3]
    return Image.fromarray(np.ascontiguousarray(arr), 'RGB')


def grid_image(images: Sequence[ImageArray], width: int, height: int) -> Any:
    """One image holding ``images`` in time order, two per row, each at half the main frame's size.

    Upstream's "high refresh" mode feeds the other frames of a second as one stacked image; a grid at
    half resolution keeps it at most one main frame in size, so it costs one image slice.
    """
    from PIL import Image
    cols = 2
    rows = math.ceil(len(images) / cols)
    cell_w, cell_h = max(1, width // 2), max(1, height // 2)
    grid = Image.new('RGB', (cell_w * cols, cell_h * rows))
    for i, img in enumerate(images):
        cell = to_pil(img)
        if cell.size != (cell_w, cell_h):
            # reduce() by an integer factor is much cheaper than a general resize for the usual 2x case.
            if cell.size == (cell_w * 2, cell_h * 2):
                cell = cell.reduce(2)
            else:
                cell = cell.resize((cell_w, cell_h), Image.BILINEAR)
        grid.paste(cell, ((i % cols) * cell_w, (i // cols) * cell_h))
    return grid


@dataclass
class FrameSelector:
    """Chooses the unit's frames: the newest as the main frame, the ones before it for the grid.

    A unit without any frame reuses the last main frame (the camera is slower than 1 Hz or dropped a
    frame); before the first frame ever, units are audio-only (empty frame list).
    """

    stacked: int = 1
    last_main: Any = None
    held_frames: int = field(default=0)  # units that reused the previous frame

    def frames(self, chunk: Chunk, with_grid: bool = True) -> list[Any]:
        images = [f.image for f in chunk.frames]
        if not images:
            if self.last_main is None:
                return []
            self.held_frames += 1
            return [self.last_main]
        main = to_pil(images[-1])
        self.last_main = main
        out = [main]
        if self.stacked > 1 and with_grid:
            others = images[-self.stacked:-1]
            if others:
                out.append(grid_image(others, main.width, main.height))
        return out

    def reset(self) -> None:
        self.last_main = None
