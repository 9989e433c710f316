"""ruff and mypy over the repository with the committed configuration (pyproject.toml): a new finding
fails `make test`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, '-m', *args], cwd=ROOT, input=stdin, capture_output=True, text=True,
                          timeout=600)


def test_ruff_finds_nothing() -> None:
    proc = run('ruff', 'check', '--no-cache', '--output-format', 'concise', '.')
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_finds_nothing() -> None:
    proc = run('mypy', '--cache-dir', str(ROOT / '.mypy_cache'))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'Success: no issues found' in proc.stdout


def test_both_report_a_new_error(tmp_path: Path) -> None:
    ruff = run('ruff', 'check', '--no-cache', '--stdin-filename', 'omni_ros/omni_ros/new.py', '-',
               stdin='import os\n')
    assert ruff.returncode == 1 and 'F401' in ruff.stdout
    new = tmp_path / 'new.py'
    new.write_text('def f(x):\n    return x\n')
    mypy = run('mypy', '--cache-dir', str(ROOT / '.mypy_cache'), str(new))
    assert mypy.returncode == 1 and 'no-untyped-def' in mypy.stdout, mypy.stdout  # strict, as the core
