"""The ``llamacpp_omni`` backend and omni_node against the real llama-server (tier ``upstream``).

The server is llama.cpp-omni's own ``llama-server``, built from ../shared/upstream (CPU, Release) and serving
the tiny random MiniCPM-o 4.5 converted with upstream's converters (doubles/llamacpp_upstream.py). Its model
says random words: the tests check the protocol and what the server did (its answers, its decode stream,
its own log), not what the model meant. Not covered at tiny size, so ``use_tts`` is false throughout: the
TTS (this revision converts and loads only the real 768-wide TTS: convert_hf_to_gguf.py:316-358, omni.cpp
load_tts_weights_from_gguf) and the Token2wav vocoder (no converter in this revision, no weights in a
random checkpoint), hence no speech from the server.

Each test named after a point of issue 11's "Why" fails on the client before that issue (commit 2ad5dea):
its docstring says how.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest

from support import wait_for
from doubles.llamacpp_upstream import LISTEN_TOKEN, llama_server, llama_server_bin, tiny_gguf  # noqa: F401
from doubles.minicpmo.stream import GREEN_WATCH, chunk
from doubles.minicpmo.upstream import tiny_checkpoint  # noqa: F401
from omni_ros.backends.llamacpp_omni import LlamaCppOmniBackend
from omni_ros.backends.llamacpp_omni.client import OmniHttpClient
from omni_ros.backends.llamacpp_omni.options import LlamaCppOmniConfig
from omni_ros.backends.minicpmo.prompting import strip_tags
from omni_ros.errors import BackendSetupError, WatchRejectedError
from omni_ros.data import InterruptMode, Question, Watch

pytestmark = pytest.mark.upstream

BUILTIN = 'Streaming Duplex Conversation! You are a helpful assistant.'  # omni.cpp O:3521


def noisy(i: int) -> np.ndarray:
    return (0.05 * np.random.default_rng(i).standard_normal(16000)).astype(np.float32)


class Wire:
    """Every request the backend's HTTP client sent and, for decodes, the events the server streamed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, Any, Any]] = []  # (path, body, answer or list of events)
        post, post_sse = OmniHttpClient.post, OmniHttpClient.post_sse

        def spy_post(client: OmniHttpClient, path: str, body: Any, timeout_s: float | None = None) -> Any:
            answer = post(client, path, body, timeout_s)
            self.calls.append((path, body, answer))
            return answer

        def spy_sse(client: OmniHttpClient, path: str, body: Any) -> Iterator[dict]:
            events: list[dict] = []
            self.calls.append((path, body, events))
            for event in post_sse(client, path, body):
                events.append(event)
                yield event

        monkeypatch.setattr(OmniHttpClient, 'post', spy_post)
        monkeypatch.setattr(OmniHttpClient, 'post_sse', spy_sse)

    def paths(self) -> list[str]:
        return [p.rsplit('/', 1)[1] for p, _, _ in self.calls]

    def decodes(self) -> list[tuple[str, bool]]:
        """(text, went back to listening) per decode, from the server's own stream."""
        return [(''.join(str(e.get('content', '')) for e in events), any(e.get('is_listen') for e in events))
                for p, _, events in self.calls if p.endswith('/decode')]

    def body(self, endpoint: str) -> dict:
        """The last request to ``endpoint``."""
        return [b for p, b, _ in self.calls if p.endswith(endpoint)][-1]


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> Wire:
    return Wire(monkeypatch)


@pytest.fixture
def made() -> Iterator[list[LlamaCppOmniBackend]]:
    backends: list[LlamaCppOmniBackend] = []
    yield backends
    for b in backends:
        b.shutdown()


def backend(made: list, server: Any, tmp_path: Path, **opts: Any) -> LlamaCppOmniBackend:
    options = {'server_url': server.url, 'model_dir': str(server.model_dir), 'use_tts': False, 'warmup': False,
               'request_timeout_s': 60.0, 'work_dir': str(tmp_path / f'units_{len(made)}'), **opts}
    b = LlamaCppOmniBackend(LlamaCppOmniConfig(**options))
    made.append(b)
    return b


