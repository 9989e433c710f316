"""omni_mic and omni_speaker in their own processes, talked to over DDS, without sound hardware.

Two kinds of device stand in for a sound card: 'wav:PATH' (a WAV file paced in real time, the nodes'
own documented device) to check exactly what is captured and played, and PortAudio's ALSA 'null'
plugin (a real PortAudio device, declared in an ALSA config under XDG_CONFIG_HOME) for the sounddevice
path and the device list in errors. ALSA's null device runs faster than real time, so only the format
and the node's survival are checked on it.
"""

from __future__ import annotations

import os
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import support
from support import call, wait_for

from omni_ros.tools import processes

pytestmark = pytest.mark.dds

NODES = {'omni_mic': 'omni_ros.ros.mic_node', 'omni_speaker': 'omni_ros.ros.speaker_node'}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The test environment, plus an ALSA config that declares the null device 'omni_null'."""
    alsa = tmp_path / 'xdg' / 'alsa'
    alsa.mkdir(parents=True)
    (alsa / 'asoundrc').write_text('pcm.omni_null {\n  type null\n  hint { show on description "test device" }\n}\n')
    return {**os.environ, 'XDG_CONFIG_HOME': str(tmp_path / 'xdg')}


def start(name: str, env: dict[str, str], log_dir: Path, **params: Any) -> processes.RosProcess:
    return processes.start(name, NODES[name], processes.ros_args(params), env, log_dir)


def change_state(ros_client, node: str, transition_id: int) -> bool:
    return support.change_state(ros_client, transition_id, node)


def state(ros_client, node: str) -> str:
    return support.lifecycle_state(ros_client, node)


def speech_publishers(ros_client) -> tuple[Any, Any]:
    from rclpy.qos import QoSProfile

    from omni_ros_interfaces.msg import AudioChunk, SpeechInterrupt

    # As omni_node publishes them: reliable.
    return (ros_client.create_publisher(AudioChunk, 'speech', QoSProfile(depth=50)),
            ros_client.create_publisher(SpeechInterrupt, 'speech/interrupt', QoSProfile(depth=10)))


def speech_block(value: float, stamp: float, turn: int, seconds: float = 0.1, rate: int = 16000) -> Any:
    from omni_ros.ros import mapping
    from omni_ros.data import Speech

    return mapping.speech_to_msg(Speech(np.full(round(seconds * rate), value, np.float32), rate, stamp,
                                        turn_id=turn))


WARM_UP = 0.01  # level of the blocks that show the speaker is receiving


def wait_until_playing(speech, path: Path) -> int:
    """Publish short blocks of turn 1 until the speaker plays one: the subscription is then matched both
    ways (a publisher sees a subscription a moment before that subscription takes its messages).
    Returns the index in the output file after which the test's own audio comes."""
    def heard() -> int:
        speech.publish(speech_block(WARM_UP, time.time() + 0.05, turn=1, seconds=0.02))
        time.sleep(0.2)
        out = read_wav(path) if path.exists() else np.zeros(0, np.int16)
        return int(np.flatnonzero(out == s16(WARM_UP))[-1]) + 1 if (out == s16(WARM_UP)).any() else 0

    return wait_for(heard, 30, 'the speaker to play a first block', interval=0.0)


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path), 'rb') as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16000, 1, 2)
        return np.frombuffer(wav.readframes(wav.getnframes()), '<i2')


def runs(x: np.ndarray) -> list[tuple[int, int, int]]:
    """(value, first index, length) of each stretch of equal samples."""
    edges = np.flatnonzero(np.diff(x)) + 1
    starts = np.concatenate(([0], edges))
    ends = np.concatenate((edges, [x.size]))
    return [(int(x[s]), int(s), int(e - s)) for s, e in zip(starts, ends)]


def s16(value: float) -> int:
    return int(round(value * 32768))


