"""The session logic of the ``minicpmo`` backend on a scripted double of the upstream duplex object.

The real upstream code runs in test_minicpmo_upstream.py (tier ``upstream``), with random weights that say
nonsense; here the double (doubles/minicpmo/duplex_double.py, checked against the real class's signatures
there) says scripted, tagged things, so that attribution, events, pacing and re-prepare can be asserted.
The engine is our real TransformersEngine; only its load() attaches the double instead of the checkpoint,
with the settings the real load would pass. Set-up failures that happen before any model code is imported
use the real load().
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import types
from pathlib import Path

import numpy as np
import pytest

from doubles.minicpmo.duplex_double import DuplexDouble
from doubles.minicpmo.stream import GREEN_WATCH, chunk, ramp
from omni_ros import backends
from omni_ros.backends.minicpmo import MiniCPMoBackend
from omni_ros.backends.minicpmo import session as session_module
from omni_ros.backends.minicpmo.hf_engine import TransformersEngine
from omni_ros.backends.minicpmo.options import DEFAULT_PERSONA, MiniCPMoConfig
from omni_ros.backends.minicpmo.wavio import write_wav
from omni_ros.errors import BackendSetupError
from omni_ros.data import EventKind, InterruptMode, Question, Speaker, Watch

GREEN_RULE = {'tag_of': 'light turns green', 'frame_color': 'green', 'say': ['{tag} The light', ' is green now.']}


def checkpoint_folder(root: Path, quantization: dict | None = None) -> Path:
    """What the engine looks at before importing model code: config.json, a voice, the vocoder folder."""
    root.mkdir(parents=True, exist_ok=True)
    config = {'model_type': 'minicpmo', 'architectures': ['MiniCPMO']}
    if quantization:
        config['quantization_config'] = quantization
    (root / 'config.json').write_text(json.dumps(config))
    (root / 'assets' / 'ref_audio').mkdir(parents=True, exist_ok=True)
    (root / 'assets' / 'token2wav').mkdir(exist_ok=True)
    t = np.arange(16000 * 2) / 16000
    write_wav(root / 'assets' / 'ref_audio' / 'voice.wav', 0.3 * np.sin(2 * np.pi * 180 * t), 16000)
    return root


class DoubleBackend(MiniCPMoBackend):
    """The minicpmo backend whose engine attaches a DuplexDouble built with the real load's settings."""

    def __init__(self, config, script=None):
        super().__init__(config)
        self._script = script

    def _make_engine(self) -> TransformersEngine:
        engine = TransformersEngine(self.config, self.name)
        engine.load = lambda: engine.attach(DuplexDouble(engine._settings(self.config.attn_implementation),
                                                         script=self._script))  # type: ignore[method-assign]
        return engine


@pytest.fixture
def make(tmp_path):
    made = []

    def _make(script=None, real_load=False, quantization=None, **opts):
        if real_load:
            pytest.importorskip('torch', reason='needs requirements/test-minicpmo.txt')
            pytest.importorskip('transformers', reason='needs requirements/test-minicpmo.txt')
        d = checkpoint_folder(tmp_path / f'MiniCPM-o-4_5-{len(made)}', quantization)
        config = MiniCPMoConfig(**{'model_path': str(d), 'device': 'cpu', 'allow_cpu': True, **opts})
        b = MiniCPMoBackend(config) if real_load else DoubleBackend(config, script)
        made.append(b)
        return b

    yield _make
    for b in made:
        if b.engine is not None and b.engine.duplex is not None:
            assert b.engine.duplex.violations == []
        b.shutdown()


def calls(b):
    return [name for name, _ in b.engine.duplex.calls]


