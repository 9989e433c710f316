"""Importing a MiniCPM-o checkpoint's own Python code the way OpenBMB's demo server does.

OpenBMB's server (MiniCPM-o-Demo ``core/processors/unified.py``) imports the model code as a package
(``from MiniCPMO45.modeling_minicpmo_unified import MiniCPMO``) instead of through transformers'
``trust_remote_code``. That matters: transformers' remote-code import check demands every module the files
name, even the ones they only import lazily or behind a switch (``flag_gems`` behind ``USE_FLAGOS=1``,
``librosa`` and ``soundfile`` inside helpers the duplex path never calls), so ``AutoModel.from_pretrained(...,
trust_remote_code=True)`` fails on this code revision unless those packages are installed.

Here the checkpoint folder becomes a package with a private name, so the relative imports inside it
(``from .configuration_minicpmo import ...``) resolve to the folder's own files, nothing is copied, and an
import that is really missing still fails with Python's own ImportError when the code runs it.
Only the standard library is imported at module level (the registry imports this package cheaply).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Optional

#: The modules a MiniCPM-o 4.5 checkpoint may ship, in the order ``model_code: auto`` prefers them:
#: the unified revision has per-unit force-listen (``force_listen_override``), the plain one has not.
UNIFIED_MODULE = 'modeling_minicpmo_unified'
STANDARD_MODULE = 'modeling_minicpmo'
_IMPORT_RE = re.compile(r'^\s*(?:import|from)\s+([A-Za-z_][\w.]*)', re.MULTILINE)


def package_name(folder: Path) -> str:
    """The private package name a folder's code is imported under (stable per resolved path)."""
    digest = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:12]
    return f'omni_minicpmo_code_{digest}'


def import_model_module(folder: Path, module: str) -> ModuleType:
    """Import ``folder/module.py`` as ``<private package>.<module>`` (relative imports stay in the folder)."""
    folder = folder.resolve()
    if not (folder / f'{module}.py').is_file():
        raise FileNotFoundError(f'{folder} has no {module}.py')
    name = package_name(folder)
    if name not in sys.modules:
        spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
        spec.submodule_search_locations = [str(folder)]
        package = importlib.util.module_from_spec(spec)
        sys.modules[name] = package
    return importlib.import_module(f'{name}.{module}')


def auto_map_module(folder: Path) -> Optional[str]:
    """The module config.json's ``auto_map.AutoModel`` names (``modeling_minicpmo``), if any."""
    try:
        config = json.loads((folder / 'config.json').read_text())
    except (OSError, ValueError):
        return None
    target = (config.get('auto_map') or {}).get('AutoModel')
    if isinstance(target, list):  # transformers also accepts [class, class_fast]
        target = target[0]
    return target.rsplit('.', 1)[0] if isinstance(target, str) and '.' in target else None


def choose_module(folder: Path, wanted: str = 'auto') -> str:
    """Which modeling module to load: ``wanted`` if given, else the unified one when the folder has it."""
    if wanted != 'auto':
        return wanted
    if (folder / f'{UNIFIED_MODULE}.py').is_file():
        return UNIFIED_MODULE
    return auto_map_module(folder) or STANDARD_MODULE


def top_level_imports(path: Path) -> set[str]:
    """Top-level package names a source file imports anywhere (what transformers' import check looks at)."""
    names = set()
    for m in _IMPORT_RE.finditer(path.read_text(encoding='utf-8')):
        top = m.group(1).split('.')[0]
        if top:
            names.add(top)
    return names


def missing_remote_code_imports(folder: Path, module: str) -> list[str]:
    """Packages transformers' trust_remote_code check would demand for ``module`` that are not installed.

    Mirrors the check's reach (the file and the files it imports relatively) closely enough to explain a
    failure; the check itself stays transformers' own.
    """
    seen: set[str] = set()
    todo = [module]
    needed: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = folder / f'{name}.py'
        if not path.is_file():
            continue
        text = path.read_text(encoding='utf-8')
        todo += re.findall(r'^\s*from\s+\.(\w+)\s+import', text, flags=re.MULTILINE)
        needed |= top_level_imports(path)
    stdlib = set(sys.stdlib_module_names)
    return sorted(n for n in needed if n not in stdlib and importlib.util.find_spec(n) is None)
