"""Traffic-light colour states from colour segmentation of lit, round, bright blobs.

A lit lamp is saturated, bright, round and brighter than its surroundings (the housing), and sits in a
housing stacked with other lenses: right above or below it looks unlike the scene beside the light,
where a beacon or a lamp on a wall has just more wall. Thresholds are relative to the frame where possible
so a dim or bright scene does not change the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from omni_ros.backends.cpu.imaging import HsvDetector
from omni_ros.data import ImageArray

# OpenCV hue is 0..180. Traffic greens are often blue-green, so green reaches into cyan.
_HUES = {'red': ((0, 10), (165, 180)), 'yellow': ((12, 36),), 'green': ((40, 100),)}
# Below this brightness (0..255) around the lamp, the picture is too dark to see a housing at all.
_PITCH_DARK = 8.0
# How much the housing must differ from the scene beside the light (or within itself), relative to the
# brighter of the two.
_HOUSING_CONTRAST = 0.4


@dataclass(frozen=True)
class Lamp:
    color: str
    x: float
    y: float
    radius: float
    confidence: float


class LightDetector(HsvDetector):
    def __init__(self, min_saturation: int = 120, min_value: int = 140, min_radius_px: float = 3.0,
                 max_width: int = 640) -> None:
        super().__init__(max_width)
        self.min_saturation = min_saturation
        self.min_value = min_value
        self.min_radius_px = min_radius_px

    def detect(self, image: ImageArray) -> list[Lamp]:
        cv2, hsv, scale = self._hsv(image)
        h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
        # Lit means among the brightest pixels of this frame, and bright in absolute terms too.
        v_thr = max(self.min_value, int(np.percentile(v, 99.5) * 0.7))
        bright = (s >= self.min_saturation) & (v >= v_thr)
        if not bright.any():
            return []
        smooth = cv2.blur(v, (5, 5))  # for the housing check: sensor noise must not look like structure
        lamps: list[Lamp] = []
        for color, ranges in _HUES.items():
            hue_ok = np.zeros_like(bright)
            for lo, hi in ranges:
                hue_ok |= (h >= lo) & (h <= hi)
            mask = (bright & hue_ok).astype(np.uint8)
            if not mask.any():
                continue
            mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
            contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            for contour in contours:
                lamp = self._lamp(cv2, contour, color, v, smooth)
                if lamp is not None:
                    lamps.append(Lamp(color, lamp.x / scale, lamp.y / scale, lamp.radius / scale, lamp.confidence))
        return lamps

    def _lamp(self, cv2: Any, contour: Any, color: str, v: np.ndarray, smooth: np.ndarray) -> Lamp | None:
        area = cv2.contourArea(contour)
        (cx, cy), radius = cv2.minEnclosingCircle(contour)
        if radius < self.min_radius_px or area < 12:
            return None
        perimeter = cv2.arcLength(contour, True)
        circularity = 4 * np.pi * area / max(perimeter * perimeter, 1e-6)
        fill = area / (np.pi * radius * radius)
        if circularity < 0.55 or fill < 0.5:
            return None
        # Brighter than a ring around it: a lamp in a housing, not a patch of coloured wall.
        hgt, wid = v.shape
        r_in, r_out = radius * 1.2, radius * 1.6
        x0, x1 = max(0, int(cx - r_out)), min(wid, int(cx + r_out) + 1)
        y0, y1 = max(0, int(cy - r_out)), min(hgt, int(cy + r_out) + 1)
        yy, xx = np.mgrid[y0:y1, x0:x1]
        d2 = (xx - cx) ** 2 + (yy - cy) ** 2
        inner = v[y0:y1, x0:x1][d2 <= (radius * 0.8) ** 2]
        ring = v[y0:y1, x0:x1][(d2 >= r_in ** 2) & (d2 <= r_out ** 2)]
        if inner.size == 0 or ring.size == 0:
            return None
        # Most of the ring is housing even where the housing is narrow, so its darker part decides.
        contrast = (float(inner.mean()) - float(np.percentile(ring, 30))) / max(float(inner.mean()), 1.0)
        if contrast < 0.45 or not _housed(smooth, cx, cy, radius):
            return None
        confidence = float(min(1.0, 0.5 * min(circularity, 1.0) + 0.5 * min(contrast / 0.6, 1.0)))
        return Lamp(color, cx, cy, radius, confidence)

    def states(self, image: ImageArray) -> dict[str, float]:
        """Lit colour -> best confidence."""
        out: dict[str, float] = {}
        for lamp in self.detect(image):
            out[lamp.color] = max(out.get(lamp.color, 0.0), lamp.confidence)
        return out


def _housed(v: np.ndarray, cx: float, cy: float, r: float) -> bool:
    """Whether the lamp at (cx, cy) sits in a traffic light's housing.

    Right above or below a lamp (past its glow) are the housing and the next lens: darker than the scene
    beside the light (a black housing by day) or not uniform (a lens against the housing in a dim room).
    A beacon or a lamp on a wall has just more wall there. ``v`` is the blurred brightness. A light at
    the frame's edge or in a pitch-dark picture is given the benefit of the doubt.
    """
    height, width = v.shape

    def patch(x0: float, x1: float, y0: float, y1: float) -> np.ndarray | None:
        x0, x1 = max(int(x0), 0), min(int(x1), width)
        y0, y1 = max(int(y0), 0), min(int(y1), height)
        return v[y0:y1, x0:x1].astype(np.float32) if x1 - x0 >= 2 and y1 - y0 >= 2 else None

    # Beside: past the housing's edge, about 1.4 radii from the lamp's centre; the brighter side is the
    # background even when something dark stands on the other.
    beside = [float(p.mean()) for p in (patch(cx - 3.2 * r, cx - 2.2 * r, cy - r, cy + r),
                                        patch(cx + 2.2 * r, cx + 3.2 * r, cy - r, cy + r)) if p is not None]
    stacked = [p for p in (patch(cx - 1.2 * r, cx + 1.2 * r, cy - 3.6 * r, cy - 1.8 * r),
                           patch(cx - 1.2 * r, cx + 1.2 * r, cy + 1.8 * r, cy + 3.6 * r)) if p is not None]
    if not beside or not stacked:
        return True
    background = max(beside)
    for p in stacked:
        low, high = np.percentile(p, (10, 90))
        scale = max(background, float(high))
        if scale < _PITCH_DARK:
            return True
        if max(abs(float(p.mean()) - background), high - low) >= _HOUSING_CONTRAST * scale:
            return True
    return False
