"""The ``minicpmo`` backend against OpenBMB's own MiniCPM-o 4.5 code (tier ``upstream``).

The model is the upstream code with tiny random weights (doubles/minicpmo/upstream.py builds it once per
run), loaded through our real loading path and driven through our backend object end to end on the CPU.
Random weights say nonsense: the tests assert behaviour and what upstream receives (arguments, order, no
exceptions, outputs mapped to transcripts / speech / events), never meaning. torch's sampler is seeded, so
a run is repeatable; a tiny random model speaks almost every unit and its turns never end by themselves.

Replaced: only the Token2wav vocoder (CUDA only; doubles/vocoder/stepaudio2 says why and how), and the test
checks that upstream sets it up with our voice file and hands it the speech tokens its TTS model sampled.

Each issue-10 mismatch has a test here that failed on the backend before the fix; its docstring names it.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import logging
import os
import shutil
import sys
import tarfile
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pytest

from doubles.minicpmo.stream import chunk
from doubles.minicpmo.upstream import CallLog
from omni_ros.backends.minicpmo import MiniCPMoBackend
from omni_ros.backends.minicpmo.hf_engine import TransformersEngine
from omni_ros.backends.minicpmo.options import DEFAULT_PERSONA, DUPLEX_SETTING_KEYS, GENERATE_KEYS, MiniCPMoConfig
from omni_ros.backends.minicpmo.media import stack_images
from omni_ros.backends.minicpmo.prompting import CONTEXT_PREVIOUS_MARKER, SUMMARY_LABEL
from omni_ros.errors import BackendSetupError
from omni_ros.data import EventKind, InterruptMode, Question, Speaker, Watch

pytestmark = pytest.mark.upstream

FAST = {'device': 'cpu', 'allow_cpu': True, 'dtype': 'float32', 'warmup': False, 'max_lag_s': 30.0,
        'max_new_speak_tokens_per_chunk': 4}
WATCH = 'tell me when the light turns green'


class _Reused(MiniCPMoBackend):
    """The backend on an upstream duplex object a previous test loaded through the real path (same settings)."""

    def __init__(self, config: MiniCPMoConfig, loaded: tuple) -> None:
        super().__init__(config)
        self._loaded = loaded

    def _make_engine(self) -> TransformersEngine:
        engine = TransformersEngine(self.config, self.name)
        model, duplex, api, module_name = self._loaded

        def load() -> None:
            engine.model, engine.api, engine.module_name = model, api, module_name
            engine.attach(duplex)

        engine.load = load  # type: ignore[method-assign]
        return engine


def _load_key(config: MiniCPMoConfig) -> tuple:
    """What the loaded object depends on: the code file and the settings upstream reads at construction."""
    per_call = set(GENERATE_KEYS)
    keys = [k for k in DUPLEX_SETTING_KEYS if k not in per_call] + ['model_code', 'dtype', 'n_timesteps',
                                                                    'chunk_ms', 'first_chunk_ms']
    return tuple((k, getattr(config, k)) for k in keys)


@pytest.fixture
def make(tiny_checkpoint: Path, vocoder_standin: Any, loaded_models: dict
         ) -> Iterator[Callable[..., MiniCPMoBackend]]:
    """A factory of set-up backends on the tiny checkpoint; each comes with ``.log`` (a CallLog).

    ``fresh=True`` loads through the real loading path; otherwise a duplex object loaded that way by an
    earlier test with the same construction settings is reused (every prepare() resets its state).
    """
    import torch

    made: list[MiniCPMoBackend] = []

    def _make(fresh: bool = False, **opts: Any) -> MiniCPMoBackend:
        torch.manual_seed(len(made))
        config = MiniCPMoConfig(**{'model_path': str(tiny_checkpoint), **FAST, **opts})
        key = _load_key(config)
        b = (MiniCPMoBackend(config) if fresh or key not in loaded_models else _Reused(config, loaded_models[key]))
        made.append(b)
        b.setup()
        e = b.engine
        loaded_models.setdefault(key, (e.model, e.duplex, e.api, e.module_name))
        b.log = CallLog(e.duplex)  # type: ignore[attr-defined]
        return b

    yield _make
    for b in made:
        if b.engine is not None:
            b.log.close()  # type: ignore[attr-defined]
        b.shutdown()


def feed(b: MiniCPMoBackend, first: int, n: int, **kw: Any) -> list:
    """Units ``first`` .. ``first + n - 1``. The tiny model on a shared CPU is slower than real time; the
    backlog is forgotten before each unit so the pacing policy (tested in test_minicpmo_backend.py) does not
    drop stacked frames here."""
    out = []
    for i in range(first, first + n):
        b._governor.reset_lag()
        out.append(b.feed(chunk(i, **kw)))
    return out


# --- loading ----------------------------------------------------------------------------------------------

def test_setup_loads_the_checkpoint_code_the_way_the_demo_server_does(make, tiny_checkpoint):
    """Mismatch: the backend called ``model.as_duplex()``, which this upstream revision does not define."""
    b = make(fresh=True, warmup=True)
    engine, duplex = b.engine, b.engine.duplex
    assert engine.api == 'init_unified' and engine.module_name == 'modeling_minicpmo_unified'
    assert type(duplex).__name__ == 'DuplexCapability' and type(duplex).__module__.endswith('modeling_minicpmo_unified')
    assert Path(sys.modules[type(duplex).__module__].__file__).parent == tiny_checkpoint.resolve()
    assert not hasattr(type(engine.model), 'as_duplex')  # what the old code relied on
    model = engine.model
    assert not model.training and str(next(model.parameters()).dtype) == 'torch.float32'
    # Settings reach upstream under upstream's names (read there with kwargs.get: a typo would be ignored).
    assert (duplex.CHUNK_MS, duplex.FIRST_CHUNK_MS, duplex.SAMPLE_RATE) == (1000, 1035, 16000)
    assert duplex.force_listen_count == 0 and duplex.tts_repetition_penalty == pytest.approx(1.05)
    assert duplex.decoder._window_config.sliding_window_mode == 'context'
    assert engine.supports_force_listen
    assert b.stats.warmup_s > 0


def test_plain_revision_loads_through_its_own_duplex_class(make, caplog):
    """The plain modeling_minicpmo.py: MiniCPMODuplex loads the weights itself; it has no per-unit force-listen."""
    b = make(fresh=True, model_code='modeling_minicpmo')
    assert b.engine.api == 'MiniCPMODuplex' and type(b.engine.duplex).__name__ == 'MiniCPMODuplex'
    assert not b.engine.supports_force_listen
    assert str(next(b.engine.model.parameters()).dtype) == 'torch.float32'  # upstream casts to bf16; we asked f32
    out = feed(b, 0, 2)
    assert b.log.names() == ['prepare'] + ['streaming_prefill', 'streaming_generate'] * 2  # no finalize_unit
    assert any(o.speech for o in out)  # speech from this revision too (the vocoder got our voice)


@pytest.mark.parametrize('api', ['as_duplex', 'from_existing_model'])
def test_later_adapters_are_used_when_the_revision_has_them(make, monkeypatch, tiny_checkpoint, api):
    """as_duplex (README, later adapter) and MiniCPMODuplex.from_existing_model build the same object."""
    from omni_ros.backends.minicpmo.upstream_code import import_model_module

    module = import_model_module(tiny_checkpoint, 'modeling_minicpmo_unified')
    built: list[dict] = []

    def adapter(model: Any, device: str = 'cuda', **settings: Any) -> Any:
        built.append(settings)
        return module.DuplexCapability(model=model, device=device, **settings)

    if api == 'as_duplex':
        monkeypatch.setattr(module.MiniCPMO, 'as_duplex', lambda self, **s: adapter(self, device='cpu', **s),
                            raising=False)
    else:
        monkeypatch.setattr(module, 'MiniCPMODuplex', type('MiniCPMODuplex', (), {
            'from_existing_model': classmethod(lambda cls, model, device, **s: adapter(model, device, **s))}),
            raising=False)
    b = make(fresh=True)
    assert b.engine.api == api and built and built[0]['chunk_ms'] == 1000 and built[0]['generate_audio']
    assert b.engine.model.tts.audio_tokenizer is not None  # the streaming vocoder was set up first
    assert feed(b, 0, 1)[0] is not None and b.log.names()[-1] == 'finalize_unit'


def test_transformers_remote_code_check_is_why_the_code_is_imported_as_a_package(tiny_checkpoint):
    """AutoModel(trust_remote_code=True) trips transformers' import check on this revision; our path does not."""
    import transformers

    from omni_ros.backends.minicpmo.upstream_code import missing_remote_code_imports

    missing = missing_remote_code_imports(tiny_checkpoint, 'modeling_minicpmo')
    assert 'flag_gems' in missing  # imported only with USE_FLAGOS=1, but the check wants it installed
    with pytest.raises(ImportError, match='flag_gems'):
        transformers.AutoModel.from_pretrained(str(tiny_checkpoint), trust_remote_code=True)
    assert importlib.util.find_spec('flag_gems') is None  # ... and the backend loads without it (tests above)


