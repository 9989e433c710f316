"""Whether the room is dark or lit, from how bright its surfaces are.

The level is the median brightness (0..255) of a sparse grid of the frame's pixels: lamps, screens
and LED displays are small and do not move the median, so a lamp switched on in a dark room is not the
lights coming on, while the walls and floor they light do. Below ``dark_level`` the room is dark, above
``lit_level`` it is lit; in between (a dimmed room, dusk) the last decided state holds, so a dimmed room
is not dark. The state belongs to the stream: a frame at any rate updates it.

The levels are those of a camera with a fixed exposure. A camera that brightens a dark room by itself
(auto exposure, night mode) makes a dark room look dim: set its exposure, or expect 'dark' only for
near-black pictures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omni_ros.data import ImageArray


@dataclass(frozen=True)
class RoomLight:
    level: float  # median brightness, 0..255
    state: str | None  # dark | lit | None before the first decisive frame


class RoomLightMeter:
    def __init__(self, dark_level: float = 22.0, lit_level: float = 40.0) -> None:
        if not 0 < dark_level < lit_level < 255:
            raise ValueError(f'need 0 < dark_level < lit_level < 255, got {dark_level}, {lit_level}')
        self.dark_level = dark_level
        self.lit_level = lit_level
        self.reset()

    def setup(self) -> None:
        """Pure numpy: nothing to load."""

    def close(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._state: str | None = None

    @staticmethod
    def level(image: ImageArray) -> float:
        grid = np.asarray(image[2::6, 2::6], np.float32)
        gray = grid @ np.array([0.299, 0.587, 0.114], np.float32) if grid.ndim == 3 else grid
        return float(np.median(gray))

    def update(self, image: ImageArray) -> RoomLight:
        level = self.level(image)
        if level < self.dark_level:
            self._state = 'dark'
        elif level > self.lit_level:
            self._state = 'lit'
        return RoomLight(level, self._state)
