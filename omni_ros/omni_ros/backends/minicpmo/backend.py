"""``minicpmo`` backend: MiniCPM-o 4.5 full duplex through transformers on a CUDA GPU."""

from __future__ import annotations

import importlib.util

from omni_ros.backends.minicpmo.hf_engine import TransformersEngine
from omni_ros.backends.minicpmo.options import MiniCPMoConfig
from omni_ros.backends.minicpmo.session import DuplexSessionBackend


class MiniCPMoBackend(DuplexSessionBackend[MiniCPMoConfig]):
    """Settings: MiniCPMoConfig (see options.py).

    Read-only extras for the node: ``stats`` (RealtimeStats), ``system_prompt``, ``watch_tag(id)``.
    """

    name = 'minicpmo'
    Config = MiniCPMoConfig

    def __init__(self, config: MiniCPMoConfig | None = None) -> None:
        super().__init__(config or MiniCPMoConfig())

    @classmethod
    def usable(cls, config: MiniCPMoConfig) -> bool:
        """Cheap check for backend 'auto': a model path is set and the optional packages are installed."""
        return bool(config.model_path) and all(
            importlib.util.find_spec(m) is not None for m in ('torch', 'transformers'))

    def reconfigure(self, config: MiniCPMoConfig) -> None:
        """A live change (``Change.LIVE`` in MiniCPMoConfig: ``persona``), between feed() calls.

        The model takes no text mid-session, so a new persona re-prepares the session with it: deferred
        while the model is speaking and carrying the recent turns, as a watch change does.
        """
        old, self.config = self.config, config
        if config.persona != old.persona:
            self._book.persona = config.persona
            self._mark_dirty('persona changed')

    def _make_engine(self) -> TransformersEngine:
        return TransformersEngine(self.config, self.name)