@pytest.mark.parametrize('change, message', [
    ('no_voice', 'no reference voice'),
    ('no_vocoder_dir', 'assets/token2wav'),
    ('bad_code', 'has no modeling_minicpmo_unified.py'),
])
def test_setup_errors_name_what_to_change(tiny_checkpoint, tmp_path, change, message):
    folder = tmp_path / 'ckpt'
    folder.mkdir()
    for p in tiny_checkpoint.iterdir():
        if p.name == 'assets' or (change == 'bad_code' and p.name == 'modeling_minicpmo_unified.py'):
            continue
        (folder / p.name).symlink_to(p)
    (folder / 'assets').mkdir()
    if change != 'no_voice':
        shutil.copytree(tiny_checkpoint / 'assets' / 'ref_audio', folder / 'assets' / 'ref_audio')
    if change != 'no_vocoder_dir':
        (folder / 'assets' / 'token2wav').mkdir()
    code = 'modeling_minicpmo_unified' if change == 'bad_code' else 'auto'
    b = MiniCPMoBackend(MiniCPMoConfig(model_path=str(folder), model_code=code, **FAST))
    with pytest.raises(BackendSetupError, match=message):
        b.setup()
    assert b.engine is None


def test_out_of_memory_is_explained_and_setup_can_retry(tiny_checkpoint, vocoder_standin, monkeypatch):
    from omni_ros.backends.minicpmo.upstream_code import import_model_module

    module = import_model_module(tiny_checkpoint, 'modeling_minicpmo_unified')
    b = MiniCPMoBackend(MiniCPMoConfig(model_path=str(tiny_checkpoint), **FAST))

    def oom(*a: Any, **k: Any) -> Any:
        raise RuntimeError('CUDA out of memory. Tried to allocate 2.00 GiB')

    with monkeypatch.context() as m:
        m.setattr(module.MiniCPMO, 'from_pretrained', oom)
        with pytest.raises(BackendSetupError, match='19 GB.*int4-awq'):
            b.setup()
    b.setup()
    try:
        assert b.engine is not None and b.engine.duplex is not None
    finally:
        b.shutdown()


