"""Command-line tools without ROS: scenario generator, offline evaluation, benchmarks, process starting.

The ROS command-line programs (omni_node, omni_replay, the demo) live in ``omni_ros.ros``."""
