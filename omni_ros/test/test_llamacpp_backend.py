"""The llama.cpp-omni client against the loopback server on 127.0.0.1 (doubles/llamacpp_server.py).

The double stands for what cannot run here: a server revision that reads the system prompt fields, and a
model that follows a script. What it mirrors of the real server is checked against the real one in
test_llamacpp_upstream.py (tier ``upstream``).
"""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest

from doubles.llamacpp_server import BUILTIN_PROMPT, LoopbackOmniServer
from doubles.minicpmo.stream import GREEN_WATCH, chunk, ramp
from omni_ros.backends.llamacpp_omni import LlamaCppOmniBackend
from omni_ros.backends.llamacpp_omni.options import LlamaCppOmniConfig
from omni_ros.errors import BackendSetupError, WatchRejectedError
from omni_ros.data import EventKind, InterruptMode, Question, Watch

GREEN_RULE = {'tag_of': 'light turns green', 'frame_color': 'green', 'say': ['{tag} The light', ' is green now.']}


@pytest.fixture
def server(request, tmp_path):
    param = getattr(request, 'param', {})
    with LoopbackOmniServer(param.get('script', {'rules': [GREEN_RULE]}), model_dir=str(tmp_path / 'gguf'),
                            revision=param.get('revision', 'prompt-fields')) as s:
        yield s
        assert s.violations == []


@pytest.fixture
def make(server, tmp_path):
    made = []
    (tmp_path / 'gguf').mkdir(exist_ok=True)

    def _make(**opts):
        options = {'server_url': server.url, 'model_dir': str(tmp_path / 'gguf'), 'warmup': False,
                   'request_timeout_s': 5.0, 'server_reads_prompt': server.revision == 'prompt-fields', **opts}
        b = LlamaCppOmniBackend(LlamaCppOmniConfig(**options))
        made.append(b)
        return b

    yield _make
    for b in made:
        b.shutdown()


def paths(server):
    return [p.rsplit('/', 1)[1] for p, _ in server.requests]


def test_init_prompt_alert_speech_and_cancel(make, server, tmp_path):
    b = make(token2wav_device='cpu')
    b.setup()
    init = server.requests[0][1]
    assert init['media_type'] == 2 and init['duplex_mode'] is True and init['use_tts'] is True
    assert (init['token2wav_device'], init['tts_bin_dir']) == ('cpu', str(tmp_path / 'gguf' / 'tts'))
    assert b.check_instruction(GREEN_WATCH) == GREEN_WATCH  # the model reads the words: that is the meaning
    b.set_watches([Watch('w-green', GREEN_WATCH)])
    b.start_session()
    assert f'[W1] {GREEN_WATCH}' in server.prompts[-1]
    outs = [b.feed(chunk(i, 'red' if i < 2 else 'green', audio=ramp(i))) for i in range(5)]
    events = [e for o in outs for e in o.events]
    assert [(e.kind, e.watch_id, e.text) for e in events] == [(EventKind.ALERT, 'w-green', 'The light is green now.')]
    speech = [s for o in outs for s in o.speech]
    assert len(speech) == 2 and all(s.sample_rate == 24000 and s.samples.size == 24000 for s in speech)
    # cnt 0 set the system prompt up with the server's default voice; units count from 1, each one decoded.
    prefills = [r[1] for r in server.requests if r[0].endswith('prefill')]
    expected = [(0, False)] + [(i, True) for i in range(1, 6)]
    assert [(p['cnt'], bool(p['audio_path_prefix'])) for p in prefills] == expected
    assert server.voices == ['']
    assert [a.size for a in server.received_audio] == [16560, 16000, 16000, 16000, 16000]
    assert len(server.received_frames) == 5  # the first unit's frame too
    # 16-bit PCM files: the stream arrives in order, to within quantisation.
    np.testing.assert_allclose(server.received_audio[1], ramp(1), atol=1 / 32767)
    b.set_watches([])
    b.feed(chunk(5))
    assert paths(server)[-5:] == ['break', 'update_session_config', 'prefill', 'prefill', 'decode']
    assert GREEN_WATCH not in server.prompts[-1] and 'The light is green now.' in server.prompts[-1]


def test_reference_voice_is_the_system_prompts_not_a_unit(make, server, tmp_path):
    voice = tmp_path / 'voice.wav'
    from omni_ros.backends.minicpmo.wavio import write_wav
    write_wav(voice, 0.1 * np.sin(np.arange(32000) / 10.0), 16000)
    b = make(ref_voice_wav=str(voice))
    b.setup()
    b.feed(chunk(0))
    config = next(body for p, body in server.requests if p.endswith('update_session_config'))
    assert config['voice_audio'].endswith('voice.wav') and server.voices == [config['voice_audio']]
    assert [r[1]['cnt'] for r in server.requests if r[0].endswith('prefill')] == [1]


