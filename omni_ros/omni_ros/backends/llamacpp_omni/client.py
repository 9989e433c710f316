"""Stdlib HTTP client for llama.cpp-omni's /v1/stream/* endpoints, including the SSE decode stream.

One connection per request: calls are at most a few per second, and a fresh connection lets break()
be sent from another thread while a decode stream is open.
"""

from __future__ import annotations

import http.client
import json
import socket
from dataclasses import dataclass
from typing import Any, Iterator
from urllib.parse import urlsplit


class ServerUnreachable(ConnectionError):
    """Nothing answers at the URL (refused, timed out, reset)."""


class ServerRejected(RuntimeError):
    def __init__(self, path: str, status: int, body: str) -> None:
        super().__init__(f'{path} answered HTTP {status}: {body[:300]}')
        self.path, self.status, self.body = path, status, body


@dataclass(frozen=True)
class OmniHttpClient:
    base_url: str
    connect_timeout_s: float = 3.0
    timeout_s: float = 30.0

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        parts = urlsplit(self.base_url)
        if parts.scheme not in ('http', 'https') or not parts.hostname:
            raise ValueError(f'{self.base_url!r} is not an http(s)://host:port URL')
        cls = http.client.HTTPSConnection if parts.scheme == 'https' else http.client.HTTPConnection
        conn = cls(parts.hostname, parts.port, timeout=self.connect_timeout_s)
        try:
            conn.connect()
        except OSError as exc:
            conn.close()
            raise ServerUnreachable(f'no answer from {self.base_url}: {exc}') from exc
        conn.sock.settimeout(timeout)
        return conn

    def _send(self, conn: http.client.HTTPConnection, method: str, path: str, body: Any) -> http.client.HTTPResponse:
        data = None if body is None else json.dumps(body).encode()
        headers = {'Accept': 'application/json, text/event-stream'}
        if data is not None:
            headers['Content-Type'] = 'application/json'
        try:
            conn.request(method, path, body=data, headers=headers)
            return conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise ServerUnreachable(f'{self.base_url}{path}: {exc}') from exc

    def request_json(self, method: str, path: str, body: Any = None, timeout_s: float | None = None) -> Any:
        conn = self._connection(timeout_s or self.timeout_s)
        try:
            resp = self._send(conn, method, path, body)
            try:
                raw = resp.read().decode('utf-8', 'replace')
            except (OSError, http.client.HTTPException) as exc:
                raise ServerUnreachable(f'{self.base_url}{path}: {exc}') from exc
            if resp.status != 200:
                raise ServerRejected(path, resp.status, raw)
            try:
                return json.loads(raw) if raw.strip() else {}
            except ValueError:
                return {'text': raw}
        finally:
            conn.close()

    def post(self, path: str, body: Any, timeout_s: float | None = None) -> Any:
        return self.request_json('POST', path, body, timeout_s)

    def post_sse(self, path: str, body: Any) -> Iterator[dict[str, Any]]:
        """Events of a server-sent-event answer, as dicts, until [DONE], a ``stop`` event, or the end."""
        conn = self._connection(self.timeout_s)
        try:
            resp = self._send(conn, 'POST', path, body)
            if resp.status != 200:
                raise ServerRejected(path, resp.status, resp.read().decode('utf-8', 'replace'))
            while True:
                try:
                    line = resp.readline()
                except (socket.timeout, OSError, http.client.HTTPException) as exc:
                    raise ServerUnreachable(f'{self.base_url}{path}: stream broke off: {exc}') from exc
                if not line:
                    return
                text = line.decode('utf-8', 'replace').strip()
                if not text.startswith('data:'):
                    continue  # comments, event names, keep-alives
                payload = text[5:].strip()
                if payload == '[DONE]':
                    return
                try:
                    event = json.loads(payload)
                except ValueError:
                    continue
                if isinstance(event, dict):
                    yield event
                    if event.get('stop'):
                        return
        finally:
            conn.close()