def test_converted_files_are_what_the_server_loads(tiny_gguf) -> None:  # noqa: F811
    """convert.py writes the names omni_init builds (S:5784-5787) and records what it could not make."""
    assert tiny_gguf.components == {'llm': 'MiniCPM-o-4_5-F16.gguf',
                                    'vision': 'vision/MiniCPM-o-4_5-vision-F16.gguf',
                                    'audio': 'audio/MiniCPM-o-4_5-audio-F16.gguf'}
    assert all((tiny_gguf.folder / f).is_file() for f in tiny_gguf.components.values())
    assert set(tiny_gguf.left_out) == {'tts', 'token2wav'}
    assert '768' in tiny_gguf.left_out['tts'] and 'converter' in tiny_gguf.left_out['token2wav']
    from omni_ros.backends.llamacpp_omni import convert
    sys.path.insert(0, str(convert.default_llamacpp_dir() / 'gguf-py'))
    from gguf import GGUFReader

    def field(path: str, key: str) -> Any:
        f = GGUFReader(tiny_gguf.folder / path).fields[key]
        return f.contents() if hasattr(f, 'contents') else f.parts[f.data[0]].tolist()

    assert field(tiny_gguf.components['llm'], 'tokenizer.ggml.pre') == 'qwen2'
    # The vision tower as the checkpoint holds it: one layer of two, drop_vision_last_layer.
    assert field(tiny_gguf.components['vision'], 'clip.vision.block_count') in (1, [1])


def test_this_revision_keeps_its_builtin_prompt_so_watches_are_refused(llama_server, made, wire, tmp_path) -> None:  # noqa: F811
    """Why 1: the system prompt never reaches the model (S:5992-6166, O:3521).

    The server's own log shows the prompt it evaluated: the built-in one, whatever the client sends. So with
    server_reads_prompt false (the default) a watch and a question are refused and a persona fails setup,
    naming the revision. Before issue 11 the client accepted the watch (and sent a system_prompt field the
    server ignores): check_instruction did not raise.
    """
    server = llama_server()
    b = backend(made, server, tmp_path)
    b.setup()
    with pytest.raises(WatchRejectedError, match=r'0788f99.*server_reads_prompt') as err:
        b.check_instruction(GREEN_WATCH)
    assert server.url in str(err.value) and 'voice_clone_prompt' in str(err.value)
    with pytest.raises(WatchRejectedError):
        b.ask(Question('q', 'What colour is the light?'))
    with pytest.raises(BackendSetupError, match='persona'):
        backend(made, server, tmp_path, persona='You are a lighthouse keeper.').setup()
    # What refusing protects against: told the server reads the fields, the client sends the persona and
    # the watch as OpenBMB's client does; this revision evaluates its built-in prompt regardless.
    told = backend(made, server, tmp_path, server_reads_prompt=True, persona='You are a lighthouse keeper.')
    told.setup()
    told.set_watches([Watch('w-green', GREEN_WATCH)])
    told.feed(chunk(0))
    sent = wire.body('update_session_config')
    assert 'lighthouse keeper' in sent['voice_clone_prompt'] and GREEN_WATCH in sent['assistant_prompt']
    assert server.evaluated_system_prompts() and set(server.evaluated_system_prompts()) == {BUILTIN}
    assert 'lighthouse' not in server.log()


def test_every_unit_reaches_the_model_with_its_image(llama_server, made, wire, tmp_path) -> None:  # noqa: F811
    """Why 2: a first unit sent with cnt 0 became the voice reference and lost its image (O:8724-8800).

    The system prompt is set up first (here with the server's default voice), units count from 1, and the
    server's log shows every unit's image encoded and every unit fed to the model. Before issue 11 the first
    unit went with cnt 0: the log showed two images and two units for three chunks.
    """
    server = llama_server()
    b = backend(made, server, tmp_path)
    b.setup()
    for i in range(3):
        b.feed(chunk(i, audio=noisy(i)))
    prefills = [body for p, body, _ in wire.calls if p.endswith('/prefill')]
    assert [(p['cnt'], bool(p['img_path_prefix'])) for p in prefills] == [(0, False), (1, True), (2, True), (3, True)]
    assert [Path(p).name for p in server.encoded_images()] == ['unit_1.jpg', 'unit_2.jpg', 'unit_3.jpg']
    assert server.units_prefilled() == 3
    assert len(server.evaluated_system_prompts()) == 1  # set up once, before the first unit


