"""Backend registry: a backend is chosen by the node's ``backend`` parameter.

Modules are imported only when their backend is chosen (or its options are listed), so choosing the
CPU or scripted backend never imports torch or transformers. A backend class takes its validated
options (``OPTIONS``) in ``__init__`` and does no I/O there.
"""

from __future__ import annotations

import importlib
from types import MappingProxyType
from typing import Any, Callable, Mapping

from omni_ros.backends.base import Backend
from omni_ros.errors import ConfigError
from omni_ros.settings import OptionSpec, resolve

# name -> "module:Class"; modules must import cheaply (heavy imports go inside setup()).
BUILTIN: Mapping[str, str] = MappingProxyType({
    'scripted': 'omni_ros.backends.scripted:ScriptedBackend',
    'minicpmo': 'omni_ros.backends.minicpmo:MiniCPMoBackend',
    'llamacpp_omni': 'omni_ros.backends.llamacpp_omni:LlamaCppOmniBackend',
    'cpu': 'omni_ros.backends.cpu:CpuBackend',
})


def backend_class(name: str) -> type:
    try:
        target = BUILTIN[name]
    except KeyError:
        raise ConfigError(
            f"unknown backend {name!r}; set 'backend' to one of: {', '.join(sorted(BUILTIN))}") from None
    module_name, _, class_name = target.partition(':')
    return getattr(importlib.import_module(module_name), class_name)


def backend_options(name: str) -> tuple[OptionSpec, ...]:
    return tuple(getattr(backend_class(name), 'OPTIONS', ()))


def create_backend(name: str, options: Mapping[str, Any]) -> Backend:
    """Instantiate (without setting up) backend ``name`` with validated ``options``."""
    cls = backend_class(name)
    return cls(resolve(backend_options(name), options))


# 'auto' tries these in order; a backend class may define ``usable(options) -> bool`` (cheap, no heavy
# imports) to say whether it can run here with those options. The first usable one wins.
AUTO_ORDER: tuple[str, ...] = ('minicpmo', 'llamacpp_omni', 'cpu')


def resolve_backend(name: str, options_of: Callable[[str], Mapping[str, Any]]) -> str:
    """The backend to load for the ``backend`` parameter value ``name``."""
    if name != 'auto':
        backend_class(name)  # raises ConfigError naming the choices
        return name
    for candidate in AUTO_ORDER:
        if candidate not in BUILTIN:
            continue
        usable = getattr(backend_class(candidate), 'usable', None)
        if usable is None or usable(resolve(backend_options(candidate), options_of(candidate))):
            return candidate
    raise ConfigError("backend 'auto' found no usable backend: install the CPU backend's dependencies "
                      "(tools/bootstrap.sh) or set 'backend' explicitly, e.g. 'scripted'")
