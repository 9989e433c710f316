"""Shared test set-up: ROS environment isolation and fixtures for tests that start nodes."""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest

from omni_ros.tools import processes

# Before anything imports rclpy: keep DDS traffic on this machine, give this test run its own domain
# (several runs may share a machine), and keep ROS logs out of the home directory.
os.environ.update(processes.isolated_ros_env())
# Generated scenario bags (about 140 MB) go to a per-run temporary folder, not the home directory.
os.environ.setdefault('OMNI_ROS_CACHE', tempfile.mkdtemp(prefix='omni_ros_cache_'))


@pytest.fixture
def ros_client() -> Iterator['rclpy.node.Node']:
    """A plain rclpy node in this process, spun by a background executor thread."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor

    from omni_ros.ros.spin import initialized

    with initialized():
        node = rclpy.create_node('omni_test_client')
        # Test callbacks only record; rclpy's MultiThreadedExecutor would busy-poll and steal a core.
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        thread = threading.Thread(target=executor.spin, daemon=True)
        thread.start()
        try:
            yield node
        finally:
            executor.shutdown()
            thread.join(timeout=5)
            node.destroy_node()


def wait_for(condition: Callable[[], object], timeout: float, what: str, interval: float = 0.05) -> object:
    """Poll ``condition`` until it returns something truthy; fail the test naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f'timed out after {timeout:g} s waiting for {what}')


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    path = tmp_path / 'logs'
    path.mkdir()
    return path


@pytest.fixture(scope='session')
def crossing() -> 'scenario.Scenario':
    """The bundled scenario most node tests replay."""
    from omni_ros import scenario

    return scenario.load_scenario('crossing')


@pytest.fixture(scope='session')
def crossing_bag(crossing) -> Path:
    """Its bag, rendered once per test run (into OMNI_ROS_CACHE), before any node needs it."""
    from omni_ros import scenario

    return scenario.cached_bag(crossing)


@pytest.fixture(scope='session')
def colcon_ws() -> 'ros_install.Workspace':
    """This checkout built by `colcon build` (cached while the packages are unchanged), sourced."""
    import ros_install

    return ros_install.colcon_workspace()


def pytest_terminal_summary(terminalreporter) -> None:
    """The time each install check took (colcon, rosdep, launch, Jazzy), for the CI budget."""
    import ros_install

    if ros_install.TIMES:
        terminalreporter.section('time of the ROS install checks')
        for what, seconds in ros_install.TIMES:
            terminalreporter.write_line(f'{seconds:7.1f} s  {what}')
