"""``llamacpp_omni`` backend: MiniCPM-o 4.5 GGUF on a local llama.cpp-omni server (PCs, edge boxes)."""

from __future__ import annotations

from typing import Any, Mapping

from omni_ros.backends.llamacpp_omni.engine import LlamaCppOmniEngine
from omni_ros.backends.llamacpp_omni.options import OPTIONS
from omni_ros.backends.minicpmo.session import DuplexSessionBackend


class LlamaCppOmniBackend(DuplexSessionBackend):
    """Same watch / ask / interrupt / pacing behaviour as ``minicpmo`` (shared DuplexSessionBackend)."""

    name = 'llamacpp_omni'
    OPTIONS = OPTIONS

    @classmethod
    def usable(cls, options: Mapping[str, Any]) -> bool:
        """For backend 'auto': configured (no network probe here; setup() reports an unreachable server)."""
        return bool(options.get('server_url')) and bool(options.get('model_dir'))

    def _make_engine(self) -> LlamaCppOmniEngine:
        return LlamaCppOmniEngine(self._opts, self.name)
