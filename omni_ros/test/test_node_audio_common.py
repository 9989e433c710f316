"""omni_node fed by audio_common_msgs (as audio_capture publishes), across processes.

Uses the test copy of audio_common_msgs that tools/bootstrap.sh builds (omni_ros/test/interfaces).
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from support import wait_for

from omni_ros.ros import mapping
from omni_ros.tools import processes
from omni_ros.data import Speech

pytestmark = pytest.mark.dds


def test_audio_capture_input_is_heard_and_compressed_input_is_refused_with_the_fix(ros_client, log_dir) -> None:
    from audio_common_msgs.msg import AudioDataStamped, AudioInfo
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.qos import qos_profile_sensor_data

    node = processes.start_node(os.environ, log_dir, params={
        'backend': 'scripted', 'use_camera': False, 'audio_input': 'audio_common', 'error_log_period': 30.0})
    try:
        diagnostics: list[DiagnosticArray] = []
        ros_client.create_subscription(DiagnosticArray, '/diagnostics', diagnostics.append, 10)
        info_pub = ros_client.create_publisher(AudioInfo, 'audio_info', qos_profile_sensor_data)
        audio_pub = ros_client.create_publisher(AudioDataStamped, 'audio', qos_profile_sensor_data)
        wait_for(lambda: audio_pub.get_subscription_count() and info_pub.get_subscription_count(), 30,
                 f'omni_node subscribing to audio and audio_info:\n{node.output()}')

        def values() -> dict[str, str]:
            return {kv.key: kv.value for a in diagnostics[-1:] for s in a.status for kv in s.values}

        start = time.time()
        block = np.zeros(1600, np.float32)  # 100 ms at 16 kHz
        # audio_capture left at its default, mp3: every message is refused, saying how to fix it.
        mp3 = AudioInfo(channels=1, sample_rate=16000, sample_format='S16LE', bitrate=128000, coding_format='mp3')
        for i in range(10):
            info_pub.publish(mp3)
            msg, _ = mapping.speech_to_audio_data(Speech(block, 16000, start + i * 0.1))
            audio_pub.publish(msg)
            time.sleep(0.02)
        wait_for(lambda: int(values().get('input_errors', 0)) >= 5, 20, 'the mp3 input counted as errors')
        log = node.output()
        assert 'format: wave' in log or 'format:=wave' in log, log
        assert log.count('audio message dropped') == 1  # rate-limited: one line for ten bad messages

        # Raw capture: the node cuts units from it.
        for i in range(30):
            msg, info = mapping.speech_to_audio_data(Speech(block, 16000, start + 1.0 + i * 0.1))
            info_pub.publish(info)
            audio_pub.publish(msg)
            time.sleep(0.02)
        wait_for(lambda: int(values().get('chunks_processed', 0)) >= 1, 20,
                 f'units cut from audio_common input:\n{node.output()}')
        assert node.running()
    finally:
        assert node.stop() == 0, node.output()


def test_audio_common_input_without_the_package_fails_configure_saying_what_to_install(
        ros_client, log_dir, tmp_path) -> None:
    from lifecycle_msgs.msg import Transition
    from test_node_lifecycle import transition

    # Hide the test copy of audio_common_msgs from the node's Python: a robot without the package.
    shadow = tmp_path / 'shadow' / 'audio_common_msgs'
    shadow.mkdir(parents=True)
    (shadow / '__init__.py').write_text("raise ImportError('audio_common_msgs is not installed here')\n")
    env = dict(os.environ, PYTHONPATH=f"{shadow.parent}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    node = processes.start_node(env, log_dir, params={
        'backend': 'scripted', 'use_camera': False, 'audio_input': 'audio_common', 'autostart': False})
    try:
        assert not transition(ros_client, Transition.TRANSITION_CONFIGURE)
        assert 'audio-common-msgs' in node.output() and node.running()
    finally:
        assert node.stop() == 0, node.output()
