"""The llama.cpp-omni client against a strict loopback server on 127.0.0.1."""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest

from doubles.llamacpp_server import LoopbackOmniServer
from doubles.minicpmo.stream import GREEN_WATCH, chunk, ramp
from omni_ros.backends.llamacpp_omni import LlamaCppOmniBackend
from omni_ros.errors import BackendSetupError
from omni_ros.options import resolve
from omni_ros.types import EventKind, InterruptMode, Question, Watch

GREEN_RULE = {'tag_of': 'light turns green', 'frame_color': 'green', 'say': ['{tag} The light', ' is green now.']}


@pytest.fixture
def server(request, tmp_path):
    script = getattr(request, 'param', {'rules': [GREEN_RULE]})
    with LoopbackOmniServer(script, model_dir=str(tmp_path / 'gguf')) as s:
        yield s
        assert s.violations == []


@pytest.fixture
def make(server, tmp_path):
    made = []
    (tmp_path / 'gguf').mkdir(exist_ok=True)

    def _make(**opts):
        options = {'server_url': server.url, 'model_dir': str(tmp_path / 'gguf'), 'warmup': False,
                   'request_timeout_s': 5.0, **opts}
        b = LlamaCppOmniBackend(resolve(LlamaCppOmniBackend.OPTIONS, options))
        made.append(b)
        return b

    yield _make
    for b in made:
        b.shutdown()


def paths(server):
    return [p.rsplit('/', 1)[1] for p, _ in server.requests]


def test_init_prompt_alert_speech_and_cancel(make, server):
    b = make()
    b.setup()
    init = server.requests[0][1]
    assert init['media_type'] == 2 and init['duplex_mode'] is True and init['use_tts'] is True
    b.set_watches([Watch('w-green', GREEN_WATCH)])
    b.start_session()
    assert f'[W1] {GREEN_WATCH}' in server.prompts[-1]
    outs = [b.feed(chunk(i, 'red' if i < 2 else 'green', audio=ramp(i))) for i in range(5)]
    events = [e for o in outs for e in o.events]
    assert [(e.kind, e.watch_id, e.text) for e in events] == [(EventKind.ALERT, 'w-green', 'The light is green now.')]
    speech = [s for o in outs for s in o.speech]
    assert len(speech) == 2 and all(s.sample_rate == 24000 and s.samples.size == 24000 for s in speech)
    assert [r[1]['cnt'] for r in server.requests if r[0].endswith('prefill')] == [0, 1, 2, 3, 4]
    assert [a.size for a in server.received_audio] == [16560, 16000, 16000, 16000, 16000]
    # 16-bit PCM files: the stream arrives in order, to within quantisation.
    np.testing.assert_allclose(server.received_audio[1], ramp(1), atol=1 / 32767)
    b.set_watches([])
    b.feed(chunk(5))
    assert paths(server)[-3:] == ['update_session_config', 'prefill', 'decode']
    assert GREEN_WATCH not in server.prompts[-1] and 'The light is green now.' in server.prompts[-1]


def test_stacked_grid_is_a_second_prefill(make, server):
    b = make(stacked_frames=3)
    b.setup()
    b.feed(chunk(0, n_frames=3))
    pre = [r[1] for r in server.requests if r[0].endswith('prefill')]
    assert [(bool(p['audio_path_prefix']), bool(p['img_path_prefix']), p['cnt']) for p in pre] == [
        (True, True, 0), (False, True, 1)]


def test_force_listen_skips_decode(make, server):
    b = make(barge_in_listen_units=2)
    b.setup()
    b.interrupt(InterruptMode.FORCE_LISTEN)
    for i in range(3):
        b.feed(chunk(i))
    assert paths(server)[-4:] == ['prefill', 'prefill', 'prefill', 'decode']
    assert paths(server).count('decode') == 1


@pytest.mark.parametrize('server', [{'rules': [{'at_unit': 0, 'say': ['One', ' two', ' three']}]}],
                         indirect=True)
def test_break_then_reprepare(make, server):
    b = make()
    b.setup()
    assert b.feed(chunk(0)).speaking
    b.interrupt(InterruptMode.BREAK)
    assert paths(server)[-1] == 'break'
    out = b.feed(chunk(1))
    assert paths(server)[-4:] == ['break', 'update_session_config', 'prefill', 'decode']
    assert [(t.text, t.interrupted) for t in out.transcripts] == [('One', True)]


@pytest.mark.parametrize('server', [{'rules': [{'question': True, 'say': ['{tag} Red.']}]}], indirect=True)
def test_ask_answer(make, server):
    b = make()
    b.setup()
    b.ask(Question('q-1', 'What colour is the light?'))
    out = b.feed(chunk(0))
    assert [(e.kind, e.question_id) for e in out.events] == [(EventKind.ANSWER, 'q-1')]


def test_unreachable_and_hung_server(tmp_path, server):
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    b = LlamaCppOmniBackend(resolve(LlamaCppOmniBackend.OPTIONS, {
        'server_url': f'http://127.0.0.1:{port}', 'model_dir': 'x'}))
    with pytest.raises(BackendSetupError, match='server_url'):
        b.setup()
    server.mute = True
    b = LlamaCppOmniBackend(resolve(LlamaCppOmniBackend.OPTIONS, {
        'server_url': server.url, 'model_dir': 'x', 'request_timeout_s': 0.5}))
    t0 = time.monotonic()
    with pytest.raises(BackendSetupError, match='llama-server'):
        b.setup()
    assert time.monotonic() - t0 < 5
    b2 = LlamaCppOmniBackend(resolve(LlamaCppOmniBackend.OPTIONS, {'server_url': '', 'model_dir': 'x'}))
    with pytest.raises(BackendSetupError, match='server_url is empty'):
        b2.setup()


def test_shutdown_resets_and_setup_again(make, server):
    b = make()
    b.setup()
    b.feed(chunk(0))
    b.shutdown()
    assert paths(server)[-1] == 'reset'
    b.setup()
    assert paths(server).count('omni_init') == 2
    b.feed(chunk(0))
    assert server.received_audio[-1].size == 16560