def test_options_reach_the_server(make, server):
    b = make(sliding_window_mode='basic', sliding_window_high_water=2000, sliding_window_low_water=1500,
             max_slice_nums=2, tts_gpu_layers=0)
    b.setup()
    b.feed(chunk(0))
    config = next(body for p, body in server.requests if p.endswith('update_session_config'))
    assert (config['sliding_window_mode'], config['sliding_window_high_water'],
            config['sliding_window_low_water'], config['highImage']) == ('basic', 2000, 1500, True)
    assert server.requests[0][1]['tts_gpu_layers'] == 0
    assert b.engine.session_config['sliding_window']['high_water_tokens'] == 2000


@pytest.mark.parametrize('opts, match', [
    ({'stacked_frames': 3}, 'one image per unit'),
    ({'token2wav_device': 'cuda:0'}, 'cpu, gpu or gpu:N'),
    ({'sliding_window_low_water': 5000}, 'must be below'),
])
def test_settings_this_server_cannot_take_fail_setup(make, opts, match):
    with pytest.raises(BackendSetupError, match=match):
        make(**opts).setup()


@pytest.mark.parametrize('server', [{'revision': 'pinned'}], indirect=True)
def test_without_prompt_fields_watches_questions_and_persona_are_refused(make, server):
    b = make()
    b.setup()
    for refuse in (lambda: b.check_instruction(GREEN_WATCH), lambda: b.set_watches([Watch('w', GREEN_WATCH)]),
                   lambda: b.ask(Question('q', 'What colour is the light?'))):
        with pytest.raises(WatchRejectedError, match='server_reads_prompt') as err:
            refuse()
        assert '0788f99' in str(err.value) and 'b0-loopback-pinned' in str(err.value)
    b.feed(chunk(0))
    assert server.prompts == [BUILTIN_PROMPT]
    assert 'voice_clone_prompt' not in next(body for p, body in server.requests if 'session_config' in p)
    with pytest.raises(BackendSetupError, match='persona.*server_reads_prompt'):
        make(persona='You are a lighthouse keeper.').setup()


@pytest.mark.parametrize('server', [{'script': {'rules': [{'at_unit': 0, 'say': ['One', ' two', ' three']}]}}],
                         indirect=True)
def test_a_turn_spans_units_until_the_model_listens(make, server):
    b = make()
    b.setup()
    outs = [b.feed(chunk(i)) for i in range(4)]
    finals = [(i, t.text, t.interrupted) for i, o in enumerate(outs) for t in o.transcripts if t.final]
    assert finals == [(2, 'One two three', False)]  # not one turn per unit: stop/end_of_turn ends a unit
    assert [o.speaking for o in outs] == [True, True, False, False]


@pytest.mark.parametrize('server', [{'script': {'rules': [{'at_unit': 0, 'say': ['One', ' two', ' three']}]}}],
                         indirect=True)
@pytest.mark.parametrize('mode', [InterruptMode.BREAK, InterruptMode.FORCE_LISTEN])
def test_barge_in_is_a_break_then_a_fresh_session(make, server, mode):
    b = make()
    b.setup()
    assert b.feed(chunk(0)).speaking
    b.interrupt(mode)
    assert paths(server)[-1] == 'break'
    out = b.feed(chunk(1))
    assert paths(server)[-5:] == ['break', 'update_session_config', 'prefill', 'prefill', 'decode']
    assert [(t.text, t.interrupted) for t in out.transcripts] == [('One', True)]
    b.feed(chunk(2))
    assert paths(server).count('prefill') - 2 == paths(server).count('decode')  # two cnt 0 set-ups


@pytest.mark.parametrize('server', [{'script': {'rules': [{'question': True, 'say': ['{tag} Red.']}]}}],
                         indirect=True)
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
    b = LlamaCppOmniBackend(LlamaCppOmniConfig(server_url=f'http://127.0.0.1:{port}', model_dir='x'))
    with pytest.raises(BackendSetupError, match='server_url'):
        b.setup()
    server.mute = True
    b = LlamaCppOmniBackend(LlamaCppOmniConfig(server_url=server.url, model_dir='x', request_timeout_s=0.5))
    t0 = time.monotonic()
    with pytest.raises(BackendSetupError, match='llama-server'):
        b.setup()
    assert time.monotonic() - t0 < 5
    b2 = LlamaCppOmniBackend(LlamaCppOmniConfig(server_url='', model_dir='x'))
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
