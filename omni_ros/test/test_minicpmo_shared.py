"""Parts of the MiniCPM-o backends that need no model: import hygiene, prompt and tags, pacing, the double."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

from doubles.minicpmo.duplex_double import RESULT_KEYS, ContractViolation, DuplexDouble
from omni_ros.backends.minicpmo.media import UnitAudio
from omni_ros.backends.minicpmo.prompting import PromptBook, similarity, strip_tags
from omni_ros.backends.minicpmo.realtime import RealtimeGovernor, UnitPlan
from omni_ros.data import EventKind, Question, Watch


def test_listing_and_creating_backends_never_imports_torch_or_transformers():
    code = textwrap.dedent('''
        import sys
        from omni_ros.backends import create_backend, backend_options
        import omni_ros.backends.minicpmo, omni_ros.backends.llamacpp_omni
        from omni_ros.backends.minicpmo.backend import MiniCPMoBackend
        from omni_ros.backends.llamacpp_omni.backend import LlamaCppOmniBackend
        for cls in (MiniCPMoBackend, LlamaCppOmniBackend):
            b = cls(cls.Config())
            b.stream_spec(); b.set_watches([]); cls.usable(cls.Config())
        heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers', 'accelerate'))
        print('HEAVY', heavy)
        assert not heavy, heavy
    ''')
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr + r.stdout
    assert 'HEAVY []' in r.stdout


def test_registry_lists_both_backends_options():
    from omni_ros.backends import BUILTIN, backend_options
    for name in ('minicpmo', 'llamacpp_omni'):
        assert name in BUILTIN
        names = {o.name for o in backend_options(name)}
        assert {'persona', 'stacked_frames', 'barge_in_listen_units', 'max_lag_s'} <= names
    assert {'model_path', 'model_code', 'dtype', 'attn_implementation', 'sliding_window_mode', 'force_listen_count',
            'listen_top_k', 'length_penalty', 'text_repetition_penalty', 'tts_repetition_penalty',
            'batch_vision_feed'} <= {o.name for o in backend_options('minicpmo')}
    assert 'force_listen_count' not in {o.name for o in backend_options('llamacpp_omni')}


def test_prompt_tags_are_stable_and_summary_is_bounded():
    book = PromptBook(persona='P.', summary_max_chars=120, summary_turns=3)
    assert book.set_watches([Watch('a', 'tell me when the light turns green'), Watch('b', 'watch the door')])
    assert not book.set_watches([Watch('a', 'tell me when the light turns green'), Watch('b', 'watch the door')])
    assert book.set_watches([Watch('b', 'watch the door')])
    assert book.tag_of('b') == 'W2' and book.tag_of('a') == ''
    book.set_watches([Watch('b', 'watch the door'), Watch('c', 'tell me if a dog barks')])
    assert book.tag_of('c') == 'W3'
    for i in range(10):
        book.remember(f'[W2] turn number {i} was said here', float(i))
    p = book.compose()
    summary = p.summary
    assert p.suffix.endswith('\n\nprevious: ' + summary)  # the llama.cpp-omni layout keeps the marker
    assert len(summary) <= 120 and 'turn number 9' in summary and 'turn number 0' not in summary
    assert '[W' not in summary


def test_attribution_tags_variants_and_fallbacks():
    book = PromptBook(persona='P.')
    book.set_watches([Watch('door', 'tell me when someone opens the door'), Watch('green', 'the light turns green')])
    assert book.attribute('[W2] Green now!').watch_id == 'green'
    assert book.attribute('W1: the door is open').watch_id == 'door'
    a = book.attribute('Someone opened the door just now')
    assert a.kind is EventKind.ALERT and a.watch_id == 'door' and a.confidence < 1 and not a.by_tag
    assert book.attribute('I like turtles').kind is EventKind.COMMENT
    book.add_question(Question('q1', 'what is on the table?'))
    a = book.attribute('A cup.')  # untagged, but a question is open: the answer
    assert (a.kind, a.question_id) == (EventKind.ANSWER, 'q1') and a.confidence < 1
    assert strip_tags('[W1] Hello  there') == 'Hello there'
    assert similarity('the light is green', 'tell me when the light turns green') > 0.5


def test_governor_policy():
    g = RealtimeGovernor(1.0, max_lag_s=1.0)
    assert g.plan(True) is UnitPlan.RUN
    g.ran(1.5, 1.4, False)  # lag 0.5
    assert g.plan(True) is UnitPlan.RUN_LITE and g.plan(False) is UnitPlan.RUN
    g.ran(1.7, 1.6, True)  # lag 1.2
    assert g.plan(True) is UnitPlan.SKIP
    g.skipped(1.0)  # lag 0.2
    assert g.stats.units_skipped == 1 and g.stats.lag_s == pytest.approx(0.2)
    assert g.stats.rtf_max == pytest.approx(1.7) and g.stats.adapter_s_last == pytest.approx(0.1)


def test_unit_audio_resamples_and_fixes_length():
    ua = UnitAudio()
    from omni_ros.data import Chunk
    c = Chunk(0, 0.0, 1.0, 48000, np.ones(48000, np.float32) * 0.5, ())
    first = ua.unit(c)
    assert first.size == 16560 and first.dtype == np.float32 and np.all(first[:560] == 0)
    ua.consumed()
    short = Chunk(1, 1.0, 1.0, 16000, np.ones(15000, np.float32), ())
    assert ua.unit(short).size == 16000 and ua.padded_samples == 1000


def _prepared_double(**settings):
    d = DuplexDouble({'chunk_ms': 1000, 'first_chunk_ms': 1035, 'sample_rate': 16000, **settings})
    return d


def _unit(d, n=16560, frames=None, **kw):
    return d.streaming_prefill(audio_waveform=np.zeros(n, np.float32), frame_list=frames or [], **kw)


@pytest.mark.parametrize('misuse, message', [
    (lambda d: _unit(d), 'before prepare'),
    (lambda d: (d.prepare(), _unit(d, 16000)), 'needs 16560'),
    (lambda d: (d.prepare(), d.streaming_prefill(audio_waveform=np.zeros(16560), frame_list=[])), 'float32'),
    (lambda d: (d.prepare(), d.streaming_prefill(audio_waveform=np.zeros((16560, 2), np.float32),
                                                 frame_list=[])), '1-D'),
    (lambda d: (d.prepare(), _unit(d, frames=[np.zeros((4, 4, 3), np.uint8)])), 'PIL'),
])
def test_double_rejects_what_omni_ros_must_not_send(misuse, message):
    d = _prepared_double()
    with pytest.raises(ContractViolation, match=message):
        misuse(d)
    assert d.violations


def test_double_behaves_as_the_unified_upstream_class():
    """The semantics the upstream tier pins on the real code, in the double (no torch needed here)."""
    d = _prepared_double(force_listen_count=1, spelling_mistake=3)
    assert d.ignored_settings == ['spelling_mistake']  # upstream reads kwargs.get: unknown keys are ignored
    d.prepare()
    _unit(d, frames=[Image.new('RGB', (8, 8))])
    r = d.streaming_generate()
    assert r['is_listen'] and set(r) == set(RESULT_KEYS)  # the first unit after prepare: start-up listen
    with pytest.raises(RuntimeError, match='finalize_unit'):
        _unit(d, 16000)  # the next prefill before finalize_unit() fails, as upstream's does
    d.finalize_unit()
    with pytest.raises(ValueError, match='must match'):
        _unit(d, 16000, frames=[Image.new('RGB', (8, 8))] * 2, max_slice_nums=[1])
    d.set_session_stop()
    assert _unit(d, 16000)['success'] is False  # refused until the next prepare
    d.prepare()
    assert _unit(d)['success'] is True
