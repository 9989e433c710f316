"""People and faces: OpenCV's HOG people detector and frontal-face Haar cascade (OpenCV < 5 ships both)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from omni_ros.backends.cpu.deps import require_module
from omni_ros.backends.cpu.imaging import is_dark
from omni_ros.errors import BackendSetupError
from omni_ros.types import ImageArray


@dataclass(frozen=True)
class PeopleResult:
    people: int
    faces: int
    confidence: float


class PeopleDetector:
    def __init__(self, hog_threshold: float = 0.5, work_width: int = 480, faces: bool = True) -> None:
        self.hog_threshold = hog_threshold
        # HOG needs people >= 128 px tall at the working scale; 480 px wide keeps 640x480 cheap.
        self.work_width = work_width
        self.use_faces = faces
        self._cv2 = None
        self._hog = None
        self._faces = None

    def setup(self) -> None:
        cv2 = require_module('cv2', 'opencv-python-headless')
        if not hasattr(cv2, 'HOGDescriptor') or not hasattr(cv2, 'data'):
            raise BackendSetupError(
                f'OpenCV {cv2.__version__} has no HOG people detector or Haar files; '
                'install opencv-python-headless<5 (requirements/cpu.txt pins 4.14.0.94)')
        self._cv2 = cv2
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        if self.use_faces:
            path = Path(cv2.data.haarcascades) / 'haarcascade_frontalface_default.xml'
            if not path.exists():
                raise BackendSetupError(
                    f'{path} is missing; install opencv-python-headless<5 (5.x dropped the Haar files)')
            self._faces = cv2.CascadeClassifier(str(path))

    def close(self) -> None:
        self._hog = self._faces = self._cv2 = None

    def detect(self, image: ImageArray) -> PeopleResult:
        cv2 = self._cv2
        assert cv2 is not None and self._hog is not None, 'PeopleDetector.setup() was not called'
        if is_dark(image):
            return PeopleResult(0, 0, 0.0)
        gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        h, w = gray.shape
        scale = self.work_width / w
        small = cv2.resize(gray, (self.work_width, round(h * scale)), interpolation=cv2.INTER_AREA) \
            if scale < 1 else gray
        rects, weights = self._hog.detectMultiScale(small, winStride=(8, 8), padding=(8, 8), scale=1.05)
        weights = np.asarray(weights, dtype=float).reshape(-1)
        keep = [i for i, wt in enumerate(weights) if wt >= self.hog_threshold]
        people = 0
        best = 0.0
        if keep:
            boxes = [list(map(int, rects[i])) for i in keep]
            picked = cv2.dnn.NMSBoxes(boxes, [float(weights[i]) for i in keep], self.hog_threshold, 0.4)
            people = len(np.asarray(picked).reshape(-1))
            best = float(max(weights[i] for i in keep))
        faces = 0
        if self._faces is not None:
            found = self._faces.detectMultiScale(small, scaleFactor=1.1, minNeighbors=6, minSize=(24, 24))
            faces = len(found)
        confidence = min(1.0, 0.5 + best / 2) if people else (0.7 if faces else 0.0)
        return PeopleResult(people, faces, confidence)
