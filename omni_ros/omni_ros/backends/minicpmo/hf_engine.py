"""MiniCPM-o 4.5 through transformers (trust_remote_code). torch and transformers are imported in load().

Loading follows the upstream recipe: AutoModel.from_pretrained(path, trust_remote_code=True,
attn_implementation=..., torch_dtype=...) with the vision/audio/TTS parts enabled, .eval(), move to
the device, init_tts(), as_duplex(**settings). Every foreseeable failure becomes a BackendSetupError
that names the parameter or package to change.
"""

from __future__ import annotations

import gc
import importlib.metadata
import inspect
import logging
import time
from pathlib import Path
from typing import Any, Mapping, Optional

import numpy as np

from omni_ros.backends.minicpmo.engine import ModelUnit, UnitResult
from omni_ros.backends.minicpmo.options import AS_DUPLEX_KEYS
from omni_ros.backends.minicpmo.prompting import CONTEXT_PREVIOUS_MARKER, SystemPrompt
from omni_ros.errors import BackendError, BackendSetupError

log = logging.getLogger('omni_ros.minicpmo')

UPSTREAM_TRANSFORMERS = '4.51'  # the modeling code on the hub is written against transformers==4.51.0
UPSTREAM_TORCH = ((2, 3), (2, 8))
SPEECH_RATE = 24000
RESULT_KEYS = ('is_listen', 'text', 'end_of_turn', 'audio_waveform')
INSTALL_HINT = "pip install 'omni_ros[minicpmo]' (transformers==4.51.0, torch>=2.3,<=2.8 with CUDA)"
MEMORY_HINT = ('bf16 needs about 19 GB of GPU memory, an int4 AWQ checkpoint about 11 GB: use a bigger GPU, '
               'set minicpmo.dtype int4-awq with an AWQ checkpoint, free the GPU from other processes, or use '
               'the llamacpp_omni backend with a Q4_K_M GGUF (~9 GB)')


def _is_oom(exc: BaseException) -> bool:
    return 'out of memory' in str(exc).lower() or type(exc).__name__ == 'OutOfMemoryError'


def _to_numpy(x: Any) -> Optional[np.ndarray]:
    if x is None:
        return None
    if hasattr(x, 'detach'):  # a torch tensor from a newer modeling revision
        x = x.detach().float().cpu().numpy()
    return np.asarray(x, dtype=np.float32).reshape(-1)


