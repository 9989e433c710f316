"""Barge-in across processes: omni_node talks (scripted backend) and this process is the room.

The room plays every speech block at its playback stamp through a simulated loudspeaker into the
microphone (delayed, reverberant), as a robot hears itself, and stops playing when told to on
speech/interrupt, as a player does. Microphone audio goes out in 20 ms blocks in real time, stamped
with the capture time on the clock the node uses. A user starts talking over the robot a few seconds
into its speech: the node must stop within 300 ms of input time, tell players, and report the turn
truncated to what was played, while its own looped-back voice never interrupts it.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
import yaml
from support import BLOCK, LINE, SR, USER_AFTER, WORDS_PER_SECOND, SimulatedRoom, user_voice, wait_for

from omni_ros.ros import mapping
from omni_ros.tools import processes
from omni_ros.data import Speech

pytestmark = pytest.mark.dds

def test_a_user_talking_over_the_robot_stops_its_speech_within_300_ms(ros_client, log_dir, tmp_path) -> None:
    from rclpy.qos import qos_profile_sensor_data

    from omni_ros_interfaces.msg import AudioChunk, SpeechInterrupt
    from omni_ros_interfaces.msg import Transcript as TranscriptMsg

    timeline = tmp_path / 'talk.yaml'
    timeline.write_text(yaml.safe_dump({'lines': [{'at': 0.5, 'say': LINE}]}))
    node = processes.start_node(os.environ, log_dir, params={
        'backend': 'scripted', 'scripted.timeline': str(timeline), 'scripted.speech_rate': WORDS_PER_SECOND,
        'use_camera': False})
    voice, onset_in_voice = user_voice()
    room = SimulatedRoom(origin=time.time() + 5.0, seconds=40.0)
    transcripts: list = []
    ros_client.create_subscription(AudioChunk, 'speech', room.play, 100)
    ros_client.create_subscription(SpeechInterrupt, 'speech/interrupt', room.interrupt, 10)
    ros_client.create_subscription(TranscriptMsg, 'transcript', transcripts.append, 50)
    mic = ros_client.create_publisher(AudioChunk, 'audio', qos_profile_sensor_data)
    try:
        wait_for(lambda: mic.get_subscription_count(), 30, f'omni_node subscribing to audio:\n{node.output()}')
        rng = np.random.default_rng(3)
        user_onset = None
        position = 0
        while room.origin + position / SR < room.origin + 30.0:
            stamp = room.origin + position / SR
            # Capture a block once it is over (and the loudspeaker's blocks for it have arrived).
            delay = stamp + BLOCK / SR + 0.005 - time.time()
            if delay > 0:
                time.sleep(delay)
            if user_onset is None and room.blocks:
                first_played = min(b.stamp for _, b in room.blocks)
                user_start = first_played + USER_AFTER
                room.say(user_start, voice)
                user_onset = user_start + onset_in_voice
            mic.publish(mapping.speech_to_msg(Speech(room.capture(position, rng), SR, stamp)))
            position += BLOCK
            if room.interrupts and time.time() > room.interrupts[0][0] + 1.0:
                break
        assert user_onset is not None, f'the robot never spoke:\n{node.output()}'
        assert room.interrupts, f'no interrupt on speech/interrupt:\n{node.output()}'

        received, interruption = room.interrupts[0]
        assert interruption.reason == 'barge_in'
        # Its own voice, looped back for USER_AFTER seconds, did not interrupt it ...
        assert interruption.stamp >= user_onset, (interruption.stamp - user_onset, node.output())
        # ... the user did, within 300 ms of input time.
        assert interruption.stamp - user_onset <= 0.3, interruption.stamp - user_onset
        assert len(room.interrupts) == 1
        turn = interruption.turn_id
        # No block of that turn was released after the cut (released blocks run at most `lead` ahead).
        late = [b.stamp for t, b in room.blocks if b.turn_id == turn and b.stamp > received + 0.2 + 0.1]
        assert late == []

        def cut_transcript():
            return next((t for t in transcripts if t.interrupted and t.turn_id == turn), None)

        cut = wait_for(cut_transcript, 5, 'the interrupted transcript')
        words, said = cut.text.split(), LINE.split()
        assert cut.final and cut.speaker == TranscriptMsg.SPEAKER_ASSISTANT
        assert 0 < len(words) < len(said) and words == said[:len(words)]
        played = interruption.stamp - min(b.stamp for _, b in room.blocks if b.turn_id == turn)
        assert abs(len(words) - played * WORDS_PER_SECOND) <= 2, (cut.text, played)
        assert 'barge-in' in node.output()
    finally:
        assert node.stop() == 0, node.output()
