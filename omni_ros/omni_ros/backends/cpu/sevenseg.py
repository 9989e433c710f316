"""Seven-segment display reading: find lit segments, group them into digits, decode each digit.

No OCR engine reads segment digits (measured), so this decodes them directly: lit pixels (bright and
saturated, as LEDs are; or bright on a dark panel), digit boxes from lit regions merged across the small
gaps between segments, then seven sample zones per box. Readings are groups of equal-height digits on one
line; any box that does not decode to a digit drops its group, so random bright shapes give nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np

from omni_ros.backends.cpu.imaging import HsvDetector
from omni_ros.data import ImageArray

#            a  b  c  d  e  f  g
_PATTERNS = {
    (1, 1, 1, 1, 1, 1, 0): '0', (0, 1, 1, 0, 0, 0, 0): '1', (1, 1, 0, 1, 1, 0, 1): '2',
    (1, 1, 1, 1, 0, 0, 1): '3', (0, 1, 1, 0, 0, 1, 1): '4', (1, 0, 1, 1, 0, 1, 1): '5',
    (1, 0, 1, 1, 1, 1, 1): '6', (0, 0, 1, 1, 1, 1, 1): '6', (1, 1, 1, 0, 0, 0, 0): '7',
    (1, 1, 1, 0, 0, 1, 0): '7', (1, 1, 1, 1, 1, 1, 1): '8', (1, 1, 1, 1, 0, 1, 1): '9',
    (1, 1, 1, 0, 0, 1, 1): '9',
}
# Sample zones as fractions of the digit box (x0, x1, y0, y1).
_ZONES = (
    (0.3, 0.7, 0.0, 0.14),   # a top
    (0.75, 1.0, 0.18, 0.42),  # b upper right
    (0.75, 1.0, 0.58, 0.82),  # c lower right
    (0.3, 0.7, 0.86, 1.0),   # d bottom
    (0.0, 0.25, 0.58, 0.82),  # e lower left
    (0.0, 0.25, 0.18, 0.42),  # f upper left
    (0.3, 0.7, 0.43, 0.57),  # g middle
)


@dataclass(frozen=True)
class Reading:
    text: str
    confidence: float
    box: tuple[int, int, int, int]  # x, y, w, h in the input image


class SevenSegmentReader(HsvDetector):
    def __init__(self, min_digit_height: int = 14, max_width: int = 640) -> None:
        super().__init__(max_width)
        self.min_digit_height = min_digit_height

    def read(self, image: ImageArray) -> list[Reading]:
        cv2, hsv, scale = self._hsv(image)
        s, v = hsv[..., 1], hsv[..., 2]
        # The brightest small patch (a lone small "1" is a few dozen pixels; blurring drops single hot pixels).
        v_top = float(cv2.blur(v, (3, 3)).max())
        if v_top < 80:
            return []
        readings: list[Reading] = []
        # Coloured LEDs first (red/green/amber), then white-ish segments on a dark panel.
        for mask in ((s >= 80) & (v >= max(100, 0.6 * v_top)), v >= max(150, 0.75 * v_top)):
            found = self._read_mask(cv2, mask.astype(np.uint8), v)
            if found:
                readings = found
                break
        return [Reading(r.text, r.confidence, _box(int(round(c / scale)) for c in r.box)) for r in readings]

    def _read_mask(self, cv2: Any, mask: np.ndarray, v: np.ndarray) -> list[Reading]:
        if int(mask.sum()) < 20:
            return []
        # Work only around lit blobs big enough to be segments: the closings below cost per pixel.
        n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        blobs = stats[1:][stats[1:, cv2.CC_STAT_AREA] >= 6]
        if len(blobs) == 0:
            return []
        pad = 48
        x0 = max(0, int(blobs[:, 0].min()) - pad)
        y0 = max(0, int(blobs[:, 1].min()) - pad)
        x1 = min(mask.shape[1], int((blobs[:, 0] + blobs[:, 2]).max()) + pad)
        y1 = min(mask.shape[0], int((blobs[:, 1] + blobs[:, 3]).max()) + pad)
        readings = self._read_region(cv2, mask[y0:y1, x0:x1], v[y0:y1, x0:x1])
        return [Reading(r.text, r.confidence, (r.box[0] + x0, r.box[1] + y0, r.box[2], r.box[3])) for r in readings]

    def _read_region(self, cv2: Any, mask: np.ndarray, v: np.ndarray) -> list[Reading]:
        found: list[Reading] = []
        # The gap between a digit's upper and lower segments scales with the (unknown) digit size, so try
        # a few closing heights; the width stays a third of it so neighbouring digits do not merge.
        for ky in (3, 5, 8, 12, 18, 27, 40):
            kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (max(1, ky // 3), ky))
            closed = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel)
            n, _, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
            if n > 300:
                continue  # texture, not a display
            boxes = []
            for i in range(1, n):
                x, y, w, h, area = stats[i]
                if h < self.min_digit_height or not (0.08 <= w / h <= 0.85):
                    continue
                if not _on_dark_panel(mask, v, x, y, w, h):
                    continue
                digit, conf = self._decode(mask[y:y + h, x:x + w])
                if digit is not None:
                    boxes.append((x, y, w, h, digit, conf))
            found += _group(boxes)
        # Each display keeps its most complete reading, whichever closing gave it: displays of different
        # digit sizes are best read with different closings.
        best: list[Reading] = []
        for reading in sorted(found, key=lambda r: (len(r.text), r.box[3], r.confidence), reverse=True):
            if not any(_overlap(reading.box, kept.box) for kept in best):
                best.append(reading)
        # The display is the reading with the tallest digits; smaller stray reads come after it.
        return sorted(best, key=lambda r: -r.box[3])

    @staticmethod
    def _decode(cell: np.ndarray) -> tuple[str | None, float]:
        h, w = cell.shape
        fill = float(cell.mean())
        if w < 0.3 * h:
            # A "1" is just the right-hand pair of segments: a tall thin box, mostly lit.
            return ('1', min(1.0, fill * 1.4)) if fill > 0.45 else (None, 0.0)
        if w < 0.4 * h or fill > 0.72:
            return None, 0.0  # neither a "1" nor segments: a solid blob (a face, a lamp, a sign)
        # Segment digits have two unlit holes (between f/b and e/c); every digit but "1" leaves them dark.
        for cy in (0.28, 0.72):
            hole = cell[int((cy - 0.06) * h):int((cy + 0.06) * h) + 1, int(0.4 * w):int(0.6 * w) + 1]
            if hole.size and float(hole.mean()) > 0.2:
                return None, 0.0
        lit = []
        margins = []
        for x0, x1, y0, y1 in _ZONES:
            zone = cell[int(y0 * h):max(int(y1 * h), int(y0 * h) + 1), int(x0 * w):max(int(x1 * w), int(x0 * w) + 1)]
            frac = float(zone.mean()) if zone.size else 0.0
            lit.append(1 if frac >= 0.3 else 0)
            margins.append(abs(frac - 0.3))
        digit = _PATTERNS.get(tuple(lit))  # type: ignore[arg-type]  # seven segments
        if digit is None:
            return None, 0.0
        # Zones far from the on/off threshold mean a clean read.
        return digit, float(min(1.0, 0.5 + float(np.mean(margins))))


def _on_dark_panel(mask: np.ndarray, v: np.ndarray, x: int, y: int, w: int, h: int) -> bool:
    """LED segments glow on a dark panel: the unlit part of the digit cell (widened to a full digit for a
    narrow "1") must be much darker than the lit segments. Rejects thin bright things on bright walls."""
    x0 = max(0, x - int(0.45 * h) + w) if w < 0.3 * h else x
    cell_mask = mask[y:y + h, x0:x + w].astype(bool)
    cell_v = v[y:y + h, x0:x + w]
    if cell_mask.all() or not cell_mask.any():
        return False
    return float(cell_v[~cell_mask].mean()) < 0.45 * float(cell_v[cell_mask].mean())


def _group(boxes: list[tuple[Any, ...]]) -> list[Reading]:
    """Digits of one display: similar height, overlapping rows, close together left to right."""
    boxes = sorted(boxes, key=lambda b: b[0])
    groups: list[list[tuple[Any, ...]]] = []
    for box in boxes:
        x, y, w, h = box[:4]
        for group in groups:
            gx, gy, gw, gh = group[-1][:4]
            same_size = 0.75 <= h / gh <= 1.33
            same_row = abs((y + h / 2) - (gy + gh / 2)) < 0.3 * gh
            close = 0 <= x - (gx + gw) <= 1.0 * gh
            if same_size and same_row and close:
                group.append(box)
                break
        else:
            groups.append([box])
    out = []
    for group in groups:
        x0 = min(b[0] for b in group)
        y0 = min(b[1] for b in group)
        x1 = max(b[0] + b[2] for b in group)
        y1 = max(b[1] + b[3] for b in group)
        text = str(int(''.join(b[4] for b in group)))  # leading blanks/zeros: "07" reads as floor 7
        conf = float(min(b[5] for b in group))
        out.append(Reading(text, conf, (x0, y0, x1 - x0, y1 - y0)))
    return out


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _box(values: Iterable[int]) -> tuple[int, int, int, int]:
    x, y, w, h = values
    return x, y, w, h