def test_settings_warmup_and_stream_spec(make):
    b = make()
    b.setup()
    duplex = b.engine.duplex
    assert duplex.settings == {
        'generate_audio': True, 'force_listen_count': 0, 'max_new_speak_tokens_per_chunk': 20, 'temperature': 0.7,
        'top_k': 20, 'top_p': 0.8, 'listen_prob_scale': 1.0, 'text_repetition_penalty': 1.05,
        'text_repetition_window_size': 512, 'tts_temperature': 0.8, 'tts_repetition_penalty': 1.05,
        'sliding_window_mode': 'context', 'basic_window_high_tokens': 4000, 'basic_window_low_tokens': 3500,
        'context_previous_max_tokens': 500, 'context_max_units': 24, 'enable_float16': False, 'chunk_ms': 1000,
        'first_chunk_ms': 1035, 'sample_rate': 16000, 'max_slice_nums': 1, 'attn_implementation': 'sdpa'}
    # Names upstream does not read (max_slice_nums goes to the model config; attn_implementation is read by
    # the plain revision's MiniCPMODuplex) are ignored by the unified class, as upstream ignores them.
    assert duplex.ignored_settings == ['attn_implementation', 'enable_float16', 'max_slice_nums']
    # Warm-up: one silent unit right after loading.
    assert calls(b) == ['prepare', 'streaming_prefill', 'streaming_generate', 'finalize_unit']
    assert b.stats.warmup_s > 0
    assert b.stream_spec().sample_rate == 16000 and b.stream_spec().frames_per_chunk == 1
    assert b.engine.supports_force_listen


def test_audio_units_first_padded_then_contiguous(make):
    b = make(warmup=False)
    b.setup()
    b.start_session()
    for i in range(4):
        b.feed(chunk(i, audio=ramp(i)))
    got = b.engine.duplex.received_audio
    assert [a.size for a in got] == [16560, 16000, 16000, 16000]
    assert all(a.dtype == np.float32 and a.ndim == 1 for a in got)
    sent = np.concatenate([ramp(i) for i in range(4)])
    np.testing.assert_array_equal(np.concatenate(got), np.concatenate([np.zeros(560, np.float32), sent]))
    frames = b.engine.duplex.received_frames
    assert all(len(f) == 1 and f[0].mode == 'RGB' and f[0].size == (1280, 720) for f in frames)


def test_high_refresh_first_frame_main_and_stacked_later_frames(make):
    b = make(warmup=False, stacked_frames=5, max_slice_nums=2)
    b.setup()
    assert b.stream_spec().frames_per_chunk == 5
    b.feed(chunk(0, 'green', n_frames=5))
    (main, stacked), = b.engine.duplex.received_frames
    assert main.size == (1280, 720) and stacked.size == (2 * 1280 + 6, 2 * 720 + 6)  # 2x2, 6 px separators
    assert b.engine.duplex.calls[-3][1]['max_slice_nums'] == [2, 1]
    assert np.asarray(main)[0, 0].tolist() == [0, 200, 0]


def test_watch_in_prompt_tagged_alert_and_cancel_reprepares(make):
    b = make(script={'rules': [GREEN_RULE]}, warmup=False)
    b.setup()
    b.set_watches([Watch('w-green', GREEN_WATCH)])
    b.start_session()
    assert f'[W1] {GREEN_WATCH}' in b.engine.duplex.system_prompt
    outs = [b.feed(chunk(i, 'red' if i < 2 else 'green')) for i in range(5)]
    events = [e for o in outs for e in o.events]
    assert [(e.kind, e.watch_id, e.confidence, e.text) for e in events] == [
        (EventKind.ALERT, 'w-green', 1.0, 'The light is green now.')]
    assert events[0].stamp == 2.0
    assert [(t.text, t.final) for o in outs for t in o.transcripts] == [
        ('The light', False), ('The light is green now.', True)]
    assert all(t.speaker is Speaker.ASSISTANT for o in outs for t in o.transcripts)
    speech = [s for o in outs for s in o.speech]
    assert len(speech) == 2 and all(s.sample_rate == 24000 and s.samples.dtype == np.float32 for s in speech)
    assert [o.speaking for o in outs] == [False, False, True, False, False]

    n = len(b.engine.duplex.calls)
    b.set_watches([])
    b.feed(chunk(5))
    assert [c for c, _ in b.engine.duplex.calls[n:]] == ['prepare', 'streaming_prefill', 'streaming_generate',
                                                          'finalize_unit']
    prompt = b.engine.duplex.system_prompt
    assert GREEN_WATCH not in prompt and '[W1]' not in prompt
    # The conversation is carried, under our own label (upstream's "previous:" is its own section).
    assert 'Earlier in this conversation you said: ' in prompt and 'The light is green now.' in prompt
    assert '\n\nprevious: ' not in prompt
    assert b.engine.duplex.received_audio[-1].size == 16560  # first unit of the new prepare