# --- speech -------------------------------------------------------------------------------------------------

def test_speech_comes_from_the_voice_and_the_tts_tokens(make, vocoder_standin, tiny_checkpoint):
    """Mismatch: ``prepare()`` never got ``prompt_wav_path``, so upstream never set up the vocoder and every
    speaking unit's ``audio_waveform`` was None (no speech at all)."""
    b = make()
    voice = sorted((tiny_checkpoint / 'assets' / 'ref_audio').glob('*.wav'))[0]
    vocoder_standin.CALLS.clear()
    b.start_session()
    prep = b.log.of('prepare')[-1]
    assert prep['prompt_wav_path'] == str(voice)
    assert prep['ref_audio'] is not None and prep['ref_audio'].dtype == np.float32  # 16 kHz, in the prompt
    assert [c['prompt_wav'] for c in vocoder_standin.CALLS if c['kind'] == 'set_stream_cache'][-1] == str(voice)
    out = feed(b, 0, 3)
    speech = [s for o in out for s in o.speech]
    assert speech and all(s.sample_rate == 24000 and s.samples.dtype == np.float32 for s in speech)
    # What the vocoder got is the silence prefix upstream keeps plus the TTS model's tokens, in order ...
    streamed = [c for c in vocoder_standin.CALLS if c['kind'] == 'stream']
    assert streamed and all(c['prompt_wav'] == str(voice) for c in streamed)
    sampled = [t for unit in b.log.tts_tokens for t in unit]
    window = streamed[0]['tokens']
    assert window[:3] == [4218] * 3 and window[3:] == sampled[:len(window) - 3]
    # ... and the speech we published is what the vocoder made of those tokens.
    from stepaudio2 import token_tone
    made = np.concatenate([token_tone(t) for c in streamed for t in c['tokens'][:c['fresh']]])
    heard = np.concatenate([s.samples for s in speech])
    assert heard.size == made.size
    np.testing.assert_allclose(heard, made, atol=1 / 16384)


