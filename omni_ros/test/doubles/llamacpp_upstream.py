"""Support for the ``upstream`` tests of ``llamacpp_omni``: the real llama-server on a tiny GGUF MiniCPM-o.

Nothing here is a double: ``llama-server`` is built from ``../shared/upstream/llama.cpp-omni`` (``$OMNI_LLAMACPP_SRC``)
by tools/build_llama_server.sh (bootstrap builds it; cached by a hash of the sources), and the model is the
tiny random MiniCPM-o 4.5 checkpoint (doubles/minicpmo/upstream.py) converted with llama.cpp-omni's own
converters (omni_ros.backends.llamacpp_omni.convert). Two parts cannot be made at tiny size and are left out,
so every test runs with ``use_tts`` false: the TTS (this revision converts and loads only the real 768-wide
one) and the Token2wav vocoder (no converter, no weights); see the converted folder's omni_ros_gguf.json.

``llama_server`` starts servers as subprocesses on a free port (``--port 0``; the port is read from the
server's log), each in its own process group, and kills every one of them when the test ends, passed or not.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from doubles.minicpmo.upstream import tiny_checkpoint  # noqa: F401  (fixture used by tiny_gguf)

REPO = Path(__file__).resolve().parents[3]
BUILD_SCRIPT = REPO / 'tools' / 'build_llama_server.sh'
LISTENING = re.compile(r'server is listening on http://127\.0\.0\.1:(\d+)')
LISTEN_TOKEN = 151705  # <|listen|> in MiniCPM-o 4.5's vocabulary (added_tokens.json)
SEED = 7  # the server's sampling seed: a fresh server with the same arguments says the same things


@dataclass
class RealServer:
    url: str
    model_dir: Path
    log_path: Path
    popen: subprocess.Popen

    def log(self) -> str:
        return self.log_path.read_text(encoding='utf-8', errors='replace')

    def running(self) -> bool:
        return self.popen.poll() is None

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + '/health', timeout=5) as r:
                return r.status == 200 and json.loads(r.read()).get('status') == 'ok'
        except OSError:
            return False

    def evaluated_system_prompts(self) -> list[str]:
        """The text before the reference voice of every system prompt the server set up (its own log)."""
        return re.findall(r'voice_clone_prompt = <\|im_start\|>system\n(.*?)\n<\|audio_start\|>', self.log(), re.S)

    def encoded_images(self) -> list[str]:
        """Every unit image the server encoded, in order (stream_prefill's log line)."""
        return re.findall(r'stream_prefill: img_fname:(\S+)', self.log())

    def units_prefilled(self) -> int:
        """Units the LLM thread fed to the model (one log line per unit with an image, omni mode)."""
        return len(re.findall(r'Omni模式: \d+ vision chunks', self.log()))

    def stop(self) -> int:
        for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
            if self.popen.poll() is not None:
                break
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.popen.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
        return self.popen.wait(timeout=5)


@pytest.fixture(scope='session')
def llama_server_bin() -> Path:
    """tools/build_llama_server.sh's binary (a cache hit after bootstrap; builds otherwise)."""
    t0 = time.monotonic()
    done = subprocess.run(['bash', str(BUILD_SCRIPT)], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode == 2:
        pytest.skip(f'no llama.cpp-omni sources: {done.stderr.strip()}')
    assert done.returncode == 0, f'llama-server did not build:\n{done.stderr}'
    print(f'llama-server ready in {time.monotonic() - t0:.1f} s: {done.stderr.strip()}')
    return Path(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope='session')
def tiny_gguf(tiny_checkpoint: Path) -> Any:  # noqa: F811  (a convert.GgufSet)
    """The tiny checkpoint converted with upstream's converters (once per checkpoint and converter revision)."""
    pytest.importorskip('mistral_common', reason='needs requirements/test-llamacpp.txt')
    from omni_ros.backends.llamacpp_omni import convert

    t0 = time.monotonic()
    try:
        gguf = convert.cached_gguf(tiny_checkpoint)
    except convert.GgufError as exc:
        if not convert.default_llamacpp_dir().is_dir():
            pytest.skip(str(exc))
        raise
    print(f'tiny GGUF ready in {time.monotonic() - t0:.1f} s: {gguf.folder}')
    return gguf


@pytest.fixture
def llama_server(llama_server_bin: Path, tiny_gguf: Any, tmp_path: Path) -> Iterator[Callable[..., RealServer]]:
    """``start(*extra_args)`` -> a running RealServer on the tiny GGUF; all are stopped at teardown."""
    started: list[RealServer] = []

    def start(*extra: str) -> RealServer:
        n = len(started)
        cwd = tmp_path / f'llama_server_{n}'
        cwd.mkdir()
        log_path = cwd / 'server.log'
        cmd = [str(llama_server_bin), '--model', str(tiny_gguf.llm), '--host', '127.0.0.1', '--port', '0',
               '--ctx-size', '4096', '--threads', '2', '--no-webui', '--seed', str(SEED), *extra]
        with log_path.open('w') as log:
            popen = subprocess.Popen(cmd, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        server = RealServer('', tiny_gguf.folder, log_path, popen)
        started.append(server)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            m = LISTENING.search(server.log())
            if m:
                server.url = f'http://127.0.0.1:{m.group(1)}'
                break
            assert server.running(), f'llama-server exited ({popen.returncode}):\n{server.log()[-3000:]}'
            time.sleep(0.1)
        assert server.url and server.healthy(), f'llama-server did not come up:\n{server.log()[-3000:]}'
        return server

    yield start
    for server in started:
        server.stop()
