"""A model folder holding the traced double, and reading its trace back (tests that run omni_node)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Optional

from doubles.minicpmo.model_dir import HERE, build_model_dir

TRACED_FILE = 'modeling_traced_double.py'


def build_traced_model_dir(root: Path, trace: Path, script: Optional[dict] = None) -> Path:
    """build_model_dir(), with AutoModel pointing at the traced double that appends to ``trace``."""
    build_model_dir(root, script=script)
    shutil.copy(HERE / TRACED_FILE, root / TRACED_FILE)
    config_path = root / 'config.json'
    config = json.loads(config_path.read_text())
    config['auto_map']['AutoModel'] = 'modeling_traced_double.MiniCPMOTracedDouble'
    config['double_trace'] = str(trace)
    config_path.write_text(json.dumps(config, indent=1))
    return root


def read_trace(path: Path) -> list[dict]:
    """Complete lines only: the node may be writing the next one right now."""
    if not path.exists():
        return []
    text = path.read_text(encoding='utf-8')
    lines = text.split('\n')[:-1]  # whatever follows the last newline is not finished yet
    return [json.loads(line) for line in lines if line.strip()]