def test_turns_end_where_the_model_listens(llama_server, made, wire, tmp_path) -> None:  # noqa: F811
    """Why 3: every speaking unit closed the turn (``__END_OF_TURN__`` after each decode not ending in listen, O:9473).

    The server biases ``<|listen|>`` (its own --logit-bias) so the random model both speaks and listens. From
    the decode streams as the server sent them, a turn is the units from the first that speaks to the first
    whose stream has ``is_listen``; the backend's final transcripts must be exactly those turns. Before
    issue 11 the client closed a turn after every speaking unit: more finals than turns, each one unit long.
    """
    server = llama_server('--logit-bias', f'{LISTEN_TOKEN}+1')
    b = backend(made, server, tmp_path)
    b.setup()
    outs = [b.feed(chunk(i, audio=noisy(i))) for i in range(16)]
    decodes = wire.decodes()
    expected, lengths, turn, units = [], [], '', 0
    for text, listened in decodes:
        if text:
            turn, units = (turn if units else '') + text, units + 1
        if units and listened:
            expected.append(strip_tags(turn))
            lengths.append(units)
            units = 0
    pattern = ' '.join(('S' if t else '-') + ('L' if listened else '') for t, listened in decodes)
    assert any(n > 1 for n in lengths), f'no turn over several units to check: {pattern}'
    finals = [t.text for o in outs for t in o.transcripts if t.final and not t.interrupted]
    assert finals == expected, pattern
    assert all(not t.final for o in outs for t in o.transcripts if t.interrupted)


def test_a_barge_in_is_a_break_and_no_unit_goes_undecoded(llama_server, made, wire, tmp_path) -> None:  # noqa: F811
    """Why 5: the client's force listen (prefill without decode) does not exist upstream (O:9338).

    The server closes a unit with ``</unit>`` only at the end of a decode; prefilled but undecoded units pile
    up and reach the model as one batch. A barge-in is now /v1/stream/break, honoured at once, and every unit
    is decoded: the server's log shows one unit per LLM batch. Before issue 11 FORCE_LISTEN skipped decodes:
    the log showed batches of several units and the client sent prefills back to back.
    """
    server = llama_server()
    b = backend(made, server, tmp_path, barge_in_listen_units=2)
    b.setup()
    for i in range(2):
        b.feed(chunk(i, audio=noisy(i)))
    assert wire.decodes()[-1][0]  # the random model speaks every unit: there is something to interrupt
    b.interrupt(InterruptMode.FORCE_LISTEN)
    after = [b.feed(chunk(i, audio=noisy(i))) for i in range(2, 5)]
    assert 'break requested' in server.log()
    assert [t.interrupted for t in after[0].transcripts if t.final] == [True]
    units = [(p, body) for p, body, _ in wire.calls if p.endswith(('/prefill', '/decode'))]
    sequence = ['P' if p.endswith('/prefill') and body['cnt'] > 0 else 'D' if p.endswith('/decode') else ''
                for p, body in units]
    assert ''.join(sequence) == 'PD' * 5, sequence
    assert set(re.findall(r'Batch processing (\d+) llm prefill', server.log())) == {'1'}
    assert server.units_prefilled() == 5


def test_server_settings_are_options_with_the_servers_defaults(llama_server, made, wire, tmp_path) -> None:  # noqa: F811
    """Why 4: token2wav_device (S:5768), tts_bin_dir, voice_audio, high-image and sliding-window settings.

    The option defaults are the real server's (its answer to an update_session_config that sets nothing),
    and set options come back in the server's answer. Before issue 11 these options did not exist: building the
    config raised ConfigError for them.
    """
    server = llama_server()
    raw = OmniHttpClient(server.url)
    raw.post('/v1/stream/omni_init', {'media_type': 2, 'use_tts': False, 'duplex_mode': True,
                                      'model_dir': str(server.model_dir), 'output_dir': str(tmp_path)})
    defaults = raw.post('/v1/stream/update_session_config', {})
    o = LlamaCppOmniConfig()
    assert defaults['sliding_window'] == {'mode': o.sliding_window_mode,
                                          'high_water_tokens': o.sliding_window_high_water,
                                          'low_water_tokens': o.sliding_window_low_water}
    assert defaults['highImage'] is (o.max_slice_nums > 1)
    voice = Path(tmp_path / 'v.wav')
    from omni_ros.backends.minicpmo.wavio import write_wav
    write_wav(voice, noisy(9), 16000)
    b = backend(made, server, tmp_path, sliding_window_mode='basic', sliding_window_high_water=2000,
                sliding_window_low_water=1500, max_slice_nums=2, token2wav_device='cpu', voice_audio=str(voice))
    b.setup()
    b.feed(chunk(0, audio=noisy(0)))
    assert b.engine.session_config['sliding_window'] == {'mode': 'basic', 'high_water_tokens': 2000,
                                                         'low_water_tokens': 1500}
    assert b.engine.session_config['highImage'] is True
    init = wire.body('omni_init')
    assert (init['token2wav_device'], init['tts_bin_dir']) == ('cpu', f'{server.model_dir}/tts')
    assert f'prefilling voice_audio: {voice}' in server.log()
    assert [body['cnt'] for p, body, _ in wire.calls if p.endswith('/prefill')] == [1]  # no cnt 0: voice given


