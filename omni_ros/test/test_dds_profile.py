"""config/fastdds_large_frames.xml, the robot-wide Fast DDS profile the README tells users to apply.

A camera-like process with the profile publishes raw 640x480 rgb8 frames (900 KiB, above Fast DDS's
default 512 KiB shared-memory segment) best effort; this process, with default transports and the
robot's discovery range, subscribes as omni_node does (sensor-data QoS) and answers on a small topic.
So the profile keeps a participant that has it and one that has not discovering each other and
talking, and carries whole frames. The figure without the profile is printed, not asserted (it varies).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import ros_install

pytestmark = pytest.mark.dds

PROFILE = ros_install.REPO / 'omni_ros' / 'config' / 'fastdds_large_frames.xml'
FRAMES = 30
ROBOT_DISCOVERY = {'ROS_AUTOMATIC_DISCOVERY_RANGE': 'SUBNET'}  # as test_launch.py: the robot's range

CAMERA = textwrap.dedent('''
    import sys, time
    import rclpy
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import Image
    from std_msgs.msg import String
    from omni_ros.ros.spin import initialized

    with initialized():
        node = rclpy.create_node('profile_camera')
        pub = node.create_publisher(Image, '/profile_check/image_raw', qos_profile_sensor_data)
        acks = []
        node.create_subscription(String, '/profile_check/ack', acks.append, 10)
        deadline = time.monotonic() + 30
        while pub.get_subscription_count() == 0 and time.monotonic() < deadline:
            rclpy.spin_once(node, timeout_sec=0.05)
        time.sleep(0.5)  # let the subscriber match this publisher too
        frame = Image(height=480, width=640, encoding='rgb8', step=640 * 3, data=bytes(640 * 480 * 3))
        for i in range({frames}):
            frame.header.frame_id = str(i)
            pub.publish(frame)
            end = time.monotonic() + 0.1
            while time.monotonic() < end:
                rclpy.spin_once(node, timeout_sec=0.01)
        end = time.monotonic() + 3
        while not acks and time.monotonic() < end:
            rclpy.spin_once(node, timeout_sec=0.05)
        print('ACKS', len(acks), flush=True)
        node.destroy_node()
''').format(frames=FRAMES)


def run_camera(ros_client, tmp_path: Path, profile: Path | None) -> tuple[int, int]:
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import Image
    from std_msgs.msg import String

    received: list[str] = []
    sub = ros_client.create_subscription(Image, '/profile_check/image_raw',
                                         lambda m: received.append(m.header.frame_id), qos_profile_sensor_data)
    ack = ros_client.create_publisher(String, '/profile_check/ack', 10)
    env = dict(os.environ) | ROBOT_DISCOVERY
    env.pop('FASTDDS_DEFAULT_PROFILES_FILE', None)
    if profile is not None:
        env['FASTDDS_DEFAULT_PROFILES_FILE'] = str(profile)
    proc = subprocess.Popen([sys.executable, '-c', CAMERA], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        # Answer from the start: whether any frame gets through (without the profile most are lost) must
        # not decide whether the two participants are seen talking.
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            ack.publish(String(data='listening'))
            time.sleep(0.1)
        out = proc.stdout.read() if proc.poll() is not None else ''
        assert proc.poll() is not None, 'the camera process did not finish within 60 s'
    finally:
        if proc.poll() is None:
            proc.kill()
        ros_client.destroy_subscription(sub)
        ros_client.destroy_publisher(ack)
    assert proc.returncode == 0, out
    acks = int(out.split('ACKS', 1)[1].split()[0]) if 'ACKS' in out else 0
    return len(set(received)), acks


@pytest.fixture(autouse=True)
def robot_discovery(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv('ROS_LOCALHOST_ONLY', raising=False)
    for name, value in ROBOT_DISCOVERY.items():
        monkeypatch.setenv(name, value)


def test_profile_participants_talk_with_default_ones_and_carry_raw_frames(ros_client, tmp_path) -> None:
    frames, acks = run_camera(ros_client, tmp_path, PROFILE)
    print(f'\nwith config/fastdds_large_frames.xml on the camera: {frames}/{FRAMES} raw 640x480 rgb8 frames, '
          f'{acks} replies from the default participant')
    assert acks > 0, 'the default participant and the one with the profile did not talk'
    assert frames >= 0.8 * FRAMES


def test_default_participants_talk_and_the_figure_without_the_profile(ros_client, tmp_path) -> None:
    frames, acks = run_camera(ros_client, tmp_path, None)
    print(f'\nwithout a profile: {frames}/{FRAMES} raw 640x480 rgb8 frames (best effort), {acks} replies')
    assert acks > 0
