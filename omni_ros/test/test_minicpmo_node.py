"""omni_node and omni_eval with ``backend: minicpmo`` on OpenBMB's code with tiny random weights.

The node loads the tiny checkpoint (doubles/minicpmo/upstream.py) through the backend's real loading path
in its own process; only the Token2wav vocoder is the stand-in (doubles/vocoder: CUDA only upstream), put
on the node's PYTHONPATH, and it traces its calls to a file this process reads. Random weights say nonsense
and speak almost every unit: the test asserts behaviour (goals, speech out, a barge-in, zero backend
errors) and what reached upstream's vocoder, not what was said.

The room is test_barge_in_dds.py's: the robot's speech is played back into the microphone through a
simulated loudspeaker, and a user talks over it a few seconds into its speech. The tiny model on a shared
CPU is slower than real time, so the node drops units as its pacing policy says; the story only needs the
robot to be speaking when the user talks.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from support import wait_for

import support as room_support
from doubles.minicpmo.upstream import read_jsonl, vocoder_env
from omni_ros.ros import mapping
from omni_ros.tools import processes
from omni_ros.data import Speech

# One tier per test (conftest.py): across processes, but against the real upstream code, so `upstream`.
pytestmark = pytest.mark.upstream

WATCHES = ('tell me when the traffic light turns green', 'tell me when you hear a ding')
REPEAT_S = 5.0
MODEL = {'device': 'cpu', 'allow_cpu': True, 'dtype': 'float32', 'max_new_speak_tokens_per_chunk': 2}


def _env(tmp_path: Path, trace: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(vocoder_env(trace))
    env.update({'HF_HUB_OFFLINE': '1', 'HF_MODULES_CACHE': str(tmp_path / 'hf_modules')})
    return env


def test_node_watches_speech_and_barge_in_on_the_tiny_upstream_model(ros_client, log_dir, tmp_path,
                                                                       tiny_checkpoint) -> None:
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.action import ActionClient
    from rclpy.qos import qos_profile_sensor_data

    from omni_ros_interfaces.action import SetWatch
    from omni_ros_interfaces.msg import AudioChunk, SpeechInterrupt
    from omni_ros_interfaces.msg import Transcript as TranscriptMsg
    from omni_ros_interfaces.srv import ListWatches

    trace = tmp_path / 'token2wav.jsonl'
    params = {'backend': 'minicpmo', 'use_camera': False, 'minicpmo.model_path': str(tiny_checkpoint),
              **{f'minicpmo.{k}': v for k, v in MODEL.items()}}
    node = processes.start_node(_env(tmp_path, trace), log_dir, params=params)
    voice, onset_in_voice = room_support.user_voice()
    transcripts: list = []
    diagnostics: list = []
    feedback: list = []
    room: room_support.SimulatedRoom | None = None

    def play(msg) -> None:
        if room is not None:
            room.play(msg)

    def interrupt(msg) -> None:
        if room is not None:
            room.interrupt(msg)

    ros_client.create_subscription(AudioChunk, 'speech', play, 100)
    ros_client.create_subscription(SpeechInterrupt, 'speech/interrupt', interrupt, 10)
    ros_client.create_subscription(TranscriptMsg, 'transcript', transcripts.append, 100)
    ros_client.create_subscription(DiagnosticArray, '/diagnostics', diagnostics.append, 10)
    mic = ros_client.create_publisher(AudioChunk, 'audio', qos_profile_sensor_data)
    client = ActionClient(ros_client, SetWatch, 'set_watch')
    try:
        # The node configures (loads the model, warm-up unit) before it serves the action.
        assert client.wait_for_server(timeout_sec=120), f'no set_watch action server:\n{node.output()}'
        handles = []
        for instruction in WATCHES:
            def accepted(instruction=instruction):
                future = client.send_goal_async(SetWatch.Goal(instruction=instruction, continuous=True),
                                                feedback_callback=feedback.append)
                handle = wait_for(lambda: future.done() and future.result(), 60, f'goal response {instruction!r}')
                return handle if handle.accepted else None
            handles.append(wait_for(accepted, 120, f'omni_node accepting {WATCHES[0]!r}:\n{node.output()}'))
        lister = ros_client.create_client(ListWatches, 'list_watches')
        assert lister.wait_for_service(timeout_sec=10)
        listed = lister.call_async(ListWatches.Request())
        result = wait_for(lambda: listed.done() and listed.result(), 10, 'list_watches')
        assert sorted(w.instruction for w in result.watches) == sorted(WATCHES)
        wait_for(lambda: mic.get_subscription_count(), 30, f'omni_node subscribing to audio:\n{node.output()}')

        room = room_support.SimulatedRoom(origin=time.time() + 1.0, seconds=90.0)
        rng = np.random.default_rng(3)
        onsets: list[float] = []  # the user's, every REPEAT_S until the robot stops: the robot's speech comes in
        position = 0  # bursts when units take longer than real time, and a barge-in needs it playing
        sr, block = room_support.SR, room_support.BLOCK
        deadline = room.origin + 75.0
        while room.origin + position / sr < deadline:
            stamp = room.origin + position / sr
            delay = stamp + block / sr + 0.005 - time.time()
            if delay > 0:
                time.sleep(delay)
            if room.blocks and not room.interrupts and (not onsets or stamp > onsets[-1] + REPEAT_S - 1.0):
                start = (min(b.stamp for _, b in room.blocks) + room_support.USER_AFTER if not onsets
                         else onsets[-1] + REPEAT_S - onset_in_voice)
                room.say(start, voice)
                onsets.append(start + onset_in_voice)
            mic.publish(mapping.speech_to_msg(Speech(room.capture(position, rng), sr, stamp)))
            position += block
            if room.interrupts and time.time() > room.interrupts[0][0] + 3.0:
                break
        played = sorted(round(b.stamp - room.origin, 2) for _, b in room.blocks)
        assert onsets, f'the robot never spoke:\n{node.output()}'
        user_at = [round(t - room.origin, 2) for t in onsets]
        assert room.interrupts, (f'no barge-in while the robot spoke; user at {user_at}'
                                 f' s, speech blocks at {played}:\n{node.output()}')
        user_onset = onsets[0]
        received, interruption = room.interrupts[0]
        assert interruption.reason == 'barge_in' and interruption.stamp >= user_onset - 0.05
        assert 'barge-in' in node.output()
        assert 'no per-unit force-listen' not in node.output()  # barge-in used force_listen_override
        cut = wait_for(lambda: next((t for t in transcripts if t.interrupted and t.final), None), 20,
                       f'the interrupted transcript:\n{node.output()}')
        assert cut.speaker == TranscriptMsg.SPEAKER_ASSISTANT

        # Upstream's vocoder was set up with the checkpoint's voice and turned speech tokens into the speech
        # this process heard.
        calls = read_jsonl(trace)
        voice_file = sorted((tiny_checkpoint / 'assets' / 'ref_audio').glob('*.wav'))[0]
        assert [c['model_path'] for c in calls if c['kind'] == 'init'] == [str((tiny_checkpoint / 'assets' /
                                                                                'token2wav').resolve())]
        assert {c['prompt_wav'] for c in calls if c['kind'] == 'set_stream_cache'} == {str(voice_file)}
        streamed = [c for c in calls if c['kind'] == 'stream']
        assert streamed and sum(c['fresh'] for c in streamed) >= 25  # at least one second of speech tokens
        assert room.blocks and all(b.sample_rate > 0 for _, b in room.blocks)

        def pipeline_values() -> dict:
            return {kv.key: kv.value for a in diagnostics[-1:] for s in a.status for kv in s.values}

        values = wait_for(lambda: pipeline_values().get('chunks_processed') and pipeline_values(), 10,
                          'pipeline diagnostics')
        assert values['backend'] == 'minicpmo' and values['backend_errors'] == '0' and values['backend_error'] == ''
        assert int(values['chunks_processed']) >= 3 and int(values['barge_ins']) >= 1
        assert 'backend error' not in node.output().lower()
        for handle in handles:  # the goals are still running, and cancel cleanly
            cancel = handle.cancel_goal_async()
            wait_for(cancel.done, 10, 'goal cancel')
    finally:
        code = node.stop()
    assert code == 0, f'omni_node did not shut down cleanly ({code}):\n{node.output()}'


def test_omni_eval_crossing_with_minicpmo(tmp_path, tiny_checkpoint) -> None:
    """``omni_eval crossing --backend minicpmo`` runs the whole scenario on the tiny upstream model."""
    trace = tmp_path / 'token2wav.jsonl'
    options = [f'--option={k}={v}' for k, v in {'model_path': tiny_checkpoint, **MODEL}.items()]
    out_json = tmp_path / 'eval.json'
    r = subprocess.run([sys.executable, '-m', 'omni_ros.tools.evaluate', 'crossing', '--backend', 'minicpmo',
                        *options, '--no-progress', '--json', str(out_json)],
                       env=_env(tmp_path, trace), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert 'backend minicpmo' in r.stdout and 'scenario crossing' in r.stdout
    import json
    report = json.loads(out_json.read_text())
    assert report['backend'] == 'minicpmo' and report['chunks'] >= 16
    assert any(c['kind'] == 'stream' for c in read_jsonl(trace))  # it spoke, through upstream's vocoder
    assert 'Traceback' not in r.stderr and 'BackendError' not in r.stderr