def test_mic_publishes_a_wav_file_exactly_with_contiguous_stamps(ros_client, env, log_dir, tmp_path) -> None:
    from lifecycle_msgs.msg import Transition
    from rclpy.qos import QoSProfile, qos_profile_sensor_data

    from omni_ros_interfaces.msg import AudioChunk

    samples = np.random.default_rng(3).integers(-32768, 32767, (16000, 2), dtype=np.int16)
    with wave.open(str(tmp_path / 'in.wav'), 'wb') as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(samples.tobytes())
    received: list[AudioChunk] = []
    sub = ros_client.create_subscription(AudioChunk, 'audio', received.append, QoSProfile(
        depth=100, reliability=qos_profile_sensor_data.reliability))
    mic = start('omni_mic', env, log_dir, autostart=False, device=f'wav:{tmp_path}/in.wav', channels=2,
                block_size=800, frame_id='mic_link')
    try:
        assert change_state(ros_client, 'omni_mic', Transition.TRANSITION_CONFIGURE)
        wait_for(lambda: sub.get_publisher_count(), 20, 'the audio publisher')
        activated = time.time()
        assert change_state(ros_client, 'omni_mic', Transition.TRANSITION_ACTIVATE)
        wait_for(lambda: len(received) >= 20, 20, 'one second of audio (20 blocks)')
        wait_for(lambda: 'capture stream ended' in mic.output(), 10, 'the end of the file')
        assert len(received) == 20
        assert {(m.sample_rate, m.channels, m.encoding, m.turn_id, m.header.frame_id) for m in received} == {
            (16000, 2, 'S16LE', 0, 'mic_link')}
        assert b''.join(bytes(m.data) for m in received) == samples.tobytes()
        stamps = np.array([m.header.stamp.sec + m.header.stamp.nanosec * 1e-9 for m in received])
        np.testing.assert_allclose(np.diff(stamps), 0.05, atol=1e-6)  # gap-free
        assert activated - 1.0 < stamps[0] < activated + 3.0  # on the node clock (system time here)
        assert mic.running()
    finally:
        assert mic.stop() == 0, mic.output()


def test_mic_and_speaker_run_on_a_portaudio_null_device(ros_client, env, log_dir) -> None:
    from rclpy.qos import QoSProfile, qos_profile_sensor_data

    from omni_ros_interfaces.msg import AudioChunk

    received: list[AudioChunk] = []
    ros_client.create_subscription(AudioChunk, 'audio', received.append, QoSProfile(
        depth=100, reliability=qos_profile_sensor_data.reliability))
    speech, _ = speech_publishers(ros_client)
    mic = start('omni_mic', env, log_dir, device='omni_null', block_size=320)
    speaker = start('omni_speaker', env, log_dir, device='omni_null')
    try:
        wait_for(lambda: len(received) >= 5, 30, 'audio from the null device')
        assert {(m.sample_rate, m.channels, m.encoding, len(m.data)) for m in received[:5]} == {
            (16000, 1, 'S16LE', 640)}
        wait_for(lambda: speech.get_subscription_count(), 30, 'the speaker')
        for k in range(5):
            speech.publish(speech_block(0.5, time.time() + 0.2 + 0.1 * k, turn=1))
        time.sleep(1.0)
        assert state(ros_client, 'omni_mic') == 'active' and state(ros_client, 'omni_speaker') == 'active'
        assert "configured: 'omni_null'" in speaker.output()
        assert mic.running() and speaker.running()
    finally:
        assert mic.stop() == 0, mic.output()
        assert speaker.stop() == 0, speaker.output()


@pytest.mark.parametrize('name', list(NODES))
def test_a_missing_device_fails_configure_with_the_device_list_and_can_be_fixed(ros_client, env, log_dir,
                                                                                 name: str) -> None:
    from lifecycle_msgs.msg import Transition
    from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
    from rcl_interfaces.srv import SetParameters

    node = start(name, env, log_dir, device='no-such-sound-card')
    try:
        wait_for(lambda: 'configure failed' in node.output(), 30, 'the configure error')
        log = node.output()
        assert "device 'no-such-sound-card' not found" in log and "'omni_null'" in log  # lists what exists
        assert state(ros_client, name) == 'unconfigured' and node.running()
        request = SetParameters.Request(parameters=[Parameter(name='device', value=ParameterValue(
            type=ParameterType.PARAMETER_STRING, string_value='omni_null'))])
        assert call(ros_client, SetParameters, f'/{name}/set_parameters', request).results[0].successful
        assert change_state(ros_client, name, Transition.TRANSITION_CONFIGURE)
    finally:
        assert node.stop() == 0, node.output()


