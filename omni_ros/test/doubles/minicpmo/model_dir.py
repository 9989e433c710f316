"""Builds a local checkpoint folder holding the double as custom code, as the real checkpoint ships it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Optional

HERE = Path(__file__).parent
CODE_FILES = ('configuration_minicpmo_double.py', 'modeling_minicpmo_double.py', 'duplex_double.py')


def build_model_dir(root: Path, script: Optional[dict] = None, quantization: Optional[dict] = None) -> Path:
    import torch
    from safetensors.torch import save_file

    root.mkdir(parents=True, exist_ok=True)
    for name in CODE_FILES:
        shutil.copy(HERE / name, root / name)
    config = {
        'architectures': ['MiniCPMODouble'],
        'model_type': 'minicpmo_double',
        'auto_map': {'AutoConfig': 'configuration_minicpmo_double.MiniCPMODoubleConfig',
                     'AutoModel': 'modeling_minicpmo_double.MiniCPMODouble'},
        'torch_dtype': 'bfloat16',
        'double_script': script or {},
    }
    if quantization:
        config['quantization_config'] = quantization
    (root / 'config.json').write_text(json.dumps(config, indent=1))
    gen = torch.Generator().manual_seed(0)
    save_file({'probe.weight': torch.randn(4, 4, generator=gen), 'probe.bias': torch.zeros(4)},
              str(root / 'model.safetensors'), metadata={'format': 'pt'})
    return root
