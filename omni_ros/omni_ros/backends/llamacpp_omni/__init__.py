"""llama.cpp-omni server client backend (stdlib HTTP only; no torch)."""

from omni_ros.backends.llamacpp_omni.backend import LlamaCppOmniBackend

__all__ = ['LlamaCppOmniBackend']
