"""Test set-up for omni_ros_bt: the same ROS environment isolation as omni_ros/test/conftest.py."""

from __future__ import annotations

import os
import random
import tempfile

import pytest

# Before anything imports rclpy: keep DDS traffic on this machine, give this test run its own domain
# (several runs may share a machine), and keep ROS logs out of the home directory.
os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
os.environ.setdefault('ROS_DOMAIN_ID', str(random.SystemRandom().randint(1, 100)))
os.environ.setdefault('ROS_HOME', tempfile.mkdtemp(prefix='omni_ros_bt_test_home_'))
os.environ.setdefault('FASTDDS_BUILTIN_TRANSPORTS', 'LARGE_DATA')
os.environ.setdefault('RCUTILS_COLORIZED_OUTPUT', '0')


@pytest.fixture(scope='session')
def rclpy_session():
    """rclpy initialised once for the whole run (init/shutdown per test is slow and leaks DDS state)."""
    import rclpy

    rclpy.init()
    yield
    rclpy.try_shutdown()


@pytest.fixture(autouse=True)
def _fresh_blackboard():
    """py_trees' blackboard is process-global: start every test from an empty one."""
    import py_trees

    py_trees.blackboard.Blackboard.clear()
    yield
    py_trees.blackboard.Blackboard.clear()
