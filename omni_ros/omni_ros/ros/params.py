"""OptionSpec tables as the ROS parameters of a node: declared with their descriptions and types,
validated on every change, read back as plain values. Shared by omni_node and the audio nodes."""

from __future__ import annotations

from typing import Any

from rcl_interfaces.msg import ParameterDescriptor, SetParametersResult
from rclpy.exceptions import ParameterUninitializedException
from rclpy.node import Node
from rclpy.parameter import Parameter

from omni_ros.errors import ConfigError
from omni_ros.settings import OptionSpec

_ROS_TYPES = {bool: Parameter.Type.BOOL, int: Parameter.Type.INTEGER, float: Parameter.Type.DOUBLE,
              str: Parameter.Type.STRING, list: Parameter.Type.STRING_ARRAY}


class DeclaredOptions:
    """The parameters one node declared from OptionSpec tables (``prefix`` + option name).

    Values given at start-up are checked where the node reads them (configure fails, saying why);
    ``validate_changes()``, called once everything is declared, refuses bad changes after that.
    """

    def __init__(self, node: Node) -> None:
        self._node = node
        self.specs: dict[str, OptionSpec] = {}

    def validate_changes(self) -> None:
        self._node.add_on_set_parameters_callback(self._validate_change)

    def declare(self, specs: tuple[OptionSpec, ...], prefix: str = '') -> None:
        for spec in specs:
            name = prefix + spec.name
            self.specs[name] = spec
            descriptor = ParameterDescriptor(name=name, description=spec.description,
                                             type=_ROS_TYPES[type(spec.default)].value)
            if spec.choices:
                descriptor.additional_constraints = 'one of: ' + ', '.join(map(str, spec.choices))
            default = spec.default
            # An empty list does not say which array type it is: declare by type, read as default.
            value = _ROS_TYPES[list] if isinstance(default, list) and not default else default
            self._node.declare_parameter(name, value, descriptor)

    def value(self, name: str) -> Any:
        try:
            value = self._node.get_parameter(name).value
        except ParameterUninitializedException:  # declared by type only (empty list default)
            return self.specs[name].default
        return list(value) if isinstance(value, (list, tuple)) else value

    def values(self, prefix: str = '') -> dict[str, Any]:
        """The options under ``prefix`` by option name; with no prefix, the undotted (top-level) ones."""
        return {name[len(prefix):]: self.value(name) for name in self.specs
                if name.startswith(prefix) and (prefix or '.' not in name)}

    def _validate_change(self, params: list[Parameter]) -> SetParametersResult:
        for param in params:
            spec = self.specs.get(param.name)
            if spec is None:
                continue
            value = list(param.value) if isinstance(param.value, (list, tuple)) else param.value
            try:
                spec.validate(value)
            except ConfigError as error:
                return SetParametersResult(successful=False, reason=str(error))
        return SetParametersResult(successful=True)
