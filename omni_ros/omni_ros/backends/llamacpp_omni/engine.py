"""MiniCPM-o 4.5 on a llama.cpp-omni llama-server: the DuplexEngine over its HTTP endpoints.

Mapping: load -> GET /health + POST /v1/stream/omni_init; prepare -> /v1/stream/update_session_config
(system prompt, voice) and the unit counter back to 0; one unit -> /v1/stream/prefill with the paths of
the unit's WAV and JPEG (plus one more prefill for the stacked grid), then /v1/stream/decode read as SSE;
new speech WAVs under output_dir are read back; break -> /v1/stream/break; session end -> /v1/stream/reset.
Force-listen units are prefilled but not decoded (the model listens).
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Mapping, Optional

import numpy as np

from omni_ros.backends.llamacpp_omni.client import OmniHttpClient, ServerRejected, ServerUnreachable
from omni_ros.backends.minicpmo.engine import ModelUnit, UnitResult
from omni_ros.backends.minicpmo.media import MODEL_RATE, resample_linear
from omni_ros.backends.minicpmo.prompting import SystemPrompt
from omni_ros.backends.minicpmo.wavio import read_wav, write_wav
from omni_ros.errors import BackendError, BackendSetupError

log = logging.getLogger('omni_ros.llamacpp_omni')

SPEECH_RATE = 24000
_NUM = re.compile(r'(\d+)')


def _wav_order(p: Path) -> tuple:
    return tuple(int(n) if n.isdigit() else n for n in _NUM.split(str(p)))


class LlamaCppOmniEngine:
    supports_force_listen = True

    def __init__(self, options: Mapping[str, Any], name: str = 'llamacpp_omni') -> None:
        self._o = dict(options)
        self._name = name
        self.client: Optional[OmniHttpClient] = None
        self._work: Optional[Path] = None
        self._own_work = False
        self._out: Optional[Path] = None
        self._own_out = False
        self._cnt = 0
        self._seen: set[Path] = set()
        self._voice_path = ''

    def _p(self, option: str) -> str:
        return f'{self._name}.{option}'

    @property
    def media_type(self) -> int:
        return 2 if self._o['media_type'] == 'omni' else 1

    # --- life cycle ---------------------------------------------------------------------------------------------
    def load(self) -> None:
        o = self._o
        if not o['server_url']:
            raise BackendSetupError(f"{self._p('server_url')} is empty; set it to the llama.cpp-omni server, "
                                    'e.g. http://127.0.0.1:8080')
        if not o['model_dir']:
            raise BackendSetupError(f"{self._p('model_dir')} is empty; set it to the GGUF model folder the "
                                    'server should load')
        self.client = OmniHttpClient(o['server_url'], o['connect_timeout_s'], o['request_timeout_s'])
        try:
            self.client.request_json('GET', '/health')
        except ValueError as exc:
            raise BackendSetupError(f"{self._p('server_url')}: {exc}") from None
        except ServerUnreachable as exc:
            raise BackendSetupError(f'{self._name}: {exc}; start llama-server (llama.cpp-omni) there or fix '
                                    f"{self._p('server_url')}") from None
        except ServerRejected as exc:
            raise BackendSetupError(f'{self._name}: {o["server_url"]} is not ready ({exc}); wait for the '
                                    'server to finish loading or check its log') from None
        self._work, self._own_work = self._folder(o['work_dir'], 'omni_ros_llamacpp_in_')
        self._out, self._own_out = self._folder(o['output_dir'], 'omni_ros_llamacpp_out_')
        body: dict[str, Any] = {'media_type': self.media_type, 'use_tts': o['use_tts'], 'duplex_mode': True,
                                'model_dir': o['model_dir'], 'output_dir': str(self._out)}
        try:
            self.client.post('/v1/stream/omni_init', body, timeout_s=10 * o['request_timeout_s'])
        except ServerUnreachable as exc:
            raise BackendSetupError(f'{self._name}: omni_init got no answer ({exc}); check the server log and '
                                    f"{self._p('request_timeout_s')}") from None
        except ServerRejected as exc:
            hint = (' (out of memory: use a smaller GGUF such as Q4_K_M, ~9 GB)'
                    if 'memory' in exc.body.lower() else '')
            raise BackendSetupError(f'{self._name}: omni_init failed: {exc}{hint}; check '
                                    f"{self._p('model_dir')} and the server log") from None
        self._seen = set(self._wavs())

    def _folder(self, given: str, prefix: str) -> tuple[Path, bool]:
        if given:
            p = Path(given).expanduser()
            try:
                p.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise BackendSetupError(f'{self._name}: cannot create {p} ({exc}); pick a writable folder') from None
            return p, False
        return Path(tempfile.mkdtemp(prefix=prefix)), True

    def close(self) -> None:
        if self.client is not None:
            try:
                self.client.post('/v1/stream/reset', {}, timeout_s=self._o['connect_timeout_s'])
            except (ServerUnreachable, ServerRejected) as exc:
                log.debug('%s: reset on close failed: %s', self._name, exc)
        for path, own in ((self._work, self._own_work), (self._out, self._own_out)):
            if path is not None and own:
                shutil.rmtree(path, ignore_errors=True)
        self.client, self._work, self._out = None, None, None

    # --- session ------------------------------------------------------------------------------------------------------
    def prepare(self, prompt: SystemPrompt, ref_audio: Optional[np.ndarray]) -> None:
        assert self.client is not None and self._work is not None
        body: dict[str, Any] = {'media_type': self.media_type, 'duplex_mode': True, 'system_prompt': prompt.text}
        if ref_audio is not None:
            if not self._voice_path:
                self._voice_path = str(self._work / 'voice.wav')
                write_wav(self._voice_path, ref_audio, MODEL_RATE)
            body['voice_audio'] = self._voice_path
        self._call('/v1/stream/update_session_config', body)
        self._cnt = 0
        self._seen = set(self._wavs())

    def _call(self, path: str, body: dict) -> Any:
        assert self.client is not None
        try:
            return self.client.post(path, body)
        except ServerUnreachable as exc:
            raise BackendError(f'{self._name}: the server stopped answering ({exc}); restart it and configure '
                               'the node again') from exc
        except ServerRejected as exc:
            raise BackendError(f'{self._name}: {exc}') from exc

    def step(self, unit: ModelUnit) -> UnitResult:
        assert self.client is not None and self._work is not None
        t0 = time.perf_counter()
        cnt = self._cnt
        audio_path = self._work / f'unit_{cnt}.wav'
        write_wav(audio_path, unit.audio, MODEL_RATE)
        written = [audio_path]
        image_path = ''
        if unit.frames and self.media_type == 2:
            image_path = str(self._work / f'unit_{cnt}.jpg')
            unit.frames[0].save(image_path, 'JPEG', quality=self._o['jpeg_quality'])
            written.append(Path(image_path))
        try:
            self._call('/v1/stream/prefill', {'audio_path_prefix': str(audio_path), 'img_path_prefix': image_path,
                                               'cnt': cnt, 'max_slice_nums': unit.max_slice_nums})
            self._cnt += 1
            if len(unit.frames) > 1 and self.media_type == 2:
                grid_path = self._work / f'unit_{cnt}_grid.jpg'
                unit.frames[1].save(grid_path, 'JPEG', quality=self._o['jpeg_quality'])
                written.append(grid_path)
                self._call('/v1/stream/prefill', {'audio_path_prefix': '', 'img_path_prefix': str(grid_path),
                                                   'cnt': self._cnt, 'max_slice_nums': 1})
                self._cnt += 1
            if unit.force_listen:
                return UnitResult(True, '', False, None, SPEECH_RATE, time.perf_counter() - t0)
            text, listen, eot = self._decode()
        finally:
            for p in written:
                p.unlink(missing_ok=True)
        speech = self._new_speech() if not listen else None
        return UnitResult(listen, text, eot, speech, SPEECH_RATE, time.perf_counter() - t0)

    def _decode(self) -> tuple[str, bool, bool]:
        assert self.client is not None
        pieces: list[str] = []
        listen, eot = True, False
        try:
            for ev in self.client.post_sse('/v1/stream/decode', {'stream': True}):
                if ev.get('content'):
                    pieces.append(str(ev['content']))
                if 'is_listen' in ev:
                    listen = bool(ev['is_listen'])
                if ev.get('end_of_turn'):
                    eot = True
        except ServerUnreachable as exc:
            raise BackendError(f'{self._name}: decode stream failed ({exc}); restart the server and configure '
                               'the node again') from exc
        except ServerRejected as exc:
            raise BackendError(f'{self._name}: {exc}') from exc
        text = ''.join(pieces)
        return text, listen and not text, eot

    def _wavs(self) -> list[Path]:
        return sorted(self._out.rglob('*.wav'), key=_wav_order) if self._out is not None else []

    def _new_speech(self) -> Optional[np.ndarray]:
        parts = []
        for path in self._wavs():
            if path in self._seen:
                continue
            try:
                samples, rate = read_wav(path)
            except (OSError, ValueError) as exc:
                log.debug('%s: %s not readable yet (%s)', self._name, path, exc)
                continue  # still being written; picked up next unit
            self._seen.add(path)
            parts.append(resample_linear(samples, rate, SPEECH_RATE))
        return np.concatenate(parts) if parts else None

    def request_break(self) -> None:
        if self.client is None:
            return
        try:
            self.client.post('/v1/stream/break', {'reason': 'interrupt'}, timeout_s=self._o['connect_timeout_s'])
        except (ServerUnreachable, ServerRejected) as exc:
            log.warning('%s: break failed: %s', self._name, exc)

    def end_session(self) -> None:
        if self.client is not None:
            self._call('/v1/stream/reset', {})
