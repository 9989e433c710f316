"""Shared helpers of the checks that install and run omni_ros the way a ROS 2 user does (README, "In a ROS 2
workspace"): the upstream sources, a colcon workspace of this checkout, rosdep against the rosdistro
snapshot, the Jazzy venv, and the time each check takes (printed at the end of the run).

Here the venv running the tests stands in for ``/opt/ros/<distro>``: ``underlay_env()`` is what
``source /opt/ros/kilted/setup.bash`` gives a shell. Slow set-up (colcon build, rosdep update, the
CPU-install environment) is cached under ``build/checks`` by a hash of its inputs, as tools/bootstrap.sh
does, so only a changed input pays again.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Sequence

import pytest

REPO = Path(__file__).resolve().parents[2]
CHECKS = REPO / 'build' / 'checks'
PACKAGES = ('omni_ros_interfaces', 'omni_ros', 'omni_ros_bt', 'omni_ros_bringup')
DISTROS = ('jazzy', 'kilted')
UBUNTU = 'ubuntu:noble'  # Ubuntu 24.04, the platform of both distributions

# (what, seconds) of every check that ran; conftest's terminal summary prints them.
TIMES: list[tuple[str, float]] = []


@contextmanager
def timed(what: str) -> Iterator[None]:
    start = time.monotonic()
    try:
        yield
    finally:
        TIMES.append((what, time.monotonic() - start))


def upstream(name: str, env_var: str) -> Path:
    """``$env_var``, else ``../shared/upstream/<name>`` beside the checkout (or ``shared/`` inside it)."""
    if os.environ.get(env_var):
        path = Path(os.environ[env_var]).expanduser()
        if not path.is_dir():
            pytest.fail(f'{env_var}={path} is not a folder')
        return path
    for base in (REPO.parent / 'shared' / 'upstream', REPO / 'shared' / 'upstream'):
        if (base / name).is_dir():
            return base / name
    pytest.fail(f'upstream {name} not found: put ../shared/upstream beside the checkout or set {env_var}')


def inputs_hash(paths: Iterable[Path], extra: str = '') -> str:
    """Hash of the files under ``paths`` (test folders and caches left out) and ``extra``."""
    digest = hashlib.sha256(extra.encode())
    files: list[Path] = []
    for path in paths:
        files += [path] if path.is_file() else [p for p in path.rglob('*') if p.is_file()]
    for file in sorted(files):
        name = file.relative_to(REPO) if file.is_relative_to(REPO) else file
        if set(name.parts) & {'test', '__pycache__', '.pytest_cache'} or file.suffix == '.pyc':
            continue
        digest.update(str(name).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def cache(name: str, digest: str) -> tuple[Path, bool]:
    """``build/checks/<name>`` and whether it was made from inputs with this digest."""
    folder = CHECKS / name
    stamp = folder / '.inputs'
    return folder, stamp.is_file() and stamp.read_text() == digest


def mark_cached(folder: Path, digest: str) -> None:
    (folder / '.inputs').write_text(digest)


def run(cmd: Sequence[str], *, env: Mapping[str, str], cwd: Path, log: Path, timeout: float,
        check: bool = True) -> subprocess.CompletedProcess:
    """Run ``cmd`` with its output in ``log``; fail the test with the log's tail when it fails."""
    with open(log, 'w') as out:
        done = subprocess.run(list(cmd), env=dict(env), cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, timeout=timeout)
    if check and done.returncode != 0:
        tail = '\n'.join(log.read_text(errors='replace').splitlines()[-40:])
        pytest.fail(f"`{' '.join(cmd)}` exited {done.returncode} (log {log}):\n{tail}")
    return done


def underlay_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """A shell that sourced the ROS underlay: here the venv with the ROS 2 Kilted wheels."""
    env = dict(os.environ if base is None else base)
    venv = Path(sys.prefix)
    env['VIRTUAL_ENV'] = str(venv)  # CMake's FindPython3 takes the venv's interpreter first
    env['PATH'] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env['AMENT_PREFIX_PATH'] = str(venv)
    env['CMAKE_PREFIX_PATH'] = str(venv)
    env['PYTHONDONTWRITEBYTECODE'] = '1'  # no __pycache__ in the source tree the workspace points at
    return env


def sourced(script: Path, env: Mapping[str, str]) -> dict[str, str]:
    """The environment after ``source script`` in bash, as a user's shell has it."""
    out = subprocess.run(['bash', '-c', f'source "{script}" > /dev/null && env -0'], env=dict(env),
                         check=True, capture_output=True).stdout
    return dict(item.split('=', 1) for item in out.decode().split('\0') if '=' in item)


def ignore_build_folder() -> None:
    """build/ holds the check workspaces, which link back to the checkout: colcon (COLCON_IGNORE) and
    rosdep's package crawl (CATKIN_IGNORE) must not walk into it through the link."""
    (REPO / 'build').mkdir(exist_ok=True)
    for marker in ('COLCON_IGNORE', 'CATKIN_IGNORE'):
        (REPO / 'build' / marker).touch()


@dataclass(frozen=True)
class Workspace:
    """``<ws>/src/omni_ros`` -> this checkout, built with ``colcon build``; ``env`` has sourced its
    install/setup.bash."""

    root: Path
    env: dict[str, str]
    built_now: bool

    @property
    def install(self) -> Path:
        return self.root / 'install'


def colcon_version() -> str:
    from importlib import metadata

    return ' '.join(f'{d}={metadata.version(d)}' for d in ('colcon-core', 'colcon-ros', 'setuptools'))


def colcon_workspace() -> Workspace:
    """The workspace, built once per change of the packages (README: ``colcon build``)."""
    digest = inputs_hash([REPO / p for p in PACKAGES] + [REPO / 'requirements' / 'ros-kilted.txt'],
                         colcon_version())
    root, fresh = cache('ros_ws', digest)
    src = root / 'src'
    env = underlay_env()
    env['ROS_HOME'] = str(root / 'ros_home')
    if not (fresh and (root / 'install' / 'setup.bash').is_file()):
        with timed('colcon build (workspace of 4 packages)'):
            for name in ('build', 'install', 'log', 'src'):
                shutil.rmtree(root / name, ignore_errors=True)
            src.mkdir(parents=True)
            ignore_build_folder()
            (src / 'omni_ros').symlink_to(REPO, target_is_directory=True)
            run(['colcon', 'build'], env=env, cwd=root, log=root / 'colcon-build.log', timeout=1200)
        mark_cached(root, digest)
        built_now = True
    else:
        TIMES.append(('colcon build (cached: packages unchanged)', 0.0))
        built_now = False
    return Workspace(root, sourced(root / 'install' / 'setup.bash', env), built_now)


def jazzy_python() -> Path:
    """The Jazzy venv's interpreter (tools/bootstrap.sh: requirements/ros-jazzy.txt)."""
    venv = Path(os.environ.get('OMNI_JAZZY_VENV') or REPO / '.venv-jazzy')
    python = venv / 'bin' / 'python'
    if not python.is_file():
        pytest.fail(f'no Jazzy venv at {venv}: run tools/bootstrap.sh (it creates it from requirements/ros-jazzy.txt)')
    return python
