"""A loopback llama.cpp-omni server for tests: the /v1/stream/* endpoints, strict request validation.

Runs on 127.0.0.1 with an ephemeral port in a thread. Requests with unknown or missing fields, wrong
types, wrong order (prefill before init / before session config / after break), unreadable files, audio
that is not 16 kHz mono of one unit, or images that are not JPEG are answered with HTTP 400 and recorded
in ``violations``. What the "model" says comes from the same ScriptBrain as the transformers double;
speech is written as 24 kHz WAV files under the output_dir given in omni_init.
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

SCHEMAS: dict[str, tuple[dict[str, type], dict[str, type]]] = {  # path -> (required, optional)
    '/v1/stream/omni_init': ({'media_type': int, 'use_tts': bool, 'duplex_mode': bool, 'model_dir': str,
                              'output_dir': str}, {'voice_audio': str}),
    '/v1/stream/update_session_config': ({'media_type': int, 'duplex_mode': bool},
                                         {'voice_audio': str, 'system_prompt': str}),
    '/v1/stream/prefill': ({'audio_path_prefix': str, 'img_path_prefix': str, 'cnt': int},
                           {'max_slice_nums': int}),
    '/v1/stream/decode': ({'stream': bool}, {'round_idx': int}),
    '/v1/stream/break': ({}, {'reason': str}),
    '/v1/stream/reset': ({}, {}),
}


class Violation(Exception):
    pass


class LoopbackOmniServer:
    def __init__(self, script: Optional[dict] = None, model_dir: str = '') -> None:
        self.brain = ScriptBrain(script)
        self.model_dir = model_dir
        self.violations: list[str] = []
        self.requests: list[tuple[str, dict]] = []
        self.prompts: list[str] = []
        self.received_audio: list[np.ndarray] = []
        self.state = 'new'  # new -> inited -> session -> (broken) ...
        self.output_dir: Optional[Path] = None
        self.prompt = ''
        self.expect_cnt = 0
        self.units = 0
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
        self._check(not unknown, f'{path}: unknown fields {unknown}')
        for k, t in {**required, **optional}.items():
            if k in required:
                self._check(k in body, f'{path}: missing field {k}')
            if k in body:
                v = body[k]
                self._check(isinstance(v, t) and not (t is int and isinstance(v, bool)),
                            f'{path}: {k} must be {t.__name__}, got {v!r}')

    def handle(self, path: str, body: Any) -> tuple[dict, list[dict] | None]:
        """(JSON answer, or SSE events) for one POST; raises Violation on a bad request."""
        self._check(path in SCHEMAS, f'unknown endpoint {path}')
        self._validate(path, body)
        self.requests.append((path, body))
        if path == '/v1/stream/omni_init':
            self._check(body['media_type'] in (1, 2), 'omni_init: media_type must be 1 (audio) or 2 (omni)')
            self._check(body['duplex_mode'] is True, 'omni_init: duplex_mode must be true for streaming')
            self._check(not self.model_dir or body['model_dir'] == self.model_dir,
                        f"omni_init: model_dir {body['model_dir']!r} is not {self.model_dir!r}")
            self._check(Path(body['output_dir']).is_dir(), 'omni_init: output_dir does not exist')
            self.output_dir = Path(body['output_dir'])
            self.media_type = body['media_type']
            self.state = 'inited'
            return {'success': True}, None
        self._check(self.state != 'new', f'{path} before omni_init')
        if path == '/v1/stream/update_session_config':
            if 'voice_audio' in body:
                samples, rate = read_wav(body['voice_audio'])
                self._check(rate == 16000 and samples.size >= 8000, 'voice_audio must be >=0.5 s at 16 kHz')
            self.prompt = body.get('system_prompt', '')
            self.prompts.append(self.prompt)
            self.state, self.expect_cnt, self.units = 'session', 0, 0
            self.brain.reset_turn()
            return {'success': True}, None
        if path == '/v1/stream/prefill':
            self._check(self.state == 'session', f'prefill in state {self.state} (needs update_session_config'
                        ' after omni_init and after every break)')
            self._check(body['cnt'] == self.expect_cnt, f"prefill cnt {body['cnt']}, expected {self.expect_cnt}")
            self.expect_cnt += 1
            if body['audio_path_prefix']:
                samples, rate = read_wav(body['audio_path_prefix'])
                want = FIRST if self.units == 0 else UNIT
                self._check(rate == 16000, f'prefill audio at {rate} Hz; must be 16000')
                self._check(samples.size == want, f'prefill audio has {samples.size} samples, expected {want}')
                self.received_audio.append(samples)
                self.last_audio = samples
                self.units += 1
            if body['img_path_prefix']:
                self._check(self.media_type == 2, 'image sent in audio-only mode')
                with Image.open(body['img_path_prefix']) as im:
                    self._check(im.format == 'JPEG', f'image is {im.format}, expected JPEG')
                    frame = im.convert('RGB')
                if body['audio_path_prefix']:
                    self.last_frames = [frame]
            self._check(bool(body['audio_path_prefix'] or body['img_path_prefix']), 'prefill with neither file')
            return {'success': True}, None
        if path == '/v1/stream/decode':
            self._check(self.state == 'session', f'decode in state {self.state}')
            self._check(body['stream'] is True, 'decode: stream must be true')
            self.brain.decide(self.prompt, self.units - 1, self.last_frames, self.last_audio)
            if not self.brain.pending:
                return {}, [{'is_listen': True, 'end_of_turn': False}, {'stop': True}]
            text = self.brain.pending.pop(0)
            eot = not self.brain.pending
            assert self.output_dir is not None
            tts = self.output_dir / 'tts_wav'
            tts.mkdir(exist_ok=True)
            t = np.arange(24000, dtype=np.float32) / 24000
            write_wav(tts / f'wav_{self.wav_index}.wav', 0.1 * np.sin(2 * math.pi * 220 * t), 24000)
            self.wav_index += 1
            return {}, [{'content': text, 'is_listen': False}, {'end_of_turn': eot}, {'stop': True}]
        if path == '/v1/stream/break':
            self.brain.reset_turn()
            self.state = 'broken' if self.state == 'session' else self.state
            return {'success': True}, None
        # reset
        self.brain.reset_turn()
        self.state = 'inited'
        return {'success': True}, None

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
                    server.violations.append(str(exc))
                    self._reply(400, json.dumps({'error': str(exc)}).encode())
                    return
                if events is None:
                    self._reply(200, json.dumps(answer).encode())
                    return
                payload = ''.join(f'data: {json.dumps(e)}\n\n' for e in events) + 'data: [DONE]\n\n'
                self._reply(200, payload.encode(), 'text/event-stream')

        return Handler
