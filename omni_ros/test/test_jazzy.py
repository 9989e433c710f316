"""The Jazzy tier: test_rclpy_compat.py run again in the Jazzy venv (Jazzy's rclpy 7.1 wheels, created by
tools/bootstrap.sh from requirements/ros-jazzy.txt), with this checkout's omni_ros on its path.

So the process main, lifecycle, parameter and executor paths are exercised by the rclpy of both
distributions the README promises; a Kilted-only API fails here. Jazzy cannot build omni_ros_interfaces
from these wheels (no rosidl_core_generators), which is why that module needs none of them.
"""

from __future__ import annotations

import os
import subprocess
import xml.etree.ElementTree as ET

import pytest

import ros_install

pytestmark = pytest.mark.install  # launches processes over DDS, from a colcon install

MODULE = ros_install.REPO / 'omni_ros' / 'test' / 'test_rclpy_compat.py'


def test_rclpy_code_paths_pass_on_jazzys_rclpy(tmp_path) -> None:
    python = ros_install.jazzy_python()
    version = subprocess.run([str(python), '-c', 'from importlib.metadata import version; print(version("ros-rclpy"))'],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert version.startswith('7.'), f'{python} has rclpy {version}, not Jazzy\'s 7.x'
    # Not the Kilted libraries this process runs on: the Jazzy venv's wheel bootstrapper sets its own.
    env = {k: v for k, v in os.environ.items()
           if k not in ('LD_LIBRARY_PATH', '_ROS_WHEELS_BOOTSTRAP_COMPLETE', 'AMENT_PREFIX_PATH', 'VIRTUAL_ENV')}
    env['PYTHONPATH'] = str(ros_install.REPO / 'omni_ros')
    # Its own domain: Jazzy's Fast DDS 2.14 and Kilted's 3.2 participants need not meet.
    env['ROS_DOMAIN_ID'] = str((int(env.get('ROS_DOMAIN_ID', '0')) + 50) % 102)  # 0..101, the safe range
    report = tmp_path / 'jazzy.xml'
    with ros_install.timed('Jazzy tier: test_rclpy_compat.py on ros-jazzy-rclpy'):
        done = ros_install.run([str(python), '-m', 'pytest', str(MODULE), '-q', '-p', 'no:cacheprovider',
                                f'--junit-xml={report}'], env=env, cwd=ros_install.REPO,
                               log=tmp_path / 'jazzy.log', timeout=600, check=False)
    log = (tmp_path / 'jazzy.log').read_text()
    assert done.returncode == 0, log
    suite = ET.parse(report).getroot()
    suite = suite if suite.tag == 'testsuite' else suite.find('testsuite')
    counts = {k: int(suite.get(k, 0)) for k in ('tests', 'failures', 'errors', 'skipped')}
    assert counts['tests'] >= 5 and counts['failures'] == counts['errors'] == counts['skipped'] == 0, (counts, log)
