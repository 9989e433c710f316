"""MiniCPM-o 4.5 on a llama.cpp-omni llama-server: the DuplexEngine over its HTTP endpoints.

Checked against the server's code (tools/server/server.cpp, S; tools/omni/omni.cpp, O) of the revision in
options.CHECKED_REVISION:

* load -> GET /health, GET /props (build_info, for messages), POST /v1/stream/omni_init (model_dir, output_dir,
  tts_bin_dir, token2wav_device, tts_gpu_layers).
* prepare -> /v1/stream/break (stops the TTS of the last turn), /v1/stream/update_session_config (sliding window,
  highImage; the reference voice as ``voice_audio``, which the server prefills into the system prompt as unit 0;
  ``voice_clone_prompt`` / ``assistant_prompt`` only when the server reads them, see server_reads_prompt). Without
  a voice file, an empty prefill with ``cnt`` 0 makes the server set the system prompt up with its default voice.
  Either way the system prompt exists before the first unit: a unit sent with ``cnt`` 0 while it does not
  would become the voice reference and lose its image (O:8724-8800). Units count from 1.
* one unit -> /v1/stream/prefill (the unit's WAV and JPEG) and /v1/stream/decode read as SSE. Every prefill is
  decoded: the server closes a unit with ``</unit>`` only at the end of a decode (O:9338), so there is no
  prefill-only "force listen"; a barge-in is /v1/stream/break (supports_force_listen is False, so the session
  turns FORCE_LISTEN into a break).
* the decode stream: text fragments, then either ``is_listen`` (``__IS_LISTEN__``, the model yields the floor:
  the turn ends here) or ``stop`` with ``end_of_turn`` (``__END_OF_TURN__``, pushed after every decode that does
  not end in listen, O:9473: the end of this unit's output, not of the turn).
* speech -> new WAV files under output_dir (tts_wav/wav_N.wav, 24 kHz), read back; break -> /v1/stream/break;
  session end -> /v1/stream/reset.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

import numpy as np

from omni_ros.backends.llamacpp_omni.client import OmniHttpClient, ServerRejected, ServerUnreachable
from omni_ros.backends.llamacpp_omni.options import LlamaCppOmniConfig
from omni_ros.backends.minicpmo.engine import ModelUnit, UnitResult
from omni_ros.backends.minicpmo.media import MODEL_RATE, resample_linear
from omni_ros.backends.minicpmo.prompting import SystemPrompt
from omni_ros.backends.minicpmo.wavio import read_wav, write_wav
from omni_ros.errors import BackendError, BackendSetupError

log = logging.getLogger('omni_ros.llamacpp_omni')

SPEECH_RATE = 24000
FIRST_UNIT = 1  # cnt 0 is the system prompt's (reference voice) prefill
_NUM = re.compile(r'(\d+)')
_DEVICE = re.compile(r'^(cpu|gpu(:\d+)?)$')


def _wav_order(p: Path) -> tuple[int | str, ...]:
    return tuple(int(n) if n.isdigit() else n for n in _NUM.split(str(p)))


def prompt_fields(prompt: SystemPrompt) -> dict[str, str]:
    """The two system prompt fields OpenBMB's client sends (MiniCPM-o-Demo cpp backend), duplex form.

    The server evaluates ``voice_clone_prompt``, the reference voice's audio embedding, then
    ``assistant_prompt``: the same wrapping OpenBMB's Python server gives prepare() (core/processors/unified.py).
    """
    after = prompt.suffix.strip()
    return {'voice_clone_prompt': f'<|im_start|>system\n{prompt.prefix.strip()}\n<|audio_start|>',
            'assistant_prompt': f'<|audio_end|>{after}<|im_end|>\n'}


class LlamaCppOmniEngine:
    supports_force_listen = False

    def __init__(self, config: LlamaCppOmniConfig, name: str = 'llamacpp_omni') -> None:
        self.config = config
        self._name = name
        self.client: Optional[OmniHttpClient] = None
        self._work: Optional[Path] = None
        self._own_work = False
        self._out: Optional[Path] = None
        self._own_out = False
        self._cnt = FIRST_UNIT
        self._seen: set[Path] = set()
        self._voice_path = ''
        self._speaking = False
        self.build_info = ''  # what the server's /props says it is ('' when it does not say)
        self.session_config: dict[str, Any] = {}  # the server's answer to the last update_session_config

    def _p(self, option: str) -> str:
        return f'{self._name}.{option}'

    @property
    def media_type(self) -> int:
        return 2 if self.config.media_type == 'omni' else 1

    # --- life cycle ---------------------------------------------------------------------------------------------
    def _check_options(self) -> None:
        c = self.config
        if not c.server_url:
            raise BackendSetupError(f"{self._p('server_url')} is empty; set it to the llama.cpp-omni server, "
                                    'e.g. http://127.0.0.1:8080')
        if not c.model_dir:
            raise BackendSetupError(f"{self._p('model_dir')} is empty; set it to the GGUF model folder the "
                                    'server should load')
        if c.stacked_frames > 1 and self.media_type == 2:
            raise BackendSetupError(
                f"{self._p('stacked_frames')} is {c.stacked_frames}: llama.cpp-omni takes one image per unit "
                '(a second image-only prefill starts a unit of its own, O:4317, and its highRefresh flag only '
                "marks the session); set it to 1")
        if not _DEVICE.match(c.token2wav_device):
            raise BackendSetupError(f"{self._p('token2wav_device')} is {c.token2wav_device!r}; use cpu, gpu "
                                    'or gpu:N')
        if c.sliding_window_low_water >= c.sliding_window_high_water:
            raise BackendSetupError(f"{self._p('sliding_window_low_water')} ({c.sliding_window_low_water}) "
                                    f"must be below {self._p('sliding_window_high_water')} "
                                    f'({c.sliding_window_high_water})')

    def load(self) -> None:
        c = self.config
        self._check_options()
        self.client = OmniHttpClient(c.server_url, c.connect_timeout_s, c.request_timeout_s)
        try:
            self.client.request_json('GET', '/health')
        except ValueError as exc:
            raise BackendSetupError(f"{self._p('server_url')}: {exc}") from None
        except ServerUnreachable as exc:
            raise BackendSetupError(f'{self._name}: {exc}; start llama-server (llama.cpp-omni) there or fix '
                                    f"{self._p('server_url')}") from None
        except ServerRejected as exc:
            raise BackendSetupError(f'{self._name}: {c.server_url} is not ready ({exc}); wait for the '
                                    'server to finish loading or check its log') from None
        try:
            props = self.client.request_json('GET', '/props')
            self.build_info = str(props.get('build_info', '')) if isinstance(props, dict) else ''
        except (ServerUnreachable, ServerRejected) as exc:
            log.debug('%s: no /props (%s)', self._name, exc)
        self._work, self._own_work = self._folder(c.work_dir, 'omni_ros_llamacpp_in_')
        self._out, self._own_out = self._folder(c.output_dir, 'omni_ros_llamacpp_out_')
        model_dir = c.model_dir.rstrip('/')
        body: dict[str, Any] = {'media_type': self.media_type, 'use_tts': c.use_tts, 'duplex_mode': True,
                                'model_dir': model_dir, 'output_dir': str(self._out),
                                'tts_bin_dir': c.tts_bin_dir or f'{model_dir}/tts',
                                'token2wav_device': c.token2wav_device, 'tts_gpu_layers': c.tts_gpu_layers}
        try:
            self.client.post('/v1/stream/omni_init', body, timeout_s=10 * c.request_timeout_s)
        except ServerUnreachable as exc:
            raise BackendSetupError(f'{self._name}: omni_init got no answer ({exc}); check the server log and '
                                    f"{self._p('request_timeout_s')}") from None
        except ServerRejected as exc:
            hint = (' (out of memory: use a smaller GGUF such as Q4_K_M, ~9 GB)'
                    if 'memory' in exc.body.lower() else '')
            raise BackendSetupError(f'{self._name}: omni_init failed: {exc}{hint}; check that '
                                    f"{self._p('model_dir')} holds vision/, audio/ (and tts/ with use_tts) "
                                    'GGUFs under the names the server expects, and the server log') from None
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
                self.client.post('/v1/stream/reset', {}, timeout_s=self.config.connect_timeout_s)
            except (ServerUnreachable, ServerRejected) as exc:
                log.debug('%s: reset on close failed: %s', self._name, exc)
        for path, own in ((self._work, self._own_work), (self._out, self._own_out)):
            if path is not None and own:
                shutil.rmtree(path, ignore_errors=True)
        self.client, self._work, self._out = None, None, None

    # --- session ------------------------------------------------------------------------------------------------------
    def _voice(self, ref_audio: Optional[np.ndarray]) -> str:
        assert self._work is not None
        if ref_audio is not None:
            if not self._voice_path:
                self._voice_path = str(self._work / 'voice.wav')
                write_wav(self._voice_path, ref_audio, MODEL_RATE)
            return self._voice_path
        return self.config.voice_audio

    def prepare(self, prompt: SystemPrompt, ref_audio: Optional[np.ndarray]) -> None:
        assert self.client is not None and self._work is not None
        c = self.config
        body: dict[str, Any] = {'media_type': self.media_type, 'duplex_mode': True,
                                'highImage': c.max_slice_nums > 1,
                                'sliding_window_mode': c.sliding_window_mode,
                                'sliding_window_high_water': c.sliding_window_high_water,
                                'sliding_window_low_water': c.sliding_window_low_water}
        if c.server_reads_prompt:
            body.update(prompt_fields(prompt))
        voice = self._voice(ref_audio)
        if voice:
            body['voice_audio'] = voice
        self.request_break()  # the TTS of the last turn may still run; the new session starts clean
        answer = self._call('/v1/stream/update_session_config', body)
        self.session_config = answer if isinstance(answer, dict) else {}
        if not voice:
            self._call('/v1/stream/prefill', {'audio_path_prefix': '', 'img_path_prefix': '', 'cnt': 0})
        self._cnt = FIRST_UNIT
        self._speaking = False
        self._seen = set(self._wavs())

    def _call(self, path: str, body: dict[str, Any]) -> Any:
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
            unit.frames[0].save(image_path, 'JPEG', quality=self.config.jpeg_quality)
            written.append(Path(image_path))
        try:
            self._call('/v1/stream/prefill', {'audio_path_prefix': str(audio_path), 'img_path_prefix': image_path,
                                               'cnt': cnt, 'max_slice_nums': unit.max_slice_nums})
            self._cnt += 1
            text, listened = self._decode()
        finally:
            for p in written:
                p.unlink(missing_ok=True)
        if text:
            # Spoke in this unit; a listen at its end hands the floor back: the turn ends with this unit.
            listen, end_of_turn = False, listened
        else:
            # Nothing said: a listen is a listening unit; a decode that neither spoke nor listened (an
            # immediate chunk end, or a break) leaves the model where it was.
            listen, end_of_turn = listened or not self._speaking, False
        self._speaking = not listen and not end_of_turn
        speech = self._new_speech() if not listen else None
        return UnitResult(listen, text, end_of_turn, speech, SPEECH_RATE, time.perf_counter() - t0)

    def _decode(self) -> tuple[str, bool]:
        """(text of this unit, whether the model went back to listening)."""
        assert self.client is not None
        pieces: list[str] = []
        listened = False
        try:
            for ev in self.client.post_sse('/v1/stream/decode', {'stream': True}):
                if ev.get('content'):
                    pieces.append(str(ev['content']))
                if ev.get('is_listen'):
                    listened = True
        except ServerUnreachable as exc:
            raise BackendError(f'{self._name}: decode stream failed ({exc}); restart the server and configure '
                               'the node again') from exc
        except ServerRejected as exc:
            raise BackendError(f'{self._name}: {exc}') from exc
        return ''.join(pieces), listened

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
            self.client.post('/v1/stream/break', {'reason': 'interrupt'}, timeout_s=self.config.connect_timeout_s)
        except (ServerUnreachable, ServerRejected) as exc:
            log.warning('%s: break failed: %s', self._name, exc)

    def end_session(self) -> None:
        if self.client is not None:
            self._call('/v1/stream/reset', {})
        self._speaking = False