def test_watch_change_while_speaking_waits_for_turn_end(make):
    rule = dict(GREEN_RULE, say=['{tag} The', ' light', ' is green.'])
    b = make(script={'rules': [rule]}, warmup=False, reprepare_max_defer_units=5)
    b.setup()
    b.set_watches([Watch('w-green', GREEN_WATCH)])
    b.feed(chunk(0, 'green'))
    b.set_watches([Watch('w-green', GREEN_WATCH), Watch('w-door', 'tell me when the door opens')])
    outs = [b.feed(chunk(i, 'green')) for i in range(1, 4)]
    assert [e.watch_id for o in outs for e in o.events] == ['w-green']
    assert calls(b).count('prepare') == 2 and calls(b)[-4] == 'prepare'
    assert '[W2] tell me when the door opens' in b.engine.duplex.system_prompt
    assert b.watch_tag('w-green') == 'W1'  # tags are stable across re-prepare


def test_persona_applies_live_with_a_new_prepare_once_the_turn_ends(make):
    """minicpmo.persona is live (Change.LIVE): the node hands it over through reconfigure(); the model takes no
    text mid-session, so the session prepares again with it, as after a watch change: the spoken turn ends
    first, and the watches, their tags and what was said are kept."""
    assert backends.registered('minicpmo').live == {'persona'}
    rule = dict(GREEN_RULE, say=['{tag} The', ' light', ' is green.'])
    b = make(script={'rules': [rule]}, warmup=False, reprepare_max_defer_units=5)
    b.setup()
    b.set_watches([Watch('w-green', GREEN_WATCH)])
    assert b.feed(chunk(0, 'green')).speaking
    assert DEFAULT_PERSONA in b.engine.duplex.system_prompt
    b.reconfigure(dataclasses.replace(b.config, persona='You are a lighthouse keeper.'))
    outs = [b.feed(chunk(i, 'green')) for i in range(1, 4)]
    assert [(e.watch_id, e.text) for o in outs for e in o.events] == [('w-green', 'The light is green.')]
    assert not any(t.interrupted for o in outs for t in o.transcripts)  # the turn was not cut
    assert calls(b).count('prepare') == 2 and calls(b)[-4] == 'prepare'  # after the turn, before unit 3
    prompt = b.engine.duplex.system_prompt
    assert 'You are a lighthouse keeper.' in prompt and DEFAULT_PERSONA not in prompt
    assert f'[W1] {GREEN_WATCH}' in prompt and 'Earlier in this conversation you said: ' in prompt
    b.reconfigure(dataclasses.replace(b.config))  # nothing changed: no new prepare
    b.feed(chunk(4))
    assert calls(b).count('prepare') == 2


def test_untagged_alert_falls_back_to_closest_watch(make, caplog):
    rule = {'prompt_contains': 'green', 'frame_color': 'green', 'say': ['The traffic light turned green.']}
    b = make(script={'rules': [rule]}, warmup=False)
    b.setup()
    b.set_watches([Watch('w-door', 'tell me when someone opens the door'), Watch('w-green', GREEN_WATCH)])
    with caplog.at_level(logging.INFO, logger='omni_ros.minicpmo'):
        ev, = [e for i in range(2) for e in b.feed(chunk(i, 'green')).events]
    assert ev.kind is EventKind.ALERT and ev.watch_id == 'w-green' and 0 < ev.confidence < 1
    assert 'without a tag' in caplog.text


