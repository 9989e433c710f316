"""Stand-in for minicpmo-utils' ``stepaudio2.Token2wav``: the only part of MiniCPM-o 4.5 replaced in tests.

Why: the real Token2wav (minicpmo-utils ``stepaudio2/token2wav.py``) runs on CUDA only
(``torch.device('cuda', torch.cuda.current_device())`` in ``__init__``) and needs seven weight files that no
random checkpoint has. Everything around it stays OpenBMB's code: the upstream ``init_tts(streaming=True)``
imports this class as ``from stepaudio2 import Token2wav`` (this folder goes first on ``sys.path`` /
``PYTHONPATH``), upstream's ``prepare(prompt_wav_path=...)`` calls ``set_stream_cache`` and upstream's
``streaming_generate`` calls ``stream`` with the speech tokens its TTS model sampled.

Same interface and the same refusals as the real class (checked against its source by
test_minicpmo_upstream.py): ``Token2wav(model_path, float16=False, n_timesteps=10)``; ``set_stream_cache(
prompt_wav)`` returns ``(stream_cache, hift_cache_dict)``; ``stream(generated_speech_tokens, prompt_wav=None,
last_chunk=False, return_waveform=False)`` raises before ``set_stream_cache``, on a changed prompt and on a
non-final chunk of no more than ``flow.pre_lookahead_len`` tokens, and returns 16-bit PCM bytes at 24 kHz,
one 40 ms frame per fresh token (25 tokens a second, as the real vocoder).
The sound is a function of the tokens (one tone per token id), so a test can tell that the speech it got
came from the tokens the TTS model produced. Every call is recorded in ``CALLS`` (this process) and, when
``OMNI_TOKEN2WAV_TRACE`` names a file, appended to it as JSON lines (another process, e.g. omni_node).
"""

from __future__ import annotations

import json
import os
import threading
import wave
from pathlib import Path

import numpy as np
import torch

SAMPLE_RATE = 24000
SAMPLES_PER_TOKEN = 960  # 25 tokens a second
PRE_LOOKAHEAD = 3  # the real flow's pre_lookahead_len
CALLS: list[dict] = []
_LOCK = threading.Lock()


def _record(kind: str, **fields) -> None:
    entry = {'kind': kind, **fields}
    CALLS.append(entry)
    path = os.environ.get('OMNI_TOKEN2WAV_TRACE')
    if path:
        with _LOCK, open(path, 'a', encoding='utf-8') as f:
            f.write(json.dumps(entry) + '\n')


class _Flow:
    pre_lookahead_len = PRE_LOOKAHEAD


class Token2wav:
    def __init__(self, model_path, float16=False, n_timesteps=10):
        self.float16 = float16
        self.n_timesteps = int(n_timesteps)
        if self.n_timesteps <= 0:
            raise ValueError('n_timesteps must be positive')
        self.model_path = Path(model_path).resolve(strict=True)  # the real class resolves strictly too
        self.flow = _Flow()
        self.sample_rate = SAMPLE_RATE
        self.cache = {}
        self.stream_cache = None
        self.hift_cache_dict = {}
        self._stream_prompt = None
        _record('init', model_path=str(self.model_path), float16=bool(float16), n_timesteps=self.n_timesteps)

    def set_stream_cache(self, prompt_wav):
        prompt_wav = str(prompt_wav)
        with wave.open(prompt_wav, 'rb') as w:  # the real one loads and tokenizes the voice here
            frames = w.getnframes()
            rate = w.getframerate()
        if frames < rate // 2:
            raise ValueError(f'{prompt_wav}: a prompt voice shorter than 0.5 s')
        if self.cache is None:
            self.cache = {}
        self.cache[prompt_wav] = ('voice', frames / rate)
        self.stream_cache = {'prompt_seconds': torch.tensor([frames / rate])}
        self.hift_cache_dict = {'first_chunk': torch.ones(1, dtype=torch.long)}
        self._stream_prompt = prompt_wav
        _record('set_stream_cache', prompt_wav=prompt_wav, seconds=frames / rate)
        return self.stream_cache, self.hift_cache_dict

    def stream(self, generated_speech_tokens, prompt_wav=None, last_chunk=False, return_waveform=False):
        prompt_wav = self._stream_prompt if prompt_wav is None else str(prompt_wav)
        if self.stream_cache is None:
            raise ValueError('Call set_stream_cache(prompt_wav) before stream()')
        if prompt_wav is None:
            raise ValueError('No stream prompt is active; call set_stream_cache(prompt_wav)')
        if prompt_wav != self._stream_prompt:
            raise ValueError('Prompt changed; call set_stream_cache() to start a new stream')
        tokens = [int(t) for t in generated_speech_tokens]
        if not last_chunk and len(tokens) <= self.flow.pre_lookahead_len:
            raise ValueError('Non-final chunk requires fresh tokens plus three lookahead tokens')
        fresh = tokens if last_chunk else tokens[:len(tokens) - self.flow.pre_lookahead_len]
        wav = np.concatenate([token_tone(t) for t in fresh]) if fresh else np.zeros(0, np.float32)
        _record('stream', tokens=tokens, fresh=len(fresh), prompt_wav=prompt_wav, last_chunk=bool(last_chunk))
        if return_waveform:
            return wav[None, :]
        return (np.clip(wav, -1.0, 1.0) * 32767.0).astype('<i2').tobytes()


def token_tone(token: int) -> np.ndarray:
    """40 ms of a tone whose pitch names the token (100 Hz + 2 Hz per id), float32 at 24 kHz."""
    t = np.arange(SAMPLES_PER_TOKEN, dtype=np.float32) / SAMPLE_RATE
    return (0.25 * np.sin(2 * np.pi * (100.0 + 2.0 * (int(token) % 2000)) * t)).astype(np.float32)
