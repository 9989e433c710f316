"""The QoS of omni_node's action servers and of clients that send or await many goals at once.

rclpy's action defaults (goal, cancel and result services and feedback at depth 10; results kept 10 s on
Kilted, 900 s on Jazzy) lose answers when more than about ten goals are requested or end in one tick:
a writer at depth 10 overwrites what the reader has not taken yet. Here both ends are GOAL_BURST deep.
No interfaces are imported, so the Jazzy tier checks these keywords against Jazzy's rclpy too.
"""

from __future__ import annotations

from typing import Any

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy, qos_profile_action_status_default

GOAL_BURST = 1000  # goals requested, or ended, at once whose answers all arrive; the most max_goals allows
# s a result stays available to a client that asks for it after the goal ended. rcl counts it on the node's
# clock: under use_sim_time a /clock jump forward by more than this expires ended goals at once, and a
# client whose result request was still on its way gets STATUS_UNKNOWN (the fuzz tier jumps 500 s).
RESULT_RETENTION = 900
_SERVICE_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=GOAL_BURST, reliability=ReliabilityPolicy.RELIABLE,
                          durability=DurabilityPolicy.VOLATILE)
_FEEDBACK_QOS = QoSProfile(depth=GOAL_BURST)  # the acceptance feedback of a whole burst goes out in one tick
FLUSH = 0.3  # s the node keeps serving after the last result at shutdown: clients take them from DDS


def server_qos() -> dict[str, Any]:
    """ActionServer keyword arguments of omni_node's actions (module docstring)."""
    return dict(goal_service_qos_profile=_SERVICE_QOS, result_service_qos_profile=_SERVICE_QOS,
                cancel_service_qos_profile=_SERVICE_QOS, feedback_pub_qos_profile=_FEEDBACK_QOS,
                status_pub_qos_profile=qos_profile_action_status_default, result_timeout=RESULT_RETENTION)


def client_qos() -> dict[str, Any]:
    """ActionClient keyword arguments that match: a client sending or awaiting many goals at once needs
    the same depth on its side (its request writer and result reader), or DDS drops the excess there."""
    return dict(goal_service_qos_profile=_SERVICE_QOS, result_service_qos_profile=_SERVICE_QOS,
                cancel_service_qos_profile=_SERVICE_QOS, feedback_sub_qos_profile=_FEEDBACK_QOS,
                status_sub_qos_profile=qos_profile_action_status_default)