def test_a_session_with_watches_barge_in_break_reset_and_shutdown(llama_server, made, wire, tmp_path) -> None:  # noqa: F811
    """The whole life of a session against the real server, with zero errors on either side."""
    server = llama_server('--logit-bias', f'{LISTEN_TOKEN}+1')
    b = backend(made, server, tmp_path, warmup=True)
    b.setup()
    with pytest.raises(WatchRejectedError):
        b.set_watches([Watch('w-green', GREEN_WATCH)])
    b.set_watches([])
    b.start_session()
    outs = [b.feed(chunk(i, 'red' if i < 4 else 'green', audio=noisy(i))) for i in range(8)]
    b.interrupt(InterruptMode.BREAK)
    outs += [b.feed(chunk(i, audio=noisy(i))) for i in range(8, 10)]
    b.stop_session()  # reset
    b.start_session()
    outs += [b.feed(chunk(i, audio=noisy(i), new_stream=i == 10)) for i in range(10, 13)]
    b.shutdown()
    made.remove(b)
    assert b.stats.units_run == 13 and b.stats.units_skipped == 0
    assert any(t.final for o in outs for t in o.transcripts)
    assert wire.paths().count('reset') == 3 and wire.paths()[-1] == 'reset'  # stop_session, shutdown's end and close
    assert wire.paths().count('break') >= 2
    assert not re.search(r'stream_prefill failed|stream_decode failed|omni_init failed|error:', server.log(), re.I)
    assert server.running() and server.healthy()


def test_omni_node_against_the_real_server(llama_server, tiny_gguf, ros_client, crossing, crossing_bag,  # noqa: F811
                                           log_dir, tmp_path) -> None:
    """omni_node in another process, backend llamacpp_omni, on the real server: it configures, refuses a watch
    goal naming the revision (Why 1 end to end: before issue 11 the goal was accepted), streams the replayed
    scenario through the model onto `transcript`, and shuts down cleanly, resetting the server's session."""
    from omni_ros_interfaces.action import SetWatch
    from omni_ros_interfaces.msg import Transcript as TranscriptMsg
    from rclpy.action import ActionClient

    from doubles import watch_flow
    from omni_ros.tools import processes

    server = llama_server('--logit-bias', f'{LISTEN_TOKEN}+1')
    transcripts: list = []
    ros_client.create_subscription(TranscriptMsg, 'transcript', transcripts.append, 50)
    node = watch_flow.start_node(watch_flow.node_env(), log_dir, 'llamacpp_omni', {
        'server_url': server.url, 'model_dir': str(tiny_gguf.folder), 'use_tts': False,
        'work_dir': str(tmp_path / 'units'), 'request_timeout_s': 60.0}, crossing)
    try:
        client = ActionClient(ros_client, SetWatch, 'set_watch')
        assert client.wait_for_server(timeout_sec=30), f'no set_watch action server:\n{node.output()}'

        def answer() -> Any:
            future = client.send_goal_async(SetWatch.Goal(instruction=GREEN_WATCH, continuous=True))
            wait_for(future.done, 10, 'the goal response')
            return future.result()

        # Rejected while configuring/inactive too; wait until the rejection is the backend's.
        wait_for(lambda: not answer().accepted and 'server_reads_prompt' in node.output(), 45,
                 f'the watch goal refused by the backend:\n{node.output()}')
        # 1280x720 frames take the tiny vision tower about 2 s a unit on two cores (two slices): the node
        # skips units to keep up, and a few units decoded are what is checked here.
        player = processes.start_replay(watch_flow.node_env(), log_dir, crossing_bag, rate=1.0,
                                        extra=['--wait-for-subscribers', '20'])
        try:
            wait_for(lambda: any(m.speaker == TranscriptMsg.SPEAKER_ASSISTANT and m.text for m in transcripts),
                     60, f'the model\'s words on transcript:\n{node.output()}')
            wait_for(lambda: server.units_prefilled() >= 3, 30, 'three units through the model')
        finally:
            player.stop(timeout=5.0)
        assert '0788f99' in node.output()
        assert 'failed on a unit' not in node.output(), node.output()
    finally:
        code = node.stop()
    assert code == 0, f'omni_node did not shut down cleanly ({code}):\n{node.output()}'
    assert 'reset requested' in server.log() and server.healthy()
    assert not re.search(r'stream_prefill failed|stream_decode failed|omni_init failed', server.log())
