"""Start omni_ros executables as separate processes, as a launch file would on a robot.

Used by the demo and the cross-process tests (``launch`` is not installable everywhere this runs).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence


def isolated_ros_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for a private ROS graph on this machine: loopback discovery, a random domain, and
    logs under a temporary ROS_HOME.

    DDS transports are left as a robot has them by default, so tests check what users get: measured,
    FASTDDS_BUILTIN_TRANSPORTS=LARGE_DATA on some participants only keeps them from discovering the
    others. omni_replay gives itself a larger shared-memory segment for camera frames (its own profile,
    same transports as the default).
    """
    env = dict(os.environ if base is None else base)
    env.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    env.setdefault('ROS_DOMAIN_ID', str(random.SystemRandom().randint(1, 100)))
    env.setdefault('ROS_HOME', tempfile.mkdtemp(prefix='omni_ros_home_'))
    env.setdefault('RCUTILS_COLORIZED_OUTPUT', '0')
    env['PYTHONUNBUFFERED'] = '1'
    return env


def _param_arg(value: Any) -> str:
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (list, tuple)):
        return '[' + ','.join(f'"{v}"' if isinstance(v, str) else str(v) for v in value) + ']'
    return str(value)


def ros_args(params: Mapping[str, Any] | None = None, remaps: Mapping[str, str] | None = None,
             params_file: str | Path | None = None) -> list[str]:
    args = ['--ros-args']
    if params_file is not None:
        args += ['--params-file', str(params_file)]
    for name, value in (params or {}).items():
        args += ['-p', f'{name}:={_param_arg(value)}']
    for src, dst in (remaps or {}).items():
        args += ['-r', f'{src}:={dst}']
    return args


@dataclass
class RosProcess:
    """A child process whose combined output goes to a log file (read it when something fails)."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    _log: Any = field(repr=False, default=None)

    def running(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        return self.log_path.read_text(errors='replace') if self.log_path.exists() else ''

    def wait(self, timeout: float) -> int:
        return self.popen.wait(timeout)

    def stop(self, timeout: float = 10.0) -> int:
        """SIGINT (rclpy's clean shutdown), then SIGTERM, then SIGKILL."""
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            if self.popen.poll() is not None:
                break
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                continue
        if self._log is not None:
            self._log.close()
        return self.popen.returncode


def start(name: str, module: str, args: Sequence[str], env: Mapping[str, str], log_dir: str | Path) -> RosProcess:
    """Run ``python -m module args`` with ``env``; output to ``log_dir/name.log``."""
    log_path = Path(log_dir) / f'{name}.log'
    log = open(log_path, 'w')
    popen = subprocess.Popen([sys.executable, '-m', module, *args], env=dict(env), stdout=log,
                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return RosProcess(name, popen, log_path, log)


def start_node(env: Mapping[str, str], log_dir: str | Path, *, params: Mapping[str, Any] | None = None,
               remaps: Mapping[str, str] | None = None, params_file: str | Path | None = None,
               name: str = 'omni_node') -> RosProcess:
    return start(name, 'omni_ros.ros.node', ros_args(params, remaps, params_file), env, log_dir)


def start_replay(env: Mapping[str, str], log_dir: str | Path, bag: str | Path, *, rate: float = 1.0,
                 extra: Sequence[str] = (), name: str = 'replay') -> RosProcess:
    return start(name, 'omni_ros.ros.replay', [str(bag), '--rate', str(rate), *extra], env, log_dir)
