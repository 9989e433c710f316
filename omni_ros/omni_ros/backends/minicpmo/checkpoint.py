"""A MiniCPM-o 4.5 checkpoint with random weights, built from OpenBMB's own model code (no download).

``build_random_checkpoint(upstream_dir, out_dir, size)`` instantiates the upstream ``MiniCPMO`` class from
``<upstream_dir>/configuration_minicpmo.py`` / ``modeling_minicpmo.py`` with a config of the chosen size and
writes a normal Hugging Face checkpoint folder:

* ``config.json`` (``model_type: minicpmo``, ``architectures: [MiniCPMO]``, ``auto_map`` to the code files),
  ``model.safetensors`` (sharded for ``full``) with the upstream parameter names, bf16;
* the upstream code, tokenizer and processor files, copied from ``upstream_dir`` into the output folder at
  build time (they are the checkpoint's code, as on the hub), plus ``tokenizer.json`` converted once from
  ``vocab.json`` + ``merges.txt`` so that loading does not convert the 151k-token vocabulary every time;
* ``assets/ref_audio/*.wav``: OpenBMB's demo reference voice (``MiniCPM-o-Demo/assets/ref_audio``), where
  the backend looks for a default voice; ``assets/token2wav/`` holds only a note: the Token2wav vocoder's
  weights are not part of a random checkpoint.

Sizes: ``tiny`` (Qwen3 hidden 128, 2 layers; SigLIP 64-d; Whisper 64-d 1 layer; TTS 64-d 1 layer; about
52 M parameters, runs on a CPU at 1-7 s a unit) and ``full`` (the real 4.5 architecture: Qwen3-8B, SigLIP2
27 layers, Whisper-medium encoder, 20-layer TTS; about 9 B parameters, ~18 GB in bf16; build it on a GPU).
The vocabulary is the real one (151748 ids) in both, so the tokenizer, special tokens and GGUF converters
apply unchanged.

``cached_checkpoint(size)`` builds once into a cache folder named by a hash of the upstream sources, this
builder's source, the size and the seed, and reuses it afterwards. Upstream folder: ``$OMNI_MINICPMO_UPSTREAM``,
else ``../shared/upstream/MiniCPM-o-Demo/MiniCPMO45`` from the repository root. Cache: ``$OMNI_MINICPMO_CACHE``,
else ``$OMNI_ROS_CACHE/minicpmo``, else ``~/.cache/omni_ros/minicpmo``.

CLI: ``python -m omni_ros.backends.minicpmo.checkpoint [--size tiny|full] [--out DIR] [--seed N]
[--device cpu|cuda]`` prints the folder.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

log = logging.getLogger('omni_ros.minicpmo')

UPSTREAM_ENV = 'OMNI_MINICPMO_UPSTREAM'
CACHE_ENV = 'OMNI_MINICPMO_CACHE'
REPO_ROOT = Path(__file__).resolve().parents[4]
UPSTREAM_SUBDIR = Path('upstream') / 'MiniCPM-o-Demo' / 'MiniCPMO45'
DEFAULT_UPSTREAM = REPO_ROOT.parent / 'shared' / UPSTREAM_SUBDIR
VOCAB_SIZE = 151748  # largest added token id is 151747 (added_tokens.json)
TOKEN2WAV_NOTE = ('This checkpoint was built with random weights by omni_ros '
                  '(omni_ros.backends.minicpmo.checkpoint). The Token2wav vocoder needs its own seven weight '
                  'files here (speech_tokenizer_v2_25hz.onnx, campplus.onnx, flow.yaml, flow.pt, config.yaml, '
                  'hift.pt, hift_original.pt) and a CUDA GPU; they are not part of a random checkpoint.\n')

# Architecture of each size. The full one is the published MiniCPM-o 4.5 layout (the module dump in
# llama.cpp-omni tools/omni/convert/model.txt); tiny keeps every part with the same wiring, made small.
# hidden_size stays a multiple of 128: the resampler uses embed_dim // 128 attention heads.
SIZES: dict[str, dict[str, Any]] = {
    'tiny': {
        'llm': dict(hidden_size=128, intermediate_size=256, num_hidden_layers=2, num_attention_heads=2,
                    num_key_value_heads=1, head_dim=64, max_position_embeddings=8192),
        'vision_config': dict(hidden_size=64, intermediate_size=128, num_attention_heads=2, num_hidden_layers=2,
                              patch_size=14, image_size=980, model_type='siglip'),
        'audio_config': dict(d_model=64, encoder_layers=1, encoder_attention_heads=2, encoder_ffn_dim=256,
                             decoder_layers=1, decoder_attention_heads=2, decoder_ffn_dim=256, num_mel_bins=80,
                             max_source_positions=1500),
        'tts_config': dict(llm_dim=128, hidden_size=64, intermediate_size=128, num_attention_heads=2,
                           num_key_value_heads=2, num_hidden_layers=1),
    },
    'full': {
        'llm': dict(hidden_size=4096, intermediate_size=12288, num_hidden_layers=36, num_attention_heads=32,
                    num_key_value_heads=8, head_dim=128, max_position_embeddings=40960),
        'vision_config': dict(hidden_size=1152, intermediate_size=4304, num_attention_heads=16,
                              num_hidden_layers=27, patch_size=14, image_size=980, model_type='siglip'),
        'audio_config': dict(d_model=1024, encoder_layers=24, encoder_attention_heads=16, encoder_ffn_dim=4096,
                             decoder_layers=24, decoder_attention_heads=16, decoder_ffn_dim=4096,
                             num_mel_bins=80, max_source_positions=1500),
        'tts_config': dict(llm_dim=4096, hidden_size=768, intermediate_size=3072, num_attention_heads=12,
                           num_key_value_heads=12, num_hidden_layers=20),
    },
}
# The same in both sizes (the real checkpoint's values).
COMMON = dict(vocab_size=VOCAB_SIZE, rope_theta=1000000.0, rms_norm_eps=1e-6, tie_word_embeddings=False,
              query_num=64, image_size=448, drop_vision_last_layer=True, batch_vision_input=True,
              use_image_id=True, vision_batch_size=16, audio_pool_step=5, audio_chunk_length=1.0,
              slice_config=dict(patch_size=14, max_slice_nums=9, scale_resolution=448),
              init_vision=True, init_audio=True, init_tts=True, bos_token_id=151643, eos_token_id=151645,
              sliding_window=None, use_sliding_window=False)
TTS_COMMON = dict(num_audio_tokens=6562, num_text_tokens=152064, projector_type='mlp', num_vq=1,
                  audio_tokenizer_type='s3tokenizer_step_audio', max_position_embeddings=4096)


class CheckpointError(RuntimeError):
    """The upstream code is missing or the checkpoint could not be built; the message says what to fix."""


def default_upstream_dir() -> Path:
    """``$OMNI_MINICPMO_UPSTREAM``, else ``../shared/...`` beside the checkout (or ``shared/`` inside it)."""
    if os.environ.get(UPSTREAM_ENV):
        return Path(os.environ[UPSTREAM_ENV]).expanduser()
    inside = REPO_ROOT / 'shared' / UPSTREAM_SUBDIR
    return inside if not DEFAULT_UPSTREAM.is_dir() and inside.is_dir() else DEFAULT_UPSTREAM


def default_cache_root() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    if os.environ.get('OMNI_ROS_CACHE'):
        return Path(os.environ['OMNI_ROS_CACHE']).expanduser() / 'minicpmo'
    return Path.home() / '.cache' / 'omni_ros' / 'minicpmo'


def check_upstream_dir(upstream_dir: Path) -> Path:
    upstream_dir = Path(upstream_dir).expanduser()
    needed = ('configuration_minicpmo.py', 'modeling_minicpmo.py', 'processing_minicpmo.py', 'vocab.json',
              'merges.txt', 'tokenizer_config.json', 'preprocessor_config.json')
    missing = [n for n in needed if not (upstream_dir / n).is_file()]
    if missing:
        raise CheckpointError(f'{upstream_dir} is not MiniCPM-o 4.5 model code (missing {", ".join(missing)}); '
                              f'set {UPSTREAM_ENV} to the folder holding OpenBMB\'s modeling_minicpmo.py '
                              '(MiniCPM-o-Demo/MiniCPMO45 or a checkpoint folder)')
    return upstream_dir


def model_config(size: str) -> dict[str, Any]:
    """The config.json fields (before transformers adds its own) of a random checkpoint of ``size``."""
    if size not in SIZES:
        raise CheckpointError(f'size {size!r} is not one of {sorted(SIZES)}')
    spec = SIZES[size]
    return {**COMMON, **spec['llm'], 'vision_config': dict(spec['vision_config']),
            'audio_config': dict(spec['audio_config']), 'tts_config': {**TTS_COMMON, **spec['tts_config']}}


def _code_files(upstream_dir: Path) -> list[Path]:
    """What a checkpoint folder ships besides weights and config.json: code, tokenizer, processor files."""
    return sorted(p for p in upstream_dir.iterdir()
                  if p.is_file() and p.name != 'config.json' and not p.name.startswith('README')
                  and p.suffix in ('.py', '.json', '.txt', '.model', '.tiktoken'))


def _voice_files(upstream_dir: Path) -> list[Path]:
    voices = upstream_dir.parent / 'assets' / 'ref_audio'
    return sorted(voices.glob('*.wav')) if voices.is_dir() else []


def source_hash(upstream_dir: Path, size: str, seed: int) -> str:
    """Hash of everything the built folder depends on: upstream files, this builder, size, seed."""
    h = hashlib.sha256(f'{size}:{seed}'.encode())
    for p in _code_files(upstream_dir) + _voice_files(upstream_dir) + [Path(__file__)]:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def build_random_checkpoint(upstream_dir: Path | str, out_dir: Path | str, size: str = 'tiny', seed: int = 0,
                            device: str = 'cpu') -> Path:
    """Write a loadable random-weight MiniCPM-o 4.5 checkpoint of ``size`` into ``out_dir`` and return it.

    ``device`` is where the weights are initialised (``cuda`` for ``full``: 9 B parameters initialise in
    seconds there and take ~40 GB of RAM in float32 on a CPU).
    """
    import torch

    from omni_ros.backends.minicpmo.upstream_code import STANDARD_MODULE, import_model_module

    upstream_dir = check_upstream_dir(Path(upstream_dir))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    for p in _code_files(upstream_dir):
        shutil.copyfile(p, out / p.name)
    modeling = import_model_module(out, STANDARD_MODULE)
    config_module = import_model_module(out, 'configuration_minicpmo')
    config = config_module.MiniCPMOConfig(**model_config(size))
    config._attn_implementation = 'sdpa'  # vision/audio/TTS pick eager or sdpa themselves from this
    torch.manual_seed(seed)
    dtype = torch.float32 if device == 'cpu' else torch.bfloat16  # float32 init on a CPU: bf16 init is slow
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            model = modeling.MiniCPMO(config)
    finally:
        torch.set_default_dtype(previous)
    model = model.to(torch.bfloat16).eval()
    shard = '2GB' if size == 'full' else '10GB'
    model.save_pretrained(out, safe_serialization=True, max_shard_size=shard)
    cfg_path = out / 'config.json'
    saved = json.loads(cfg_path.read_text())
    saved['architectures'] = ['MiniCPMO']
    saved['auto_map'] = {'AutoConfig': 'configuration_minicpmo.MiniCPMOConfig',
                         'AutoModel': 'modeling_minicpmo.MiniCPMO'}
    saved['torch_dtype'] = 'bfloat16'
    saved['omni_ros_random_checkpoint'] = {'size': size, 'seed': seed,
                                           'parameters': sum(p.numel() for p in model.parameters())}
    cfg_path.write_text(json.dumps(saved, indent=2, sort_keys=True))
    del model
    _write_fast_tokenizer(out)
    voices = out / 'assets' / 'ref_audio'
    voices.mkdir(parents=True, exist_ok=True)
    for wav in _voice_files(upstream_dir):
        shutil.copyfile(wav, voices / wav.name)
    (out / 'assets' / 'token2wav').mkdir(parents=True, exist_ok=True)
    (out / 'assets' / 'token2wav' / 'NOT_INCLUDED.txt').write_text(TOKEN2WAV_NOTE)
    log.info('built a random %s MiniCPM-o 4.5 checkpoint in %s (%.1f s)', size, out, time.perf_counter() - t0)
    return out


def _write_fast_tokenizer(folder: Path) -> None:
    """tokenizer.json from vocab.json + merges.txt, converted once (upstream ships only those two)."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(folder), trust_remote_code=True)
    tok.backend_tokenizer.save(str(folder / 'tokenizer.json'))


