"""Shared test set-up: ROS environment isolation, test tiers, and fixtures (helpers are in support.py)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import pytest


from omni_ros.tools import processes

if TYPE_CHECKING:
    import rclpy.node
    import ros_install

    from omni_ros import scenario
# Fixtures of the `upstream` tier (the tiny MiniCPM-o 4.5 checkpoint, the vocoder stand-in), for every test file.
from doubles.minicpmo.upstream import loaded_models, tiny_checkpoint, vocoder_standin  # noqa: E402,F401

# Before anything imports rclpy: keep DDS traffic on this machine, give this test run its own domain
# (several runs may share a machine), and keep ROS logs out of the home directory.
os.environ.update(processes.isolated_ros_env())
# Generated scenario bags (about 140 MB) go to a per-run temporary folder, not the home directory.
os.environ.setdefault('OMNI_ROS_CACHE', tempfile.mkdtemp(prefix='omni_ros_cache_'))


@pytest.fixture
def ros_client() -> Iterator['rclpy.node.Node']:
    """A plain rclpy node in this process, spun by a background executor thread (a SingleThreadedExecutor:
    test callbacks only record; rclpy's MultiThreadedExecutor would busy-poll and steal a core)."""
    from omni_ros.ros.spin import initialized, spun_node

    with initialized(), spun_node('omni_test_client') as node:
        yield node


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


# -- test tiers ---------------------------------------------------------------------------------------
TIERS = ('core', 'node', 'dds', 'upstream', 'install')


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test is in exactly one tier (pytest.ini); a test that names none is a core test."""
    for item in items:
        tiers = {m.name for m in item.iter_markers() if m.name in TIERS}
        if len(tiers) > 1:
            raise pytest.UsageError(f'{item.nodeid} is marked with several tiers: {sorted(tiers)}')
        if not tiers:
            item.add_marker(pytest.mark.core)


# -- the CPU backend's detectors, set up once per module that uses them -----------------------------------
@pytest.fixture(scope='module')
def lights() -> Any:
    from omni_ros.backends.cpu.lights import LightDetector

    detector = LightDetector()
    detector.setup()
    return detector


@pytest.fixture(scope='module')
def people() -> Iterator[Any]:
    from omni_ros.backends.cpu.people import PeopleDetector

    detector = PeopleDetector()
    detector.setup()
    yield detector
    detector.close()


@pytest.fixture(scope='session')
def colcon_ws() -> 'ros_install.Workspace':
    """This checkout built by `colcon build` (cached while the packages are unchanged), sourced."""
    import ros_install

    return ros_install.colcon_workspace()


def pytest_terminal_summary(terminalreporter) -> None:
    """What tests reported (the fuzz tier's counts), and the time each install check took (colcon, rosdep,
    launch, Jazzy), for the CI budget."""
    import ros_install
    from support import REPORTS

    if REPORTS:
        terminalreporter.section('reports')
        for line in REPORTS:
            terminalreporter.write_line(line)
    if ros_install.TIMES:
        terminalreporter.section('time of the ROS install checks')
        for what, seconds in ros_install.TIMES:
            terminalreporter.write_line(f'{seconds:7.1f} s  {what}')
