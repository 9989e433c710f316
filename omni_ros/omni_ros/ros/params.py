"""Config dataclasses (``omni_ros.settings``) as the ROS parameters of a node. Shared by omni_node and
the audio nodes.

Each setting is declared with its type, description, range (``FloatingPointRange``/``IntegerRange``),
choices (``additional_constraints``) and ``read_only`` when it is read once at start-up
(``Change.START``). A value given at start-up (``-p``, a params file) is checked here before it is
declared: an integer for a number is taken as that number; anything else that does not fit is kept
out (the parameter starts at its default) and reported by ``problems()``, which makes configure fail
with one message, so the node stays up instead of rclpy raising at declaration. Given parameters the
node does not declare are reported the same way. Changes while running are validated (``watch``).

rclpy declares ``use_sim_time`` and ``start_type_description_service`` itself, inside ``Node.__init__``,
and a start-up value of another type than true/false raised there and ended the process: nodes built
on ``SettingsNode`` keep such a value out the same way (the parameter keeps rclpy's default) and report it.
"""

from __future__ import annotations

import sys
from typing import Any, Callable, Mapping

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, SetParametersResult
from rclpy.exceptions import ParameterUninitializedException
from rclpy.lifecycle import LifecycleNode
from rclpy.node import Node
from rclpy.parameter import Parameter

from omni_ros.errors import ConfigError, OmniError
from omni_ros.settings import Change, OptionSpec, options_of, unknown_message

_ROS_TYPES = {bool: Parameter.Type.BOOL, int: Parameter.Type.INTEGER, float: Parameter.Type.DOUBLE,
              str: Parameter.Type.STRING, tuple: Parameter.Type.STRING_ARRAY}
_WHEN = {Change.LIVE: 'applies at once', Change.CONFIGURE: 'applies at the next configure',
         Change.START: 'read once at start-up'}
# Declared by rclpy itself, or read by it from the overrides (QoS overriding).
_ROS_OWN = ('use_sim_time', 'start_type_description_service', 'qos_overrides.')

Changes = dict[str, Any]  # parameter name -> new value (plain Python)
_ROS_FLAGS = ('use_sim_time', 'start_type_description_service')  # rclpy's own true/false parameters


def descriptor(name: str, spec: OptionSpec) -> ParameterDescriptor:
    d = ParameterDescriptor(name=name, type=_ROS_TYPES[spec.kind].value, read_only=spec.change is Change.START,
                            description=f'{spec.description} ({_WHEN[spec.change]})')
    d.additional_constraints = spec.allowed()
    if spec.choices or (spec.minimum is None and spec.maximum is None):
        return d
    if spec.kind is float:
        low = -sys.float_info.max if spec.minimum is None else float(spec.minimum)
        high = sys.float_info.max if spec.maximum is None else float(spec.maximum)
        d.floating_point_range = [FloatingPointRange(from_value=low, to_value=high, step=0.0)]
    elif spec.kind is int:
        low_i = -2 ** 63 if spec.minimum is None else int(spec.minimum)
        high_i = 2 ** 63 - 1 if spec.maximum is None else int(spec.maximum)
        d.integer_range = [IntegerRange(from_value=low_i, to_value=high_i, step=0)]
    return d


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, (list, tuple)) else value


def _overrides(node: Node) -> Mapping[str, Parameter]:
    # The values given at start-up for this node (-p, params files). rclpy keeps them here (Jazzy and
    # Kilted alike) and has no public accessor; reading them first is what lets a wrong type fail
    # configure with a message instead of raising in declare_parameter.
    return getattr(node, '_parameter_overrides', {})


class SettingsNode(LifecycleNode):
    """A lifecycle node whose rclpy-declared flags (``use_sim_time``...) survive a wrong-typed start-up
    value: it is reported by ``DeclaredSettings.problems`` instead of raised from ``Node.__init__``."""

    def declare_parameter(self, name: Any, *args: Any, **kwargs: Any) -> Any:
        given = _overrides(self).get(name)
        if name in _ROS_FLAGS and given is not None and not isinstance(given.value, bool):
            flags: dict[str, str] = self.__dict__.setdefault('_refused_flags', {})
            value = given.value
            flags[name] = f"'{name}' must be true or false, got {value!r} (given at start-up; its default is used)"
            kwargs['ignore_override'] = True
        return super().declare_parameter(name, *args, **kwargs)


