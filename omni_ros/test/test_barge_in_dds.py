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
import threading
import time

import numpy as np
import pytest
import yaml
from support import wait_for

from omni_ros.ros import mapping
from omni_ros.ingest.audio import resample
from omni_ros.tools import processes
from omni_ros.tools.bench_bargein import Room, impulse_response
from omni_ros.data import Speech

pytestmark = pytest.mark.dds

SR = 16000
BLOCK = 320  # 20 ms microphone blocks
LINE = ('I am going to tell you a rather long story about the elevator, the traffic light and the little '
        'sign on the corner of the street, so please bear with me for a while.')
WORDS_PER_SECOND = 2.5
USER_AFTER = 3.0  # s of robot speech before the user talks over it
# The robot's echo at the microphone is about 2 dB below the user's voice (IR gain 0.2, user peak 0.4).
ROOM = Room('test room', delay=0.06, echo_db=-2.0, rt60=0.3, seed=7)


class SimulatedRoom:
    """Loudspeaker-to-microphone path on a 16 kHz timeline starting at ``origin`` (input time)."""

    def __init__(self, origin: float, seconds: float) -> None:
        self.origin = origin
        self._ir = impulse_response(ROOM, np.random.default_rng(ROOM.seed)) * 0.2
        self._echo = np.zeros(int(seconds * SR) + self._ir.size, np.float32)
        self._user = np.zeros_like(self._echo)
        self._lock = threading.Lock()
        self.blocks: list = []  # (reception wall time, Speech) of every speech block
        self.interrupts: list = []  # (reception wall time, SpeechInterruption)
        self._stopped_turn = 0

    def index(self, stamp: float) -> int:
        return int(round((stamp - self.origin) * SR))

    def play(self, msg) -> None:
        block = mapping.msg_to_speech(msg)
        with self._lock:
            self.blocks.append((time.time(), block))
            if block.turn_id <= self._stopped_turn:
                return  # a player drops blocks of an interrupted turn
            echo = np.convolve(resample(block.samples, block.sample_rate, SR), self._ir)
            start = self.index(block.stamp)
            end = min(start + echo.size, self._echo.size)
            if start >= 0 and end > start:
                self._echo[start:end] += echo[:end - start]

    def interrupt(self, msg) -> None:
        interruption = mapping.msg_to_interruption(msg)
        with self._lock:
            received = time.time()
            self.interrupts.append((received, interruption))
            self._stopped_turn = max(self._stopped_turn, interruption.turn_id)
            # The player stops now: nothing it had queued reaches the microphone any more.
            self._echo[max(0, self.index(max(received, interruption.stamp) + ROOM.delay)):] = 0.0

    def say(self, at: float, samples: np.ndarray) -> None:
        start = self.index(at)
        with self._lock:
            self._user[start:start + samples.size] += samples

    def capture(self, start: int, rng: np.random.Generator) -> np.ndarray:
        with self._lock:
            x = self._echo[start:start + BLOCK] + self._user[start:start + BLOCK]
        return np.clip(x + 0.002 * rng.standard_normal(BLOCK), -1, 1).astype(np.float32)


def user_voice() -> tuple[np.ndarray, float]:
    """A different voice saying something short, at about the echo's level; and its onset in s."""
    from omni_ros.backends.cpu.tts import FliteTts

    tts = FliteTts('awb', SR)
    tts.setup()
    x = tts.synthesize('Wait, stop please, I have a question.')
    x = 0.4 * x / np.max(np.abs(x))
    frames = np.sqrt(np.mean(x[:x.size // 160 * 160].reshape(-1, 160) ** 2, axis=1))
    onset = int(np.argmax(frames > 0.1 * frames.max())) * 160 / SR
    return x, onset


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
