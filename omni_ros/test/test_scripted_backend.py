"""The scripted backend: timeline firing, watch matching, answers, speech, interruption, restarts."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from omni_ros.backends import backend_options, create_backend
from omni_ros.backends.base import Backend
from omni_ros.backends.scripted import SPEECH_SAMPLE_RATE, ScriptedBackend, ScriptedConfig, synthesize
from omni_ros.errors import BackendError, BackendSetupError, ConfigError, WatchRejectedError
from omni_ros.scenario import load_scenario
from omni_ros.data import (Chunk, EventKind, InterruptMode, Modality, Question, Speaker, StreamSpec, Watch)

T0 = 1_700_000_000.0

TIMELINE = """\
lines:
  - at: 0.5
    say: Hello there.
  - at: 2.2
    watch: green
    say: The light just turned green.
    modality: vision
    confidence: 0.9
  - at: 2.7
    watch: [knock, door]
    say: Someone is at the door.
    modality: audio
  - at: 4.0
    watch: ding
    say: I heard a ding.
    modality: audio
answers:
  - question: light
    say: The light is red.
  - question: light
    after: 2.0
    say: The light is green.
"""


def chunk(i: int, *, start: float | None = None, duration: float = 1.0, new_stream: bool = False) -> Chunk:
    start = T0 + i * duration if start is None else start
    rate = 16000
    return Chunk(index=i, start=start, duration=duration, sample_rate=rate,
                 audio=np.zeros(int(round(duration * rate)), np.float32), frames=(), new_stream=new_stream)


@pytest.fixture
def timeline_file(tmp_path):
    path = tmp_path / 'timeline.yaml'
    path.write_text(TIMELINE)
    return path


@pytest.fixture
def backend(timeline_file):
    b = ScriptedBackend(ScriptedConfig(timeline=str(timeline_file)))
    b.setup()
    b.start_session()
    yield b
    b.shutdown()


def run(b: ScriptedBackend, n: int, first: int = 0):
    return [b.feed(chunk(i, new_stream=(i == 0))) for i in range(first, first + n)]


def test_implements_the_backend_protocol_and_registry(timeline_file):
    b = create_backend('scripted', {'timeline': str(timeline_file), 'frames_per_chunk': 3})
    assert isinstance(b, ScriptedBackend) and isinstance(b, Backend) and b.name == 'scripted'
    names = [o.name for o in backend_options('scripted')]
    assert names[0] == 'timeline' and {'speech_rate', 'frames_per_chunk', 'chunk_seconds'} <= set(names)
    b.setup()
    assert b.stream_spec() == StreamSpec(sample_rate=16000, frames_per_chunk=3, chunk_seconds=1.0)
    with pytest.raises(ConfigError, match='frames_per_chunk'):
        create_backend('scripted', {'frames_per_chunk': 0})


def test_default_timeline_is_the_crossing_script():
    b = ScriptedBackend()
    b.setup()
    assert b.stream_spec() == StreamSpec(16000, 1, 1.0)
    assert b._timeline == load_scenario('crossing').script


def test_comment_fires_in_the_chunk_that_reaches_it(backend):
    outs = run(backend, 2)
    assert [(e.kind, e.text, e.stamp, e.watch_id) for e in outs[0].events] == [
        (EventKind.COMMENT, 'Hello there.', T0, '')]
    assert outs[1].events == []


def test_watch_lines_fire_only_for_matching_watches_one_event_each(backend):
    backend.set_watches([Watch('w-green', 'Tell me when the LIGHT turns Green'),
                         Watch('w-green2', 'is it green yet?'),
                         Watch('w-ding', 'tell me when you hear a ding')])
    outs = run(backend, 5)
    alerts = [(i, e.kind, e.watch_id, e.text, e.stamp, e.confidence, e.modality)
              for i, out in enumerate(outs) for e in out.events if e.kind == EventKind.ALERT]
    assert alerts == [
        (2, EventKind.ALERT, 'w-green', 'The light just turned green.', T0 + 2, 0.9, Modality.VISION),
        (2, EventKind.ALERT, 'w-green2', 'The light just turned green.', T0 + 2, 0.9, Modality.VISION),
        (4, EventKind.ALERT, 'w-ding', 'I heard a ding.', T0 + 4, 1.0, Modality.AUDIO),
    ]
    # The door line (2.7 s) matched no active watch: nothing, not even a comment.
    assert all('door' not in e.text for out in outs for e in out.events)
    # One spoken turn per line, however many watches it answered.
    spoken = [t.text for out in outs for t in out.transcripts]
    assert spoken == ['Hello there.', 'The light just turned green.', 'I heard a ding.']


def test_alternative_watch_words_and_a_line_is_used_once(backend):
    backend.set_watches([Watch('door', 'let me know if someone knocks')])
    outs = run(backend, 3)
    assert [e.watch_id for e in outs[2].events] == ['door']
    # A watch set after the line's time does not bring it back.
    backend.set_watches([Watch('late', 'tell me when it turns green')])
    assert run(backend, 3, first=3)[0].events == []


def test_lines_use_the_stream_start_not_absolute_time(backend):
    outs = [backend.feed(chunk(i, duration=0.5)) for i in range(2)]
    assert outs[0].events == [] and [e.text for e in outs[1].events] == ['Hello there.']
    assert outs[1].events[0].stamp == T0 + 0.5


def test_answers_on_the_next_chunk_latest_valid_answer_wins(backend):
    run(backend, 1)
    backend.ask(Question('q1', 'What colour is the light?'))
    backend.ask(Question('q2', 'How tall is the tower?'))
    out = backend.feed(chunk(1))
    answers = [(e.kind, e.question_id, e.text, e.stamp, e.confidence) for e in out.events]
    assert answers == [
        (EventKind.ANSWER, 'q1', 'The light is red.', T0 + 1, 1.0),
        (EventKind.ANSWER, 'q2', "There is no scripted answer for 'How tall is the tower?'.", T0 + 1, 0.0),
    ]
    backend.ask(Question('q3', 'and the LIGHT now?'))
    out = backend.feed(chunk(2))  # [2, 3) reaches the answer valid from 2.0
    answers = [(e.question_id, e.text) for e in out.events if e.kind == EventKind.ANSWER]
    assert answers == [('q3', 'The light is green.')]


def test_speech_transcripts_and_speaking_flag(backend):
    outs = run(backend, 3)
    first = outs[0]
    assert [(t.speaker, t.text, t.turn_id, t.final, t.interrupted, t.stamp) for t in first.transcripts] == [
        (Speaker.ASSISTANT, 'Hello there.', 1, True, False, T0)]
    expected = synthesize('Hello there.', 2.5)
    assert len(expected) == int(2 / 2.5 * SPEECH_SAMPLE_RATE)  # two words at 2.5 words/s
    assert first.speaking and len(first.speech) == 1
    speech = first.speech[0]
    assert speech.sample_rate == 24000 and speech.stamp == T0 and speech.samples.dtype == np.float32
    assert np.array_equal(speech.samples, expected)  # 0.8 s fits in the first 1 s chunk
    assert np.sqrt(np.mean(speech.samples ** 2)) > 0.03  # a voice-like signal, not silence
    assert not outs[1].speaking and outs[1].speech == []
    # Turn ids keep counting.
    backend.ask(Question('q', 'light?'))
    assert backend.feed(chunk(3)).transcripts[0].turn_id == 2


def test_long_speech_spreads_over_chunks(timeline_file, tmp_path):
    path = tmp_path / 'long.yaml'
    path.write_text('lines:\n  - at: 0\n    say: one two three four five six seven eight nine ten\n')
    b = ScriptedBackend(ScriptedConfig(timeline=str(path), speech_rate=4.0))
    b.setup()
    b.start_session()
    outs = [b.feed(chunk(i, duration=0.5)) for i in range(7)]
    sizes = [sum(len(s.samples) for s in out.speech) for out in outs]
    assert sizes == [12000, 12000, 12000, 12000, 12000, 0, 0]  # 10 words at 4/s = 2.5 s = 5 chunks of 0.5 s
    assert [out.speaking for out in outs] == [True] * 5 + [False] * 2
    whole = np.concatenate([s.samples for out in outs for s in out.speech])
    assert np.array_equal(whole, synthesize('one two three four five six seven eight nine ten', 4.0))
    # Each piece says which turn it belongs to and which words it voices, in order, each word once.
    pieces = [s for out in outs for s in out.speech]
    assert {s.turn_id for s in pieces} == {1}
    assert [s.text for s in pieces] == ['one two', 'three four', 'five six', 'seven eight', 'nine ten']


@pytest.mark.parametrize('mode', [InterruptMode.BREAK, InterruptMode.FORCE_LISTEN])
def test_interrupt_drops_pending_speech_at_once(tmp_path, mode):
    path = tmp_path / 'long.yaml'
    path.write_text('lines:\n  - at: 0\n    say: one two three four five six seven eight\n')
    b = ScriptedBackend(ScriptedConfig(timeline=str(path), speech_rate=2.0))  # 4 s of speech
    b.setup()
    b.start_session()
    assert b.feed(chunk(0)).speaking
    b.interrupt(mode)
    out = b.feed(chunk(1))
    assert not out.speaking and out.speech == []
    assert [(t.turn_id, t.text, t.final, t.interrupted) for t in out.transcripts] == [(1, 'one two', True, True)]
    assert b.feed(chunk(2)).transcripts == []  # reported once


def test_new_stream_restarts_the_timeline(backend):
    backend.set_watches([Watch('g', 'green light')])
    run(backend, 3)
    # A looping bag: time jumps back and the synchronizer flags a new stream.
    again = [backend.feed(chunk(i, start=T0 + i, new_stream=(i == 0))) for i in range(3)]
    assert [e.text for e in again[0].events] == ['Hello there.']
    assert [e.watch_id for e in again[2].events] == ['g']
    # Speech still pending from before the jump is cut off and reported.
    cut = [t for t in again[0].transcripts if t.interrupted]
    assert [(t.turn_id, t.text) for t in cut] == [(2, 'The light')]  # 1 s of 'The light just turned green.'


def test_new_stream_later_in_time_also_restarts(backend):
    run(backend, 1)
    out = backend.feed(chunk(0, start=T0 + 100, new_stream=True))
    assert [e.text for e in out.events] == ['Hello there.'] and out.events[0].stamp == T0 + 100


def test_sessions_and_life_cycle(timeline_file):
    b = ScriptedBackend(ScriptedConfig(timeline=str(timeline_file)))
    with pytest.raises(BackendError, match='setup'):
        b.feed(chunk(0))
    b.setup()
    with pytest.raises(BackendError, match='start_session'):
        b.feed(chunk(0))
    b.start_session()
    assert b.feed(chunk(0)).events
    b.stop_session()
    b.start_session()  # a new session starts the timeline again
    assert b.feed(chunk(5)).events[0].text == 'Hello there.'
    b.shutdown()
    b.setup()  # set up again after shutdown
    b.start_session()
    assert b.feed(chunk(0)).events


def test_check_instruction_rejects_only_empty(backend):
    for bad in ('', '   \n'):
        with pytest.raises(WatchRejectedError, match='empty'):
            backend.check_instruction(bad)
    backend.check_instruction('tell me when something unscripted happens')


def test_crossing_script_alerts_inside_the_expected_windows():
    scn = load_scenario('crossing')
    b = ScriptedBackend()
    b.setup()
    b.start_session()
    b.set_watches([Watch(w.id, w.instruction) for w in scn.expected.watches])
    fired: dict[str, float] = {}
    for i in range(int(scn.duration)):
        for event in b.feed(chunk(i)).events:
            if event.kind == EventKind.ALERT:
                fired.setdefault(event.watch_id, event.stamp - T0)
    for w in scn.expected.watches:
        if w.at is None:
            assert w.id not in fired
        else:
            # Stamps are chunk starts: the alert's chunk overlaps [at, at + window].
            assert w.at - 1.0 < fired[w.id] <= w.at + w.window, (w.id, fired)


def write(tmp_path, text: str):
    path = tmp_path / 'bad.yaml'
    path.write_text(textwrap.dedent(text))
    return str(path)


@pytest.mark.parametrize('text, message', [
    ('lines: [{at: 1}]', r'bad.yaml: lines\[0\].say: missing'),
    ('lines: [{at: -1, say: hi}]', r'lines\[0\].at: must be at least 0'),
    ('lines: [{at: soon, say: hi}]', r'lines\[0\].at: must be a number'),
    ('lines: [{at: 1, say: hi, modality: smell}]', r'lines\[0\].modality: must be one of unknown, vision, audio'),
    ('lines: [{at: 1, say: hi, confidense: 0.5}]', r'lines\[0\]: unknown key\(s\) confidense'),
    ('lines: [{at: 1, say: hi, watch: ""}]', r'lines\[0\].watch\[0\]: must be non-empty text'),
    ('answers: [{question: x}]', r'answers\[0\].say: missing'),
    ('lines: {at: 1}', r'lines: must be a list'),
    ('lines: []', r'the timeline is empty'),
    ('- just a list', r'bad.yaml: must be a mapping'),
    ('lines: [at: 1, say: [unclosed', r'not valid YAML'),
    ('script: {lines: [{at: 1}]}', r'bad.yaml: script.lines\[0\].say: missing'),
])
def test_bad_timelines_say_what_and_where(tmp_path, text, message):
    b = ScriptedBackend(ScriptedConfig(timeline=write(tmp_path, text)))
    with pytest.raises(BackendSetupError, match=message):
        b.setup()


def test_missing_timeline_file(tmp_path):
    b = ScriptedBackend(ScriptedConfig(timeline=str(tmp_path / 'nope.yaml')))
    with pytest.raises(BackendSetupError, match=r"nope.yaml does not exist; set the backend option 'timeline'"):
        b.setup()
