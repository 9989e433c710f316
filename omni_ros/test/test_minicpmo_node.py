"""omni_node with the ``minicpmo`` backend on the MiniCPM-o double, through the replayed crossing scenario.

The node loads the double with the real transformers path (AutoModel.from_pretrained on a local
folder, trust_remote_code) in its own process. The double is scripted through its folder's config.json
and appends every call to a JSONL trace that this process reads (doubles/minicpmo/traced_dir.py).
The story and its checks are in doubles/watch_flow.py, shared with test_llamacpp_node.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

pytest.importorskip('torch', reason='needs requirements/test-minicpmo.txt')
pytest.importorskip('transformers', reason='needs requirements/test-minicpmo.txt')

from doubles import watch_flow  # noqa: E402
from doubles.minicpmo.traced_dir import build_traced_model_dir, read_trace  # noqa: E402
from omni_ros import scenario  # noqa: E402
from omni_ros.tools import processes  # noqa: E402

pytestmark = pytest.mark.dds


class TraceView:
    """watch_flow.ModelView over the double's trace file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def records(self, kind: str, name: str = '') -> list[dict]:
        return [r for r in read_trace(self.path) if r['kind'] == kind and (not name or r.get('name') == name)]

    def prompts(self) -> list[str]:
        return [r['prompt'] for r in self.records('call', 'prepare')]

    def said(self) -> list[str]:
        return [r['text'] for r in self.records('call', 'streaming_generate') if r['text']]

    def violations(self) -> list[str]:
        return [r['message'] for r in self.records('violation')]


@pytest.fixture
def model(tmp_path: Path) -> TraceView:
    trace = tmp_path / 'double_trace.jsonl'
    build_traced_model_dir(tmp_path / 'MiniCPM-o-4_5', trace, script=watch_flow.SCRIPT)
    return TraceView(trace)


@pytest.fixture
def node(crossing_bag: Path, model: TraceView, crossing: scenario.Scenario, tmp_path: Path,
         log_dir: Path) -> Iterator[processes.RosProcess]:
    # Offline, and the double's code imported from a private module cache (not ~/.cache/huggingface).
    env = watch_flow.node_env({'HF_HUB_OFFLINE': '1', 'HF_MODULES_CACHE': str(tmp_path / 'hf_modules')})
    proc = watch_flow.start_node(env, log_dir, 'minicpmo', {
        'model_path': str(tmp_path / 'MiniCPM-o-4_5'), 'device': 'cpu', 'allow_cpu': True,
        'dtype': 'bfloat16', 'attn_implementation': 'sdpa'}, crossing)
    yield proc
    code = proc.stop()
    assert code == 0, f'omni_node did not shut down cleanly ({code}):\n{proc.output()}'


def test_watch_prompt_tagged_alert_and_cancel_reprepare(ros_client, crossing_bag, node, model, crossing,
                                                        log_dir) -> None:
    watch_flow.run(ros_client, node, model, log_dir, crossing, crossing_bag)

    # The real loading path ran in the node: the double's checks on from_pretrained, init_tts, as_duplex.
    loaded, = model.records('loaded')
    assert loaded['init_vision'] and loaded['init_audio'] and loaded['init_tts']
    state, = model.records('model_state')
    assert [state[k] for k in ('dtype', 'attn', 'training', 'tts_ready')] == ['torch.bfloat16', 'sdpa', False, True]
    settings = model.records('as_duplex')[0]['settings']
    assert (settings['sample_rate'], settings['chunk_ms'], settings['first_chunk_ms']) == (16000, 1000, 1035)
    # One prefill per generate, in order; every unit's audio is one unit long (first after prepare longer).
    # The node is still running: its last unit may be between prefill and generate.
    calls = [r for r in read_trace(model.path) if r['kind'] == 'call']
    names = [c['name'] for c in calls]
    assert names[0] == 'prepare' and names.count('streaming_generate') >= 10
    assert 0 <= names.count('streaming_prefill') - names.count('streaming_generate') <= 1
    for i, c in enumerate(calls):
        if c['name'] == 'streaming_prefill':
            assert i + 1 == len(calls) or calls[i + 1]['name'] == 'streaming_generate'  # last: still running
            assert c['samples'] == (16560 if calls[i - 1]['name'] == 'prepare' else 16000)
            assert c['frames'] == 1
    assert model.violations() == []