def test_speech_matching_no_watch_is_a_comment(make):
    rule = {'at_unit': 1, 'say': ['Nice weather today.']}
    b = make(script={'rules': [rule]}, warmup=False)
    b.setup()
    b.set_watches([Watch('w-green', GREEN_WATCH)])
    ev, = [e for i in range(3) for e in b.feed(chunk(i)).events]
    assert ev.kind is EventKind.COMMENT and ev.watch_id == '' and ev.text == 'Nice weather today.'


def test_ask_answers_with_question_id_then_drops_question(make):
    rule = {'question': True, 'say': ['{tag} It is red.'], 'once': False}
    b = make(script={'rules': [rule]}, warmup=False)
    b.setup()
    b.start_session()
    b.ask(Question('q-7', 'What colour is the light?'))
    out = b.feed(chunk(0))
    assert '[Q1] What colour is the light?' in b.engine.duplex.system_prompt
    assert [(e.kind, e.question_id, e.text) for e in out.events] == [(EventKind.ANSWER, 'q-7', 'It is red.')]
    b.feed(chunk(1))
    assert 'What colour' not in b.engine.duplex.system_prompt.split('previous:')[0]


def test_force_listen_interrupt(make):
    rule = {'at_unit': 0, 'say': ['One', ' two', ' three', ' four', ' five', ' six']}
    b = make(script={'rules': [rule]}, warmup=False, barge_in_listen_units=2)
    b.setup()
    assert b.feed(chunk(0)).speaking
    b.interrupt(InterruptMode.FORCE_LISTEN)
    outs = [b.feed(chunk(i)) for i in range(1, 4)]
    flags = [kw['force_listen_override'] for kw in b.engine.duplex.generate_kwargs]
    assert flags == [False, True, True, False]
    assert 'set_break_event' not in calls(b) and calls(b).count('prepare') == 1
    assert not outs[0].speaking
    final, = [t for o in outs for t in o.transcripts if t.final]
    assert final.interrupted and final.text == 'One'


def test_break_interrupt_stops_and_reprepares(make):
    rule = {'at_unit': 0, 'say': ['One', ' two', ' three']}
    b = make(script={'rules': [rule]}, warmup=False)
    b.setup()
    b.feed(chunk(0))
    b.interrupt(InterruptMode.BREAK)
    assert calls(b)[-1] == 'set_break_event'
    out = b.feed(chunk(1))
    assert calls(b)[-5:] == ['set_break_event', 'prepare', 'streaming_prefill', 'streaming_generate',
                             'finalize_unit']
    assert [(t.text, t.final, t.interrupted) for t in out.transcripts] == [('One', True, True)]


def test_slow_model_skips_units_and_counts(make, monkeypatch):
    b = make(warmup=False, stacked_frames=3, max_lag_s=1.0)
    b.setup()
    clock = [0.0]
    monkeypatch.setattr(session_module, 'time', types.SimpleNamespace(perf_counter=lambda: clock[0]))
    real_step = b.engine.step

    def slow_step(unit):  # every model unit takes 1.6 s of a 1 s stream
        clock[0] += 1.6
        return real_step(unit)

    monkeypatch.setattr(b.engine, 'step', slow_step)
    for i in range(8):
        b.feed(chunk(i, n_frames=3))
    s = b.stats
    assert s.units_in == 8 and s.units_run + s.units_skipped == 8
    assert s.units_skipped >= 2 and s.skipped_audio_s == s.units_skipped * 1.0
    assert s.grids_dropped >= 1 and s.lag_s <= 1.0 + 0.6 + 1e-9
    assert s.rtf_last == pytest.approx(1.6) and s.rtf_max == pytest.approx(1.6)
    # Units that ran with a backlog carried no grid image.
    assert any(len(f) == 1 for f in b.engine.duplex.received_frames)


