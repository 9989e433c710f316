"""A loopback llama.cpp-omni server for tests: the /v1/stream/* endpoints as the real one answers them.

Why a double still exists: the real server (tests marked ``upstream``, test_llamacpp_upstream.py) is the
checked revision, which keeps its built-in system prompt, and its tiny random model says random words. A
scripted model that alerts by tag when a watch is in its prompt needs a server that reads the prompt
fields (``revision='prompt-fields'``: newer llama.cpp-omni, as OpenBMB's client expects) and a script. With
``revision='pinned'`` the double behaves as the checked revision does: the prompt fields are accepted and
ignored, the model sees the built-in prompt.

What it mirrors from the real server (tools/server/server.cpp S, tools/omni/omni.cpp O), checked by the
``upstream`` tests against the real one:
* the fields each endpoint reads; any other field is a violation here (the real server ignores it
  silently, which is exactly how a misspelled option would go unnoticed);
* ``cnt`` 0 while the session has no system prompt makes that prefill's audio the voice reference and
  drops its image (O:8724-8800); an ``update_session_config`` with ``voice_audio`` sets the system prompt
  up itself. Sending a unit with an image that way is recorded as a violation (the image would be lost);
* every prefill must be followed by a decode before the next prefill: the server closes a unit with
  ``</unit>`` only at the end of a decode (O:9338); two prefills in a row are recorded as a violation;
* the decode stream: text events ``{content, stop: false, is_listen: false, end_of_turn: false}``, then
  either the listen event ``{content: "", stop: false, is_listen: true, end_of_turn: true}`` or, when the
  model did not go back to listening, ``{content: "", stop: true, is_listen: false, end_of_turn: true}``
  (O:9473, S:5692-5716), then ``data: [DONE]``. The scripted model speaks a rule's pieces one unit each and
  listens in the unit of the last piece (the pattern the real model shows: text, then ``<|listen|>``);
* speech as 24 kHz WAV files ``<output_dir>/tts_wav/wav_N.wav``, one second per speaking unit, when
  ``use_tts`` was asked for in omni_init.
Requests that break the contract are answered with HTTP 400 and recorded in ``violations``.
"""

from __future__ import annotations

import json
import math
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Optional

import numpy as np
from PIL import Image

from doubles.minicpmo.duplex_double import ScriptBrain
from omni_ros.backends.minicpmo.wavio import read_wav, write_wav

UNIT, FIRST = 16000, 16560
BUILTIN_PROMPT = 'Streaming Duplex Conversation! You are a helpful assistant.'  # O:3521
PROMPT_HEAD, PROMPT_VOICE_END = '<|im_start|>system\n', '\n<|audio_start|>'
PROMPT_VOICE_CLOSE, PROMPT_TAIL = '<|audio_end|>', '<|im_end|>\n'
_PROMPT_FIELDS = {'voice_clone_prompt': str, 'assistant_prompt': str}  # read by newer revisions only

SCHEMAS: dict[str, tuple[dict[str, type], dict[str, type]]] = {  # path -> (required, optional)
    '/v1/stream/omni_init': ({'media_type': int}, {
        'use_tts': bool, 'duplex_mode': bool, 'model_dir': str, 'output_dir': str, 'tts_bin_dir': str,
        'tts_gpu_layers': int, 'token2wav_device': str, 'n_predict': int, 'voice_audio': str,
        **_PROMPT_FIELDS}),
    '/v1/stream/update_session_config': ({}, {
        'media_type': int, 'duplex_mode': bool, 'voice_audio': str, 'highImage': bool, 'highRefresh': bool,
        'sliding_window_mode': str, 'sliding_window_high_water': int, 'sliding_window_low_water': int,
        **_PROMPT_FIELDS}),
    '/v1/stream/prefill': ({'audio_path_prefix': str, 'cnt': int},
                           {'img_path_prefix': str, 'img_posfix': str, 'max_slice_nums': int}),
    '/v1/stream/decode': ({}, {'stream': bool, 'debug_dir': str, 'round_idx': int}),
    '/v1/stream/break': ({}, {'reason': str}),
    '/v1/stream/reset': ({}, {'duplex_mode': bool}),
}


class Violation(Exception):
    pass


