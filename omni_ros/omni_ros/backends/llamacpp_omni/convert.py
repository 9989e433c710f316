"""GGUF files for llama.cpp-omni from a MiniCPM-o 4.5 checkpoint, made with upstream's own converters.

``convert_checkpoint(checkpoint, out)`` runs the scripts of a llama.cpp-omni checkout (``$OMNI_LLAMACPP_SRC``,
else ``$OMNI_UPSTREAM/llama.cpp-omni``, else ``../shared/upstream/llama.cpp-omni`` beside the repository), in
the order its ``tools/omni/convert/run_convert.sh`` does, each in its own Python process, and writes the files
under the names ``llama-server`` looks for (``/v1/stream/omni_init``, server.cpp S:5784-5787; the LLM is the
server's ``--model``)::

    <out>/MiniCPM-o-4_5-F16.gguf                      convert_hf_to_gguf.py on surgery's llm/
    <out>/vision/MiniCPM-o-4_5-vision-F16.gguf        tools/omni/convert/convert_vpm.py (--minicpmv_version 100045)
    <out>/audio/MiniCPM-o-4_5-audio-F16.gguf          tools/omni/convert/convert_apm.py
    <out>/tts/MiniCPM-o-4_5-tts-F16.gguf              convert_hf_to_gguf.py on surgery's tts/  } TTS of the real
    <out>/tts/MiniCPM-o-4_5-projector-F16.gguf        tools/omni/convert/convert_projector.py } width only
    <out>/omni_ros_gguf.json                          what was converted, what was left out and why

Left out when they cannot be made (recorded in ``omni_ros_gguf.json``, see LEFT_OUT):

* the TTS, unless it has the real width: convert_hf_to_gguf.py rebuilds ``head_code`` only for a 768-wide TTS
  with 6562 audio tokens (convert_hf_to_gguf.py:316-358) and the server refuses any other shape
  (``load_tts_weights_from_gguf``, omni.cpp O:1285-1303), so the tiny checkpoint's 64-wide TTS cannot run;
* the Token2wav vocoder (``token2wav-gguf/``): this revision ships no converter for it (tools/omni/token2wav
  has only the C++ runtime) and a random checkpoint has no vocoder weights. Without it the server writes no
  speech WAVs.

Three adjustments, each because this revision of the scripts cannot otherwise convert a checkpoint built
from OpenBMB's code; none changes a converted tensor:

1. surgery.py loads the model with ``AutoModel.from_pretrained(trust_remote_code=True)``, whose import check
   demands every module the code names, even ``flag_gems`` that is imported only behind ``USE_FLAGOS=1``; the
   check is narrowed to the relative imports (the code still fails with ImportError if it really imports a
   missing module).
2. convert_hf_to_gguf.py identifies BPE pre-tokenizers by a hash of one test string; OpenBMB's vocabulary
   hashes to none it knows. The checkpoint's own ``tokenizer.json`` is read instead, and its split regex must
   be Qwen2's exactly (``QWEN2_SPLIT``) for the file to be written as ``qwen2``; anything else still fails.
3. surgery.py copies the full ``config.json`` next to the vision tower it extracted, but with
   ``drop_vision_last_layer`` the tower has one layer fewer than the config says and convert_vpm.py's strict
   ``load_state_dict`` fails; the copy is made to state the number of layers the extracted tower has.

``cached_gguf(checkpoint)`` converts once into a cache folder named by a hash of the checkpoint folder's name
(the random checkpoints' names carry the hash of what built them), the converter scripts and this module:
``$OMNI_LLAMACPP_GGUF_CACHE``, else ``$OMNI_ROS_CACHE/llamacpp_gguf``, else ``~/.cache/omni_ros/llamacpp_gguf``.

CLI: ``python -m omni_ros.backends.llamacpp_omni.convert CHECKPOINT [--out DIR]`` prints the folder.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

LLAMACPP_ENV = 'OMNI_LLAMACPP_SRC'
UPSTREAM_ENV = 'OMNI_UPSTREAM'
CACHE_ENV = 'OMNI_LLAMACPP_GGUF_CACHE'
REPO_ROOT = Path(__file__).resolve().parents[4]
MANIFEST = 'omni_ros_gguf.json'

# The names omni_init builds from model_dir (S:5784-5787) and the projector it loads from tts_bin_dir.
LLM_FILE = 'MiniCPM-o-4_5-F16.gguf'
VISION_FILE = 'vision/MiniCPM-o-4_5-vision-F16.gguf'
AUDIO_FILE = 'audio/MiniCPM-o-4_5-audio-F16.gguf'
TTS_FILE = 'tts/MiniCPM-o-4_5-tts-F16.gguf'
PROJECTOR_FILE = 'tts/MiniCPM-o-4_5-projector-F16.gguf'
TOKEN2WAV_DIR = 'token2wav-gguf'

# The only TTS shape convert_hf_to_gguf.py and the server's TTS loader accept in this revision.
TTS_HIDDEN, TTS_AUDIO_TOKENS = 768, 6562
# llama.cpp's LLAMA_VOCAB_PRE_TYPE_QWEN2 split, as Qwen2/Qwen3 tokenizer.json files spell it.
QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
               r"\s*[\r\n]+|\s+(?!\S)|\s+")

LEFT_OUT = {
    'tts': ('the TTS is {hidden} wide with {tokens} audio tokens; this llama.cpp-omni revision converts '
            '(convert_hf_to_gguf.py:316-358) and loads (omni.cpp load_tts_weights_from_gguf) only the real '
            f'{TTS_HIDDEN}-wide TTS with {TTS_AUDIO_TOKENS} audio tokens'),
    'token2wav': ('no converter for the Token2wav vocoder in this llama.cpp-omni revision (tools/omni/token2wav '
                  'holds only its C++ runtime) and no vocoder weights in the checkpoint; without '
                  f'{TOKEN2WAV_DIR}/ the server writes no speech'),
}


class GgufError(RuntimeError):
    """A converter failed or its input is missing; the message says which and where its log is."""


@dataclass
class GgufSet:
    """A converted model folder: what the server gets as ``model_dir`` and ``--model``."""

    folder: Path
    llm: Path
    components: dict[str, str] = field(default_factory=dict)  # name -> file relative to folder
    left_out: dict[str, str] = field(default_factory=dict)  # name -> why

    @property
    def has_tts(self) -> bool:
        return 'tts' in self.components

    @classmethod
    def load(cls, folder: Path) -> 'GgufSet':
        data = json.loads((folder / MANIFEST).read_text())
        return cls(folder, folder / data['components']['llm'], dict(data['components']), dict(data['left_out']))


def default_llamacpp_dir() -> Path:
    if os.environ.get(LLAMACPP_ENV):
        return Path(os.environ[LLAMACPP_ENV]).expanduser()
    if os.environ.get(UPSTREAM_ENV):
        return Path(os.environ[UPSTREAM_ENV]).expanduser() / 'llama.cpp-omni'
    return REPO_ROOT.parent / 'shared' / 'upstream' / 'llama.cpp-omni'


def check_llamacpp_dir(src: Path) -> Path:
    needed = ('convert_hf_to_gguf.py', 'gguf-py/gguf/__init__.py', 'tools/omni/convert/surgery.py',
              'tools/omni/convert/convert_vpm.py', 'tools/omni/convert/convert_apm.py',
              'tools/omni/convert/convert_projector.py')
    missing = [n for n in needed if not (src / n).is_file()]
    if missing:
        raise GgufError(f'{src} is not a llama.cpp-omni checkout (missing {", ".join(missing)}); set '
                              f'{LLAMACPP_ENV} to one')
    return src


def converter_sources(src: Path) -> list[Path]:
    files = [src / 'convert_hf_to_gguf.py', *sorted((src / 'tools/omni/convert').glob('*.py')),
             *sorted((src / 'gguf-py/gguf').rglob('*.py'))]
    return files + [Path(__file__)]


# --- running one upstream script (in a child process) ----------------------------------------------------
def _split_regex(tokenizer: Any) -> str:
    pre = json.loads(tokenizer.backend_tokenizer.to_str()).get('pre_tokenizer') or {}
    for part in pre.get('pretokenizers', [pre]):
        if part.get('type') == 'Split':
            return str(part.get('pattern', {}).get('Regex', ''))
    return ''


def _vision_layers(vpm_dir: Path) -> int:
    import torch

    tower = torch.load(vpm_dir / 'minicpmv.clip', map_location='cpu')
    found = [int(m.group(1)) for k in tower for m in [re.match(r'encoder\.layers\.(\d+)\.', k)] if m]
    if not found:
        raise GgufError(f'{vpm_dir / "minicpmv.clip"} has no encoder layers')
    return 1 + max(found)


def _state_vision_layers(vpm_dir: Path) -> None:
    """Adjustment 3: the copied config states the depth of the extracted vision tower."""
    path = vpm_dir / 'config.json'
    config = json.loads(path.read_text())
    layers = _vision_layers(vpm_dir)
    if config.get('vision_config', {}).get('num_hidden_layers') != layers:
        config.setdefault('vision_config', {})['num_hidden_layers'] = layers
        path.write_text(json.dumps(config, indent=2))


def run_upstream_script(script: Path, argv: Sequence[str]) -> None:
    """Run ``script`` as ``__main__`` with ``argv``, after the adjustment (module docstring) it needs."""
    import importlib.util
    import runpy

    sys.argv = [str(script), *argv]
    if script.name == 'surgery.py':
        import transformers.dynamic_module_utils as dmu

        dmu.check_imports = lambda filename: dmu.get_relative_imports(filename)  # adjustment 1
    if script.name == 'convert_vpm.py':
        _state_vision_layers(Path(argv[argv.index('-m') + 1]))
    if script.name != 'convert_hf_to_gguf.py':
        runpy.run_path(str(script), run_name='__main__')
        return
    spec = importlib.util.spec_from_file_location('convert_hf_to_gguf', script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules['convert_hf_to_gguf'] = module
    spec.loader.exec_module(module)
    by_hash = module.TextModel.get_vocab_base_pre

    def get_vocab_base_pre(self: Any, tokenizer: Any) -> str:  # adjustment 2
        try:
            return str(by_hash(self, tokenizer))
        except NotImplementedError:
            if _split_regex(tokenizer) == QWEN2_SPLIT:
                return 'qwen2'
            raise

    module.TextModel.get_vocab_base_pre = get_vocab_base_pre
    module.main()


# --- the pipeline ----------------------------------------------------------------------------------------------
def _step(src: Path, script: Path, argv: Sequence[str], log: Path, cwd: Path) -> None:
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(p for p in (str(src / 'gguf-py'), env.get('PYTHONPATH', '')) if p)
    env.setdefault('HF_HUB_OFFLINE', '1')
    env.setdefault('CUDA_VISIBLE_DEVICES', '')
    cmd = [sys.executable, '-m', 'omni_ros.backends.llamacpp_omni.convert', '--run-upstream', str(script), '--',
           *argv]
    with log.open('a', encoding='utf-8') as out:
        out.write(f'\n$ {" ".join(cmd)}\n')
        out.flush()
        code = subprocess.run(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL).returncode
    if code != 0:
        tail = ''.join(log.read_text(encoding='utf-8', errors='replace').splitlines(keepends=True)[-25:])
        raise GgufError(f'{script.name} failed (exit {code}); its log is {log}:\n{tail}')


def _only_gguf(folder: Path, what: str) -> Path:
    found = sorted(folder.glob('*.gguf'))
    if len(found) != 1:
        raise GgufError(f'{what}: expected one .gguf in {folder}, found {[p.name for p in found]}')
    return found[0]


def convert_checkpoint(checkpoint: Path | str, out: Path | str, llamacpp_dir: Optional[Path | str] = None,
                       log: Optional[Path] = None) -> GgufSet:
    """Convert ``checkpoint`` (a MiniCPM-o 4.5 folder with one model.safetensors) into ``out``."""
    checkpoint = Path(checkpoint).resolve()
    src = check_llamacpp_dir(Path(llamacpp_dir) if llamacpp_dir else default_llamacpp_dir()).resolve()
    if not (checkpoint / 'model.safetensors').is_file():
        raise GgufError(f'{checkpoint} has no model.safetensors (surgery.py reads one unsharded file)')
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    log = log or out / 'convert.log'
    convert = src / 'tools/omni/convert'
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix='omni_gguf_') as scratch_name:
        scratch = Path(scratch_name)
        # surgery.py rewrites the checkpoint's .py files while it runs: give it a copy (weights linked).
        model = scratch / 'checkpoint'
        model.mkdir()
        for p in checkpoint.iterdir():
            if p.is_file():
                if p.suffix == '.py':
                    shutil.copyfile(p, model / p.name)
                else:
                    (model / p.name).symlink_to(p)
        parts = scratch / 'parts'
        _step(src, convert / 'surgery.py', ['--model', str(model), '--output-dir', str(parts)], log, scratch)
        _step(src, src / 'convert_hf_to_gguf.py',
              [str(parts / 'llm'), '--outtype', 'f16', '--outfile', str(out / LLM_FILE)], log, scratch)
        components = {'llm': LLM_FILE}
        for name, script, argv, target in (
                ('vision', 'convert_vpm.py', ['-m', str(parts / 'vpm'), '--output-dir', str(scratch / 'vision'),
                                              '--minicpmv_version', '100045'], VISION_FILE),
                ('audio', 'convert_apm.py', [str(parts / 'apm'), str(parts / 'apm' / 'minicpmo.whisper'),
                                             str(scratch / 'audio')], AUDIO_FILE)):
            (scratch / name).mkdir()
            _step(src, convert / script, argv, log, scratch)
            (out / target).parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(_only_gguf(scratch / name, script)), out / target)
            components[name] = target
        left_out = {'token2wav': LEFT_OUT['token2wav']}
        tts = json.loads((parts / 'tts' / 'config.json').read_text())
        if (tts.get('hidden_size'), tts.get('num_audio_tokens')) == (TTS_HIDDEN, TTS_AUDIO_TOKENS):
            (out / 'tts').mkdir(exist_ok=True)
            _step(src, src / 'convert_hf_to_gguf.py',
                  [str(parts / 'tts'), '--outtype', 'f16', '--outfile', str(out / TTS_FILE)], log, scratch)
            _step(src, convert / 'convert_projector.py', ['--model', str(model), '--output', str(out / PROJECTOR_FILE)],
                  log, scratch)
            components.update(tts=TTS_FILE, projector=PROJECTOR_FILE)
        else:
            left_out['tts'] = LEFT_OUT['tts'].format(hidden=tts.get('hidden_size'), tokens=tts.get('num_audio_tokens'))
    manifest = {'checkpoint': str(checkpoint), 'llamacpp': str(src), 'components': components,
                'left_out': left_out, 'seconds': round(time.perf_counter() - t0, 1)}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return GgufSet.load(out)


def default_cache_root() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    if os.environ.get('OMNI_ROS_CACHE'):
        return Path(os.environ['OMNI_ROS_CACHE']).expanduser() / 'llamacpp_gguf'
    return Path.home() / '.cache' / 'omni_ros' / 'llamacpp_gguf'


def cached_gguf(checkpoint: Path | str, llamacpp_dir: Optional[Path | str] = None,
                cache_root: Optional[Path | str] = None) -> GgufSet:
    """``convert_checkpoint`` once per checkpoint and converter revision; later calls reuse the folder."""
    checkpoint = Path(checkpoint).resolve()
    src = check_llamacpp_dir(Path(llamacpp_dir) if llamacpp_dir else default_llamacpp_dir())
    h = hashlib.sha256(checkpoint.name.encode())
    for p in converter_sources(src):
        h.update(p.read_bytes())
    root = Path(cache_root) if cache_root else default_cache_root()
    final = root / f'{checkpoint.name}-gguf-{h.hexdigest()[:12]}'
    if (final / MANIFEST).is_file():
        return GgufSet.load(final)
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix='.converting-', dir=root))
    try:
        convert_checkpoint(checkpoint, tmp, src)
        try:
            tmp.rename(final)  # atomic: a concurrent converter either wins or finds it done
        except OSError:
            if not (final / MANIFEST).is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return GgufSet.load(final)


def main(argv: Optional[list[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ['--run-upstream']:
        script, rest = Path(argv[1]), argv[3:] if argv[2:3] == ['--'] else argv[2:]
        run_upstream_script(script, rest)
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('checkpoint', help='MiniCPM-o 4.5 checkpoint folder (one model.safetensors)')
    ap.add_argument('--out', default=None, help='write here instead of the cache folder')
    ap.add_argument('--llamacpp', default=None, help=f'llama.cpp-omni checkout (default ${LLAMACPP_ENV})')
    args = ap.parse_args(argv)
    try:
        gguf = (convert_checkpoint(args.checkpoint, args.out, args.llamacpp) if args.out
                else cached_gguf(args.checkpoint, args.llamacpp))
    except GgufError as exc:
        print(f'convert: {exc}', file=sys.stderr)
        return 2
    for name, why in gguf.left_out.items():
        print(f'convert: left out {name}: {why}', file=sys.stderr)
    print(gguf.folder)
    return 0


if __name__ == '__main__':
    sys.exit(main())
