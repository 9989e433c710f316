"""MiniCPM-o 4.5 through transformers, on the checkpoint's own model code. torch is imported in load().

Loading follows OpenBMB's demo server (MiniCPM-o-Demo ``core/processors/unified.py``), not
``AutoModel(..., trust_remote_code=True)``: the checkpoint folder's code is imported as a package
(upstream_code.py), because transformers' remote-code import check demands modules this code only imports
lazily or behind a switch (``flag_gems``, ``librosa``, ``soundfile``). Then, depending on what the revision
defines (checked on the classes, not assumed):

1. ``model.as_duplex(**settings)`` (a later OpenBMB adapter), after ``from_pretrained`` and ``init_tts``;
2. ``MiniCPMODuplex.from_existing_model(model=..., device=..., **settings)``;
3. ``model.init_unified(duplex_config=settings, device=...)`` and ``model.duplex`` (the unified revision,
   what the demo server runs: per-unit ``force_listen_override`` and ``finalize_unit()``);
4. ``MiniCPMODuplex(name_or_path, device=..., **settings)``, which loads the weights itself (the plain
   ``modeling_minicpmo.py`` of this revision: no per-unit force-listen).

Per unit: ``streaming_prefill`` then ``streaming_generate`` (only the arguments its signature takes), then
``finalize_unit()`` where the revision needs it. A ``success=False`` prefill after a break is expected
upstream (modeling_minicpmo.py:2702) and ends the unit quietly. Every foreseeable setup failure becomes a
BackendSetupError that names the parameter or package to change.
"""

from __future__ import annotations

import gc
import importlib.metadata
import inspect
import logging
import time
from pathlib import Path
from typing import Any, Optional

import numpy as np

from omni_ros.backends.minicpmo.engine import ModelUnit, UnitResult
from omni_ros.backends.minicpmo.options import DUPLEX_SETTING_KEYS, GENERATE_KEYS, DuplexSettings, MiniCPMoConfig
from omni_ros.backends.minicpmo.prompting import CONTEXT_PREVIOUS_MARKER, SystemPrompt, chat_layout
from omni_ros.backends.minicpmo.upstream_code import choose_module, import_model_module
from omni_ros.errors import BackendError, BackendSetupError

log = logging.getLogger('omni_ros.minicpmo')

UPSTREAM_TRANSFORMERS = '4.51'  # the checkpoint's model code is written against transformers==4.51.0
UPSTREAM_TORCH = ((2, 3), (2, 8))
SPEECH_RATE = 24000
RESULT_KEYS = ('is_listen', 'text', 'end_of_turn', 'audio_waveform')
VOICE_DIR = Path('assets') / 'ref_audio'
VOCODER_DIR = Path('assets') / 'token2wav'
INSTALL_HINT = ("pip install 'omni_ros[minicpmo]' (transformers==4.51.0, torch>=2.3,<=2.8 with CUDA, "
                'minicpmo-utils[all])')
MEMORY_HINT = ('bf16 needs about 19 GB of GPU memory, an int4 AWQ checkpoint about 11 GB: use a bigger GPU, '
               'set minicpmo.dtype int4-awq with an AWQ checkpoint, free the GPU from other processes, or use '
               'the llamacpp_omni backend with a Q4_K_M GGUF (~9 GB)')
#: How the duplex object was built, in the order tried (see the module docstring).
DUPLEX_APIS = ('as_duplex', 'from_existing_model', 'init_unified', 'MiniCPMODuplex')
_DUPLEX_DEFAULTS = DuplexSettings()  # a per-unit argument left at its default is not worth a warning


def _is_oom(exc: BaseException) -> bool:
    return 'out of memory' in str(exc).lower() or type(exc).__name__ == 'OutOfMemoryError'


def _to_numpy(x: Any) -> Optional[np.ndarray]:
    if x is None:
        return None
    if hasattr(x, 'detach'):  # a torch tensor from a newer modeling revision
        x = x.detach().float().cpu().numpy()
    return np.asarray(x, dtype=np.float32).reshape(-1)


