"""A scripted stand-in for MiniCPM-o 4.5's duplex object, reconciled with OpenBMB's unified code.

The real model runs in the ``upstream`` test tier (test_minicpmo_upstream.py) with random weights, which
say nonsense. This double is for what random weights cannot do: say a tagged alert when the frame turns
green, so that attribution, events and the watch story can be tested. It mirrors ``DuplexCapability``
(modeling_minicpmo_unified.py): the same method names, parameters and defaults (test_minicpmo_upstream.py
compares the signatures with the real class), the same result keys, and upstream's semantics:
  * settings are read with ``.get`` and unknown ones ignored (upstream does not complain either; they are
    listed in ``ignored_settings`` for tests to look at);
  * ``force_listen_count`` forces the first N generate calls after each ``prepare`` to listen (U:4995);
    ``force_listen_override`` forces one unit and closes a turn in progress (U:5004);
  * speech needs the vocoder, which ``prepare`` sets up only with ``prompt_wav_path`` (M:2579): without it
    a speaking unit's audio is 1 s of zeros, as ``_make_generate_result`` returns (U:4940);
  * ``finalize_unit()`` is required between generate and the next prefill (U:4577, a RuntimeError);
  * after ``set_session_stop()`` prefill returns ``success=False`` until the next prepare; a break does not
    stop the unified code's prefill (U:4612).
On top, it checks omni_ros's own contract (one unit of 16 kHz float32 mono audio, first unit
first_chunk_ms long; RGB PIL frames, at most [main, stacked]); deviations are recorded in ``violations``
and raised as ContractViolation (an AssertionError), so a test fails even when the adapter catches them.

What it says is scripted (``script['rules']``), e.g. "when the prompt holds the watch about the green
light and the main frame is green, say '[W1] The light is green.'" with the tag read back from the
system prompt as a model that follows its instructions would.

Numpy and PIL only (no torch): also used by the llama.cpp-omni loopback server and the benchmark.
"""

from __future__ import annotations

import math
import re
import time
from typing import Any, Optional

import numpy as np
from PIL import Image

SAMPLE_RATE = 16000
SPEECH_RATE = 24000
RESULT_KEYS = ('is_listen', 'text', 'audio_waveform', 'end_of_turn', 'current_time', 'cost_llm', 'cost_tts_prep',
               'cost_tts', 'cost_token2wav', 'cost_all', 'n_tokens', 'n_tts_tokens')
KNOWN_SETTINGS = frozenset((
    'generate_audio', 'ls_mode', 'max_new_speak_tokens_per_chunk', 'text_repetition_penalty', 'temperature',
    'top_k', 'top_p', 'text_repetition_window_size', 'listen_prob_scale', 'force_listen_count', 'tts_temperature',
    'tts_repetition_penalty', 'chunk_ms', 'first_chunk_ms', 'cnn_redundancy_ms', 'sample_rate',
    'sliding_window_mode', 'basic_window_high_tokens', 'basic_window_low_tokens', 'context_previous_max_tokens',
    'context_max_units'))
_TAG_LINE = re.compile(r'\[([WQ]\d+)\]\s*(.*)')


class ContractViolation(AssertionError):
    pass


def frame_color(img: Any) -> str:
    """'red' / 'green' / 'blue' when one channel clearly dominates the image, else ''."""
    arr = np.asarray(img.reduce(8) if img.width >= 64 else img, dtype=np.float32)
    means = arr.reshape(-1, 3).mean(axis=0)
    top = int(np.argmax(means))
    if means[top] > 1.5 * max(np.delete(means, top).max(), 1.0):
        return ('red', 'green', 'blue')[top]
    return ''