class TransformersEngine:
    supports_force_listen = False

    def __init__(self, options: Mapping[str, Any], name: str = 'minicpmo') -> None:
        self._o = dict(options)
        self._name = name
        self.model: Any = None
        self.duplex: Any = None
        self._torch: Any = None

    # --- loading ------------------------------------------------------------------------------------------
    def _p(self, option: str) -> str:
        return f'{self._name}.{option}'

    def _check_path(self) -> str:
        path = self._o['model_path']
        if not path:
            raise BackendSetupError(f"{self._p('model_path')} is empty; set it to the local directory of the "
                                    'MiniCPM-o 4.5 checkpoint (the folder holding config.json)')
        p = Path(path).expanduser()
        if p.is_dir():
            if not (p / 'config.json').is_file():
                raise BackendSetupError(f"{self._p('model_path')}: {p} has no config.json; point it at the "
                                        'checkpoint folder itself (where config.json and the modeling_*.py files are)')
            return str(p)
        if self._o['allow_hub_download'] and not p.is_absolute() and path.count('/') == 1:
            log.warning('%s: %s is not a local folder; downloading it from the hub (allow_hub_download)',
                        self._name, path)
            return path
        raise BackendSetupError(f"{self._p('model_path')}: {path} does not exist; set it to the local checkpoint "
                                f"folder (or set {self._p('allow_hub_download')} true to use a hub name)")

    def _import(self) -> tuple[Any, Any]:
        try:
            import torch
            import transformers
        except ImportError as exc:
            raise BackendSetupError(f'{self._name}: {exc.name or exc} is not installed; {INSTALL_HINT}') from None
        version = importlib.metadata.version('transformers')
        if not version.startswith(UPSTREAM_TRANSFORMERS + '.'):
            raise BackendSetupError(
                f"{self._name}: transformers {version} is installed but MiniCPM-o 4.5's model code needs "
                f"transformers=={UPSTREAM_TRANSFORMERS}.0; run pip install 'transformers==4.51.0'")
        tv = tuple(int(v) for v in torch.__version__.split('+')[0].split('.')[:2])
        if not UPSTREAM_TORCH[0] <= tv <= UPSTREAM_TORCH[1]:
            log.warning('%s: torch %s is outside the upstream tested range >=2.3,<=2.8', self._name,
                        torch.__version__)
        return torch, transformers

    def _device(self, torch: Any) -> str:
        device = self._o['device'].strip()
        if device == 'cpu':
            if not self._o['allow_cpu']:
                raise BackendSetupError(f"{self._p('device')} is cpu: MiniCPM-o 4.5 needs a CUDA GPU for real "
                                        f"time; set it to cuda (or cuda:N), or use the llamacpp_omni backend "
                                        f"({self._p('allow_cpu')} is only for tests with a stand-in model)")
            return device
        if device != 'cuda' and not device.startswith('cuda:'):
            raise BackendSetupError(f"{self._p('device')} is {device!r}; use cuda or cuda:N")
        if not torch.cuda.is_available():
            built = getattr(torch.version, 'cuda', None)
            why = ('this torch build has no CUDA support; install a CUDA build of torch<=2.8'
                   if not built else 'no CUDA device is visible; check nvidia-smi and CUDA_VISIBLE_DEVICES')
            raise BackendSetupError(f'{self._name}: {why}. Without a GPU use the llamacpp_omni backend')
        index = int(device.split(':')[1]) if ':' in device else 0
        if index >= torch.cuda.device_count():
            raise BackendSetupError(f"{self._p('device')} is {device} but only {torch.cuda.device_count()} "
                                    'CUDA device(s) are visible; pick one of them')
        return device

    def _dtype(self, torch: Any, path: str, device: str) -> Any:
        dtype = self._o['dtype']
        quant = self._quant_method(path)
        if dtype == 'int4-awq':
            if quant not in (None, 'awq'):
                raise BackendSetupError(f"{self._p('dtype')} is int4-awq but {path} is quantized with {quant}")
            if quant is None and Path(path).is_dir():
                raise BackendSetupError(f"{self._p('dtype')} is int4-awq but {path} is not an AWQ checkpoint "
                                        '(no quantization_config in config.json); point model_path at the '
                                        'int4 (AWQ) checkpoint or set dtype bfloat16')
            return torch.float16
        if quant == 'awq':
            raise BackendSetupError(f'{path} is an AWQ (int4) checkpoint; set {self._p("dtype")} int4-awq')
        if dtype == 'bfloat16' and device.startswith('cuda') and not torch.cuda.is_bf16_supported():
            raise BackendSetupError(f'{device} does not support bfloat16; set {self._p("dtype")} float16')
        return torch.bfloat16 if dtype == 'bfloat16' else torch.float16

    @staticmethod
    def _quant_method(path: str) -> Optional[str]:
        import json
        cfg = Path(path) / 'config.json'
        if not cfg.is_file():
            return None
        try:
            q = json.loads(cfg.read_text()).get('quantization_config') or {}
        except ValueError:
            return None
        return q.get('quant_method')

    def load(self) -> None:
        path = self._check_path()
        torch, transformers = self._import()
        self._torch = torch
        device = self._device(torch)
        dtype = self._dtype(torch, path, device)
        attn = self._o['attn_implementation']
        t0 = time.perf_counter()
        try:
            model = transformers.AutoModel.from_pretrained(
                path, trust_remote_code=True, attn_implementation=attn, torch_dtype=dtype,
                init_vision=True, init_audio=True, init_tts=True,
                local_files_only=not self._o['allow_hub_download'])
            model = model.eval().to(device)
            model.init_tts()
            settings = {k: self._o[k] for k in AS_DUPLEX_KEYS}
            settings.update(chunk_ms=self._o['chunk_ms'], first_chunk_ms=self._o['first_chunk_ms'],
                            sample_rate=16000, force_listen_count=self._o['force_listen_count'],
                            max_slice_nums=self._o['max_slice_nums'])
            duplex = model.as_duplex(**settings)
        except BackendSetupError:
            raise
        except ImportError as exc:
            hint = (f"set {self._p('attn_implementation')} sdpa or install flash-attn"
                    if 'flash' in str(exc).lower() else INSTALL_HINT)
            raise BackendSetupError(f'{self._name}: loading {path} needs a missing package ({exc}); {hint}') from None
        except Exception as exc:
            self._release()
            if _is_oom(exc):
                raise BackendSetupError(f'{self._name}: out of GPU memory loading {path}; {MEMORY_HINT}') from None
            if isinstance(exc, (OSError, ValueError)) and 'flash' in str(exc).lower():
                raise BackendSetupError(f"{self._name}: flash attention is not usable here ({exc}); set "
                                        f"{self._p('attn_implementation')} sdpa") from None
            raise BackendSetupError(f'{self._name}: could not load {path}: {exc}; check that model_path is a '
                                    'complete MiniCPM-o 4.5 checkpoint and transformers==4.51.0') from exc
        self.model, self.duplex = model, duplex
        params = inspect.signature(duplex.streaming_generate).parameters
        # Upstream's demo sends force_listen per unit; older revisions lack it (then FORCE_LISTEN breaks).
        self.supports_force_listen = 'force_listen' in params
        log.info('%s: loaded %s (%s, %s, %s) in %.1f s', self._name, path, self._o['dtype'], attn, device,
                 time.perf_counter() - t0)

    def attach(self, duplex: Any) -> None:
        """Use an already built duplex object (benchmarks with a stand-in; no torch involved)."""
        self.duplex = duplex
        self.supports_force_listen = 'force_listen' in inspect.signature(duplex.streaming_generate).parameters

    def _release(self) -> None:
        self.duplex = None
        self.model = None
        gc.collect()
        torch = self._torch
        if torch is not None and torch.cuda.is_available():
            torch.cuda.empty_cache()

    def close(self) -> None:
        self._release()

    # --- per session / per unit --------------------------------------------------------------------------
    def prepare(self, prompt: SystemPrompt, ref_audio: Optional[np.ndarray]) -> None:
        self.duplex.prepare(prefix_system_prompt=prompt.prefix, suffix_system_prompt=prompt.suffix or None,
                            ref_audio=ref_audio, context_previous_marker=CONTEXT_PREVIOUS_MARKER)

    def step(self, unit: ModelUnit) -> UnitResult:
        o = self._o
        slices: Any = unit.max_slice_nums if len(unit.frames) < 2 else [unit.max_slice_nums, 1]
        gen = dict(max_new_speak_tokens_per_chunk=o['max_new_speak_tokens_per_chunk'], decode_mode='sampling',
                   temperature=o['temperature'], top_k=o['top_k'], top_p=o['top_p'],
                   listen_prob_scale=o['listen_prob_scale'])
        if self.supports_force_listen:
            gen['force_listen'] = unit.force_listen
        t0 = time.perf_counter()
        try:
            pre = self.duplex.streaming_prefill(audio_waveform=unit.audio, frame_list=unit.frames,
                                                max_slice_nums=slices, batch_vision_feed=False)
            if isinstance(pre, dict) and pre.get('success') is False:
                raise BackendError(f"{self._name}: streaming_prefill refused the unit: {pre.get('reason')}")
            res = self.duplex.streaming_generate(**gen)
        except BackendError:
            raise
        except Exception as exc:
            if _is_oom(exc):
                raise BackendError(f'{self._name}: out of GPU memory while streaming; {MEMORY_HINT}; or '
                                   f"lower {self._p('max_slice_nums')} / {self._p('stacked_frames')}") from exc
            raise
        model_s = time.perf_counter() - t0
        missing = [k for k in RESULT_KEYS if k not in res]
        if missing:
            raise BackendError(f'{self._name}: streaming_generate returned no {", ".join(missing)}; the model '
                               'code revision does not match the documented duplex API (transformers==4.51.0)')
        listen = bool(res['is_listen'])
        speech = None if listen else _to_numpy(res['audio_waveform'])
        return UnitResult(is_listen=listen, text=res['text'] or '', end_of_turn=bool(res['end_of_turn']),
                          speech=speech, speech_rate=SPEECH_RATE, model_s=model_s)

    def request_break(self) -> None:
        if self.duplex is not None:
            self.duplex.set_break_event()

    def end_session(self) -> None:
        if self.duplex is not None:
            self.duplex.set_session_stop()