# --- barge-in, watch change, break --------------------------------------------------------------------------

def test_barge_in_uses_per_unit_force_listen_not_a_break(make):
    """Mismatch: the backend probed streaming_generate for ``force_listen``, which no upstream class has (the
    unified one calls it ``force_listen_override``), so every barge-in became a break and a re-prepare."""
    b = make(barge_in_listen_units=2)
    out = feed(b, 0, 2)
    assert out[-1].speaking
    n = len(b.log.calls)
    b.interrupt(InterruptMode.FORCE_LISTEN)
    out = feed(b, 2, 3)
    flags = [kw['force_listen_override'] for kw in b.log.of('streaming_generate')]
    assert flags[-3:] == [True, True, False]
    assert 'set_break_event' not in b.log.names(n) and 'prepare' not in b.log.names(n)
    assert [r['is_listen'] for r in b.log.returned('streaming_generate')[-3:-1]] == [True, True]
    # Upstream closed the spoken turn itself (it feeds <|turn_eos|> before listening) ...
    assert b.engine.duplex.turn_eos_token_id in b.engine.duplex.total_ids
    # ... and we report it cut short.
    final = [t for o in out for t in o.transcripts if t.final]
    assert final and final[0].interrupted and final[0].speaker is Speaker.ASSISTANT
    assert not out[0].speaking


def test_plain_revision_barge_in_is_a_logged_break(make, caplog):
    """Without per-unit force-listen the barge-in is a break and a new prepare, and says so (once)."""
    b = make(model_code='modeling_minicpmo')
    feed(b, 0, 1)
    with caplog.at_level(logging.WARNING, logger='omni_ros.minicpmo'):
        b.interrupt(InterruptMode.FORCE_LISTEN)
        b.interrupt(InterruptMode.FORCE_LISTEN)
    assert caplog.text.count('no per-unit force-listen') == 1
    n = len(b.log.calls)
    feed(b, 1, 1)
    assert b.log.names(n)[:2] == ['prepare', 'streaming_prefill']


def test_watch_or_question_change_does_not_make_the_model_deaf(make):
    """Mismatch: ``force_listen_count`` went to upstream, where it means "the first N units after each
    prepare" (M:3067), so every watch or question change made the model deaf for 3 s."""
    b = make(reprepare_max_defer_units=0)
    feed(b, 0, 1)
    b.set_watches([Watch('w-green', WATCH)])
    feed(b, 1, 2)
    b.ask(Question('q-1', 'What colour is the light?'))
    feed(b, 3, 2)
    assert b.log.names().count('prepare') == 3  # session start, watch change, question
    assert b.engine.duplex.force_listen_count == 0
    assert not any(b.log.generate_forced_at_start)
    assert not all(r['is_listen'] for r in b.log.returned('streaming_generate'))


def test_start_up_force_listen_is_upstreams(make):
    """force_listen_count keeps upstream's meaning: the first N units after every prepare listen."""
    b = make(force_listen_count=2)
    feed(b, 0, 3)
    assert b.log.generate_forced_at_start == [True, True, False]
    assert [r['is_listen'] for r in b.log.returned('streaming_generate')][:2] == [True, True]


