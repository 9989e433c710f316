"""Backend registry: a backend is chosen by the node's ``backend`` parameter.

Modules are imported only when their backend is chosen (or its settings are listed), so choosing the
CPU or scripted backend never imports torch or transformers. A backend class declares its settings as
``Config`` and is constructed with an instance of it (``base.BackendClass``); its __init__ does no I/O.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Mapping, cast

from omni_ros.backends.base import Backend, BackendClass, Reconfigurable
from omni_ros.errors import ConfigError
from omni_ros.settings import Change, OptionSpec, load, options_of

# name -> "module:Class"; modules must import cheaply (heavy imports go inside setup()).
BUILTIN: Mapping[str, str] = MappingProxyType({
    'scripted': 'omni_ros.backends.scripted:ScriptedBackend',
    'minicpmo': 'omni_ros.backends.minicpmo:MiniCPMoBackend',
    'llamacpp_omni': 'omni_ros.backends.llamacpp_omni:LlamaCppOmniBackend',
    'cpu': 'omni_ros.backends.cpu:CpuBackend',
})

# 'auto' tries these in order; the first whose ``usable(config)`` is true wins.
AUTO_ORDER: tuple[str, ...] = ('minicpmo', 'llamacpp_omni', 'cpu')


@dataclass(frozen=True)
class Registered:
    """One registered backend: its class (imported on first use), settings and availability."""

    name: str
    target: str  # "module:Class"

    @property
    def cls(self) -> BackendClass:
        module_name, _, class_name = self.target.partition(':')
        return cast(BackendClass, getattr(importlib.import_module(module_name), class_name))

    @property
    def config_type(self) -> type:
        return self.cls.Config

    @property
    def options(self) -> tuple[OptionSpec, ...]:
        return options_of(self.config_type)

    def load(self, values: Mapping[str, Any]) -> Any:
        """The typed config from parameter values (raises ConfigError naming '<name>.<setting>')."""
        return load(self.config_type, values, prefix=f'{self.name}.')

    def create(self, config: Any) -> Backend:
        """The backend, constructed (not set up) with ``config``."""
        return self.cls(config)

    def usable(self, config: Any) -> bool:
        check: Callable[[Any], bool] | None = getattr(self.cls, 'usable', None)
        return True if check is None else bool(check(config))

    @property
    def live(self) -> frozenset[str]:
        """Settings the backend takes while running (through ``reconfigure``)."""
        if not issubclass(cast(type, self.cls), Reconfigurable):
            return frozenset()
        return frozenset(s.name for s in self.options if s.change is Change.LIVE)


REGISTRY: Mapping[str, Registered] = MappingProxyType({n: Registered(n, t) for n, t in BUILTIN.items()})


def registered(name: str) -> Registered:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"unknown backend {name!r}; set 'backend' to one of: {', '.join(sorted(REGISTRY))}") from None


def backend_class(name: str) -> type:
    return cast(type, registered(name).cls)


def backend_options(name: str) -> tuple[OptionSpec, ...]:
    return registered(name).options


def create_backend(name: str, options: Mapping[str, Any]) -> Backend:
    """Instantiate (without setting up) backend ``name`` with validated ``options`` (by setting name)."""
    entry = registered(name)
    return entry.create(entry.load(options))


def resolve_backend(name: str, options_of_backend: Callable[[str], Mapping[str, Any]]) -> str:
    """The backend to load for the ``backend`` parameter value ``name``."""
    if name != 'auto':
        registered(name)  # raises ConfigError naming the choices
        return name
    for candidate in AUTO_ORDER:
        entry = REGISTRY.get(candidate)
        if entry is not None and entry.usable(entry.load(options_of_backend(candidate))):
            return candidate
    raise ConfigError("backend 'auto' found no usable backend: install the CPU backend's dependencies "
                      "(tools/bootstrap.sh) or set 'backend' explicitly, e.g. 'scripted'")
