"""Per-watch alert topics: ``alerts/<watch>`` carries the alerts of one standing watch and nothing else.

BehaviorTree.ROS2's ``RosTopicSubNode`` keeps only the latest message of its topic between two ticks. On
the shared ``events`` topic, an alert of ``standing-0`` followed, before the next tick, by any other event
(another watch's alert, a comment) is never seen by a guard on ``standing-0``. On the watch's own topic
the latest message is always that watch's latest alert, and its ``trigger_count`` (also set on
``events``) tells how many alerts the watch has had, so a guard knows when several came between ticks.

Standing watches (``standing-N``) get ``alerts/standing_N`` from configure to cleanup. Action watches need
no topic: their goal's feedback delivers every trigger to the client that set them. Same QoS as
``events`` (reliable, volatile): a guard sees the alerts after it subscribed.
"""

from __future__ import annotations

from typing import Any, Iterable

from rclpy.lifecycle import LifecycleNode
from rclpy.qos import QoSProfile

from omni_ros.watches.table import WatchState
from omni_ros_interfaces.msg import ProactiveEvent

ALERTS_NAMESPACE = 'alerts'


def alert_topic(watch_id: str) -> str:
    """``standing-0`` -> ``alerts/standing_0`` (ROS names have no '-')."""
    return f"{ALERTS_NAMESPACE}/{watch_id.replace('-', '_')}"


class WatchAlerts:
    """The node's per-watch alert publishers (lifecycle publishers: silent while inactive)."""

    def __init__(self, node: LifecycleNode, qos: QoSProfile) -> None:
        self._node = node
        self._qos = qos
        self._publishers: dict[str, Any] = {}

    def open(self, watch_ids: Iterable[str]) -> None:
        self.close()
        self._publishers = {w: self._node.create_lifecycle_publisher(ProactiveEvent, alert_topic(w), self._qos)
                            for w in watch_ids}

    def update(self, watch_ids: Iterable[str]) -> None:
        """Topics for exactly ``watch_ids``: existing ones stay (their subscribers stay matched)."""
        wanted = set(watch_ids)
        for watch_id in [w for w in self._publishers if w not in wanted]:
            self._node.destroy_lifecycle_publisher(self._publishers.pop(watch_id))
        for watch_id in sorted(wanted - set(self._publishers)):
            self._publishers[watch_id] = self._node.create_lifecycle_publisher(
                ProactiveEvent, alert_topic(watch_id), self._qos)

    def publish(self, msg: ProactiveEvent, watch: WatchState | None) -> None:
        """Set ``msg.trigger_count`` from its watch; publish it on the watch's topic, if it has one.
        Call before publishing ``msg`` on ``events``, so both carry the count."""
        if watch is None:
            return
        msg.trigger_count = watch.triggers
        publisher = self._publishers.get(watch.watch.watch_id)
        if publisher is not None:
            publisher.publish(msg)

    def close(self) -> None:
        publishers, self._publishers = self._publishers, {}
        for publisher in publishers.values():
            self._node.destroy_lifecycle_publisher(publisher)