def test_reference_voice_is_resampled_and_sets_up_the_vocoder(make, tmp_path):
    wav = tmp_path / 'voice.wav'
    t = np.arange(22050 * 2) / 22050
    write_wav(wav, 0.3 * np.sin(2 * np.pi * 150 * t), 22050)
    b = make(warmup=False, ref_voice_wav=str(wav), script={'rules': [{'at_unit': 0, 'say': ['Hello.']}]})
    b.setup()
    out = b.feed(chunk(0))
    p = b.engine.duplex.prompts[-1]
    assert p['ref_audio'] and 'voice of this audio' in p['prefix'] and p['prompt_wav_path'] == str(wav)
    assert len(out.speech) == 1 and out.speech[0].samples.std() > 0.01


def test_default_voice_is_the_checkpoints_own_and_speech_off_needs_none(make):
    b = make(warmup=False, script={'rules': [{'at_unit': 0, 'say': ['Hello.']}]})
    b.setup()
    b.feed(chunk(0))
    p = b.engine.duplex.prompts[-1]
    assert p['prompt_wav_path'].endswith('assets/ref_audio/voice.wav') and p['ref_audio']
    quiet = make(warmup=False, generate_audio=False, script={'rules': [{'at_unit': 0, 'say': ['Hello.']}]})
    quiet.setup()
    out = quiet.feed(chunk(0))
    assert quiet.engine.duplex.prompts[-1]['prompt_wav_path'] is None and out.speech == []
    assert [t.text for t in out.transcripts] == ['Hello.']


@pytest.mark.parametrize('opts, message', [
    ({'model_path': ''}, 'model_path is empty'),
    ({'model_path': '/nonexistent/MiniCPM-o-4_5'}, 'does not exist'),
    ({'allow_cpu': False}, 'allow_cpu'),
    ({'device': 'cuda'}, 'llamacpp_omni'),
    ({'device': 'tpu'}, 'use cuda'),
    ({'dtype': 'int4-awq'}, 'not an AWQ checkpoint'),
    ({'ref_voice_wav': '/nonexistent.wav'}, 'ref_voice_wav'),
])
def test_setup_failures_say_what_to_change(make, opts, message):
    b = make(real_load=True, **opts)
    with pytest.raises(BackendSetupError, match=message):
        b.setup()
    assert b.engine is None


def test_dir_without_config_and_awq_mismatch(make, tmp_path):
    b = make(real_load=True)
    os.remove(os.path.join(b.config.model_path, 'config.json'))
    with pytest.raises(BackendSetupError, match='no config.json'):
        b.setup()
    b2 = make(real_load=True, quantization={'quant_method': 'awq', 'bits': 4})
    with pytest.raises(BackendSetupError, match='int4-awq'):
        b2.setup()


def test_incompatible_transformers_version(make, monkeypatch):
    from omni_ros.backends.minicpmo import hf_engine
    monkeypatch.setattr(hf_engine.importlib.metadata, 'version', lambda name: '4.57.1')
    with pytest.raises(BackendSetupError, match=r"transformers 4\.57\.1 .*transformers==4\.51\.0"):
        make(real_load=True).setup()


def test_shutdown_then_setup_again(make):
    b = make(script={'rules': [GREEN_RULE]})
    b.setup()
    b.set_watches([Watch('w-green', GREEN_WATCH)])
    b.feed(chunk(0, 'green'))
    first = b.engine.duplex
    b.shutdown()
    assert b.engine is None and first.calls[-1][0] == 'set_session_stop'
    b.setup()
    assert b.engine.duplex is not first
    b.set_watches([Watch('w-green', GREEN_WATCH)])
    events = [e for i in range(2) for e in b.feed(chunk(i, 'green')).events]
    assert [e.watch_id for e in events] == ['w-green']
