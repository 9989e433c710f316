"""The CPU backend on a ROS install: rosdep, colcon build, then the ONE pip step the README gives.

An environment stands in for Ubuntu 24.04's python3 after `rosdep install`: its numpy, PyYAML and Pillow
versions (python3-numpy 1.26.4, python3-yaml 6.0.1, python3-pil 10.2.0), and omni_ros from the colcon
install space, nothing else. There the CPU backend's configure error must say exactly what to run; that
command, run as printed, must make the backend set up and process a unit. The environment is cached
(build/checks) while requirements/cpu-backend.txt and the colcon install are unchanged.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import ros_install

pytestmark = pytest.mark.install

REQUIREMENTS = ros_install.REPO / 'omni_ros' / 'requirements' / 'cpu-backend.txt'
CONSTRAINTS = ros_install.REPO / 'requirements' / 'constraints.txt'
# What Ubuntu 24.04 (noble) ships for the keys omni_ros's package.xml has for them.
NOBLE = ['numpy==1.26.4', 'PyYAML==6.0.1', 'Pillow==10.2.0']
# Requirements the pip step leaves out on purpose: rosdep brings them (package.xml), ROS has setuptools,
# and silero-vad's torch is never imported (only its bundled ONNX file is used).
FROM_ROSDEP = {'numpy', 'pyyaml', 'pillow', 'sounddevice', 'setuptools'}
NOT_NEEDED = {('silero-vad', 'torch')}
NOBLE_MARKERS = {'python_version': '3.12', 'python_full_version': '3.12.3', 'sys_platform': 'linux',
                 'platform_system': 'Linux', 'platform_machine': 'x86_64', 'os_name': 'posix',
                 'implementation_name': 'cpython', 'platform_python_implementation': 'CPython', 'extra': ''}

SETUP = textwrap.dedent('''
    import numpy as np
    from omni_ros.backends import create_backend
    from omni_ros.data import Chunk
    from omni_ros.errors import BackendSetupError
    backend = create_backend('cpu', {})
    try:
        backend.setup()
    except BackendSetupError as error:
        print('SETUP-ERROR', error)
        raise SystemExit(3)
    backend.check_instruction('tell me when the traffic light turns green')
    backend.start_session()
    backend.feed(Chunk(0, 0.0, 1.0, 16000, np.zeros(16000, np.float32), ()))
    backend.shutdown()
    print('SETUP-OK')
''')


def pins(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        line = line.split('#', 1)[0].strip()
        if line:
            req = Requirement(line)
            (spec,) = req.specifier
            out[canonicalize_name(req.name)] = spec.version
    return out


def test_pip_step_is_the_whole_closure_at_the_tested_versions() -> None:
    """--no-deps installs exactly the list: every requirement of every entry (for Python 3.12 on Linux)
    is in it or comes from rosdep; the versions are those of constraints.txt (what the tests run)."""
    listed = pins(REQUIREMENTS)
    tested = pins(CONSTRAINTS)
    assert {name: tested.get(name) for name in listed} == listed, 'cpu-backend.txt and constraints.txt disagree'
    missing = []
    for name in listed:
        for text in metadata.requires(name) or []:
            req = Requirement(text)
            dep = canonicalize_name(req.name)
            if req.marker is not None and not req.marker.evaluate(NOBLE_MARKERS):
                continue
            if dep not in listed and dep not in FROM_ROSDEP and (name, dep) not in NOT_NEEDED:
                missing.append(f'{name} needs {text}')
    assert not missing, missing


@pytest.fixture(scope='module')
def ros_python(colcon_ws, tmp_path_factory) -> tuple[Path, dict[str, str], str | None]:
    """(interpreter, environment, the configure error before the pip step or None when cached)."""
    install = colcon_ws.install / 'omni_ros'
    digest = ros_install.inputs_hash([REQUIREMENTS, install / 'share' / 'omni_ros' / 'package.xml'],
                                     ' '.join(NOBLE) + sys.version)
    folder, fresh = ros_install.cache('cpu_install', digest)
    python = folder / 'venv' / 'bin' / 'python'
    site = next((install / 'lib').glob('python3*/site-packages'))
    env = {k: v for k, v in colcon_ws.env.items() if k not in ('VIRTUAL_ENV', 'LD_LIBRARY_PATH')}
    env.update(PYTHONPATH=str(site), AMENT_PREFIX_PATH=str(install), HF_HUB_OFFLINE='1')
    if fresh:
        ros_install.TIMES.append(('CPU pip step (cached: requirements unchanged)', 0.0))
        return python, env, None
    log = tmp_path_factory.mktemp('cpu_install') / 'setup.log'
    with ros_install.timed('CPU backend: Ubuntu-like environment'):
        subprocess.run(['rm', '-rf', str(folder)], check=True)
        folder.mkdir(parents=True)
        ros_install.run([sys.executable, '-m', 'venv', str(folder / 'venv')], env=env, cwd=folder, log=log, timeout=120)
        ros_install.run([str(python), '-m', 'pip', 'install', '-q', '--disable-pip-version-check',
                         'ros-ament-index-python==' + metadata.version('ros-ament-index-python'), *NOBLE, '--no-deps'],
                        env=env, cwd=folder, log=log, timeout=300)
    done = subprocess.run([str(python), '-c', SETUP], env=env, capture_output=True, text=True, timeout=300)
    error = done.stdout + done.stderr
    assert done.returncode == 3, f'the CPU backend set up without its packages?\n{error}'
    command = re.search(r'; run (.+?), or disable', error)
    assert command, error
    with ros_install.timed('CPU backend: the pip step, as the configure error prints it'):
        ros_install.run(command.group(1).split(), env=env, cwd=folder, log=folder / 'pip-step.log', timeout=900)
    ros_install.mark_cached(folder, digest)
    return python, env, error


def test_configure_error_names_the_one_pip_step(ros_python, colcon_ws) -> None:
    python, env, error = ros_python
    if error is None:  # cached environment: take a package away again
        hidden = 'import sys; sys.modules["faster_whisper"] = None\n'
        done = subprocess.run([str(python), '-c', hidden + SETUP], env=env, capture_output=True, text=True, timeout=300)
        error = done.stdout + done.stderr
    share = colcon_ws.install / 'omni_ros' / 'share' / 'omni_ros' / 'requirements' / 'cpu-backend.txt'
    assert f'run {python} -m pip install --no-deps -r {share}, or disable' in error, error


def test_cpu_backend_sets_up_and_runs_after_the_pip_step(ros_python) -> None:
    python, env, _ = ros_python
    with ros_install.timed('CPU backend: set-up and one unit in that environment'):
        done = subprocess.run([str(python), '-c', SETUP], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and 'SETUP-OK' in done.stdout, done.stdout + done.stderr
    versions = subprocess.run([str(python), '-c', 'import numpy, cv2; print(numpy.__version__, cv2.__version__)'],
                              env=env, capture_output=True, text=True, check=True).stdout.split()
    assert versions[0] == '1.26.4'  # Ubuntu's numpy stayed: the pip step did not replace it