class LoopbackOmniServer:
    def __init__(self, script: Optional[dict] = None, model_dir: str = '', revision: str = 'prompt-fields') -> None:
        assert revision in ('pinned', 'prompt-fields'), revision
        self.brain = ScriptBrain(script)
        self.model_dir = model_dir
        self.revision = revision
        self.violations: list[str] = []
        self.requests: list[tuple[str, dict]] = []
        self.prompts: list[str] = []  # the system prompt text the model got, per session set-up
        self.voices: list[str] = []  # what became the reference voice each time ('' = the server's default)
        self.received_audio: list[np.ndarray] = []
        self.received_frames: list[Any] = []
        self.state = 'new'  # new -> inited (no system prompt) -> session (system prompt set up) -> reset
        self.output_dir: Optional[Path] = None
        self.use_tts = True
        self.prompt = BUILTIN_PROMPT
        self.pending_prompt = BUILTIN_PROMPT
        self.units = 0
        self.undecoded = 0  # prefills since the last decode
        self.wav_index = 0
        self.last_frames: list = []
        self.last_audio = np.zeros(0, np.float32)
        self.media_type = 2
        self.lock = threading.Lock()
        self.mute = False  # True: accept connections but never answer (a hung server)
        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), self._handler())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f'http://127.0.0.1:{self.httpd.server_address[1]}'

    def __enter__(self) -> 'LoopbackOmniServer':
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # --- request handling ---------------------------------------------------------------------------------------------
    def _check(self, cond: bool, message: str) -> None:
        if not cond:
            raise Violation(message)

    def _validate(self, path: str, body: Any) -> None:
        self._check(isinstance(body, dict), f'{path}: body must be a JSON object')
        required, optional = SCHEMAS[path]
        unknown = sorted(set(body) - set(required) - set(optional))
        self._check(not unknown, f'{path}: fields this server does not read: {unknown}')
        for k, t in {**required, **optional}.items():
            if k in required:
                self._check(k in body, f'{path}: missing field {k}')
            if k in body:
                v = body[k]
                self._check(isinstance(v, t) and not (t is int and isinstance(v, bool)),
                            f'{path}: {k} must be {t.__name__}, got {v!r}')

    def _take_prompt(self, body: dict) -> None:
        if self.revision != 'prompt-fields' or not any(k in body for k in _PROMPT_FIELDS):
            return
        head, tail = body.get('voice_clone_prompt', ''), body.get('assistant_prompt', '')
        self._check(head.startswith(PROMPT_HEAD) and head.endswith(PROMPT_VOICE_END),
                    f'voice_clone_prompt must be {PROMPT_HEAD!r}...{PROMPT_VOICE_END!r} (duplex), got {head!r}')
        self._check(tail.startswith(PROMPT_VOICE_CLOSE) and tail.endswith(PROMPT_TAIL),
                    f'assistant_prompt must be {PROMPT_VOICE_CLOSE!r}...{PROMPT_TAIL!r} (duplex), got {tail!r}')
        before = head[len(PROMPT_HEAD):-len(PROMPT_VOICE_END)]
        after = tail[len(PROMPT_VOICE_CLOSE):-len(PROMPT_TAIL)]
        self.pending_prompt = before + ('\n' + after if after else '')

    def _set_up_system_prompt(self, voice: str) -> None:
        self.prompt = self.pending_prompt
        self.prompts.append(self.prompt)
        self.voices.append(voice)
        self.state, self.units = 'session', 0
        self.brain.reset_turn()

    def handle(self, path: str, body: Any) -> tuple[dict, list[dict] | None]:
        """(JSON answer, or SSE events) for one POST; raises Violation on a bad request."""
        self._check(path in SCHEMAS, f'unknown endpoint {path}')
        self._validate(path, body)
        self.requests.append((path, body))
        if path == '/v1/stream/omni_init':
            self._check(body['media_type'] in (1, 2), 'omni_init: media_type must be 1 (audio) or 2 (omni)')
            self._check(body.get('duplex_mode') is True, 'omni_init: duplex_mode must be true for streaming')
            self._check(not self.model_dir or body.get('model_dir') == self.model_dir,
                        f"omni_init: model_dir {body.get('model_dir')!r} is not {self.model_dir!r}")
            self._check(Path(body.get('output_dir', '')).is_dir(), 'omni_init: output_dir does not exist')
            self.output_dir = Path(body['output_dir'])
            self.media_type = body['media_type']
            self.use_tts = body.get('use_tts', True)
            self.state, self.prompt, self.pending_prompt = 'inited', BUILTIN_PROMPT, BUILTIN_PROMPT
            self._take_prompt(body)
            return {'success': True, 'media_type': self.media_type}, None
        self._check(self.state != 'new', f'{path} before omni_init')
        if path == '/v1/stream/update_session_config':
            self.state, self.undecoded = 'inited', 0
            self._take_prompt(body)
            if body.get('voice_audio'):
                samples, rate = read_wav(body['voice_audio'])
                self._check(rate == 16000 and samples.size >= 8000, 'voice_audio must be >=0.5 s at 16 kHz')
                self._set_up_system_prompt(body['voice_audio'])
            return {'success': True, 'sliding_window': {
                'mode': body.get('sliding_window_mode', 'off'),
                'high_water_tokens': body.get('sliding_window_high_water', 4000),
                'low_water_tokens': body.get('sliding_window_low_water', 3500)},
                'highImage': body.get('highImage', False)}, None
        if path == '/v1/stream/prefill':
            audio, image = body['audio_path_prefix'], body.get('img_path_prefix', '')
            self._check(self.state != 'reset', 'prefill after reset: the cache holds no system prompt until '
                        'update_session_config')
            if self.state == 'inited':
                self._check(body['cnt'] == 0, f"prefill cnt {body['cnt']} before the system prompt is set up "
                            '(send voice_audio in update_session_config, or a prefill with cnt 0 first)')
                self._check(not image, 'prefill cnt 0 sets the system prompt up: its image would be dropped '
                            '(O:8724-8800)')
                self._set_up_system_prompt(audio)
                return {'success': True, 'cnt': 0}, None
            self._check(body['cnt'] >= 1, 'prefill cnt 0 in a session whose system prompt is set up')
            self._check(self.undecoded == 0, 'a second prefill before a decode: the server closes a unit with '
                        '</unit> only at the end of a decode (O:9338)')
            self._check(bool(audio), 'prefill without audio')
            samples, rate = read_wav(audio)
            want = FIRST if self.units == 0 else UNIT
            self._check(rate == 16000, f'prefill audio at {rate} Hz; must be 16000')
            self._check(samples.size == want, f'prefill audio has {samples.size} samples, expected {want}')
            self.received_audio.append(samples)
            self.last_audio = samples
            self.units += 1
            self.undecoded += 1
            self.last_frames = []
            if image:
                self._check(self.media_type == 2, 'image sent in audio-only mode')
                with Image.open(image) as im:
                    self._check(im.format == 'JPEG', f'image is {im.format}, expected JPEG')
                    self.last_frames = [im.convert('RGB')]
                self.received_frames.append(self.last_frames[0])
            return {'success': True, 'cnt': body['cnt']}, None
        if path == '/v1/stream/decode':
            self._check(self.state == 'session' and self.undecoded == 1, 'decode without a prefilled unit')
            self._check(body.get('stream', True) is True, 'decode: stream must be true')
            self.undecoded = 0
            return {}, self._decode()
        if path == '/v1/stream/break':
            self.brain.reset_turn()
            return {'success': True, 'message': 'generation interrupted'}, None
        # reset: the KV cache, system prompt included, is cleared, but the server still counts the system
        # prompt as set up (system_prompt_initialized stays true): until update_session_config, units would
        # reach a model without one.
        self.brain.reset_turn()
        self.state, self.units, self.undecoded = 'reset', 0, 0
        return {'success': True}, None

    def _decode(self) -> list[dict]:
        listen = {'content': '', 'stop': False, 'is_listen': True, 'end_of_turn': True}
        self.brain.decide(self.prompt, self.units - 1, self.last_frames, self.last_audio)
        if not self.brain.pending:
            return [listen]
        text = self.brain.pending.pop(0)
        events = [{'content': text, 'stop': False, 'is_listen': False, 'end_of_turn': False}]
        if self.use_tts:
            assert self.output_dir is not None
            tts = self.output_dir / 'tts_wav'
            tts.mkdir(exist_ok=True)
            t = np.arange(24000, dtype=np.float32) / 24000
            write_wav(tts / f'wav_{self.wav_index}.wav', 0.1 * np.sin(2 * math.pi * 220 * t), 24000)
            self.wav_index += 1
        if self.brain.pending:
            return events + [{'content': '', 'stop': True, 'is_listen': False, 'end_of_turn': True}]
        return events + [listen]

    def _handler(self) -> type:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: bytes, ctype: str = 'application/json') -> None:
                self.send_response(status)
                self.send_header('Content-Type', ctype)
                self.send_header('Content-Length', str(len(body)))
                self.send_header('Connection', 'close')
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if server.mute:
                    return
                if self.path == '/health':
                    self._reply(200, b'{"status": "ok"}')
                elif self.path == '/props':
                    self._reply(200, json.dumps({'build_info': f'b0-loopback-{server.revision}'}).encode())
                else:
                    self._reply(404, b'{"error": "not found"}')

            def do_POST(self) -> None:
                length = int(self.headers.get('Content-Length') or 0)
                raw = self.rfile.read(length)
                if server.mute:
                    return
                try:
                    body = json.loads(raw or b'null')
                    if self.headers.get('Content-Type', '').split(';')[0] != 'application/json':
                        raise Violation(f'{self.path}: Content-Type must be application/json')
                    with server.lock:
                        answer, events = server.handle(self.path, body)
                except (Violation, ValueError, OSError) as exc:
                    with server.lock:
                        server.violations.append(str(exc))
                    self._reply(400, json.dumps({'error': str(exc)}).encode())
                    return
                if events is None:
                    self._reply(200, json.dumps(answer).encode())
                    return
                payload = ''.join(f'data: {json.dumps(e)}\n\n' for e in events) + 'data: [DONE]\n\n'
                self._reply(200, payload.encode(), 'text/event-stream')

        return Handler
