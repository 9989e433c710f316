"""``minicpmo`` backend: MiniCPM-o 4.5 full duplex through transformers on a CUDA GPU."""

from __future__ import annotations

import importlib.util
from typing import Any, Mapping

from omni_ros.backends.minicpmo.hf_engine import TransformersEngine
from omni_ros.backends.minicpmo.options import DUPLEX_OPTIONS, MODEL_OPTIONS, SESSION_OPTIONS
from omni_ros.backends.minicpmo.session import DuplexSessionBackend


class MiniCPMoBackend(DuplexSessionBackend):
    """Options: MODEL_OPTIONS + DUPLEX_OPTIONS + SESSION_OPTIONS (see options.py).

    Read-only extras for the node: ``stats`` (RealtimeStats), ``system_prompt``, ``watch_tag(id)``.
    """

    name = 'minicpmo'
    OPTIONS = MODEL_OPTIONS + DUPLEX_OPTIONS + SESSION_OPTIONS

    @classmethod
    def usable(cls, options: Mapping[str, Any]) -> bool:
        """Cheap check for backend 'auto': a model path is set and the optional packages are installed."""
        return bool(options.get('model_path')) and all(
            importlib.util.find_spec(m) is not None for m in ('torch', 'transformers'))

    def _make_engine(self) -> TransformersEngine:
        return TransformersEngine(self._opts, self.name)
