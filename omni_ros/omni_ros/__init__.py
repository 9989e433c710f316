"""omni_ros: a full-duplex omni-modal model node for ROS 2.

The core (types, conversions, sync, watches, backends) never imports rclpy; the ROS layer is
``omni_ros.node`` and ``omni_ros.mapping``.
"""
