"""Behaviour-tree nodes for omni_ros: proactive alerts and questions as py_trees behaviours.

``WaitForWatch``, ``Ask`` and ``EventGuard`` follow the py_trees_ros conventions on plain rclpy;
``TreeRunner`` ticks a tree on an rclpy node. A BehaviorTree.CPP equivalent is described in
``docs/behaviortree_cpp.md`` and ``bt_cpp/wait_for_watch.xml`` of this package.
"""

from omni_ros_bt.behaviours import ActionBehaviour, ActionError, Ask, EventGuard, WaitForWatch
from omni_ros_bt.runner import TreeRunner

__all__ = ['ActionBehaviour', 'ActionError', 'Ask', 'EventGuard', 'WaitForWatch', 'TreeRunner']