def cached_checkpoint(size: str = 'tiny', upstream_dir: Optional[Path | str] = None,
                      cache_root: Optional[Path | str] = None, seed: int = 0, device: str = 'cpu') -> Path:
    """The random checkpoint of ``size`` from the cache, built there first when it is not yet."""
    up = check_upstream_dir(Path(upstream_dir) if upstream_dir else default_upstream_dir())
    root = Path(cache_root) if cache_root else default_cache_root()
    final = root / f'MiniCPM-o-4_5-random-{size}-{source_hash(up, size, seed)}'
    if (final / 'config.json').is_file():
        return final
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f'.building-{size}-', dir=root))
    try:
        build_random_checkpoint(up, tmp, size=size, seed=seed, device=device)
        try:
            tmp.rename(final)  # atomic: a concurrent builder either wins or finds it done
        except OSError:
            if not (final / 'config.json').is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--size', choices=sorted(SIZES), default='tiny')
    ap.add_argument('--upstream', default=None, help=f'upstream model code folder (default ${UPSTREAM_ENV} or '
                    f'{DEFAULT_UPSTREAM})')
    ap.add_argument('--out', default=None, help='write here instead of the cache folder')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--device', default='cpu', help='where to initialise the weights (cuda for --size full)')
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format='%(message)s')
    try:
        if args.out:
            path = build_random_checkpoint(args.upstream or default_upstream_dir(), args.out, args.size,
                                           args.seed, args.device)
        else:
            path = cached_checkpoint(args.size, args.upstream, seed=args.seed, device=args.device)
    except CheckpointError as exc:
        print(f'checkpoint: {exc}', file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == '__main__':
    sys.exit(main())