def test_a_break_during_a_unit_is_not_a_backend_error(make):
    """Mismatch: a unit between a break and the next prepare raised BackendError, while upstream's prefill
    returns ``success=False`` then by design (M:2702)."""
    b = make(model_code='modeling_minicpmo')  # the revision whose prefill refuses units after a break
    feed(b, 0, 2)
    b.log.before['streaming_prefill'] = [lambda: b.interrupt(InterruptMode.BREAK)]  # arrives mid-unit
    out = b.feed(chunk(2))  # no exception
    assert b.log.returned('streaming_prefill')[-1]['success'] is False
    assert b.log.names()[-2:] == ['set_break_event', 'streaming_prefill']  # no generate for that unit
    assert out.transcripts == [] and out.speech == []
    n = len(b.log.calls)
    out = b.feed(chunk(3))  # recovery: a new prepare, then the unit
    assert b.log.names(n)[:3] == ['prepare', 'streaming_prefill', 'streaming_generate']
    assert b.log.returned('streaming_prefill')[-1]['success'] is True
    final = [t for t in out.transcripts if t.final]
    assert final and final[0].interrupted


def test_break_and_recovery_on_the_unified_revision(make):
    b = make()
    feed(b, 0, 2)
    b.interrupt(InterruptMode.BREAK)
    assert b.log.names()[-1] == 'set_break_event'
    n = len(b.log.calls)
    out = feed(b, 2, 2)
    assert b.log.names(n) == ['prepare'] + ['streaming_prefill', 'streaming_generate', 'finalize_unit'] * 2
    assert [a.size for a in (kw['audio_waveform'] for kw in b.log.of('streaming_prefill')[-2:])] == [16560, 16000]
    assert any(t.final and t.interrupted for t in out[0].transcripts)


# --- prompt ----------------------------------------------------------------------------------------------------

def test_system_prompt_is_wrapped_as_openbmbs_server_does(make):
    """Mismatch: the prompt went in as plain text, while this revision tokenizes it as given and OpenBMB's
    server wraps it in ``<|im_start|>system ... <|audio_start|>`` / ``<|audio_end|><|im_end|>``."""
    b = make()
    b.set_watches([Watch('w-green', WATCH)])
    b.start_session()
    prep = b.log.of('prepare')[-1]
    prefix, suffix = prep['prefix_system_prompt'], prep['suffix_system_prompt']
    assert prefix.startswith('<|im_start|>system\n') and prefix.endswith('\n<|audio_start|>')
    assert suffix == '<|audio_end|><|im_end|>'
    assert f'[W1] {WATCH}' in prefix and prefix.index('[W1]') < prefix.index('voice of this audio')
    tok = b.engine.duplex.tokenizer
    ids = tok.encode(prefix, add_special_tokens=False)
    assert ids[0] == tok.convert_tokens_to_ids('<|im_start|>')  # a special token, not '<', '|', ...
    assert ids[-1] == tok.convert_tokens_to_ids('<|audio_start|>')
    assert b.system_prompt.startswith('<|im_start|>system\n')


def test_a_persona_change_prepares_again_with_it(make):
    """minicpmo.persona applies live: upstream's prepare() gets it at the start of the wrapped system text."""
    b = make(reprepare_max_defer_units=0)
    b.start_session()
    assert b.log.of('prepare')[-1]['prefix_system_prompt'].startswith('<|im_start|>system\n' + DEFAULT_PERSONA)
    b.reconfigure(dataclasses.replace(b.config, persona='You are a lighthouse keeper.'))
    feed(b, 0, 1)
    prepares = b.log.of('prepare')
    assert len(prepares) == 2
    assert prepares[-1]['prefix_system_prompt'].startswith('<|im_start|>system\nYou are a lighthouse keeper.\n')
    assert b.log.names()[-4:] == ['prepare', 'streaming_prefill', 'streaming_generate', 'finalize_unit']


