"""What omni_mic and omni_speaker share: a lifecycle node whose parameters come from one config dataclass
(declared with descriptions and ranges, validated on every change), rate-limited input errors, and main().

Lifecycle, as omni_node: configure validates the parameters and checks the sound device (a missing
device fails the transition with the list of devices; the process stays up and can be configured
again); activate opens and starts the stream and the topics; deactivate closes them.
"""

from __future__ import annotations

from typing import Any, Callable, Generic, TypeVar

from rclpy.clock import Clock, ClockType
from rclpy.lifecycle import LifecycleState, TransitionCallbackReturn

from omni_ros.devices.sound import DeviceConfig
from omni_ros.errors import ConfigError
from omni_ros.ros import spin
from omni_ros.ros.params import Changes, DeclaredSettings, SettingsNode
from omni_ros.settings import load

C = TypeVar('C', bound=DeviceConfig)


class AudioNode(SettingsNode, Generic[C]):
    def __init__(self, name: str, config_type: type[C], **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self._config_type = config_type
        self._configured = False
        self.params = DeclaredSettings(self)
        self.params.declare(config_type)
        self.params.watch(self._check_change, self._apply_change)
        self.steady = Clock(clock_type=ClockType.STEADY_TIME)
        self.error_log_period = float(DeviceConfig.error_log_period)

    def _check_change(self, changes: Changes) -> None:
        self.params.refuse_while(self._configured, changes)
        load(self._config_type, self.params.values('', changes))  # cross-field checks

    def _apply_change(self, changes: Changes) -> None:
        if self._configured:  # only live settings change while configured
            self.error_log_period = float(self.params.value('error_log_period'))

    def now(self) -> float:
        """Node time in seconds (thread-safe: the audio callbacks stamp with it)."""
        return self.get_clock().now().nanoseconds * 1e-9

    def input_error(self, what: str, error: Exception) -> None:
        self.get_logger().error(f'{what} dropped: {error}', throttle_duration_sec=self.error_log_period,
                                throttle_time_source_type=self.steady)

    def warn(self, text: str) -> None:
        """A warning logged at most once per error_log_period (per call site)."""
        self.get_logger().warning(text, throttle_duration_sec=self.error_log_period,
                                  throttle_time_source_type=self.steady)

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        try:
            problems = self.params.problems()
            if problems:
                raise ConfigError('; '.join(problems))
            config = load(self._config_type, self.params.values())
            self.error_log_period = config.error_log_period
            description = self.configure(config)
        except ConfigError as error:
            self.get_logger().error(f'configure failed: {error}')
            return TransitionCallbackReturn.FAILURE
        self._configured = True
        self.get_logger().info(f'configured: {description}')
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        super().on_activate(state)  # lifecycle publishers first: a started stream publishes at once
        try:
            self.activate()
        except ConfigError as error:  # e.g. the device vanished or is busy since configure
            self.get_logger().error(f'activate failed: {error}')
            self.deactivate()
            super().on_deactivate(state)
            return TransitionCallbackReturn.FAILURE
        return TransitionCallbackReturn.SUCCESS

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.deactivate()
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.cleanup()
        self._configured = False
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.close()
        return TransitionCallbackReturn.SUCCESS

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.close()
        return TransitionCallbackReturn.SUCCESS

    def close(self) -> None:
        self.deactivate()
        self.cleanup()
        self._configured = False

    # Implemented by each node; configure returns a one-line description for the log.
    def configure(self, config: C) -> str:
        raise NotImplementedError

    def activate(self) -> None:
        raise NotImplementedError

    def deactivate(self) -> None:
        """Close the stream and topics; safe to call when they are not open."""
        raise NotImplementedError

    def cleanup(self) -> None:
        raise NotImplementedError


def main(make_node: Callable[[], AudioNode[Any]], args: list[str] | None = None) -> None:
    spin.run(make_node, AudioNode.close, args)
