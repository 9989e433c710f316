"""Stand-in for MiniCPM-o 4.5's duplex object that enforces the documented API.

Mirrors shared/docs/minicpmo-duplex.md: as_duplex settings, prepare / streaming_prefill /
streaming_generate keyword arguments, call order, 16 kHz float32 mono audio of exactly one unit
(first_chunk_ms for the first unit after prepare), PIL RGB frames, result keys, 24 kHz speech.
Every deviation is recorded in ``violations`` and raised as ContractViolation (an AssertionError), so a
test fails even when the adapter catches exceptions.

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
AS_DUPLEX_TYPES: dict[str, tuple[type, ...]] = {
    'generate_audio': (bool,), 'chunk_ms': (int,), 'first_chunk_ms': (int,), 'sample_rate': (int,),
    'force_listen_count': (int,), 'listen_prob_scale': (float, int), 'max_new_speak_tokens_per_chunk': (int,),
    'temperature': (float, int), 'top_k': (int,), 'top_p': (float, int), 'tts_temperature': (float, int),
    'sliding_window_mode': (str,), 'basic_window_high_tokens': (int,), 'basic_window_low_tokens': (int,),
    'context_previous_max_tokens': (int,), 'context_max_units': (int,), 'max_slice_nums': (int, list),
    'enable_float16': (bool,), 'n_timesteps': (int,),
}
RESULT_KEYS = ('is_listen', 'text', 'end_of_turn', 'audio_waveform', 'current_time', 'cost_llm', 'cost_tts',
               'cost_all', 'n_tokens')
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
    """What ``model.as_duplex(**settings)`` returns."""

    def __init__(self, settings: dict, script: Optional[dict] = None, model_state: Optional[dict] = None) -> None:
        self.violations: list[str] = []
        self.calls: list[tuple[str, dict]] = []
        self.prompts: list[dict] = []
        self.received_audio: list[np.ndarray] = []
        self.received_frames: list[list[Any]] = []
        self.generate_kwargs: list[dict] = []
        self.state = 'new'
        self.units_since_prepare = 0
        self.current_time = 0
        self.brain = ScriptBrain(script)
        self._prompt = ''
        self._last_audio = np.zeros(0, np.float32)
        self._last_frames: list = []
        if model_state is not None:
            if not model_state.get('tts_ready'):
                self._fail('as_duplex() called before model.init_tts()')
            if model_state.get('training'):
                self._fail('as_duplex() on a model not in eval mode (call .eval())')
        unknown = sorted(set(settings) - set(AS_DUPLEX_TYPES))
        if unknown:
            self._fail(f'as_duplex() got undocumented settings {unknown}')
        for k, v in settings.items():
            types = AS_DUPLEX_TYPES.get(k)
            if types and (not isinstance(v, types) or (isinstance(v, bool) and bool not in types)):
                self._fail(f'as_duplex({k}={v!r}) has the wrong type; expected {types}')
        self.settings = dict(settings)
        if settings.get('sample_rate', SAMPLE_RATE) != SAMPLE_RATE:
            self._fail('as_duplex(sample_rate) must be 16000')
        if settings.get('sliding_window_mode', 'off') not in ('off', 'basic', 'context'):
            self._fail(f"sliding_window_mode {settings.get('sliding_window_mode')!r} is not off/basic/context")
        self.chunk = SAMPLE_RATE * int(settings.get('chunk_ms', 1000)) // 1000
        self.first = SAMPLE_RATE * int(settings.get('first_chunk_ms', 1035)) // 1000

    # --- helpers --------------------------------------------------------------------------------------------
    def _fail(self, message: str) -> None:
        self.violations.append(message)
        raise ContractViolation(message)

    def _no_positional(self, name: str, args: tuple, unknown: dict) -> None:
        if args:
            self._fail(f'{name}() got positional arguments; the documented API is keyword-only in practice')
        if unknown:
            self._fail(f'{name}() got undocumented keyword arguments {sorted(unknown)}')

    @property
    def system_prompt(self) -> str:
        return self._prompt

    # --- documented API ---------------------------------------------------------------------------------------
    def prepare(self, *args: Any, prefix_system_prompt: Optional[str] = None,
                suffix_system_prompt: Optional[str] = None, ref_audio: Optional[np.ndarray] = None,
                prompt_wav_path: Optional[str] = None, context_previous_marker: str = '\n\nprevious: ',
                **unknown: Any) -> str:
        self._no_positional('prepare', args, unknown)
        for name, v in (('prefix_system_prompt', prefix_system_prompt), ('suffix_system_prompt', suffix_system_prompt),
                        ('prompt_wav_path', prompt_wav_path), ('context_previous_marker', context_previous_marker)):
            if v is not None and not isinstance(v, str):
                self._fail(f'prepare({name}) must be a str or None, got {type(v).__name__}')
        if ref_audio is not None:
            if not isinstance(ref_audio, np.ndarray) or ref_audio.dtype != np.float32 or ref_audio.ndim != 1:
                self._fail('prepare(ref_audio) must be a 1-D float32 numpy array (16 kHz mono)')
            if ref_audio.size < SAMPLE_RATE // 2:
                self._fail('prepare(ref_audio) is shorter than 0.5 s at 16 kHz')
        self._prompt = (prefix_system_prompt or '') + (suffix_system_prompt or '')
        self.prompts.append({'prefix': prefix_system_prompt, 'suffix': suffix_system_prompt,
                             'text': self._prompt, 'ref_audio': ref_audio is not None,
                             'marker': context_previous_marker})
        self.calls.append(('prepare', {'prompt': self._prompt}))
        self.state = 'prepared'
        self.units_since_prepare = 0
        self.brain.reset_turn()
        return self._prompt

    def streaming_prefill(self, *args: Any, audio_waveform: Any = None, frame_list: Any = None,
                          max_slice_nums: Any = 1, batch_vision_feed: bool = False, **unknown: Any) -> dict:
        self._no_positional('streaming_prefill', args, unknown)
        if self.state == 'new':
            self._fail('streaming_prefill() before prepare()')
        if self.state == 'broken':
            self._fail('streaming_prefill() after set_break_event() without prepare() again')
        if self.state == 'stopped':
            self._fail('streaming_prefill() after set_session_stop() without prepare() again')
        if self.state == 'prefilled':
            self._fail('streaming_prefill() twice without streaming_generate() in between')
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
        if not isinstance(frame_list, list):
            self._fail(f'frame_list must be a list of PIL images, got {type(frame_list).__name__}')
        if len(frame_list) > 2:
            self._fail(f'frame_list holds {len(frame_list)} images; documented: [main] or [main, stacked]')
        for f in frame_list:
            if not isinstance(f, Image.Image) or f.mode != 'RGB':
                self._fail(f'frame_list items must be RGB PIL images, got {type(f).__name__}')
        if isinstance(max_slice_nums, list):
            if len(max_slice_nums) != len(frame_list) or not all(isinstance(n, int) for n in max_slice_nums):
                self._fail(f'max_slice_nums list {max_slice_nums} must match frame_list ({len(frame_list)})')
        elif not isinstance(max_slice_nums, int) or isinstance(max_slice_nums, bool) or max_slice_nums < 1:
            self._fail(f'max_slice_nums must be a positive int or a list, got {max_slice_nums!r}')
        if not isinstance(batch_vision_feed, bool):
            self._fail('batch_vision_feed must be a bool')
        self.received_audio.append(a.copy())
        self.received_frames.append(list(frame_list))
        self._last_audio, self._last_frames = a, list(frame_list)
        self.calls.append(('streaming_prefill', {'samples': a.size, 'frames': len(frame_list),
                                                 'max_slice_nums': max_slice_nums}))
        self.state = 'prefilled'
        return {'success': True, 'reason': '', 'cost_vision': 0.0, 'cost_audio': 0.0, 'cost_all': 0.0}

    def streaming_generate(self, *args: Any, prompt_wav_path: Optional[str] = None,
                           max_new_speak_tokens_per_chunk: int = 20, decode_mode: str = 'sampling',
                           temperature: float = 0.7, top_k: int = 20, top_p: float = 0.8,
                           listen_prob_scale: float = 1.0, force_listen: bool = False, **unknown: Any) -> dict:
        self._no_positional('streaming_generate', args, unknown)
        if self.state != 'prefilled':
            self._fail(f'streaming_generate() without a streaming_prefill() first (state {self.state})')
        if decode_mode not in ('sampling', 'greedy'):
            self._fail(f'decode_mode {decode_mode!r} is not sampling/greedy')
        if not isinstance(force_listen, bool):
            self._fail('force_listen must be a bool')
        self.generate_kwargs.append(dict(max_new_speak_tokens_per_chunk=max_new_speak_tokens_per_chunk,
                                         decode_mode=decode_mode, temperature=temperature, top_k=top_k,
                                         top_p=top_p, listen_prob_scale=listen_prob_scale,
                                         force_listen=force_listen))
        t0 = time.perf_counter()
        if self.brain.unit_cost_s:
            time.sleep(self.brain.unit_cost_s)
        self.state = 'prepared'
        self.current_time += 1
        text, listen, eot = '', True, False
        if force_listen:
            self.brain.reset_turn()
        else:
            self.brain.decide(self._prompt, self.units_since_prepare, self._last_frames, self._last_audio)
            if self.brain.pending:
                text, listen = self.brain.pending.pop(0), False
                eot = not self.brain.pending
        self.units_since_prepare += 1
        self.calls.append(('streaming_generate', {'force_listen': force_listen, 'text': text}))
        speech = None
        if not listen and self.settings.get('generate_audio', True):
            t = np.arange(SPEECH_RATE, dtype=np.float32) / SPEECH_RATE
            speech = (0.1 * np.sin(2 * math.pi * 220.0 * t)).astype(np.float32)
        cost = time.perf_counter() - t0
        return {'is_listen': listen, 'text': text, 'end_of_turn': eot, 'audio_waveform': speech,
                'current_time': self.current_time, 'cost_llm': cost, 'cost_tts': 0.0, 'cost_all': cost,
                'n_tokens': len(text.split())}

    def set_break_event(self, *args: Any, **unknown: Any) -> None:
        self._no_positional('set_break_event', args, unknown)
        self.calls.append(('set_break_event', {}))
        self.brain.reset_turn()
        if self.state != 'new':
            self.state = 'broken'

    def set_session_stop(self, *args: Any, **unknown: Any) -> None:
        self._no_positional('set_session_stop', args, unknown)
        self.calls.append(('set_session_stop', {}))
        self.brain.reset_turn()
        self.state = 'stopped'

    def as_simplex(self, *args: Any, reset_session: bool = True, **unknown: Any) -> Any:
        self._no_positional('as_simplex', args, unknown)
        self.calls.append(('as_simplex', {'reset_session': reset_session}))
        self.state = 'new'
        return None
