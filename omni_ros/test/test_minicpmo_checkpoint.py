"""The random-weight MiniCPM-o 4.5 checkpoint builder against OpenBMB's code (tier ``upstream``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from omni_ros.backends.minicpmo import checkpoint

pytestmark = pytest.mark.upstream


def test_tiny_checkpoint_is_a_complete_hf_folder(tiny_checkpoint: Path) -> None:
    names = {p.name for p in tiny_checkpoint.iterdir()}
    assert {'config.json', 'model.safetensors', 'modeling_minicpmo.py', 'modeling_minicpmo_unified.py',
            'configuration_minicpmo.py', 'processing_minicpmo.py', 'tokenization_minicpmo_fast.py',
            'vocab.json', 'merges.txt', 'tokenizer.json', 'tokenizer_config.json',
            'preprocessor_config.json', 'assets'} <= names
    config = json.loads((tiny_checkpoint / 'config.json').read_text())
    assert config['model_type'] == 'minicpmo' and config['architectures'] == ['MiniCPMO']
    assert config['auto_map']['AutoModel'] == 'modeling_minicpmo.MiniCPMO'
    assert config['vocab_size'] == checkpoint.VOCAB_SIZE and config['hidden_size'] % 128 == 0
    assert config['tts_config']['llm_dim'] == config['hidden_size']
    assert 20e6 < config['omni_ros_random_checkpoint']['parameters'] < 60e6
    assert sorted((tiny_checkpoint / 'assets' / 'ref_audio').glob('*.wav'))
    # The code files are the upstream files, byte for byte (copied at build time into the cache only).
    up = checkpoint.default_upstream_dir()
    for name in ('modeling_minicpmo.py', 'modeling_minicpmo_unified.py', 'utils.py', 'vocab.json'):
        assert (tiny_checkpoint / name).read_bytes() == (up / name).read_bytes()


def test_weights_load_into_the_upstream_class_without_missing_keys(tiny_checkpoint: Path) -> None:
    import torch
    from safetensors import safe_open

    from omni_ros.backends.minicpmo.upstream_code import import_model_module

    modeling = import_model_module(tiny_checkpoint, 'modeling_minicpmo')
    model, info = modeling.MiniCPMO.from_pretrained(str(tiny_checkpoint), attn_implementation='sdpa',
                                                    torch_dtype=torch.bfloat16, output_loading_info=True)
    assert info['missing_keys'] == [] and info['unexpected_keys'] == []
    with safe_open(str(tiny_checkpoint / 'model.safetensors'), 'pt') as f:
        keys = set(f.keys())
        assert f.get_tensor('llm.lm_head.weight').dtype == torch.bfloat16
    # The real checkpoint's parameter names (llama.cpp-omni's converters read these).
    for key in ('llm.model.embed_tokens.weight', 'llm.lm_head.weight', 'vpm.embeddings.patch_embedding.weight',
                'resampler.kv_proj.weight', 'apm.conv1.weight', 'audio_projection_layer.linear1.weight',
                'tts.emb_text.weight', 'tts.head_code.0.parametrizations.weight.original1',
                'tts.projector_semantic.linear1.weight'):
        assert key in keys, key
    assert model.llm.config.num_hidden_layers == 2 and len(model.vpm.encoder.layers) == 1  # last layer dropped


def test_cache_is_keyed_by_the_upstream_sources(tiny_checkpoint: Path, tmp_path: Path) -> None:
    up = checkpoint.default_upstream_dir()
    assert tiny_checkpoint.name.endswith(checkpoint.source_hash(up, 'tiny', 0))
    assert checkpoint.cached_checkpoint('tiny') == tiny_checkpoint  # second call: no rebuild
    changed = tmp_path / 'code'
    changed.mkdir()
    for p in up.iterdir():
        if p.is_file():
            (changed / p.name).write_bytes(p.read_bytes())
    (changed / 'utils.py').write_text((up / 'utils.py').read_text() + '\n# another revision\n')
    assert checkpoint.source_hash(changed, 'tiny', 0) != checkpoint.source_hash(up, 'tiny', 0)
    assert checkpoint.model_config('full')['num_hidden_layers'] == 36


def test_missing_upstream_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(checkpoint.CheckpointError, match='OMNI_MINICPMO_UPSTREAM'):
        checkpoint.cached_checkpoint('tiny', upstream_dir=tmp_path)
    assert checkpoint.main(['--upstream', str(tmp_path), '--out', str(tmp_path / 'x')]) == 2
