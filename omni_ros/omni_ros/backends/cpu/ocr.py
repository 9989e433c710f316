"""Scene text with rapidocr's bundled PP-OCR small models (onnxruntime).

Only default model settings are used: other model choices make rapidocr download weights. Output lines
are upper-cased and filtered to the sign alphabet, and low-score or one-letter reads are dropped, since
clutter produces confident-looking garbage.
"""

from __future__ import annotations

from typing import Any
import logging
import re
from dataclasses import dataclass

from omni_ros.backends.cpu.deps import require_module
from omni_ros.backends.cpu.imaging import downscale
from omni_ros.data import ImageArray

_KEEP = re.compile(r"[^A-Z0-9 &!?'-]")


@dataclass(frozen=True)
class TextLine:
    text: str
    confidence: float


def clean(text: str) -> str:
    return re.sub(r"\s+", ' ', _KEEP.sub(' ', text.upper())).strip()


class SceneText:
    def __init__(self, min_score: float = 0.6, threads: int = 2, width: int = 400) -> None:
        self.min_score = min_score
        self.width = width
        self.threads = threads
        self._engine: Any = None
        self._cv2: Any = None

    def setup(self) -> None:
        rapidocr = require_module('rapidocr', 'rapidocr')
        self._cv2 = require_module('cv2', 'opencv-python-headless')
        logging.getLogger('RapidOCR').setLevel(logging.WARNING)
        self._engine = rapidocr.RapidOCR(params={
            'Global.log_level': 'warning',
            'EngineConfig.onnxruntime.intra_op_num_threads': self.threads,
            'EngineConfig.onnxruntime.inter_op_num_threads': 1,
            # The detector's default scales the short side *up* to 736 px (0.5 s for 640x480); keep the
            # frame's own size instead (read() shrinks it to 'width'). Same bundled models.
            'Det.limit_side_len': 32,
        })

    def close(self) -> None:
        self._engine = None

    def read(self, image: ImageArray) -> list[TextLine]:
        assert self._engine is not None, 'SceneText.setup() was not called'
        small, _ = downscale(self._cv2, image, self.width)  # detector cost grows with pixels
        bgr = self._cv2.cvtColor(small, self._cv2.COLOR_RGB2BGR)
        # Signs are upright for a robot camera: skip the text-orientation classifier (about a third of the cost).
        result = self._engine(bgr, use_cls=False)
        texts = getattr(result, 'txts', None) or ()
        scores = getattr(result, 'scores', None) or ()
        lines = []
        for text, score in zip(texts, scores):
            cleaned = clean(text)
            if score < self.min_score or len(cleaned.replace(' ', '')) < 2 and not cleaned.isdigit():
                continue
            lines.append(TextLine(cleaned, float(score)))
        return lines
