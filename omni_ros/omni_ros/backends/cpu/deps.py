"""Loading the CPU backend's third-party pieces with messages that say what to install.

Every import here happens inside a perception's setup(), never at module import, so listing the
backend's options or choosing another backend stays cheap.
"""

from __future__ import annotations

import importlib
import importlib.util
import shutil
import sys
import sysconfig
from pathlib import Path
from types import ModuleType

from omni_ros.errors import BackendSetupError

_CHECKOUT_HINT = 'run tools/bootstrap.sh, or pip install -r requirements/cpu.txt'


def install_hint(checkout_hint: str = _CHECKOUT_HINT) -> str:
    """What to run. On a ROS install (omni_ros in the ament index): one pip command for this interpreter
    with the requirements file installed beside the package; in a source checkout, ``checkout_hint``."""
    try:
        from ament_index_python.packages import get_package_share_directory

        requirements = Path(get_package_share_directory('omni_ros')) / 'requirements' / 'cpu-backend.txt'
    except (ImportError, LookupError, OSError):
        return checkout_hint
    if not requirements.is_file():
        return checkout_hint
    managed = sys.prefix == sys.base_prefix and Path(sysconfig.get_path('stdlib'), 'EXTERNALLY-MANAGED').is_file()
    flag = ' --break-system-packages' if managed else ''
    return f'run {sys.executable} -m pip install{flag} --no-deps -r {requirements}'


def require_module(module: str, pip_package: str) -> ModuleType:
    """Import ``module`` or raise BackendSetupError naming the pip package that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise BackendSetupError(
            f"the CPU backend needs the Python package '{pip_package}' ({exc}); {install_hint()}, "
            f"or disable the perception that uses it in the backend options") from None


def package_data(module: str, relative: str, pip_package: str, nodeps: bool = False) -> Path:
    """Path of a file shipped inside ``module`` without importing the module.

    silero_vad's __init__ imports torch, so its files are located through the import spec only.
    """
    spec = importlib.util.find_spec(module)
    hint = install_hint('pip install --no-deps --require-hashes -r requirements/cpu-nodeps.txt' if nodeps
                        else _CHECKOUT_HINT)
    if spec is None or not spec.submodule_search_locations:
        raise BackendSetupError(f"the CPU backend needs the Python package '{pip_package}'; {hint}")
    path = Path(list(spec.submodule_search_locations)[0]) / relative
    if not path.exists():
        raise BackendSetupError(
            f"'{pip_package}' is installed but has no {relative}; reinstall the pinned version: {hint}")
    return path


def require_program(program: str, apt_package: str) -> str:
    """Absolute path of an executable or raise BackendSetupError naming its Debian package."""
    found = shutil.which(program)
    if found is None:
        raise BackendSetupError(
            f"the CPU backend needs the program '{program}'; install it with "
            f"'apt-get install {apt_package}' (listed in requirements/apt.txt), or disable speech output")
    return found