class DeclaredSettings:
    """The parameters one node declared from config dataclasses (``prefix`` + setting name)."""

    def __init__(self, node: Node) -> None:
        self._node = node
        self.specs: dict[str, OptionSpec] = {}
        self._problems: dict[str, str] = {}  # parameter -> why its start-up value was not taken
        self._check: Callable[[Changes], None] = lambda changes: None
        self._apply: Callable[[Changes], None] = lambda changes: None

    def declare(self, config_type: type, prefix: str = '') -> None:
        given = _overrides(self._node)
        for spec in options_of(config_type):
            name = prefix + spec.name
            self.specs[name] = spec
            value = spec.default
            if name in given:
                try:
                    value = spec.validate(_plain(given[name].value), name)
                except ConfigError as error:
                    self._problems[name] = f'{error} (given at start-up)'
            # An empty list does not say which array type it is: declare by type, read as default.
            initial = _ROS_TYPES[tuple] if spec.kind is tuple and not value else _plain(value)
            self._node.declare_parameter(name, initial, descriptor(name, spec), ignore_override=True)

    def problems(self) -> tuple[str, ...]:
        """Why start-up values were refused, and given parameters this node does not have."""
        unknown = [n for n in _overrides(self._node)
                   if not self._node.has_parameter(n) and not n.startswith(_ROS_OWN)]
        refused: dict[str, str] = getattr(self._node, '_refused_flags', {})
        return (*refused.values(), *self._problems.values(),
                *(unknown_message(n, self.specs) for n in sorted(unknown)))

    def value(self, name: str) -> Any:
        try:
            return _plain(self._node.get_parameter(name).value)
        except ParameterUninitializedException:  # declared by type only (empty list default)
            return self.specs[name].default

    def values(self, prefix: str = '', changes: Changes | None = None) -> dict[str, Any]:
        """The settings under ``prefix`` by setting name (with no prefix, the undotted ones), with
        ``changes`` (by parameter name) in place of the current values."""
        changes = changes or {}
        return {name[len(prefix):]: changes[name] if name in changes else self.value(name) for name in self.specs
                if name.startswith(prefix) and (prefix or '.' not in name)}

    def watch(self, check: Callable[[Changes], None], apply: Callable[[Changes], None]) -> None:
        """Validate every later change (each value, then ``check``, which raises OmniError to refuse
        it) and hand accepted ones to ``apply``. Call once everything is declared."""
        self._check, self._apply = check, apply
        self._node.add_on_set_parameters_callback(self._on_set)
        self._node.add_post_set_parameters_callback(self._post_set)

    def _changes(self, params: list[Parameter]) -> Changes:
        return {p.name: _plain(p.value) for p in params if p.name in self.specs}

    def _on_set(self, params: list[Parameter]) -> SetParametersResult:
        changes = self._changes(params)
        try:
            for name, value in changes.items():
                self.specs[name].validate(value, name)
            self._check(changes)
        except OmniError as error:
            return SetParametersResult(successful=False, reason=str(error))
        return SetParametersResult(successful=True)

    def _post_set(self, params: list[Parameter]) -> None:
        changes = self._changes(params)
        for name in changes:
            self._problems.pop(name, None)  # a valid value replaced the refused one
        self._apply(changes)

    def refuse_while(self, configured: bool, changes: Changes) -> None:
        """Raise ConfigError for changes that apply at configure while the node is configured."""
        if not configured:
            return
        fixed = [n for n in changes if self.specs[n].change is not Change.LIVE]
        if fixed:
            raise ConfigError(f"{', '.join(repr(n) for n in fixed)} {'applies' if len(fixed) == 1 else 'apply'} at "
                              'configure and the node is configured: deactivate and clean it up, set the '
                              'parameter, then configure again')
