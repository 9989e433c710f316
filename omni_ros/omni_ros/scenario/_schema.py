"""Reading hand-written YAML mappings with errors that point at the offending key.

Scenario and timeline files are edited by people, so every error names the file and the key path
(``crossing.yaml: scene.traffic_lights[0].box``) and says what is accepted. Unknown keys are errors
too: a typo such as ``confidense`` would otherwise be ignored silently.
"""

from __future__ import annotations

import math
from typing import Any, Iterator, cast

from omni_ros.errors import ConfigError

_REQUIRED = object()


def _describe(value: Any) -> str:
    return f'{value!r} ({type(value).__name__})'


class Section:
    """A YAML mapping being read; ``where`` is its location, used in error messages."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f'{where}: must be a mapping of keys to values, got {_describe(data)}')
        self.data = data
        self.where = where
        self._read: set[str] = set()

    def at(self, key: str) -> str:
        # The root's location is a file name ("crossing.yaml"); nested ones add ": key.key".
        return f'{self.where}.{key}' if ': ' in self.where else f'{self.where}: {key}'

    def has(self, key: str) -> bool:
        return key in self.data and self.data[key] is not None

    def _get(self, key: str, default: Any) -> Any:
        self._read.add(key)
        if key not in self.data or self.data[key] is None:
            if default is _REQUIRED:
                raise ConfigError(f'{self.at(key)}: missing (required){self._bool_key_hint()}')
            return default
        return self.data[key]

    def raw(self, key: str) -> Any:
        """The value as parsed (None when absent), for sections another parser reads."""
        self._read.add(key)
        return self.data.get(key)

    def number(self, key: str, default: Any = _REQUIRED, *, minimum: float | None = None,
               maximum: float | None = None, positive: bool = False) -> float:
        value = self._get(key, default)
        if value is default and default is not _REQUIRED:
            return cast(float, value)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(f'{self.at(key)}: must be a number, got {_describe(value)}')
        value = float(value)
        if positive and value <= 0:
            raise ConfigError(f'{self.at(key)}: must be greater than 0, got {value}')
        if minimum is not None and value < minimum:
            raise ConfigError(f'{self.at(key)}: must be at least {minimum}, got {value}')
        if maximum is not None and value > maximum:
            raise ConfigError(f'{self.at(key)}: must be at most {maximum}, got {value}')
        return value

    def optional_number(self, key: str, *, minimum: float | None = None) -> float | None:
        """A number, or None when the key is absent or null (e.g. 'never happens')."""
        if not self.has(key):
            self._read.add(key)
            return None
        return self.number(key, minimum=minimum)

    def integer(self, key: str, default: Any = _REQUIRED, *, minimum: int | None = None,
                maximum: int | None = None) -> int:
        value = self._get(key, default)
        if value is default and default is not _REQUIRED:
            return cast(int, value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f'{self.at(key)}: must be a whole number, got {_describe(value)}')
        if minimum is not None and value < minimum:
            raise ConfigError(f'{self.at(key)}: must be at least {minimum}, got {value}')
        if maximum is not None and value > maximum:
            raise ConfigError(f'{self.at(key)}: must be at most {maximum}, got {value}')
        return value

    def string(self, key: str, default: Any = _REQUIRED, *, choices: tuple[str, ...] = (),
               nonempty: bool = False) -> str:
        value = self._get(key, default)
        if value is default and default is not _REQUIRED:
            return cast(str, value)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and not choices:
            value = str(value)  # YAML reads `say: 16` as a number; the author meant text
        if not isinstance(value, str):
            raise ConfigError(f'{self.at(key)}: must be text, got {_describe(value)}')
        if nonempty and not value.strip():
            raise ConfigError(f'{self.at(key)}: must not be empty')
        if choices and value not in choices:
            raise ConfigError(f"{self.at(key)}: must be one of {', '.join(choices)}; got {value!r}")
        return value

    def strings(self, key: str, default: Any = _REQUIRED) -> tuple[str, ...]:
        """One text or a list of texts."""
        value = self._get(key, default)
        if value is default and default is not _REQUIRED:
            return tuple(value)
        items = value if isinstance(value, list) else [value]
        out = []
        for i, item in enumerate(items):
            if isinstance(item, (int, float)) and not isinstance(item, bool):
                item = str(item)
            if not isinstance(item, str) or not item.strip():
                raise ConfigError(f'{self.at(key)}[{i}]: must be non-empty text, got {_describe(item)}')
            out.append(item)
        if not out:
            raise ConfigError(f'{self.at(key)}: must hold at least one text')
        return tuple(out)

    def numbers(self, key: str, count: int, default: Any = _REQUIRED, *, integer: bool = False,
                minimum: float | None = None, maximum: float | None = None) -> tuple[Any, ...]:
        value = self._get(key, default)
        if value is default and default is not _REQUIRED:
            return tuple(value)
        kind = 'whole numbers' if integer else 'numbers'
        ok = isinstance(value, list) and len(value) == count and all(
            isinstance(v, int if integer else (int, float)) and not isinstance(v, bool) for v in value)
        if not ok:
            raise ConfigError(f'{self.at(key)}: must be a list of {count} {kind}, got {_describe(value)}')
        for v in value:
            if (minimum is not None and v < minimum) or (maximum is not None and v > maximum):
                raise ConfigError(
                    f'{self.at(key)}: every value must be within [{minimum}, {maximum}], got {value}')
        return tuple(int(v) if integer else float(v) for v in value)

    def mapping(self, key: str, *, required: bool = True) -> Section:
        value = self._get(key, _REQUIRED if required else {})
        return Section(value, self.at(key))

    def items(self, key: str, *, required: bool = False) -> Iterator[tuple[Any, str]]:
        """(item, location) for each entry of a list."""
        value = self._get(key, _REQUIRED if required else [])
        if not isinstance(value, list):
            raise ConfigError(f'{self.at(key)}: must be a list (entries start with "- "), got {_describe(value)}')
        for i, item in enumerate(value):
            yield item, f'{self.at(key)}[{i}]'

    def mappings(self, key: str, *, required: bool = False) -> Iterator[Section]:
        for item, where in self.items(key, required=required):
            yield Section(item, where)

    def done(self) -> None:
        """Reject keys nobody read (typos)."""
        unknown = sorted(str(k) for k in self.data if k not in self._read)
        if unknown:
            known = ', '.join(sorted(self._read))
            raise ConfigError(f"{self.where}: unknown key(s) {', '.join(unknown)}{self._bool_key_hint()}; "
                              f'known keys here: {known}')

    def _bool_key_hint(self) -> str:
        if any(isinstance(k, bool) for k in self.data):
            return ' (YAML reads a bare on/off/yes/no key as true/false: quote it)'
        return ''