def test_carried_summary_is_not_a_second_previous_section(make):
    """Mismatch: our summary used upstream's ``previous:`` marker on top of upstream's own context carry
    (utils.py:1795-1824), which adds its own ``previous:`` section after sliding."""
    b = make(context_max_units=2, reprepare_max_defer_units=0, barge_in_listen_units=1)
    feed(b, 0, 1)
    b.interrupt(InterruptMode.FORCE_LISTEN)  # closes the spoken turn: it is remembered
    feed(b, 1, 1)
    b.set_watches([Watch('w-green', WATCH)])  # a new prepare: upstream starts an empty context
    feed(b, 2, 3)  # more units than context_max_units: upstream slides and carries its own "previous:"
    prep = b.log.of('prepare')[-1]
    text = prep['prefix_system_prompt'] + (prep['suffix_system_prompt'] or '')
    assert SUMMARY_LABEL in text and CONTEXT_PREVIOUS_MARKER not in text
    assert prep['context_previous_marker'] == CONTEXT_PREVIOUS_MARKER
    assert b.engine.duplex.decoder._has_previous  # upstream's own section now exists, once


def test_question_and_watch_change_are_answered_and_attributed(make):
    """A question goes into the prompt; the next spoken turn, cut by a barge-in, is its (untagged) answer.
    The turn in progress when the question was asked is not (found on the real model: it used to be)."""
    b = make(reprepare_max_defer_units=0)
    feed(b, 0, 1)
    b.ask(Question('q-7', 'What colour is the light?'))
    before = feed(b, 1, 2)
    assert '[Q1] What colour is the light?' in b.system_prompt
    assert [e.kind for o in before for e in o.events] == [EventKind.COMMENT]  # the turn cut by the prepare
    b.interrupt(InterruptMode.FORCE_LISTEN)
    out = feed(b, 3, 1)
    events = [e for o in out for e in o.events]
    assert [(e.kind, e.question_id) for e in events] == [(EventKind.ANSWER, 'q-7')]
    assert 0 < events[0].confidence < 1 and events[0].text  # untagged: the oldest open question
    b.set_watches([Watch('w-green', WATCH)])
    feed(b, 4, 1)
    assert 'What colour' not in b.system_prompt and f'[W1] {WATCH}' in b.system_prompt


# --- frames ------------------------------------------------------------------------------------------------------

def test_stacked_frames_follow_upstreams_layout(make):
    """Mismatch: we fed the newest frame as the main image and a half-size 2-column grid of the others;
    upstream's main frame is the first frame of the second and the later ones are stacked full size
    (2x2 for four, 6 px separators)."""
    b = make(stacked_frames=5, max_slice_nums=2)
    colours = [(200, 0, 0), (0, 200, 0), (0, 0, 200), (200, 200, 0), (0, 200, 200)]
    c = chunk(0, n_frames=5)
    frames = tuple(type(f)(f.stamp, np.full((720, 1280, 3), col, np.uint8)) for f, col in zip(c.frames, colours))
    b.feed(type(c)(c.index, c.start, c.duration, c.sample_rate, c.audio, frames))
    kw = b.log.of('streaming_prefill')[-1]
    main, stacked = kw['frame_list']
    assert kw['max_slice_nums'] == [2, 1]
    assert np.asarray(main)[360, 640].tolist() == list(colours[0]) and main.size == (1280, 720)
    assert stacked.size == (2 * 1280 + 6, 2 * 720 + 6)
    px = np.asarray(stacked)
    for (x, y), col in zip([(10, 10), (1300, 10), (10, 740), (1300, 740)], colours[1:]):
        assert px[y, x].tolist() == list(col)
    assert px[10, 1282].tolist() == [0, 0, 0] and px[722, 10].tolist() == [0, 0, 0]  # separators
    # Upstream took both images: <image> ... </image> twice, plus the main frame's HD slices.
    schema = b.engine.duplex.prefill_schema_tokens[-1]
    image_start = b.engine.duplex.image_start_token_id
    assert schema.count(image_start) == 2


def _minicpmo_utils_source() -> Path:
    """minicpmo-utils' sdist, fetched (not installed) by tools/bootstrap.sh: requirements/minicpmo-utils-src.txt."""
    root = Path(os.environ.get('OMNI_MINICPMO_UTILS_SRC') or Path(sys.prefix) / 'share' / 'omni_ros' / 'sdist')
    found = sorted(root.glob('minicpmo_utils-*.tar.gz'))
    if not found:
        pytest.fail(f'minicpmo-utils source not found in {root}; run tools/bootstrap.sh (it downloads it)')
    return found[-1]


