"""OmniSession without ROS: barge-in, speech release, configure failures, live settings, input limits.

The session runs with the real scripted backend, the real pipeline and the real self-hearing (the
'energy' VAD, no echo handling, so a loud microphone block is a user's voice); the host records what
the node would publish.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np
import pytest

from omni_ros.data import (AudioBlock, Event, EventKind, InterruptMode, Speaker, Speech, SpeechInterruption,
                           Transcript, Watch, WatchSource)
from omni_ros.errors import BackendSetupError, ConfigError, WatchRejectedError
from omni_ros.session.session import Level, OmniSession, SessionConfig
from omni_ros.watches.table import WatchState

RATE = 16000


class Host:
    """The node's side: a settable input clock, and lists of what would be published and logged."""

    def __init__(self, now: float = 100.0) -> None:
        self.t = now
        self.events: list[tuple[Event, str]] = []
        self.transcripts: list[Transcript] = []
        self.blocks: list[Speech] = []
        self.interruptions: list[SpeechInterruption] = []
        self.logs: list[tuple[str, str]] = []

    def now(self) -> float:
        return self.t

    def event(self, event: Event, event_id: str, watch: WatchState | None) -> None:
        self.events.append((event, event_id))

    def transcript(self, transcript: Transcript) -> None:
        self.transcripts.append(transcript)

    def speech(self, block: Speech) -> None:
        self.blocks.append(block)

    def interruption(self, interruption: SpeechInterruption) -> None:
        self.interruptions.append(interruption)

    def log(self, level: str, text: str) -> None:
        self.logs.append((level, text))


def config(node: dict[str, Any] | None = None, backend: dict[str, Any] | None = None,
           hearing: dict[str, Any] | None = None) -> SessionConfig:
    values = {'': {'backend': 'scripted', 'use_camera': False, **(node or {})}, 'scripted.': backend or {},
              'self_hearing.': {'strategy': 'none', 'vad': 'energy', **(hearing or {})}}
    return SessionConfig.load(lambda prefix: values.get(prefix, {}))


@pytest.fixture
def host() -> Host:
    return Host()


@pytest.fixture
def session(host: Host):
    s = OmniSession(host)
    yield s
    s.release('test over')


def active(session: OmniSession, cfg: SessionConfig | None = None) -> OmniSession:
    session.configure(cfg or config())
    session.activate()
    return session