def _parameters(fn: Any) -> frozenset[str]:
    try:
        return frozenset(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return frozenset()


def revision_wraps_prompt(duplex: Any) -> bool:
    """Whether the duplex object's own prepare() adds the chat markers (then we pass the plain text)."""
    try:
        return '<|im_start|>' in inspect.getsource(type(duplex).prepare)
    except (OSError, TypeError, AttributeError):
        return False


class TransformersEngine:
    supports_force_listen = False  # set by load() from the revision's streaming_generate signature

    def __init__(self, config: MiniCPMoConfig, name: str = 'minicpmo') -> None:
        self.config = config
        self._name = name
        self.model: Any = None
        self.duplex: Any = None
        self.api = ''  # one of DUPLEX_APIS once loaded
        self.module_name = ''
        self._torch: Any = None
        self._gen_params: frozenset[str] = frozenset()
        self._prefill_params: frozenset[str] = frozenset()
        self._finalize = False
        self._wrap = True

    # --- loading ------------------------------------------------------------------------------------------
    def _p(self, option: str) -> str:
        return f'{self._name}.{option}'

    def voice_file(self) -> Optional[Path]:
        """The WAV the speech voice comes from: ref_voice_wav, else the checkpoint's assets/ref_audio/*.wav."""
        c = self.config
        if c.ref_voice_wav:
            return Path(c.ref_voice_wav).expanduser()
        folder = Path(c.model_path).expanduser() / VOICE_DIR if c.model_path else None
        if folder is not None and folder.is_dir():
            voices = sorted(folder.glob('*.wav'))
            if voices:
                return voices[0]
        return None

    def _check_path(self) -> Path:
        path = self.config.model_path
        if not path:
            raise BackendSetupError(f"{self._p('model_path')} is empty; set it to the local directory of the "
                                    'MiniCPM-o 4.5 checkpoint (the folder holding config.json)')
        p = Path(path).expanduser()
        if not p.is_dir() and self.config.allow_hub_download and not p.is_absolute() and path.count('/') == 1:
            log.warning('%s: %s is not a local folder; downloading it from the hub (allow_hub_download)',
                        self._name, path)
            try:
                from huggingface_hub import snapshot_download
                p = Path(snapshot_download(path))
            except Exception as exc:  # network, auth, missing repo: all mean "get the checkpoint another way"
                raise BackendSetupError(f"{self._p('model_path')}: downloading {path} failed ({exc}); download "
                                        'the checkpoint yourself and point model_path at the folder') from None
        if not p.is_dir():
            raise BackendSetupError(f"{self._p('model_path')}: {path} does not exist; set it to the local "
                                    f"checkpoint folder (or set {self._p('allow_hub_download')} true to use a "
                                    'hub name)')
        if not (p / 'config.json').is_file():
            raise BackendSetupError(f"{self._p('model_path')}: {p} has no config.json; point it at the "
                                    'checkpoint folder itself (where config.json and the modeling_*.py files are)')
        return p

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
        device = self.config.device.strip()
        if device == 'cpu':
            if not self.config.allow_cpu:
                raise BackendSetupError(f"{self._p('device')} is cpu: MiniCPM-o 4.5 needs a CUDA GPU for real "
                                        f"time; set it to cuda (or cuda:N), or use the llamacpp_omni backend "
                                        f"({self._p('allow_cpu')} is only for tests with a tiny checkpoint)")
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

    def _dtype(self, torch: Any, path: Path, device: str) -> Any:
        dtype = self.config.dtype
        quant = self._quant_method(path)
        if dtype == 'int4-awq':
            if quant not in (None, 'awq'):
                raise BackendSetupError(f"{self._p('dtype')} is int4-awq but {path} is quantized with {quant}")
            if quant is None:
                raise BackendSetupError(f"{self._p('dtype')} is int4-awq but {path} is not an AWQ checkpoint "
                                        '(no quantization_config in config.json); point model_path at the '
                                        'int4 (AWQ) checkpoint or set dtype bfloat16')
            return torch.float16
        if quant == 'awq':
            raise BackendSetupError(f'{path} is an AWQ (int4) checkpoint; set {self._p("dtype")} int4-awq')
        if dtype == 'bfloat16' and device.startswith('cuda') and not torch.cuda.is_bf16_supported():
            raise BackendSetupError(f'{device} does not support bfloat16; set {self._p("dtype")} float16')
        return {'bfloat16': torch.bfloat16, 'float16': torch.float16, 'float32': torch.float32}[dtype]

    @staticmethod
    def _quant_method(path: Path) -> Optional[str]:
        import json
        try:
            q = json.loads((path / 'config.json').read_text()).get('quantization_config') or {}
        except (OSError, ValueError):
            return None
        return q.get('quant_method')

    def _check_speech(self, path: Path) -> None:
        """Speech needs a voice for the vocoder and the vocoder's folder (the unified code would otherwise try
        to download it from the hub at setup)."""
        if not self.config.generate_audio:
            return
        voice = self.voice_file()
        if voice is None:
            raise BackendSetupError(f"{self._name}: speech is on ({self._p('generate_audio')}) but there is no "
                                    f"reference voice: set {self._p('ref_voice_wav')} to a WAV file of 3-10 s of "
                                    f"speech (or put one into {path / VOICE_DIR}), or set "
                                    f"{self._p('generate_audio')} false")
        if not (path / VOCODER_DIR).is_dir():
            raise BackendSetupError(f'{self._name}: {path} has no {VOCODER_DIR} folder (the Token2wav vocoder '
                                    "weights from the checkpoint's assets); copy it from the full checkpoint or "
                                    f"set {self._p('generate_audio')} false")

    def _settings(self, attn: str) -> dict[str, Any]:
        c = self.config
        settings: dict[str, Any] = {k: getattr(c, k) for k in DUPLEX_SETTING_KEYS}
        settings.update(chunk_ms=c.chunk_ms, first_chunk_ms=c.first_chunk_ms, sample_rate=16000,
                        max_slice_nums=c.max_slice_nums, attn_implementation=attn)
        if c.n_timesteps:
            settings['n_timesteps'] = c.n_timesteps
        return settings

    def load(self) -> None:
        path = self._check_path()
        torch, _ = self._import()
        self._torch = torch
        device = self._device(torch)
        dtype = self._dtype(torch, path, device)
        self._check_speech(path)
        self.module_name = choose_module(path, self.config.model_code)
        if not (path / f'{self.module_name}.py').is_file():
            raise BackendSetupError(f"{self._p('model_code')}: {path} has no {self.module_name}.py; set it to "
                                    'auto or to a modeling file the checkpoint ships')
        attn = self.config.attn_implementation
        t0 = time.perf_counter()
        try:
            module = import_model_module(path, self.module_name)
            self.model, self.duplex, self.api = self._build(module, path, torch, device, dtype, attn)
        except BackendSetupError:
            self._release()
            raise
        except ImportError as exc:
            self._release()
            missing = exc.name or str(exc)
            if 'flash' in str(exc).lower():
                hint = f"set {self._p('attn_implementation')} sdpa or install flash-attn"
            elif missing.split('.')[0] in ('stepaudio2', 'cosyvoice', 'minicpmo', 's3tokenizer'):
                hint = "pip install 'minicpmo-utils[all]' (the Token2wav vocoder; it needs a CUDA GPU)"
            else:
                hint = INSTALL_HINT
            raise BackendSetupError(f'{self._name}: {path}/{self.module_name}.py needs {missing}, which is not '
                                    f'installed; {hint}') from None
        except Exception as exc:
            self._release()
            if _is_oom(exc):
                raise BackendSetupError(f'{self._name}: out of GPU memory loading {path}; {MEMORY_HINT}') from None
            if isinstance(exc, (OSError, ValueError)) and 'flash' in str(exc).lower():
                raise BackendSetupError(f"{self._name}: flash attention is not usable here ({exc}); set "
                                        f"{self._p('attn_implementation')} sdpa") from None
            raise BackendSetupError(f'{self._name}: could not load {path}: {exc!r}; check that model_path is a '
                                    'complete MiniCPM-o 4.5 checkpoint and transformers==4.51.0') from exc
        self._adopt(self.duplex)
        log.info('%s: loaded %s (%s via %s; %s, %s, %s) in %.1f s; per-unit force-listen: %s', self._name, path,
                 self.module_name, self.api, self.config.dtype, attn, device, time.perf_counter() - t0,
                 'yes' if self.supports_force_listen else 'no (barge-in becomes a break)')

    def _build(self, module: Any, path: Path, torch: Any, device: str, dtype: Any, attn: str) -> tuple[Any, Any, str]:
        settings = self._settings(attn)
        cls = getattr(module, 'MiniCPMO', None)
        duplex_cls = getattr(module, 'MiniCPMODuplex', None)
        if cls is not None and hasattr(cls, 'as_duplex'):
            model = self._from_pretrained(cls, path, device, dtype, attn)
            self._init_vocoder(model)
            return model, model.as_duplex(**settings), 'as_duplex'
        if cls is not None and duplex_cls is not None and hasattr(duplex_cls, 'from_existing_model'):
            model = self._from_pretrained(cls, path, device, dtype, attn)
            self._init_vocoder(model)
            return model, duplex_cls.from_existing_model(model=model, device=device, **settings), 'from_existing_model'
        if cls is not None and hasattr(cls, 'init_unified'):
            model = self._from_pretrained(cls, path, device, dtype, attn)
            model.init_unified(duplex_config=settings, device=device)
            self._retune_vocoder(model)
            modes = getattr(module, 'ProcessorMode', None)
            if modes is not None and hasattr(model, 'set_mode'):
                model.set_mode(modes.DUPLEX)
            return model, model.duplex, 'init_unified'
        if duplex_cls is not None:
            # This revision's MiniCPMODuplex loads the weights itself (and casts them to bf16).
            duplex = duplex_cls(name_or_path=str(path), device=device, **settings)
            if dtype != torch.bfloat16:
                duplex.model.to(dtype)
            return duplex.model, duplex, 'MiniCPMODuplex'
        raise BackendSetupError(f'{self._name}: {path}/{self.module_name}.py defines none of MiniCPMO.as_duplex, '
                                'MiniCPMODuplex.from_existing_model, MiniCPMO.init_unified or MiniCPMODuplex; it is '
                                f"not MiniCPM-o 4.5 duplex code (set {self._p('model_code')} to another file)")

    def _from_pretrained(self, cls: Any, path: Path, device: str, dtype: Any, attn: str) -> Any:
        model = cls.from_pretrained(str(path), attn_implementation=attn, torch_dtype=dtype, init_vision=True,
                                    init_audio=True, init_tts=True)
        return model.eval().to(device)

    def _vocoder_args(self, fn: Any) -> dict[str, Any]:
        params = _parameters(fn)
        args: dict[str, Any] = {'streaming': True} if 'streaming' in params else {}
        if 'enable_float16' in params:
            args['enable_float16'] = self.config.enable_float16
        if self.config.n_timesteps and 'n_timesteps' in params:
            args['n_timesteps'] = self.config.n_timesteps
        return args

    def _init_vocoder(self, model: Any) -> None:
        """The streaming Token2wav vocoder (init_tts() with no arguments would set up CosyVoice2 instead)."""
        init = getattr(model, 'init_tts', None) or getattr(model, 'init_token2wav', None)
        if init is not None:
            init(**self._vocoder_args(init))

    def _retune_vocoder(self, model: Any) -> None:
        """init_unified() sets up Token2wav with its own defaults; set it up again only if asked otherwise."""
        init = getattr(model, 'init_token2wav', None)
        if init is None:
            return
        defaults = {k: v.default for k, v in inspect.signature(init).parameters.items()}
        wanted = self._vocoder_args(init)
        if any(defaults.get(k) != v for k, v in wanted.items() if k != 'streaming'):
            init(**wanted)

    def _adopt(self, duplex: Any) -> None:
        """Read what this revision's duplex object supports from its signatures."""
        self._gen_params = _parameters(duplex.streaming_generate)
        self._prefill_params = _parameters(duplex.streaming_prefill)
        self.supports_force_listen = 'force_listen_override' in self._gen_params
        self._finalize = callable(getattr(duplex, 'finalize_unit', None))
        self._wrap = not revision_wraps_prompt(duplex)
        ignored = [k for k in GENERATE_KEYS if k not in self._gen_params
                   and getattr(self.config, k) != getattr(_DUPLEX_DEFAULTS, k)]
        if ignored:
            log.warning('%s: this model code\'s streaming_generate takes no %s; those settings are ignored',
                        self._name, ', '.join(ignored))

    def attach(self, duplex: Any) -> None:
        """Use an already built duplex object (benchmarks and tests that build it themselves)."""
        self.duplex = duplex
        self.api = self.api or 'attached'
        self._adopt(duplex)

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
    def prepare(self, prompt: SystemPrompt, ref_audio: Optional[np.ndarray]) -> str:
        prefix, suffix = chat_layout(prompt, wrap=self._wrap)
        kwargs: dict[str, Any] = dict(prefix_system_prompt=prefix, suffix_system_prompt=suffix or None,
                                      ref_audio=ref_audio, context_previous_marker=CONTEXT_PREVIOUS_MARKER)
        voice = self.voice_file()
        if self.config.generate_audio and voice is not None:
            kwargs['prompt_wav_path'] = str(voice)  # upstream sets up the vocoder only then (M:2579)
        self.duplex.prepare(**kwargs)
        return prefix + ('[voice]' if ref_audio is not None else '') + suffix

    def _generate_args(self, force_listen: bool) -> dict[str, Any]:
        gen = {k: getattr(self.config, k) for k in GENERATE_KEYS if k in self._gen_params}
        if 'listen_top_k' in gen and not gen['listen_top_k']:
            gen['listen_top_k'] = None
        if self.supports_force_listen:
            gen['force_listen_override'] = force_listen
        return gen

    def _halted(self) -> bool:
        duplex = self.duplex
        return any(callable(getattr(duplex, f, None)) and getattr(duplex, f)()
                   for f in ('is_break_set', 'is_session_stop_set'))

    def step(self, unit: ModelUnit) -> UnitResult:
        slices: Any = unit.max_slice_nums if len(unit.frames) < 2 else [unit.max_slice_nums, 1]
        pre_args: dict[str, Any] = dict(audio_waveform=unit.audio, frame_list=unit.frames, max_slice_nums=slices)
        if 'batch_vision_feed' in self._prefill_params:
            pre_args['batch_vision_feed'] = self.config.batch_vision_feed
        t0 = time.perf_counter()
        try:
            pre = self.duplex.streaming_prefill(**pre_args)
            if isinstance(pre, dict) and pre.get('success') is False:
                if self._halted():  # expected after set_break_event() / set_session_stop() (M:2702)
                    return UnitResult(True, '', False, None, SPEECH_RATE, time.perf_counter() - t0, halted=True)
                reason = pre.get('reason') or 'no reason given'
                raise BackendError(f'{self._name}: streaming_prefill refused the unit: {reason}')
            res = self.duplex.streaming_generate(**self._generate_args(unit.force_listen))
            if self._finalize and getattr(self.duplex, 'needs_finalize', True):
                self.duplex.finalize_unit()  # the unified code requires it before the next prefill
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
        # Listening units carry 1 s of zeros upstream; without speech the unified code still returns zeros.
        speech = None if listen or not self.config.generate_audio else _to_numpy(res['audio_waveform'])
        return UnitResult(is_listen=listen, text=res['text'] or '', end_of_turn=bool(res['end_of_turn']),
                          speech=speech, speech_rate=SPEECH_RATE, model_s=model_s)

    def request_break(self) -> None:
        if self.duplex is not None:
            self.duplex.set_break_event()

    def end_session(self) -> None:
        if self.duplex is not None:
            self.duplex.set_session_stop()
