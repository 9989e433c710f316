"""Shared test set-up: ROS environment isolation for every test that starts nodes."""

from __future__ import annotations

import os
import random
import tempfile

# Before anything imports rclpy: keep DDS traffic on this machine, give this test run its own domain
# (several runs may share a machine), and keep ROS logs out of the home directory.
os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
os.environ.setdefault('ROS_DOMAIN_ID', str(random.SystemRandom().randint(1, 100)))
os.environ.setdefault('ROS_HOME', tempfile.mkdtemp(prefix='omni_ros_test_home_'))
os.environ.setdefault('FASTDDS_BUILTIN_TRANSPORTS', 'LARGE_DATA')
os.environ.setdefault('RCUTILS_COLORIZED_OUTPUT', '0')
