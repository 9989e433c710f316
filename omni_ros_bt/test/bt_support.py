"""Test set-up for omni_ros_bt: ROS environment isolation (shared helper) and fixtures.

Deliberately not a conftest.py: with both test folders in one pytest run, a second module named
``conftest`` would replace omni_ros's for code that imports it. Each test module imports this first
(before anything creates a ROS context) and imports the fixtures it uses.
"""

from __future__ import annotations

import os
import tempfile

import pytest

from omni_ros.tools import processes

# Before anything imports rclpy: keep DDS traffic on this machine, give this test run its own domain
# (several runs may share a machine), and keep ROS logs out of the home directory. Same helper as
# omni_ros/test/conftest.py and the demo use.
os.environ.update(processes.isolated_ros_env())
# Generated scenario bags go to a per-run temporary folder, not the home directory.
os.environ.setdefault('OMNI_ROS_CACHE', tempfile.mkdtemp(prefix='omni_ros_bt_cache_'))


@pytest.fixture
def rclpy_session():
    """rclpy initialised for one test (like omni_ros's ros_client fixture, so both suites run in one session)."""
    from omni_ros.ros.spin import initialized

    with initialized():
        yield


@pytest.fixture(autouse=True)
def fresh_blackboard():
    """py_trees' blackboard is process-global: start every test from an empty one."""
    import py_trees

    py_trees.blackboard.Blackboard.clear()
    yield
    py_trees.blackboard.Blackboard.clear()