def wait_until(condition: Callable[[], object], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, 'timed out'
        time.sleep(0.01)


def mic(session: OmniSession, start: float, seconds: float, level: float, seed: int = 0) -> None:
    """Microphone blocks of 20 ms: white noise at ``level`` (0.001 is a quiet room, 0.3 a voice)."""
    rng = np.random.default_rng(seed)
    n = int(round(seconds / 0.02))
    for i in range(n):
        samples = (level * rng.standard_normal(RATE // 50)).astype(np.float32)
        session.audio(lambda at=start + 0.02 * i, s=samples: AudioBlock(at, s, RATE))


def say(session: OmniSession, host: Host, seconds: float, turn: int = 1, text: str = 'one two three four') -> None:
    """What the backend worker does with a piece of speech: the session schedules it."""
    session.transcript(Transcript(Speaker.ASSISTANT, text, turn, host.t))
    session.speech(Speech(np.full(int(24000 * seconds), 0.1, np.float32), 24000, host.t, turn, text))


# -- speech release -----------------------------------------------------------------------------------

def test_speech_is_released_in_blocks_shortly_before_it_plays(session: OmniSession, host: Host) -> None:
    active(session)
    say(session, host, 1.0)
    assert [t.text for t in host.transcripts] == ['one two three four']
    session.release_speech()
    lead = session.config.speech.lead
    assert host.blocks and all(b.stamp <= host.t + lead for b in host.blocks)  # only what starts within the lead
    assert host.blocks[0].stamp == pytest.approx(host.t + lead)  # playback starts a lead after now
    released = len(host.blocks)
    host.t += 2.0
    session.release_speech()
    assert len(host.blocks) > released
    assert sum(b.samples.size for b in host.blocks) == 24000  # every sample, once, at the backend's rate
    stamps = [b.stamp for b in host.blocks]
    assert stamps == sorted(stamps) and len({b.turn_id for b in host.blocks}) == 1
    assert session.state() is not None


# -- barge-in ---------------------------------------------------------------------------------------

def test_a_user_talking_over_the_robot_cuts_its_speech_and_makes_the_backend_listen(
        session: OmniSession, host: Host) -> None:
    active(session)
    interrupts: list[InterruptMode] = []
    assert session.backend is not None
    session.backend.interrupt = interrupts.append  # type: ignore[method-assign]
    mic(session, 99.0, 0.5, 0.001)
    mic(session, 99.5, 0.3, 0.3, seed=1)  # loud, but the robot is silent: not a barge-in
    mic(session, 99.8, 0.2, 0.001, seed=2)
    assert host.interruptions == [] and session.barge_ins == 0
    say(session, host, 2.0, text='the light is green now you can cross the street safely')  # plays 100.2 to 102.2
    mic(session, 100.0, 0.6, 0.001, seed=3)
    assert host.interruptions == []  # a quiet room does not interrupt
    mic(session, 100.6, 0.3, 0.3, seed=4)
    (cut,) = host.interruptions
    assert cut.reason == 'barge_in' and cut.turn_id == host.transcripts[0].turn_id
    assert 100.6 < cut.stamp < 100.8  # within about 100 ms of the user starting
    spoken = [t for t in host.transcripts if t.interrupted]
    assert len(spoken) == 1 and 0 < len(spoken[0].text.split()) < 11  # only the words played by then
    assert session.barge_ins == 1 and session.diagnostics().values['barge_ins'] == 1
    wait_until(lambda: interrupts == [InterruptMode.FORCE_LISTEN])  # the worker tells the backend
    host.t = cut.stamp
    session.release_speech()
    assert all(b.stamp < cut.stamp for b in host.blocks)  # nothing after the cut is published
    assert any('barge-in' in text for _, text in host.logs)


def test_without_barge_in_the_robot_talks_on(session: OmniSession, host: Host) -> None:
    active(session, config({'barge_in': False}, hearing={'strategy': 'gate'}))
    mic(session, 99.0, 1.0, 0.001)
    say(session, host, 2.0)
    mic(session, 100.0, 1.0, 0.3, seed=1)
    assert host.interruptions == [] and session.barge_ins == 0


def test_deactivate_tells_players_to_drop_queued_speech(session: OmniSession, host: Host) -> None:
    active(session)
    say(session, host, 2.0)
    session.deactivate()
    (cut,) = host.interruptions
    assert cut.reason == 'deactivated' and not session.active
    assert session.diagnostics().message == 'inactive'


# -- configure ----------------------------------------------------------------------------------------

def test_a_missing_timeline_fails_configure_naming_the_file(session: OmniSession, tmp_path) -> None:
    with pytest.raises(BackendSetupError, match=r"^backend 'scripted' could not be set up: .*missing.yaml"):
        session.configure(config(backend={'timeline': str(tmp_path / 'missing.yaml')}))
    assert session.config is None and session.pipeline is None
    diagnostics = session.diagnostics()
    assert diagnostics.level is Level.ERROR and 'missing.yaml' in diagnostics.message
    session.configure(config())  # and it can be configured again
    assert session.diagnostics().level is Level.WARN and session.backend_error == ''


def test_a_standing_watch_the_backend_refuses_fails_configure(session: OmniSession) -> None:
    with pytest.raises(WatchRejectedError, match='a standing watch was rejected: .*keep it under 500'):
        session.configure(config({'standing_watches': ['x' * 600]}))
    assert session.config is None and session.backend is None


def test_bad_settings_fail_in_one_message_naming_each_parameter() -> None:
    values = {'': {'backend': 'scripted', 'chunk_period': 'fast'}, 'speech.': {'lead': 9.0},
              'self_hearing.': {'strategy': 'echo'}, 'scripted.': {'speech_rate': 0}}
    with pytest.raises(ConfigError) as caught:
        SessionConfig.load(lambda prefix: values.get(prefix, {}), problems=("'x' was wrong at start-up",))
    text = str(caught.value)
    for name in ("'x'", "'chunk_period'", "'speech.lead'", "'self_hearing.strategy'"):
        assert name in text
    values[''] = {'backend': 'scripted'}
    with pytest.raises(ConfigError, match=r"^'speech.lead' .*; 'self_hearing.strategy' .*; 'scripted.speech_rate'"):
        SessionConfig.load(lambda prefix: values.get(prefix, {}))
    values['']['backend'] = 'gpt5'
    with pytest.raises(ConfigError, match="unknown backend 'gpt5'; set 'backend' to one of"):
        SessionConfig.load(lambda prefix: values.get(prefix, {}))


def test_standing_watches_come_back_at_every_configure(session: OmniSession) -> None:
    cfg = config({'standing_watches': ['tell me when the light turns green']})
    session.configure(cfg)
    assert [w.watch_id for w in session.watches.watches()] == ['standing-0']
    session.release('cleaned up')
    assert len(session.watches) == 0
    session.configure(cfg)
    assert [w.source for w in session.watches.watches()] == [WatchSource.PARAMETER]


# -- live settings ------------------------------------------------------------------------------------

def test_live_changes_apply_at_once(session: OmniSession, host: Host) -> None:
    active(session, config({'standing_watches': ['tell me when the light turns green', 'alert me if someone falls']}))
    falls = session.watches.get('standing-1')
    new = config({'standing_watches': ['tell me when the light turns green', 'say when the door opens'],
                  'default_cooldown': 1.0, 'ask_timeout': 3.0}, backend={'speech_rate': 5.0})
    session.check_change(new)
    session.reconfigure(new)
    listed = {w.watch_id: w.instruction for w in session.watches.watches()}
    assert listed == {'standing-0': 'tell me when the light turns green', 'standing-1': 'say when the door opens'}
    assert falls is not None and falls.finished and falls.reason == 'removed from standing_watches'
    assert session.watches.default_cooldown == 1.0 and session.question_timeout(0.0) == 3.0
    assert [w.cooldown for w in session.watches.for_backend()] == [1.0, 1.0]  # backends get the cooldown
    wait_until(lambda: session.backend.config.speech_rate == 5.0)  # type: ignore[union-attr]
    with pytest.raises(WatchRejectedError, match='keep it under 500'):
        session.check_change(config({'standing_watches': ['x' * 600]}))


def test_alerts_follow_the_default_cooldown_set_while_running(session: OmniSession, host: Host) -> None:
    active(session)
    state = session.add_watch(Watch('w', 'ding', continuous=True))
    session.reconfigure(config({'default_cooldown': 10.0}))
    alert = Event(EventKind.ALERT, 'ding', 100.0, watch_id='w')
    assert session.watches.route(alert) is state
    assert session.watches.route(Event(EventKind.ALERT, 'ding', 105.0, watch_id='w')) is None  # within 10 s
    assert session.watches.route(Event(EventKind.ALERT, 'ding', 110.0, watch_id='w')) is state


# -- goals and input ----------------------------------------------------------------------------------

def test_goals_are_checked_before_they_are_accepted(session: OmniSession) -> None:
    with pytest.raises(WatchRejectedError, match='not active'):
        session.check_watch('tell me when the light turns green', 0.0, 0.0)
    active(session)
    assert session.check_watch('  tell me\twhen the light   turns green ', 0.0, 0.0) == \
        'tell me when the light turns green'
    with pytest.raises(WatchRejectedError, match='the timeout is -1 s'):
        session.check_watch('ding', -1.0, 0.0)
    with pytest.raises(WatchRejectedError, match='the cooldown is inf s'):
        session.check_watch('ding', 0.0, float('inf'))
    with pytest.raises(WatchRejectedError, match='empty'):
        session.check_question('  ')


def test_long_and_bad_audio_is_dropped_counted_and_logged_once_per_period(session: OmniSession,
                                                                           host: Host) -> None:
    active(session, config({'max_audio_message_seconds': 0.5, 'error_log_period': 60.0}))
    session.audio(lambda: AudioBlock(100.0, np.zeros(RATE, np.float32), RATE))

    def broken() -> AudioBlock:
        from omni_ros.ingest.audio import decode_block

        return decode_block(100.0, 'S16LE', RATE, 1, b'\x00' * 3)

    for _ in range(5):
        session.audio(broken)
    assert session.input_errors == 6
    errors = [text for level, text in host.logs if level == 'error']
    assert len(errors) == 1 and 'max_audio_message_seconds = 0.5 s' in errors[0]
    diagnostics = session.diagnostics()
    assert diagnostics.level is Level.WARN and 'not a multiple of 2' in diagnostics.message


# -- faults on the output path --------------------------------------------------------------------------

def test_a_failing_output_is_counted_logged_once_per_period_and_the_others_go_on(session: OmniSession,
                                                                                  host: Host) -> None:
    """Issue 16: an exception while mapping or publishing an output went up into the node's timer and
    ended its executor. The session catches it where the output is sent, counts and logs it."""
    active(session, config({'error_log_period': 60.0}))

    def broken(block: Speech) -> None:
        raise AssertionError('The \'sec\' field must be an integer in [-2147483648, 2147483647]')

    host.speech = broken  # type: ignore[method-assign]
    say(session, host, 1.0)
    host.t += 2.0
    session.release_speech()  # every block fails, none raises
    failed = session.output_errors
    assert failed >= 2
    session.event(Event(EventKind.COMMENT, 'hello', 100.0), None)  # the other outputs still go out
    assert [e.text for e, _ in host.events] == ['hello']
    errors = [text for level, text in host.logs if level == 'error']
    assert len(errors) == 1 and errors[0].startswith('speech failed: AssertionError:')
    diagnostics = session.diagnostics()
    assert diagnostics.values['output_errors'] == failed and diagnostics.level is Level.WARN
    assert diagnostics.message.startswith('output failed: speech: AssertionError')


def test_undecodable_frames_are_logged_once_per_period(session: OmniSession, host: Host) -> None:
    """Issue 16: 713 frames that could not be decoded were counted on /diagnostics, none logged."""
    from omni_ros.data import LazyFrame
    from omni_ros.errors import ConversionError

    active(session, config({'use_camera': True, 'use_microphone': False, 'error_log_period': 60.0, 'max_backlog': 20}))

    def corrupt() -> np.ndarray:
        raise ConversionError('compressed image claimed as jpeg could not be decoded: broken data stream')

    for i in range(12):  # 6 s of a 2 fps camera
        session.frame(lambda i=i: LazyFrame(100.0 + 0.5 * i, corrupt))
        host.t = 100.0 + 0.5 * i
        session.poll()
    host.t = 106.5
    session.poll()
    wait_until(lambda: session.pipeline is not None and session.pipeline.stats.chunks_processed >= 5)
    errors = [text for level, text in host.logs if level == 'error']
    assert errors == ['camera frame dropped: compressed image claimed as jpeg could not be decoded: broken data '
                      'stream']
    assert session.diagnostics().values['decode_errors'] >= 5


def test_a_question_asked_just_before_deactivate_is_answered_after_activate(session: OmniSession,
                                                                             host: Host) -> None:
    """Issue 16: an Ask accepted shortly before deactivate lost its answer (4 of 5): the backend session
    that had the question ended, and the next one never heard of it."""
    from omni_ros.data import Question

    active(session)
    backend = session.backend
    assert backend is not None
    asked: list[str] = []
    ask = backend.ask

    def recording(question: Question) -> None:
        asked.append(question.question_id)
        ask(question)

    backend.ask = recording  # type: ignore[method-assign]
    pending = session.ask(Question('q1', 'what floor are we on?', host.t))
    assert pending is not None
    wait_until(lambda: asked == ['q1'])  # the backend has it, and has not answered yet (no unit came)
    session.deactivate()
    session.activate()
    mic(session, 100.0, 2.5, 0.001)
    host.t = 103.0
    session.poll()
    wait_until(pending.answered.is_set)
    assert asked == ['q1', 'q1'] and pending.answer is not None and pending.answer.question_id == 'q1'


def test_audio_left_out_because_it_came_after_its_units_is_logged_once_per_period(session: OmniSession,
                                                                                   host: Host) -> None:
    """Issue 16: a microphone message longer than the ones before it arrives after most of its units were
    cut; that audio was left out with nothing said. Now it is counted on /diagnostics and logged."""
    active(session, config({'error_log_period': 60.0}))
    mic(session, 100.0, 2.0, 0.001)
    for step in range(int(9.9 / 0.05)):  # the clock runs while the 9.9 s message is being captured
        host.t = 102.0 + 0.05 * step
        session.poll()
        session.state()
    host.t = 111.9
    session.audio(lambda: AudioBlock(102.0, np.zeros(int(9.9 * RATE), np.float32), RATE))
    for _ in range(3):
        session.poll()
        session.state()
    warnings = [text for level, text in host.logs if level == 'warn']
    assert len(warnings) == 1 and 'of audio arrived after its units were cut' in warnings[0], host.logs
    assert session.diagnostics().values['audio_dropped_late_s'] >= 8.0
    assert not [text for _, text in host.logs if 'input stream restarted' in text]


# -- units and hops -----------------------------------------------------------------------------------

def test_a_backend_deciding_on_a_hop_gets_chunks_of_it_and_others_the_node_unit(host: Host) -> None:
    """The CPU backend asks for 0.25 s chunks (it decides on them); the scripted one takes chunk_period."""
    values = {'': {'backend': 'cpu', 'use_camera': False, 'chunk_period': 1.0, 'max_backlog': 3},
              'cpu.': {'asr': 'off', 'speak': False, 'scene_text': False, 'people': False},
              'self_hearing.': {'strategy': 'none', 'vad': 'energy'}}
    cpu = OmniSession(host)
    try:
        described = cpu.configure(SessionConfig.load(lambda prefix: values.get(prefix, {})))
        assert cpu.pipeline is not None and cpu.pipeline.spec.chunk_seconds == 0.25
        assert '0.25 s unit' in described
    finally:
        cpu.release('test over')
    scripted = OmniSession(host)
    try:
        scripted.configure(config({'chunk_period': 2.0}))
        assert scripted.pipeline is not None and scripted.pipeline.spec.chunk_seconds == 2.0
    finally:
        scripted.release('test over')
