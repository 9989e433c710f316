"""Declarative, validated settings shared by the node's parameters and the backends' options.

Each setting is an OptionSpec: name, default (which also fixes the type), a description that ends up
in the ROS parameter descriptor, and bounds or choices. ``validate`` raises ConfigError naming the
setting and the accepted values, so a bad params file fails configure with a message to act on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Union

from omni_ros.errors import ConfigError

OptionValue = Union[bool, int, float, str, list]


@dataclass(frozen=True)
class OptionSpec:
    name: str
    default: OptionValue
    description: str
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None

    def validate(self, value: Any) -> OptionValue:
        expected = type(self.default)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(
                f"'{self.name}' must be a {expected.__name__}, got {value!r} ({type(value).__name__})")
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"'{self.name}' must be a finite number, got {value!r}")
        if self.choices and value not in self.choices:
            allowed = ', '.join(repr(c) for c in self.choices)
            raise ConfigError(f"'{self.name}' must be one of {allowed}, got {value!r}")
        if self.minimum is not None and value < self.minimum:
            raise ConfigError(f"'{self.name}' must be at least {self.minimum}, got {value!r}")
        if self.maximum is not None and value > self.maximum:
            raise ConfigError(f"'{self.name}' must be at most {self.maximum}, got {value!r}")
        return value


def resolve(specs: Iterable[OptionSpec], given: Mapping[str, Any]) -> dict[str, OptionValue]:
    """Validated values for ``specs``: defaults where ``given`` is silent; unknown keys are errors."""
    specs = tuple(specs)
    known = {s.name for s in specs}
    unknown = sorted(set(given) - known)
    if unknown:
        raise ConfigError(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return {s.name: s.validate(given.get(s.name, s.default)) for s in specs}
