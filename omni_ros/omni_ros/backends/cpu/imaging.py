"""Small image helpers shared by the vision perceptions (OpenCV is imported by setup() callers only)."""

from __future__ import annotations

import numpy as np

from omni_ros.types import ImageArray


def downscale(cv2, image: ImageArray, max_width: int) -> tuple[ImageArray, float]:
    """``image`` no wider than ``max_width`` and the factor applied (detectors cost grows with pixels)."""
    h, w = image.shape[:2]
    if w <= max_width:
        return image, 1.0
    scale = max_width / w
    return cv2.resize(image, (max_width, max(1, round(h * scale))), interpolation=cv2.INTER_AREA), scale


def is_dark(image: ImageArray, level: float = 12.0) -> bool:
    """A black frame (lens covered, lights off): nothing to detect, and detectors must not guess."""
    return float(np.asarray(image[::8, ::8]).mean()) < level