class ScriptBrain:
    """Decides, once per unit, whether to listen or to speak the next piece of a scripted turn."""

    def __init__(self, script: Optional[dict]) -> None:
        script = script or {}
        self.rules = [dict(r) for r in script.get('rules', [])]
        self.unit_cost_s = float(script.get('unit_cost_s', 0.0))
        self.fired: set[int] = set()
        self.pending: list[str] = []

    def reset_turn(self) -> None:
        self.pending = []

    @staticmethod
    def tag_for(prompt: str, text: str, letter: str) -> str:
        for line in prompt.splitlines():
            m = _TAG_LINE.match(line.strip())
            if m and m.group(1).startswith(letter) and (not text or text.lower() in m.group(2).lower()):
                return m.group(1)
        return ''

    def decide(self, prompt: str, units: int, frames: list, audio: np.ndarray) -> None:
        if self.pending:
            return
        for i, rule in enumerate(self.rules):
            if i in self.fired and rule.get('once', True):
                continue
            if rule.get('prompt_contains') and rule['prompt_contains'].lower() not in prompt.lower():
                continue
            if rule.get('prompt_lacks') and rule['prompt_lacks'].lower() in prompt.lower():
                continue
            if units < int(rule.get('at_unit', 0)):
                continue
            if rule.get('frame_color') and not (frames and frame_color(frames[0]) == rule['frame_color']):
                continue
            if 'audio_rms_above' in rule and float(np.sqrt(np.mean(audio ** 2))) <= rule['audio_rms_above']:
                continue
            tag = ''
            if rule.get('question'):
                tag = self.tag_for(prompt, '', 'Q')
                if not tag:
                    continue
            elif rule.get('tag_of'):
                tag = self.tag_for(prompt, rule['tag_of'], 'W')
                if not tag:
                    continue
            self.fired.add(i)
            self.pending = [p.replace('{tag}', f'[{tag}]' if tag else '') for p in rule['say']]
            return