def _read_member(archive: Path, suffix: str) -> str:
    with tarfile.open(archive) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith(suffix))
        data = tar.extractfile(member)
        assert data is not None
        return data.read().decode('utf-8')


@pytest.mark.parametrize('n, size', [(2, (1280, 720)), (3, (1280, 720)), (4, (1280, 720)), (2, (480, 640)),
                                     (3, (640, 640))])
def test_stack_images_matches_minicpmo_utils(n, size):
    """Our stacking against minicpmo-utils' own concat_images, run from its source (not copied here)."""
    source = _read_member(_minicpmo_utils_source(), 'src/minicpmo/utils.py')
    tree = ast.parse(source)
    fn = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == 'concat_images')
    import base64
    from io import BytesIO

    from PIL import Image
    scope: dict[str, Any] = {'Image': Image, 'np': np, 'BytesIO': BytesIO, 'base64': base64}
    exec(compile(ast.Module(body=[fn], type_ignores=[]), 'minicpmo/utils.py', 'exec'), scope)  # noqa: S102
    rng = np.random.default_rng(n)
    images = [Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)) for _ in range(n)]
    theirs = np.asarray(scope['concat_images'](images))
    ours = np.asarray(stack_images(images))
    assert ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(np.asarray(stack_images([np.asarray(im) for im in images])), theirs)  # fast path


# --- knobs ----------------------------------------------------------------------------------------------------

def test_upstream_knobs_reach_upstream(make):
    b = make(listen_top_k=3, length_penalty=1.3, text_repetition_penalty=1.2, text_repetition_window_size=64,
             tts_repetition_penalty=1.1, batch_vision_feed=True, decode_mode='greedy')
    feed(b, 0, 1)
    gen = b.log.of('streaming_generate')[-1]
    assert (gen['listen_top_k'], gen['length_penalty'], gen['text_repetition_penalty'],
            gen['text_repetition_window_size'], gen['decode_mode']) == (3, 1.3, 1.2, 64, 'greedy')
    assert b.log.of('streaming_prefill')[-1]['batch_vision_feed'] is True
    assert b.engine.duplex.tts_repetition_penalty == pytest.approx(1.1)


def test_listen_knobs_act_on_the_decoders_listen_id(make):
    """A fact of this upstream revision the docs report: StreamDecoder's listen_prob_scale / listen_top_k act
    on ``tokenizer.eos_token_id`` (utils.py:1172), which this tokenizer_config sets to <|im_end|>, not on
    <|listen|> (what the duplex object listens with). If a revision changes that, this test says so."""
    b = make()
    duplex = b.engine.duplex
    assert duplex.decoder.listen_id == duplex.tokenizer.eos_token_id
    assert duplex.tokenizer.convert_ids_to_tokens(duplex.decoder.listen_id) == '<|im_end|>'
    assert duplex.listen_token_id == duplex.tokenizer.convert_tokens_to_ids('<|listen|>') != duplex.decoder.listen_id


# --- one session end to end ---------------------------------------------------------------------------------

def test_one_session_end_to_end(make, vocoder_standin):
    """Prepare with persona, watches and voice; units with one frame, audio only and stacked frames; a
    barge-in; a watch change; shutdown. No exception anywhere, every call in upstream's order."""
    b = make(stacked_frames=3, persona='You are a test robot.', reprepare_max_defer_units=1)
    b.set_watches([Watch('w-green', WATCH), Watch('w-door', 'tell me when the door opens')])
    b.start_session()
    outs = feed(b, 0, 1, color='red', n_frames=1) + feed(b, 1, 1, color='green', n_frames=3)
    b._governor.reset_lag()
    outs.append(b.feed(type(chunk(2))(2, 2.0, 1.0, 16000, np.zeros(16000, np.float32), ())))
    b.interrupt(InterruptMode.FORCE_LISTEN)
    outs += feed(b, 3, 2, n_frames=3)
    b.set_watches([Watch('w-door', 'tell me when the door opens')])
    outs += feed(b, 5, 2, n_frames=3)
    names = b.log.names()
    # Every prefill is followed by generate and finalize_unit before the next prefill (U:4577).
    for i, name in enumerate(names):
        if name == 'streaming_prefill':
            assert names[i + 1:i + 3] == ['streaming_generate', 'finalize_unit'], names[i:i + 3]
    assert names.count('prepare') == 2 and all(r['success'] for r in b.log.returned('streaming_prefill'))
    frames = [len(kw['frame_list']) for kw in b.log.of('streaming_prefill')]
    assert frames[:3] == [1, 2, 1]  # one frame; main + stacked; audio-only unit reuses the last frame
    assert any(t.final and t.interrupted for o in outs for t in o.transcripts)
    assert sum(len(o.speech) for o in outs) >= 2
    assert b.watch_tag('w-door') == 'W2' and '[W2] tell me when the door opens' in b.system_prompt
    assert 'w-green' not in b.system_prompt and b.stats.units_run == 7
    b.shutdown()
    assert b.log.names()[-1] == 'set_session_stop' and b.engine is None


