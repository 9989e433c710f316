"""The ROS 2 layer: everything that imports rclpy or message types. Nodes (``node``, ``mic_node``,
``speaker_node``, ``replay``), message mapping (``mapping``), parameters (``params``), action goals
(``actions``) and process main (``spin``). The rest of omni_ros never imports ROS."""
