"""One typed declaration per configuration, from which ROS parameters and validation derive.

A configuration is a frozen dataclass whose fields are declared with ``setting(default, description,
minimum=, maximum=, choices=, change=)``; ``options_of(Config)`` lists them as ``OptionSpec`` (name,
default, description, bounds, choices, when a change applies), ``load(Config, values, prefix)``
validates a mapping of values (parameters) and builds the config. Every error names the setting as
the user spells it (``'self_hearing.strategy'``) and says what is allowed.

Messages of a config's own cross-field checks (in ``__post_init__``) name fields in single quotes
(``'max_latency'``); ``load`` adds the prefix to those names.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import math
import re
from typing import Any, Iterable, Mapping, TypeVar, Union

from omni_ros.errors import ConfigError

OptionValue = Union[bool, int, float, str, tuple[str, ...]]

_KEY = 'omni_ros.setting'
C = TypeVar('C')


class Change(enum.Enum):
    """When a new value of a setting takes effect (and so what a running node does with a change)."""

    LIVE = 'live'  # at once, while running
    CONFIGURE = 'configure'  # at the next configure: refused while the node is configured
    START = 'start'  # read once at start-up: a read-only parameter


@dataclasses.dataclass(frozen=True)
class OptionSpec:
    name: str
    default: Any
    description: str
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    change: Change = Change.CONFIGURE

    @property
    def kind(self) -> type:
        """bool, int, float, str, or tuple (a list of strings)."""
        return tuple if isinstance(self.default, (list, tuple)) else type(self.default)

    def allowed(self) -> str:
        """What the setting accepts, in words: for error messages and parameter descriptors."""
        if self.choices:
            return 'one of ' + ', '.join(repr(c) for c in self.choices)
        kind = {bool: 'true or false', int: 'an integer', float: 'a number', str: 'a string',
                tuple: 'a list of strings'}[self.kind]
        low, high = self.minimum, self.maximum
        if low is not None and high is not None:
            return f'{kind} from {low:g} to {high:g}'
        if low is not None:
            return f'{kind} of at least {low:g}'
        if high is not None:
            return f'{kind} of at most {high:g}'
        return kind

    def validate(self, value: Any, name: str | None = None) -> Any:
        """``value`` checked and converted (an integer for a number, a list to a tuple); raises
        ConfigError naming the setting (``name``, default: the spec's own) and what is allowed."""
        shown = name or self.name
        kind = self.kind
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if kind is tuple and isinstance(value, list):
            value = tuple(value)
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if ok and kind is tuple:
            ok = all(isinstance(item, str) for item in value)
        if ok and isinstance(value, float) and not math.isfinite(value):
            ok = False
        if ok and self.choices:
            ok = value in self.choices
        if ok and kind in (int, float):
            ok = (self.minimum is None or value >= self.minimum) and (self.maximum is None or value <= self.maximum)
        if not ok:
            raise ConfigError(f"'{shown}' must be {self.allowed()}, got {_show(value)}")
        return value


def _show(value: Any) -> str:
    kind = {bool: 'a boolean', int: 'an integer', float: 'a number', str: 'a string', tuple: 'a list',
            list: 'a list'}.get(type(value), type(value).__name__)
    return f'{value!r} ({kind})'


def setting(default: Any, description: str, *, minimum: float | None = None, maximum: float | None = None,
            choices: tuple[Any, ...] = (), change: Change = Change.CONFIGURE) -> Any:
    """A dataclass field that is a setting: its default, description, bounds, choices and when a
    change applies."""
    spec = OptionSpec('', default, description, tuple(choices), minimum, maximum, change)
    return dataclasses.field(default=default, metadata={_KEY: spec})


def options_of(config_type: type) -> tuple[OptionSpec, ...]:
    """The settings a config dataclass declares, in field order."""
    specs = []
    for f in dataclasses.fields(config_type):
        spec = f.metadata.get(_KEY)
        if spec is None:
            raise TypeError(f'{config_type.__name__}.{f.name} is not declared with settings.setting()')
        specs.append(dataclasses.replace(spec, name=f.name))
    return tuple(specs)


def check_fields(config: Any) -> None:
    """For a config's ``__post_init__``: every field valid (integers given for numbers become floats)."""
    for spec in options_of(type(config)):
        value = spec.validate(getattr(config, spec.name))
        object.__setattr__(config, spec.name, value)


def load(config_type: type[C], values: Mapping[str, Any], prefix: str = '') -> C:
    """``config_type`` built from ``values`` (by field name; defaults where silent). Raises one
    ConfigError naming every bad or unknown setting as ``prefix + name``."""
    specs = options_of(config_type)
    known = {s.name for s in specs}
    errors = [unknown_message(prefix + key, [prefix + k for k in known]) for key in sorted(set(values) - known)]
    checked: dict[str, Any] = {}
    for spec in specs:
        try:
            checked[spec.name] = spec.validate(values.get(spec.name, spec.default), prefix + spec.name)
        except ConfigError as error:
            errors.append(str(error))
    if errors:
        raise ConfigError('; '.join(errors))
    try:
        return config_type(**checked)
    except ConfigError as error:
        raise ConfigError(qualify(str(error), known, prefix)) from None


def qualify(message: str, names: Iterable[str], prefix: str) -> str:
    """``message`` with each quoted setting name ('name') written with ``prefix``."""
    if not prefix:
        return message
    names = set(names)
    return re.sub(r"'([A-Za-z_][A-Za-z0-9_]*)'", lambda m: f"'{prefix}{m[1]}'" if m[1] in names else m[0], message)


def unknown_message(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ''
    return f"'{name}' is not a setting of this node{hint}"

