"""``llamacpp_omni`` backend: MiniCPM-o 4.5 GGUF on a local llama.cpp-omni server (PCs, edge boxes)."""

from __future__ import annotations

import logging

from omni_ros.backends.llamacpp_omni.engine import LlamaCppOmniEngine
from omni_ros.backends.llamacpp_omni.options import CHECKED_REVISION, LlamaCppOmniConfig
from omni_ros.backends.minicpmo.options import DEFAULT_PERSONA
from omni_ros.backends.minicpmo.session import DuplexSessionBackend
from omni_ros.errors import BackendSetupError, WatchRejectedError

log = logging.getLogger('omni_ros.llamacpp_omni')


class LlamaCppOmniBackend(DuplexSessionBackend[LlamaCppOmniConfig]):
    """Same watch / ask / interrupt / pacing behaviour as ``minicpmo`` (shared DuplexSessionBackend).

    Watches, questions and the persona reach the model only through the system prompt. A server that keeps
    its built-in prompt (``server_reads_prompt`` false, as the checked revision does) would take them and
    never act on them, so they are refused instead, saying what to upgrade.
    """

    name = 'llamacpp_omni'
    Config = LlamaCppOmniConfig

    def __init__(self, config: LlamaCppOmniConfig | None = None) -> None:
        super().__init__(config or LlamaCppOmniConfig())

    @classmethod
    def usable(cls, config: LlamaCppOmniConfig) -> bool:
        """For backend 'auto': configured (no network probe here; setup() reports an unreachable server)."""
        return bool(config.server_url) and bool(config.model_dir)

    def _make_engine(self) -> LlamaCppOmniEngine:
        return LlamaCppOmniEngine(self.config, self.name)

    def _no_prompt(self, what: str) -> str:
        engine = self.engine
        build = getattr(engine, 'build_info', '') if engine is not None else ''
        server = f'the llama.cpp-omni server at {self.config.server_url}' + (f' (build {build})' if build else '')
        return (f'{what} cannot reach the model: {server} is taken to keep its built-in system prompt, as '
                f'{CHECKED_REVISION} does (update_session_config reads no prompt, server.cpp S:5992-6166; the '
                'prompt is fixed in omni.cpp O:3521). Upgrade llama.cpp-omni to a revision whose omni_init and '
                'update_session_config read voice_clone_prompt and assistant_prompt (the fields OpenBMB\'s '
                f'MiniCPM-o-Demo client sends), then set {self.name}.server_reads_prompt to true')

    def setup(self) -> None:
        if not self.config.server_reads_prompt and self.config.persona.strip() != DEFAULT_PERSONA:
            raise BackendSetupError(f'{self.name}.persona: ' + self._no_prompt('a persona'))
        super().setup()
        if not self.config.server_reads_prompt:
            log.info('%s: the server keeps its built-in system prompt; watches and questions will be refused '
                     '(%s.server_reads_prompt is false)', self.name, self.name)

    def check_instruction(self, instruction: str) -> str:
        meaning = super().check_instruction(instruction)  # the model reads the words themselves
        if not self.config.server_reads_prompt:
            raise WatchRejectedError(self._no_prompt(f'{instruction!r}'))
        return meaning
