"""CpuBackend end to end on generated chunks: alerts, answers, spoken watches, robustness, set-up errors."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from omni_ros.backends import create_backend
from omni_ros.backends.cpu import CpuBackend, synth
from omni_ros.backends.cpu.asr import CommandRecognizer, FreeFormRecognizer
from omni_ros.backends.cpu.deps import require_module
from omni_ros.backends.cpu.options import CpuConfig
from omni_ros.errors import BackendError, BackendSetupError, WatchRejectedError
from omni_ros.data import Chunk, EventKind, InterruptMode, Modality, Question, Speaker, Watch, WatchSource

WATCHES = [
    Watch('light', 'tell me when the light turns green'),
    Watch('floor', 'let me know when we reach floor 16'),
    Watch('beep', 'alert me when the oven beeps'),
    Watch('exit', 'tell me when the sign says EXIT'),
    Watch('person', 'say something if someone comes in'),
    Watch('knock', 'when you hear a knock'),
    Watch('bell', 'tell me when the doorbell rings'),
    Watch('ding', 'let me know if the microwave dings'),
]


@pytest.fixture(scope='module')
def backend() -> CpuBackend:
    b = create_backend('cpu', {})
    b.setup()
    yield b
    b.shutdown()


@pytest.fixture
def fresh(backend: CpuBackend) -> CpuBackend:
    backend.set_watches([])
    backend.start_session()
    return backend


def feed_all(b: CpuBackend, chunks: list[Chunk]) -> list:
    return [b.feed(c) for c in chunks]


def alerts(outputs: list) -> list[tuple[int, str]]:
    return [(i, e.watch_id) for i, out in enumerate(outputs) for e in out.events if e.kind is EventKind.ALERT]


def test_registry_and_stream_spec(backend: CpuBackend) -> None:
    spec = backend.stream_spec()
    # The CPU backend decides on a 0.25 s hop (the node cuts its input so), whatever the node's unit.
    assert (spec.sample_rate, spec.frames_per_chunk, spec.chunk_seconds, spec.hop_seconds) == (16000, 1, 0.25, 0.25)
    assert CpuBackend(CpuConfig(hop=1.0)).stream_spec().hop_seconds == 1.0
    assert backend.name == 'cpu'
    assert CpuBackend.usable(CpuConfig())


def test_scenario_alerts_once_per_event_at_the_right_time(fresh: CpuBackend) -> None:
    fresh.set_watches(WATCHES)
    frames = ([synth.scene(light='red', digits='14')] * 3 + [synth.scene(light='green', digits='15')] * 3
              + [synth.scene(light='green', digits='16', sign_text='EXIT')] * 3
              + [synth.scene(light='green', digits='16', sign_text='EXIT', with_person=True)] * 3
              + [synth.scene(light='red', digits='16')] * 4)
    audio = synth.noise(16, 0.003)
    audio = synth.mix(audio, synth.beep(), 4.3, 20)
    audio = synth.mix(audio, synth.knock(), 7.5, 20)
    audio = synth.mix(audio, synth.doorbell(), 10.2, 20)
    audio = synth.mix(audio, synth.bell(1300), 13.4, 20)
    outputs = feed_all(fresh, synth.chunks(audio, frames))
    got = alerts(outputs)
    first = {w: i for i, w in reversed(got)}
    assert sorted(w for _, w in got) == sorted(w.watch_id for w in WATCHES), got  # each exactly once
    assert first['light'] == 3
    assert first['beep'] == 4
    assert first['floor'] == 6
    assert first['exit'] in (6, 7)  # OCR runs every other chunk
    assert first['knock'] == 7
    assert first['person'] == 9
    assert first['bell'] in (10, 11)
    assert first['ding'] in (13, 14)
    event = next(e for out in outputs for e in out.events if e.watch_id == 'beep')
    assert event.modality is Modality.AUDIO and event.stamp == 4.0 and 0 < event.confidence <= 1
    # Each alert is spoken: an assistant transcript and speech audio at the TTS rate.
    assert outputs[3].speaking and outputs[3].speech[0].sample_rate == 16000
    assert any(t.speaker is Speaker.ASSISTANT and 'green' in t.text for t in outputs[3].transcripts)


def _quiet_chunks(n: int, frame_of) -> list[Chunk]:
    return synth.chunks(np.zeros(n * synth.SR, np.float32), [frame_of(i) for i in range(n)])


@pytest.mark.parametrize('case', ['silence_and_darkness', 'noise', 'camera_stops', 'empty_room'])
def test_no_false_alerts(fresh: CpuBackend, case: str) -> None:
    fresh.set_watches(WATCHES)
    dark = np.zeros((480, 640, 3), np.uint8)
    if case == 'silence_and_darkness':
        chunks = _quiet_chunks(6, lambda i: dark)
    elif case == 'noise':
        audio = np.concatenate([synth.noise(3, 0.05), synth.noise(3, 0.1, 'pink', seed=1)])
        chunks = synth.chunks(audio, [synth.scene(light='red', digits='12', brightness=0.4)] * 6)
    elif case == 'camera_stops':
        # Light green and floor 16 seen first (alerts), then no frames, then the same scene again.
        scene = synth.scene(light='green', digits='16')
        chunks = synth.chunks(synth.noise(8, 0.003), [scene, scene, None, None, None, None, scene, scene])
    else:
        chunks = synth.chunks(synth.noise(6, 0.003), [synth.scene(light='off', brightness=b) for b in
                                                      (0.3, 0.6, 1.0, 1.4, 1.0, 0.6)])
    outputs = feed_all(fresh, chunks)
    got = alerts(outputs)
    if case == 'camera_stops':
        assert sorted(w for _, w in got) == ['floor', 'light']  # once, at the start, not again after the gap
        assert all(i == 0 for i, _ in got)
    else:
        assert got == []


def test_chunk_without_frames_and_audio_gap(fresh: CpuBackend) -> None:
    fresh.set_watches(WATCHES)
    chunk = Chunk(index=0, start=0.0, duration=1.0, sample_rate=16000, audio=np.zeros(16000, np.float32),
                  frames=(), audio_missing=1.0, new_stream=True)
    out = fresh.feed(chunk)
    assert out.events == []


def test_questions_are_answered(fresh: CpuBackend) -> None:
    scene = synth.scene(light='yellow', digits='7', sign_text='EXIT', with_person=True)
    chunks = synth.chunks(synth.noise(6, 0.003), [scene] * 5 + [None])
    questions = [('q1', 'what floor are we on', 'floor 7'), ('q2', 'what does the sign say', 'EXIT'),
                 ('q3', 'what colour is the light', 'yellow'), ('q4', 'is anyone there', 'Yes'),
                 ('q5', 'what is the meaning of life', 'Sorry'), ('q6', 'what floor are we on', 'cannot see')]
    answers = {}
    for chunk, (qid, text, _) in zip(chunks, questions):
        fresh.ask(Question(qid, text, chunk.start))
        for e in fresh.feed(chunk).events:
            assert e.kind is EventKind.ANSWER and e.stamp == chunk.start
            answers[e.question_id] = e
    for qid, _, expected in questions:
        assert expected in answers[qid].text, answers[qid].text
    assert answers['q5'].confidence == 0.0 and answers['q6'].confidence == 0.0


def test_spoken_watch_is_proposed_confirmed_and_followed(fresh: CpuBackend) -> None:
    audio = synth.mix(synth.noise(9, 0.003), synth.speech('tell me when the light turns green', 'slt'), 0.3, 25)
    frames = [synth.scene(light='red')] * 5 + [synth.scene(light='green')] * 4
    outputs = feed_all(fresh, synth.chunks(audio, frames))
    requests = [w for out in outputs for w in out.watch_requests]
    assert len(requests) == 1
    watch = requests[0]
    assert watch.source is WatchSource.SPOKEN and 'green' in watch.instruction
    user = [t for out in outputs for t in out.transcripts if t.speaker is Speaker.USER]
    assert user and user[0].text == 'tell me when the light turns green'
    said = [t.text for out in outputs for t in out.transcripts if t.speaker is Speaker.ASSISTANT]
    assert 'OK, I will tell you when the traffic light turns green.' in said
    assert watch.interpretation == 'I will tell you when the traffic light turns green.'
    # Not yet adopted by the node: the backend follows it itself (one alert when the light turns green).
    assert alerts(outputs) == [(5, watch.watch_id)]


def test_spoken_watch_adopted_by_the_node(fresh: CpuBackend) -> None:
    # The transcript comes on the hop after the one that ends the utterance (recognition runs beside the hops).
    audio = synth.mix(synth.noise(4, 0.003), synth.speech('alert me when the oven beeps', 'kal'), 0.2, 25)
    outputs = feed_all(fresh, synth.chunks(audio, [None] * 4))
    watch = [w for out in outputs for w in out.watch_requests][0]
    fresh.set_watches([watch])  # the node adopts it; from now on its life cycle is the node's
    beeps = synth.mix(synth.noise(4, 0.003), synth.beep(), 0.5, 20)
    later = feed_all(fresh, [Chunk(c.index + 4, c.start + 4, 1.0, 16000, c.audio, ()) for c in
                             synth.chunks(beeps, [None] * 4)])
    assert [w for _, w in alerts(later)] == [watch.watch_id]
    fresh.set_watches([])  # the node removed it
    assert fresh._trackers == {}


def hops(audio: np.ndarray, hop: float = 0.25) -> list[Chunk]:
    """``audio`` in chunks of the backend's hop (no camera)."""
    n = int(16000 * hop)
    return [Chunk(index=i, start=i * hop, duration=hop, sample_rate=16000, audio=audio[i * n:(i + 1) * n],
                  frames=(), new_stream=i == 0) for i in range(len(audio) // n)]


def test_a_sound_is_decided_while_an_utterance_is_still_being_recognised(
        fresh: CpuBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    """Recognition runs beside the hops: with the recognizers held mid-utterance, the beep after the
    question is alerted on the same hop as without the question, and the question's transcript still comes."""
    started, release, finished = threading.Event(), threading.Event(), threading.Event()

    def held(real):
        def recognize(self, audio):
            started.set()
            release.wait(30)  # in the hop thread (no worker) this would hold every hop for 30 s
            try:
                return real(self, audio)
            finally:
                finished.set()
        return recognize

    noise = synth.noise(8, 0.003)
    beep = synth.beep(2000.0, 0.25, 1)
    fresh.set_watches([Watch('beep', 'alert me when the oven beeps')])
    alone = alerts(feed_all(fresh, hops(synth.mix(noise, beep, 3.2, 20))))
    assert [w for _, w in alone] == ['beep']

    monkeypatch.setattr(CommandRecognizer, 'recognize', held(CommandRecognizer.recognize))
    monkeypatch.setattr(FreeFormRecognizer, 'recognize', held(FreeFormRecognizer.recognize))
    audio = synth.mix(synth.mix(noise, synth.speech('what did you hear', 'slt'), 0.3, 25), beep, 3.2, 20)
    fresh.start_session()
    outputs = []
    in_progress_at_alert = None
    for chunk in hops(audio):
        out = fresh.feed(chunk)
        outputs.append(out)
        if any(e.kind is EventKind.ALERT for e in out.events):
            in_progress_at_alert = started.is_set() and not finished.is_set()
            release.set()
    assert alerts(outputs) == alone  # the same hop, in stream time
    assert in_progress_at_alert, 'the beep was decided only after the recognition ended'
    user = [(i, t.text) for i, out in enumerate(outputs) for t in out.transcripts if t.speaker is Speaker.USER]
    assert [t.lower().strip('?.') for _, t in user] == ['what did you hear'] and user[0][0] > alone[0][0]
    answers = [e.text for out in outputs for e in out.events if e.kind is EventKind.ANSWER]
    assert answers and 'beep' in answers[0]  # the question, recognised late, is still answered


def test_unrecognised_spoken_request_is_answered_not_watched(fresh: CpuBackend) -> None:
    audio = synth.mix(synth.noise(6, 0.003), synth.speech('tell me when the stock market crashes', 'slt'), 0.2, 25)
    outputs = feed_all(fresh, synth.chunks(audio, [None] * 6))  # its transcript: a hop after its end
    assert [w for out in outputs for w in out.watch_requests] == []
    said = [t.text for out in outputs for t in out.transcripts if t.speaker is Speaker.ASSISTANT]
    assert any(s.startswith('Sorry, I cannot follow that') and 'I can watch for traffic lights' in s for s in said)


def test_spoken_watch_with_a_wake_phrase_then_ended_by_voice(fresh: CpuBackend) -> None:
    audio = synth.noise(16, 0.003)
    audio = synth.mix(audio, synth.speech('hey robot, okay so, tell me when the doorbell rings', 'slt'), 0.3, 25)
    audio = synth.mix(audio, synth.speech('never mind the doorbell', 'slt'), 7.5, 25)
    audio = synth.mix(audio, synth.doorbell(), 13.0, 20)
    outputs = feed_all(fresh, synth.chunks(audio, [None] * 16))
    requests = [w for out in outputs for w in out.watch_requests]
    assert len(requests) == 1 and requests[0].interpretation == 'I will tell you when I hear the doorbell.'
    ended = [(i, w) for i, out in enumerate(outputs) for w in out.watch_cancellations]
    said = [t.text for out in outputs for t in out.transcripts]
    assert [w for _, w in ended] == [requests[0].watch_id], said
    assert 'OK, I will no longer tell you when I hear the doorbell.' in said
    assert alerts(outputs) == [] and fresh._trackers == {}  # the doorbell after the cancellation is not reported


def test_voice_cancellation_of_nothing_watched_says_what_is(fresh: CpuBackend) -> None:
    fresh.set_watches([Watch('light', 'tell me when the light turns green')])
    audio = synth.mix(synth.noise(5, 0.003), synth.speech('forget about the kettle', 'slt'), 0.3, 25)
    outputs = feed_all(fresh, synth.chunks(audio, [None] * 5))
    said = [t.text for out in outputs for t in out.transcripts if t.speaker is Speaker.ASSISTANT]
    assert [w for out in outputs for w in out.watch_cancellations] == []
    assert any('I am not watching for the kettle' in s and 'the traffic light turns green' in s for s in said), said


def test_interrupt_drops_pending_speech(fresh: CpuBackend) -> None:
    scene = synth.scene(light='green')
    fresh.ask(Question('q', 'what does the sign say'))
    fresh.ask(Question('q2', 'what colour is the light'))
    fresh.ask(Question('q3', 'what is the meaning of life'))
    first = fresh.feed(synth.chunks(np.zeros(16000, np.float32), [scene])[0])
    assert first.speaking and sum(len(s.samples) for s in first.speech) == 16000  # more than a second queued
    # One piece per answer turn, each tagged with its turn and the words it voices.
    assert [s.turn_id for s in first.speech] == sorted({s.turn_id for s in first.speech})
    assert all(s.turn_id > 0 for s in first.speech) and first.speech[0].text
    fresh.interrupt(InterruptMode.FORCE_LISTEN)
    second = fresh.feed(Chunk(1, 1.0, 1.0, 16000, np.zeros(16000, np.float32), ()))
    assert not second.speaking and second.speech == []


def test_check_instruction(backend: CpuBackend) -> None:
    assert backend.check_instruction('tell me when the light turns green') == \
        'I will tell you when the traffic light turns green.'
    assert 'any beep' in backend.check_instruction('alert me when the oven beeps')
    with pytest.raises(WatchRejectedError, match='traffic light'):
        backend.check_instruction('tell me when it rains')
    with pytest.raises(WatchRejectedError):
        backend.set_watches([Watch('x', 'book me a flight')])


def test_disabled_perception_rejects_its_watches() -> None:
    b = CpuBackend(CpuConfig(scene_text=False, people=False))
    with pytest.raises(WatchRejectedError, match='disabled'):
        b.check_instruction('tell me when the sign says EXIT')
    b.check_instruction('tell me when the light turns green')


def test_feed_before_setup_is_an_error() -> None:
    with pytest.raises(BackendError, match='setup'):
        CpuBackend().feed(synth.chunks(np.zeros(16000, np.float32), [None])[0])


def test_missing_flite_names_the_debian_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('PATH', '/nonexistent')
    b = CpuBackend(CpuConfig(asr='off', scene_text=False))
    with pytest.raises(BackendSetupError, match='apt-get install flite'):
        b.setup()
    assert CpuBackend.usable(CpuConfig()) is False


def test_missing_python_package_names_the_pip_package() -> None:
    with pytest.raises(BackendSetupError, match="'not-a-real-pkg'"):
        require_module('not_a_real_module_xyz', 'not-a-real-pkg')


def test_runs_offline_without_torch_or_transformers(tmp_path) -> None:
    code = (
        'import sys\n'
        'from omni_ros.backends import create_backend\n'
        "b = create_backend('cpu', {})\n"
        'b.setup()\n'
        "bad = [m for m in ('torch', 'transformers', 'rclpy') if m in sys.modules]\n"
        'assert not bad, bad\n'
        'b.shutdown()\n')
    env = dict(os.environ, HF_HUB_OFFLINE='1', HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / 'cache'))
    subprocess.run([sys.executable, '-c', code], check=True, env=env, timeout=120)
    assert not any(tmp_path.rglob('*.onnx')) and not any(tmp_path.rglob('*.bin'))  # nothing downloaded
