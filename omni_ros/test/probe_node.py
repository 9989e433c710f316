"""A small lifecycle node on omni_ros's own ROS plumbing, without this package's interfaces.

It runs omni_ros's process main (``audio_node.main`` -> ``spin.run``: one executor thread, autostart,
stop on SIGINT/SIGTERM), its parameter declaration and validation (``DeclaredSettings`` over a typed
config dataclass) and lifecycle callbacks (``AudioNode``), and publishes std_msgs/String on
``chatter`` while active. test_rclpy_compat.py drives it on Kilted, and on Jazzy's rclpy in the Jazzy
tier, where omni_ros_interfaces cannot be built.

    python probe_node.py [--ros-args ...]
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from std_msgs.msg import String

from omni_ros.devices.sound import DeviceConfig
from omni_ros.errors import ConfigError
from omni_ros.ros import audio_node
from omni_ros.ros.params import Changes
from omni_ros.settings import Change, setting


@dataclass(frozen=True)
class ProbeConfig(DeviceConfig):
    """The probe's parameters: the audio nodes' shared ones plus two of its own."""

    rate: float = setting(10.0, 'chatter messages per second while active', minimum=1.0, maximum=100.0,
                          change=Change.LIVE)
    word: str = setting('hello', "what chatter says; 'fail' makes configure fail")


class ProbeNode(audio_node.AudioNode[ProbeConfig]):
    def __init__(self) -> None:
        super().__init__('probe', ProbeConfig)
        self._pub: Any = None
        self._timer: Any = None
        self._word = ''
        self._period = 0.1

    def configure(self, config: ProbeConfig) -> str:
        if config.word == 'fail':
            raise ConfigError("word must not be 'fail'")
        self._word = config.word
        self._period = 1.0 / config.rate
        self._pub = self.create_lifecycle_publisher(String, 'chatter', 10)
        return f'saying {self._word!r}'

    def _apply_change(self, changes: Changes) -> None:
        super()._apply_change(changes)
        self._period = 1.0 / float(self.params.value('rate'))  # used from the next activate on

    def activate(self) -> None:
        self._timer = self.create_timer(self._period, lambda: self._pub.publish(String(data=self._word)))

    def deactivate(self) -> None:
        if self._timer is not None:
            self.destroy_timer(self._timer)
            self._timer = None

    def cleanup(self) -> None:
        if self._pub is not None:
            self.destroy_lifecycle_publisher(self._pub)
            self._pub = None


def main() -> None:
    audio_node.main(ProbeNode, sys.argv)
    print('probe: stopped cleanly', flush=True)


if __name__ == '__main__':
    main()
