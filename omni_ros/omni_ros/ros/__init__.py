"""The ROS 2 layer: everything that imports rclpy or message types. Nodes (``node``, ``mic_node``,
``speaker_node``, ``replay``), message mapping (``mapping``), parameters (``params``), per-watch alert
topics (``alerts``), action goals (``actions``) and process main (``spin``). The rest of omni_ros never
imports ROS."""
