"""People and faces: OpenCV's HOG people detector and frontal-face Haar cascade (OpenCV < 5 ships both).

A traffic light on its pole has a person's outline to HOG (it scores as high as real people), so a HOG
box with a lit traffic-light lamp where a head and shoulders would be is not counted.
"""

from __future__ import annotations

from typing import Any
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from omni_ros.backends.cpu.deps import require_module
from omni_ros.backends.cpu.imaging import downscale, is_dark
from omni_ros.backends.cpu.lights import LightDetector
from omni_ros.errors import BackendSetupError
from omni_ros.data import ImageArray


@dataclass(frozen=True)
class PeopleResult:
    people: int
    faces: int
    confidence: float


# HOG looks for a person about 96 px tall in a 64x128 window over shrinking copies of the picture; the
# copy stops shrinking once it is shorter than the window, so a border (this fraction of the height, top
# and bottom) lets someone close to the camera, head to feet in the frame, still fit.
_HOG_BORDER = 0.13
_HEAD_AND_SHOULDERS = 0.6  # the upper part of a HOG box where a lit lamp means a traffic light


class PeopleDetector:
    def __init__(self, hog_threshold: float = 0.5, hog_width: int = 320, face_width: int = 480,
                 faces: bool = True) -> None:
        self.hog_threshold = hog_threshold
        # 320 px wide still finds people a quarter of a 640x480 frame tall, at half the cost of 480.
        self.hog_width = hog_width
        self.face_width = face_width  # frontal faces need >= 24 px at this scale
        self.use_faces = faces
        self._lamps = LightDetector()
        self._cv2: Any = None
        self._hog: Any = None
        self._faces: Any = None

    def setup(self) -> None:
        cv2 = require_module('cv2', 'opencv-python-headless')
        if not hasattr(cv2, 'HOGDescriptor') or not hasattr(cv2, 'data'):
            raise BackendSetupError(
                f'OpenCV {cv2.__version__} has no HOG people detector or Haar files; '
                'install opencv-python-headless<5 (requirements/cpu.txt pins 4.14.0.94)')
        self._cv2 = cv2
        self._lamps.setup()
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        if self.use_faces:
            path = Path(cv2.data.haarcascades) / 'haarcascade_frontalface_default.xml'
            if not path.exists():
                raise BackendSetupError(
                    f'{path} is missing; install opencv-python-headless<5 (5.x dropped the Haar files)')
            self._faces = cv2.CascadeClassifier(str(path))

    def close(self) -> None:
        self._lamps.close()
        self._hog = self._faces = self._cv2 = None

    def detect(self, image: ImageArray) -> PeopleResult:
        cv2 = self._cv2
        assert cv2 is not None and self._hog is not None, 'PeopleDetector.setup() was not called'
        if is_dark(image):
            return PeopleResult(0, 0, 0.0)
        gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        small, scale = downscale(cv2, gray, self.hog_width)
        border = round(small.shape[0] * _HOG_BORDER)
        padded = cv2.copyMakeBorder(small, border, border, border // 2, border // 2, cv2.BORDER_REPLICATE)
        rects, weights = self._hog.detectMultiScale(padded, winStride=(8, 8), padding=(8, 8), scale=1.05)
        weights = np.asarray(weights, dtype=float).reshape(-1)
        lamps = self._lamps.detect(image) if len(weights) else []
        boxes, scores = [], []
        for (x, y, w, h), weight in zip(rects, weights):
            # Back to the input image's pixels: undo the border, then the shrinking.
            x0, y0, w, h = (x - border // 2) / scale, (y - border) / scale, w / scale, h / scale
            if weight < self.hog_threshold or any(
                    x0 <= lamp.x <= x0 + w and y0 <= lamp.y <= y0 + h * _HEAD_AND_SHOULDERS for lamp in lamps):
                continue
            boxes.append([int(x0), int(y0), int(w), int(h)])
            scores.append(float(weight))
        people = len(np.asarray(cv2.dnn.NMSBoxes(boxes, scores, self.hog_threshold, 0.4)).reshape(-1)) if boxes else 0
        best = max(scores, default=0.0)
        faces = 0
        if self._faces is not None:
            face_image, _ = downscale(cv2, gray, self.face_width)
            faces = len(self._faces.detectMultiScale(face_image, scaleFactor=1.1, minNeighbors=6, minSize=(24, 24)))
        confidence = min(1.0, 0.5 + best / 2) if people else (0.7 if faces else 0.0)
        return PeopleResult(people, faces, confidence)



class PeopleCounter:
    """How many people are steadily in view: the fewest and most counted over the last ``window`` seconds.

    A count holds only when every look in the window agrees (at least ``min_looks`` of them), so someone
    walking past the camera, or one look that misses someone, does not change it. The looks belong to
    the stream: at one frame a second the window is this frame and the one before; at a faster rate the
    same span holds more looks.
    """

    def __init__(self, window: float = 1.5, min_looks: int = 2) -> None:
        self.window = window
        self.min_looks = min_looks
        self._looks: deque[tuple[float, int]] = deque()

    def reset(self) -> None:
        self._looks.clear()

    def update(self, stamp: float, count: int) -> tuple[int, int] | None:
        """Add a look at ``stamp``; the (fewest, most) of the window, or None while it holds too few."""
        if self._looks and stamp <= self._looks[-1][0]:
            self._looks.clear()  # time went back: a new stream
        self._looks.append((stamp, count))
        while self._looks and self._looks[0][0] < stamp - self.window:
            self._looks.popleft()
        if len(self._looks) < self.min_looks:
            return None
        counts = [c for _, c in self._looks]
        return min(counts), max(counts)
