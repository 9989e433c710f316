"""Chunk -> model unit conversion: 16 kHz float32 mono audio of the exact unit length, PIL frames.

Kept free of torch so the llama.cpp-omni client and the benchmark share it. PIL is imported lazily
(it is a core dependency, but importing it costs ~50 ms the CPU path does not need to pay).
"""

from __future__ import annotations

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


def stacked_layout(sizes: Sequence[tuple[int, int]], line_width: int = 6) -> tuple[int, int]:
    """(rows, cols) of upstream's stacked image for frames of these sizes.

    minicpmo-utils ``minicpmo/utils.py`` (concat_images): 2 frames side by side or one above the other and
    3 frames in a row or a column, whichever canvas is closer to square (2 frames with equally square
    canvases: side by side when the frames are landscape); 4 frames 2x2; any other count one row.
    """
    n = len(sizes)
    if n == 4:
        return 2, 2
    if n not in (2, 3):
        return 1, max(n, 1)
    cw, ch = max(w for w, _ in sizes), max(h for _, h in sizes)

    def off_square(rows: int, cols: int) -> float:
        return abs((cols * cw + (cols - 1) * line_width) / max(1, rows * ch + (rows - 1) * line_width) - 1.0)

    wide, tall = (1, n), (n, 1)
    if n == 2 and off_square(*wide) == off_square(*tall):
        mean_aspect = sum(w / max(1, h) for w, h in sizes) / n
        return wide if mean_aspect >= 1.0 else tall
    return wide if off_square(*wide) <= off_square(*tall) else tall


def stack_images(images: Sequence[Any], line_width: int = 6) -> Any:
    """The later frames of one second as one image, laid out as upstream trains its "high refresh" mode.

    Each cell is as large as the largest frame (frames of another size are letterboxed into it, centred on
    white); cells are separated by ``line_width`` black pixels, no outer border. Facts from minicpmo-utils
    ``minicpmo/utils.py:29-131``; test_minicpmo_upstream.py compares the result with that function.
    """
    from PIL import Image
    if not images:
        raise ValueError('stack_images needs at least one image')
    arrays = [np.asarray(im) for im in images if not isinstance(im, Image.Image)]
    if len(arrays) == len(images) and all(a.dtype == np.uint8 and a.ndim == 3 and a.shape[2] == 3
                                          and a.shape == arrays[0].shape for a in arrays):
        # Camera frames of one size (the usual case): compose in numpy, one conversion at the end.
        h, w = arrays[0].shape[:2]
        rows, cols = stacked_layout([(w, h)] * len(arrays), line_width)
        grid = np.zeros((rows * h + (rows - 1) * line_width, cols * w + (cols - 1) * line_width, 3), np.uint8)
        for i, a in enumerate(arrays[:rows * cols]):
            r, c = divmod(i, cols)
            grid[r * (h + line_width):r * (h + line_width) + h, c * (w + line_width):c * (w + line_width) + w] = a
        return Image.fromarray(grid, 'RGB')
    pics = [to_pil(im) if not isinstance(im, Image.Image) else im.convert('RGB') for im in images]
    rows, cols = stacked_layout([p.size for p in pics], line_width)
    cw, ch = max(p.width for p in pics), max(p.height for p in pics)
    canvas = Image.new('RGB', (cols * cw + (cols - 1) * line_width, rows * ch + (rows - 1) * line_width), (0, 0, 0))
    for i, pic in enumerate(pics[:rows * cols]):
        if pic.size != (cw, ch):
            scale = min(cw / pic.width, ch / pic.height)
            nw, nh = max(1, int(round(pic.width * scale))), max(1, int(round(pic.height * scale)))
            cell = Image.new('RGB', (cw, ch), (255, 255, 255))
            cell.paste(pic.resize((nw, nh), Image.Resampling.BICUBIC), ((cw - nw) // 2, (ch - nh) // 2))
            pic = cell
        r, c = divmod(i, cols)
        canvas.paste(pic, (c * (cw + line_width), r * (ch + line_width)))
    return canvas


@dataclass
class FrameSelector:
    """Chooses the unit's frames as upstream lays out a second: the first frame is the main image, the later
    ones (at most ``stacked - 1``) are stacked into one image (high-refresh mode).

    A unit without any frame reuses the newest frame seen so far (the camera is slower than 1 Hz or dropped
    a frame); before the first frame ever, units are audio-only (empty frame list).
    """

    stacked: int = 1
    last_seen: Any = None  # newest frame of the last unit that had any (array, converted when reused)
    held_frames: int = field(default=0)  # units that reused the previous frame

    def frames(self, chunk: Chunk, with_grid: bool = True) -> list[Any]:
        images = [f.image for f in chunk.frames]
        if not images:
            if self.last_seen is None:
                return []
            self.held_frames += 1
            return [to_pil(self.last_seen)]
        self.last_seen = images[-1]
        out = [to_pil(images[0])]
        later = images[1:]
        if self.stacked > 1 and with_grid and later:
            if len(later) > self.stacked - 1:  # more frames than slots: evenly spaced ones, in time order
                step = len(later) / (self.stacked - 1)
                later = [later[int(k * step)] for k in range(self.stacked - 1)]
            out.append(stack_images(later))
        return out

    def reset(self) -> None:
        self.last_seen = None
