"""Small image helpers shared by the vision perceptions (OpenCV is imported by setup() callers only)."""

from __future__ import annotations

from typing import Any

import numpy as np

from omni_ros.backends.cpu.deps import require_module
from omni_ros.data import ImageArray


def downscale(cv2: Any, image: ImageArray, max_width: int) -> tuple[ImageArray, float]:
    """``image`` no wider than ``max_width`` and the factor applied (detectors cost grows with pixels)."""
    h, w = image.shape[:2]
    if w <= max_width:
        return image, 1.0
    scale = max_width / w
    return cv2.resize(image, (max_width, max(1, round(h * scale))), interpolation=cv2.INTER_AREA), scale


def is_dark(image: ImageArray, level: float = 12.0) -> bool:
    """A black frame (lens covered, lights off): nothing to detect, and detectors must not guess."""
    return float(np.asarray(image[::8, ::8]).mean()) < level


class ChangeGate:
    """Whether a frame differs from the one an expensive detector last ran on.

    A robot waiting at a crossing or in a lift sees the same picture for many seconds: rerunning OCR or
    the people detector on it only repeats the last answer. Differences are measured on a small blurred
    grey thumbnail so sensor noise does not count, while a person or a sign appearing does. A changed
    picture gets a second look on the next allowed chunk: one missed detection of someone who just
    came in would otherwise stand until ``max_age``.
    """

    def __init__(self, cv2: Any, max_age: int = 5, pixel_delta: int = 15, changed_fraction: float = 0.001) -> None:
        self._cv2 = cv2
        self.max_age = max_age
        self.pixel_delta = pixel_delta
        self.changed_fraction = changed_fraction
        self._ref: np.ndarray | None = None
        self._age = 0
        self._second_look = False

    def reset(self) -> None:
        self._ref = None
        self._age = 0
        self._second_look = False

    def _thumb(self, image: ImageArray) -> np.ndarray:
        gray = self._cv2.cvtColor(image, self._cv2.COLOR_RGB2GRAY)
        small: np.ndarray = self._cv2.resize(gray, (160, 120), interpolation=self._cv2.INTER_AREA)
        return small.astype(np.int16)

    def should_run(self, image: ImageArray, min_age: int = 1) -> bool:
        """True when the detector should run on ``image`` (then call ``ran``); ``min_age`` rate-limits."""
        self._age += 1
        if self._ref is None or self._age >= self.max_age:
            return self._age >= min_age or self._ref is None
        if self._age < min_age:
            return False
        return self._second_look or self._changed(self._thumb(image))

    def _changed(self, thumb: np.ndarray) -> bool:
        return float((np.abs(thumb - self._ref) > self.pixel_delta).mean()) > self.changed_fraction

    def ran(self, image: ImageArray) -> None:
        thumb = self._thumb(image)
        self._second_look = self._ref is None or self._changed(thumb)
        self._ref = thumb
        self._age = 0


class HsvDetector:
    """Base of the detectors that look at a downscaled HSV copy of the frame (lamps, segment digits)."""

    def __init__(self, max_width: int) -> None:
        self.max_width = max_width
        self._cv2: Any = None

    def setup(self) -> None:
        self._cv2 = require_module('cv2', 'opencv-python-headless')

    def close(self) -> None:
        self._cv2 = None

    def _hsv(self, image: ImageArray) -> tuple[Any, ImageArray, float]:
        """OpenCV, the HSV frame no wider than ``max_width``, and the scale applied to get it."""
        cv2 = self._cv2
        assert cv2 is not None, f'{type(self).__name__}.setup() was not called'
        small, scale = downscale(cv2, image, self.max_width)
        return cv2, cv2.cvtColor(small, cv2.COLOR_RGB2HSV), scale