class DuplexDouble:
    """What the unified code's ``model.duplex`` is (DuplexCapability), scripted."""

    def __init__(self, settings: dict, script: Optional[dict] = None) -> None:
        self.violations: list[str] = []
        self.calls: list[tuple[str, dict]] = []
        self.prompts: list[dict] = []
        self.received_audio: list[np.ndarray] = []
        self.received_frames: list[list[Any]] = []
        self.generate_kwargs: list[dict] = []
        self.settings = dict(settings)
        self.ignored_settings = sorted(set(settings) - KNOWN_SETTINGS)
        self.generate_audio = bool(settings.get('generate_audio', True))
        self.force_listen_count = int(settings.get('force_listen_count', 0))
        self.chunk = SAMPLE_RATE * int(settings.get('chunk_ms', 1000)) // 1000
        self.first = SAMPLE_RATE * int(settings.get('first_chunk_ms', 1035)) // 1000
        self.brain = ScriptBrain(script)
        self.state = 'new'
        self.units_since_prepare = 0
        self.audio_chunk_idx = 0
        self.current_turn_ended = True
        self.vocoder_voice: Optional[str] = None
        self._streaming_generate_count = 0
        self._pending_finalize: Optional[dict] = None
        self._break = False
        self._stopped = False
        self._prompt = ''
        self._last_audio = np.zeros(0, np.float32)
        self._last_frames: list = []

    # --- helpers --------------------------------------------------------------------------------------------
    def _fail(self, message: str) -> None:
        self.violations.append(message)
        raise ContractViolation(message)

    @property
    def system_prompt(self) -> str:
        return self._prompt

    @property
    def needs_finalize(self) -> bool:
        return self._pending_finalize is not None

    @staticmethod
    def _silence() -> np.ndarray:
        return np.zeros(SPEECH_RATE, np.float32)

    # --- upstream's API -----------------------------------------------------------------------------------------
    def set_break_event(self):
        self._break = True
        self.calls.append(('set_break_event', {}))
        self.brain.reset_turn()

    def clear_break_event(self):
        self._break = False

    def set_session_stop(self):
        self._stopped = True
        self._break = True
        self.calls.append(('set_session_stop', {}))
        self.brain.reset_turn()

    def clear_session_stop(self):
        self._stopped = False

    def is_break_set(self) -> bool:
        return self._break

    def is_session_stop_set(self) -> bool:
        return self._stopped

    def prepare(
        self,
        prefix_system_prompt: Optional[str] = None,
        suffix_system_prompt: Optional[str] = None,
        ref_audio: Optional[np.ndarray] = None,
        prompt_wav_path: Optional[str] = None,
        context_previous_marker: str = "\n\nprevious: ",
    ):
        for name, v in (('prefix_system_prompt', prefix_system_prompt), ('suffix_system_prompt', suffix_system_prompt),
                        ('prompt_wav_path', prompt_wav_path), ('context_previous_marker', context_previous_marker)):
            if v is not None and not isinstance(v, str):
                self._fail(f'prepare({name}) must be a str or None, got {type(v).__name__}')
        if ref_audio is not None:
            if not isinstance(ref_audio, np.ndarray) or ref_audio.dtype != np.float32 or ref_audio.ndim != 1:
                self._fail('prepare(ref_audio) must be a 1-D float32 numpy array (16 kHz mono)')
            if ref_audio.size < SAMPLE_RATE // 2:
                self._fail('prepare(ref_audio) is shorter than 0.5 s at 16 kHz')
        self._break = self._stopped = False
        self.vocoder_voice = prompt_wav_path if (prompt_wav_path and self.generate_audio) else None
        self._prompt = (prefix_system_prompt or '') + (suffix_system_prompt or '')
        self.prompts.append({'prefix': prefix_system_prompt, 'suffix': suffix_system_prompt, 'text': self._prompt,
                             'ref_audio': ref_audio is not None, 'prompt_wav_path': prompt_wav_path,
                             'marker': context_previous_marker})
        self.calls.append(('prepare', {'prompt': self._prompt}))
        self.state = 'prepared'
        self.units_since_prepare = 0
        self.audio_chunk_idx = 0
        self.current_turn_ended = True
        self._streaming_generate_count = 0
        self._pending_finalize = None
        self.brain.reset_turn()
        return self._prompt

    def streaming_prefill(
        self,
        audio_waveform: Optional[np.ndarray] = None,
        frame_list: Optional[list] = None,
        max_slice_nums: Any = 1,
        batch_vision_feed: bool = False,
    ):
        if self.needs_finalize:
            raise RuntimeError('streaming_prefill called before finalize_unit()!')  # as upstream (U:4577)
        if self.state == 'new':
            self._fail('streaming_prefill() before prepare()')
        if self._stopped:
            return {'success': False, 'reason': ''}
        a = audio_waveform
        if not isinstance(a, np.ndarray) or a.dtype != np.float32 or a.ndim != 1:
            self._fail(f'audio_waveform must be a 1-D float32 numpy array, got '
                       f'{type(a).__name__} {getattr(a, "dtype", "")} {getattr(a, "shape", "")}')
        want = self.first if self.units_since_prepare == 0 else self.chunk
        if a.size != want:
            self._fail(f'audio_waveform has {a.size} samples; unit {self.units_since_prepare} after prepare '
                       f'needs {want} (16 kHz, first unit first_chunk_ms)')
        if not np.all(np.isfinite(a)) or float(np.max(np.abs(a), initial=0.0)) > 1.0 + 1e-6:
            self._fail('audio_waveform must be finite and within [-1, 1]')
        frames = list(frame_list or [])
        if len(frames) > 2:
            self._fail(f'frame_list holds {len(frames)} images; omni_ros sends [main] or [main, stacked]')
        for f in frames:
            if not isinstance(f, Image.Image) or f.mode != 'RGB':
                self._fail(f'frame_list items must be RGB PIL images, got {type(f).__name__}')
        if isinstance(max_slice_nums, list):
            if len(max_slice_nums) != len(frames) or not all(isinstance(n, int) for n in max_slice_nums):
                raise ValueError(f'max_slice_nums list length ({len(max_slice_nums)}) must match frame_list '
                                 f'length ({len(frames)})')  # upstream raises this too
        elif not isinstance(max_slice_nums, int) or isinstance(max_slice_nums, bool) or max_slice_nums < 1:
            self._fail(f'max_slice_nums must be a positive int or a list, got {max_slice_nums!r}')
        self.received_audio.append(a.copy())
        self.received_frames.append(frames)
        self._last_audio, self._last_frames = a, frames
        self.calls.append(('streaming_prefill', {'samples': a.size, 'frames': len(frames),
                                                 'max_slice_nums': max_slice_nums,
                                                 'batch_vision_feed': batch_vision_feed}))
        self.state = 'prefilled'
        self.audio_chunk_idx += 1
        return {'success': True, 'reason': '', 'cost_all': 0.0}

    def streaming_generate(
        self,
        prompt_wav_path=None,
        max_new_speak_tokens_per_chunk=20,
        decode_mode: str = "sampling",
        temperature=0.7,
        top_k=20,
        top_p=0.8,
        listen_prob_scale=1.0,
        listen_top_k=None,
        text_repetition_penalty=1.05,
        text_repetition_window_size=512,
        length_penalty=1.1,
        force_listen_override: bool = False,
    ):
        t0 = time.perf_counter()
        if self._stopped:
            return self._result(t0, end_of_turn=True)
        if self.state != 'prefilled':
            return self._result(t0)  # upstream: no pending logits, a listen result and nothing to finalize
        if decode_mode not in ('sampling', 'greedy'):
            self._fail(f'decode_mode {decode_mode!r} is not sampling/greedy')
        self.generate_kwargs.append(dict(
            max_new_speak_tokens_per_chunk=max_new_speak_tokens_per_chunk, decode_mode=decode_mode,
            temperature=temperature, top_k=top_k, top_p=top_p, listen_prob_scale=listen_prob_scale,
            listen_top_k=listen_top_k, text_repetition_penalty=text_repetition_penalty,
            text_repetition_window_size=text_repetition_window_size, length_penalty=length_penalty,
            force_listen_override=force_listen_override))
        if self.brain.unit_cost_s:
            time.sleep(self.brain.unit_cost_s)
        force = self._streaming_generate_count < self.force_listen_count or force_listen_override
        self._streaming_generate_count += 1
        self.state = 'generated'
        text, listen, eot = '', True, False
        if force:
            if force_listen_override and not self.current_turn_ended:
                self.current_turn_ended = True  # upstream feeds <|turn_eos|> first
            self.brain.reset_turn()
        else:
            self.brain.decide(self._prompt, self.units_since_prepare, self._last_frames, self._last_audio)
            if self.brain.pending:
                text, listen = self.brain.pending.pop(0), False
                eot = not self.brain.pending
                self.current_turn_ended = eot
        self.units_since_prepare += 1
        self._pending_finalize = {'is_listen': listen}
        self.calls.append(('streaming_generate', {'force_listen_override': force_listen_override, 'text': text}))
        speech = None
        if not listen and self.vocoder_voice:
            t = np.arange(SPEECH_RATE, dtype=np.float32) / SPEECH_RATE
            speech = (0.1 * np.sin(2 * math.pi * 220.0 * t)).astype(np.float32)
        return self._result(t0, is_listen=listen, text=text, audio_waveform=speech, end_of_turn=eot,
                            n_tokens=len(text.split()))

    def finalize_unit(self):
        if self._pending_finalize is None:
            return  # upstream logs a warning and returns
        self._pending_finalize = None
        self.calls.append(('finalize_unit', {}))
        self.state = 'prepared'

    def _result(self, t0: float, is_listen: bool = True, text: str = '', audio_waveform: Any = None,
                end_of_turn: bool = False, n_tokens: int = 0) -> dict:
        cost = time.perf_counter() - t0
        return {'is_listen': is_listen, 'text': text,
                'audio_waveform': audio_waveform if audio_waveform is not None else self._silence(),
                'end_of_turn': end_of_turn, 'current_time': self.audio_chunk_idx, 'cost_llm': cost,
                'cost_tts_prep': 0.0, 'cost_tts': 0.0, 'cost_token2wav': 0.0, 'cost_all': cost,
                'n_tokens': n_tokens, 'n_tts_tokens': 0}