# --- the doubles against the real code ----------------------------------------------------------------------------

def test_vocoder_standin_has_token2wavs_interface():
    """The Token2wav stand-in against minicpmo-utils' stepaudio2/token2wav.py (parsed, not imported: it needs
    CUDA, onnxruntime and torchaudio)."""
    import inspect

    here = Path(__file__).parent / 'doubles' / 'vocoder'
    spec = importlib.util.spec_from_file_location('standin_stepaudio2', here / 'stepaudio2' / '__init__.py')
    assert spec and spec.loader
    standin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(standin)
    tree = ast.parse(_read_member(_minicpmo_utils_source(), 'src/stepaudio2/token2wav.py'))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == 'Token2wav')
    methods = {n.name: n for n in cls.body if isinstance(n, ast.FunctionDef)}
    for name in ('__init__', 'set_stream_cache', 'stream'):
        real = methods[name].args
        real_names = [a.arg for a in real.args]
        real_defaults = [ast.literal_eval(d) for d in real.defaults]
        ours = inspect.signature(getattr(standin.Token2wav, name))
        assert list(ours.parameters) == real_names, name
        assert [p.default for p in ours.parameters.values() if p.default is not inspect.Parameter.empty] == \
            real_defaults, name
    init_src = ast.unparse(methods['__init__'])
    for attr in ('self.cache', 'self.stream_cache', 'self.hift_cache_dict', 'self.flow'):
        assert attr in init_src, attr
    stream_src = ast.unparse(methods['stream'])
    for refusal in ('Call set_stream_cache(prompt_wav) before stream()', 'Prompt changed',
                    'Non-final chunk requires fresh tokens'):
        assert refusal in stream_src


def test_scripted_double_mirrors_the_unified_class(make, tiny_checkpoint):
    """doubles/minicpmo/duplex_double.py against DuplexCapability: method names, parameters, defaults,
    result keys of a real unit, and the settings upstream reads."""
    import inspect

    from doubles.minicpmo import duplex_double

    b = make()
    real = type(b.engine.duplex)
    for name in ('prepare', 'streaming_prefill', 'streaming_generate', 'finalize_unit', 'set_break_event',
                 'clear_break_event', 'set_session_stop', 'clear_session_stop', 'is_break_set',
                 'is_session_stop_set'):
        ours = inspect.signature(getattr(duplex_double.DuplexDouble, name))
        theirs = inspect.signature(getattr(real, name))
        assert [(p.name, p.default) for p in ours.parameters.values()] == \
            [(p.name, p.default) for p in theirs.parameters.values()], name
    assert isinstance(inspect.getattr_static(real, 'needs_finalize'), property)
    feed(b, 0, 1)
    assert set(b.log.returned('streaming_generate')[-1]) == set(duplex_double.RESULT_KEYS)
    source = inspect.getsource(real.__init__)
    read = set(__import__('re').findall(r'kwargs\.get\("(\w+)"', source))
    named = {p for p in inspect.signature(real.__init__).parameters if p not in ('self', 'model', 'device', 'kwargs')}
    assert read | named == set(duplex_double.KNOWN_SETTINGS)
