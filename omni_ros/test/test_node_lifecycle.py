"""omni_node driven through its lifecycle from another process, and fed bad input while active."""

from __future__ import annotations

import os
import time

import pytest
from support import change_state, lifecycle_state as state, set_parameters, wait_for

from omni_ros.tools import processes

pytestmark = pytest.mark.dds


def transition(ros_client, transition_id: int) -> bool:
    return change_state(ros_client, transition_id)


def set_param(ros_client, name: str, value: str) -> bool:
    return set_parameters(ros_client, {name: value})[0].successful


def test_bad_configuration_fails_configure_and_the_node_can_be_configured_again(ros_client, log_dir, tmp_path):
    from lifecycle_msgs.msg import Transition

    node = processes.start_node(os.environ, log_dir, params={
        'autostart': False, 'backend': 'scripted', 'scripted.timeline': str(tmp_path / 'missing.yaml')})
    try:
        assert state(ros_client) == 'unconfigured'
        assert not transition(ros_client, Transition.TRANSITION_CONFIGURE)
        assert state(ros_client) == 'unconfigured' and node.running()
        assert 'missing.yaml' in node.output()  # the error names what to fix

        assert not set_param(ros_client, 'image_transport', 'theora')  # validated at once, refused
        assert set_param(ros_client, 'scripted.timeline', '')
        assert transition(ros_client, Transition.TRANSITION_CONFIGURE)
        assert transition(ros_client, Transition.TRANSITION_ACTIVATE)
        assert state(ros_client) == 'active'
        assert transition(ros_client, Transition.TRANSITION_DEACTIVATE)
        assert state(ros_client) == 'inactive'
        assert transition(ros_client, Transition.TRANSITION_CLEANUP)
        assert state(ros_client) == 'unconfigured'
        assert transition(ros_client, Transition.TRANSITION_CONFIGURE)
        assert transition(ros_client, Transition.TRANSITION_ACTIVATE)
        assert state(ros_client) == 'active'
    finally:
        assert node.stop() == 0, node.output()


def test_bad_input_gives_rate_limited_errors_and_the_node_keeps_running(ros_client, log_dir) -> None:
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import Image

    from omni_ros_interfaces.msg import AudioChunk

    node = processes.start_node(os.environ, log_dir, params={'backend': 'scripted', 'error_log_period': 30.0})
    try:
        diagnostics: list[DiagnosticArray] = []
        ros_client.create_subscription(DiagnosticArray, '/diagnostics', diagnostics.append, 10)
        audio = ros_client.create_publisher(AudioChunk, 'audio', qos_profile_sensor_data)
        image = ros_client.create_publisher(Image, 'image', qos_profile_sensor_data)
        wait_for(lambda: audio.get_subscription_count() and image.get_subscription_count(), 30, 'the node inputs')
        now = time.time()
        bad_audio = [
            AudioChunk(sample_rate=16000, channels=1, encoding='S16LE', data=b'\x00' * 801),  # odd byte count
            AudioChunk(sample_rate=16000, channels=1, encoding='MP3', data=b'\x00' * 800),
            AudioChunk(sample_rate=3, channels=1, encoding='S16LE', data=b'\x00' * 800),
            AudioChunk(sample_rate=16000, channels=0, encoding='F32LE', data=b'\x00' * 800),
        ]
        bad_images = [
            Image(height=4, width=4, encoding='bayer_rggb8', step=4, data=b'\x00' * 16),
            Image(height=4, width=4, encoding='rgb8', step=12, data=b'\x00' * 10),  # too little data
            Image(height=100000, width=100000, encoding='mono8', step=100000, data=b'\x00' * 16),
        ]
        for i in range(5):
            for msg in bad_audio:
                msg.header.stamp.sec = int(now) + i
                audio.publish(msg)
            for msg in bad_images:
                msg.header.stamp.sec = int(now) + i
                image.publish(msg)
            time.sleep(0.2)
        # Frames are decoded only when a unit is cut: good audio keeps the stream going past them.
        for i in range(40):
            good = AudioChunk(sample_rate=16000, channels=1, encoding='S16LE', data=b'\x00' * 3200)
            good.header.stamp.sec, good.header.stamp.nanosec = int(now) + 5 + i // 10, (i % 10) * 100_000_000
            audio.publish(good)
            time.sleep(0.01)

        def reported():
            for array in diagnostics[::-1]:
                values = {kv.key: kv.value for s in array.status for kv in s.values}
                if int(values.get('input_errors', 0)) >= 10 and int(values.get('decode_errors', 0)) >= 1:
                    return array.status[0]
            return None

        status = wait_for(reported, 30, 'diagnostics reporting the bad input')
        assert status.level == status.WARN and 'bad input' in status.message
        assert node.running()
        log = node.output()
        assert 'odd' in log or 'multiple' in log  # the messages say what is wrong
        # 20 bad audio messages in a second, one error line per 30 s: the log is not flooded.
        assert log.count('audio message dropped') <= 2
    finally:
        assert node.stop() == 0, node.output()
