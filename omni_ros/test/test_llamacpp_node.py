"""omni_node with the ``llamacpp_omni`` backend against the loopback llama.cpp-omni server.

The server runs in this process on 127.0.0.1 with an ephemeral port, validates every request strictly
and records what it received (system prompts, what its scripted "model" said); omni_node runs in its
own process and talks to it over HTTP. The story and its checks are in doubles/watch_flow.py, shared
with test_minicpmo_node.py. The loopback server plays a llama.cpp-omni revision that reads the system
prompt fields (the checked revision does not, and its tiny model cannot follow a script: the same node
against the real server is test_llamacpp_upstream.py::test_omni_node_against_the_real_server).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from doubles import watch_flow
from doubles.llamacpp_server import LoopbackOmniServer
from omni_ros import scenario
from omni_ros.tools import processes

pytestmark = pytest.mark.dds


class RecordingServer(LoopbackOmniServer):
    """The loopback server that also keeps what its scripted model said in each decode, in order."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.spoken: list[str] = []

    def handle(self, path: str, body: Any) -> tuple[dict, list[dict] | None]:
        answer, events = super().handle(path, body)  # called under self.lock
        if path == '/v1/stream/decode':
            self.spoken += [str(e['content']) for e in events or () if e.get('content')]
        return answer, events


class ServerView:
    """watch_flow.ModelView over the loopback server's records."""

    def __init__(self, server: RecordingServer) -> None:
        self.server = server

    def requests(self, endpoint: str) -> list[dict]:
        with self.server.lock:
            return [body for path, body in self.server.requests if path == f'/v1/stream/{endpoint}']

    def prompts(self) -> list[str]:
        with self.server.lock:
            return list(self.server.prompts)

    def said(self) -> list[str]:
        with self.server.lock:
            return list(self.server.spoken)

    def violations(self) -> list[str]:
        with self.server.lock:
            return list(self.server.violations)


@pytest.fixture
def gguf(tmp_path: Path) -> Path:
    path = tmp_path / 'MiniCPM-o-4_5-gguf'
    path.mkdir()
    return path


@pytest.fixture
def server(gguf: Path) -> Iterator[ServerView]:
    with RecordingServer(watch_flow.SCRIPT, model_dir=str(gguf)) as s:
        yield ServerView(s)


@pytest.fixture
def node(crossing_bag: Path, server: ServerView, gguf: Path, crossing: scenario.Scenario, tmp_path: Path,
         log_dir: Path) -> Iterator[processes.RosProcess]:
    proc = watch_flow.start_node(watch_flow.node_env(), log_dir, 'llamacpp_omni', {
        'server_url': server.server.url, 'model_dir': str(gguf), 'output_dir': str(tmp_path / 'speech'),
        'work_dir': str(tmp_path / 'units'), 'request_timeout_s': 10.0, 'server_reads_prompt': True}, crossing)
    yield proc
    code = proc.stop()
    assert code == 0, f'omni_node did not shut down cleanly ({code}):\n{proc.output()}'


def test_watch_prompt_tagged_alert_and_cancel_reprepare(ros_client, crossing_bag, node, server, crossing, log_dir,
                                                        tmp_path) -> None:
    watch_flow.run(ros_client, node, server, log_dir, crossing, crossing_bag)

    init, = server.requests('omni_init')
    assert init['model_dir'] == str(tmp_path / 'MiniCPM-o-4_5-gguf') and init['media_type'] == 2
    # The server checked each prefill (a 16 kHz WAV of one unit, a JPEG, the system prompt set up before
    # it, a decode after it); here: every unit came with its camera frame and was decoded (the last one
    # may still be on its way: the node is running).
    units = [p for p in server.requests('prefill') if p['cnt'] > 0]
    assert len(units) >= 10 and 0 <= len(units) - len(server.requests('decode')) <= 1
    assert all(p['audio_path_prefix'].endswith('.wav') and p['img_path_prefix'].endswith('.jpg') for p in units)
    # The alerts' speech was written by the server and read back by the client (then published).
    assert len(list((tmp_path / 'speech').rglob('*.wav'))) == 3  # two units of green alert, one of ding
    assert server.violations() == []