def test_speaker_plays_speech_at_its_stamps_and_drops_interrupted_turns(ros_client, env, log_dir,
                                                                        tmp_path) -> None:
    from omni_ros.ros import mapping
    from omni_ros.data import SpeechInterruption

    speaker = start('omni_speaker', env, log_dir, device=f'wav:{tmp_path}/out.wav', sample_rate=16000,
                    block_size=160)
    speech, interrupt = speech_publishers(ros_client)
    try:
        skip = wait_until_playing(speech, tmp_path / 'out.wav')
        wait_for(lambda: interrupt.get_subscription_count(), 30, 'the interrupt subscription')
        t0 = time.time() + 0.5
        turn1 = [0.05 * (k + 1) for k in range(10)]  # one second, each 0.1 s block at its own level
        for k, value in enumerate(turn1):
            speech.publish(speech_block(value, t0 + 0.1 * k, turn=7))
        time.sleep(max(0.0, t0 + 0.35 - time.time()))
        interrupt.publish(mapping.interruption_to_msg(SpeechInterruption(7, time.time(), 'barge_in')))
        time.sleep(0.2)
        speech.publish(speech_block(0.9, t0 + 1.2, turn=7))  # a late block of the cut turn: never played
        speech.publish(speech_block(-0.5, t0 + 1.5, turn=8))
        speech.publish(speech_block(-0.5, t0 + 1.6, turn=8))
        time.sleep(max(0.0, t0 + 2.0 - time.time()))
        wait_for(lambda: 'interrupted turn 7' in speaker.output(), 10, 'the interruption log')
    finally:
        assert speaker.stop() == 0, speaker.output()

    played = [r for r in runs(read_wav(tmp_path / 'out.wav')[skip:]) if r[0] != 0]
    levels = [v for v, _, _ in played]
    assert s16(0.9) not in levels
    assert played[-1][0] == s16(-0.5) and played[-1][2] == 3200  # turn 8, whole
    first = played[:-1]
    # Turn 7 from its start, block after block without a gap, until the interruption cut it.
    assert levels[:-1] == [s16(v) for v in turn1[:len(first)]]
    assert all(length == 1600 for _, _, length in first[:-1])
    assert all(b[1] == a[1] + a[2] for a, b in zip(first, first[1:]))
    cut = sum(length for _, _, length in first) / 16000
    assert 0.3 <= cut <= 0.8, f'turn 7 played {cut:.3f} s; the interruption came at 0.35 s'
    # Turn 8 starts 1.5 s after turn 7 did, as stamped (within the 50 ms resync tolerance).
    assert (played[-1][1] - first[0][1]) / 16000 == pytest.approx(1.5, abs=0.06)


def test_speaker_reports_bad_speech_rate_limited_and_keeps_playing(ros_client, env, log_dir, tmp_path) -> None:
    from omni_ros_interfaces.msg import AudioChunk

    speaker = start('omni_speaker', env, log_dir, device=f'wav:{tmp_path}/out.wav', sample_rate=16000,
                    block_size=160, error_log_period=30.0)
    speech, _ = speech_publishers(ros_client)
    try:
        skip = wait_until_playing(speech, tmp_path / 'out.wav')
        bad = [
            AudioChunk(sample_rate=16000, channels=1, encoding='S16LE', data=b'\x00' * 801),  # odd byte count
            AudioChunk(sample_rate=16000, channels=1, encoding='mp3', data=b'\x00' * 800),
            AudioChunk(sample_rate=3, channels=1, encoding='S16LE', data=b'\x00' * 800),
            AudioChunk(sample_rate=16000, channels=0, encoding='F32LE', data=b'\x00' * 800),
            AudioChunk(sample_rate=16000, channels=2, encoding='S16LE', data=b'\x00' * 6),  # half a frame too many
            speech_block(0.5, time.time() + 3600, turn=1),  # an hour ahead: another clock
        ]
        for _ in range(5):
            for msg in bad:
                speech.publish(msg)
            time.sleep(0.1)
        speech.publish(speech_block(0.25, time.time() + 0.3, turn=2))
        time.sleep(1.0)
        log = speaker.output()
        assert 'not a multiple of 2' in log  # the first error says what is wrong
        assert log.count('speech message dropped') == 1  # 30 bad messages, one line per 30 s
        assert speaker.running()
    finally:
        assert speaker.stop() == 0, speaker.output()
    played = [r for r in runs(read_wav(tmp_path / 'out.wav')[skip:]) if r[0] != 0]
    assert [(v, n) for v, _, n in played] == [(s16(0.25), 1600)]
