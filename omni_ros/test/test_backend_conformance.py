"""Every registered backend keeps the contract of omni_ros/backends/base.py: typed settings, availability,
construction without I/O or heavy imports, the Backend protocol, and set-up errors that say what to change."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from omni_ros import backends
from omni_ros.backends.base import Backend, Reconfigurable
from omni_ros.errors import BackendSetupError
from omni_ros.settings import Change, load, options_of

NAMES = sorted(backends.REGISTRY)
# A configuration each backend cannot run with, and what its set-up error must name. The CPU backend
# runs with its defaults here (its set-up errors are tested in test_cpu_backend.py).
CANNOT_RUN = {
    'scripted': ({'timeline': '/nonexistent/timeline.yaml'}, 'timeline'),
    'minicpmo': ({}, 'model_path'),
    'llamacpp_omni': ({}, 'server_url'),
}


def test_the_registry_holds_every_builtin_backend_and_auto_tries_real_ones() -> None:
    assert set(NAMES) == {'scripted', 'minicpmo', 'llamacpp_omni', 'cpu'}
    assert set(backends.AUTO_ORDER) <= set(NAMES) and 'scripted' not in backends.AUTO_ORDER


@pytest.mark.parametrize('name', NAMES)
def test_settings_are_declared_with_descriptions_bounds_and_choices(name: str) -> None:
    entry = backends.registered(name)
    config_type = entry.config_type
    assert dataclasses.is_dataclass(config_type)
    specs = options_of(config_type)
    assert specs, f'{name} declares no settings'
    for spec in specs:
        assert len(spec.description) > 10, f'{name}.{spec.name} needs a description'
        assert spec.kind in (bool, int, float, str, tuple), f'{name}.{spec.name}'
        spec.validate(spec.default, f'{name}.{spec.name}')  # the default is allowed
        if spec.minimum is not None and spec.maximum is not None:
            assert spec.minimum <= spec.maximum, f'{name}.{spec.name}'
    defaults = entry.load({})
    assert isinstance(defaults, config_type)
    assert load(config_type, {}) == defaults
    live = {s.name for s in specs if s.change is Change.LIVE}
    if live:  # a live setting needs a backend that takes it while running
        assert issubclass(entry.cls, Reconfigurable), f'{name}: {sorted(live)}'  # type: ignore[arg-type]
        assert entry.live == live
    assert not any(s.change is Change.START for s in specs)  # backends are loaded at configure


@pytest.mark.parametrize('name', NAMES)
def test_construction_gives_a_backend_that_does_nothing_yet(name: str) -> None:
    entry = backends.registered(name)
    config = entry.load({})
    backend = entry.create(config)
    assert isinstance(backend, Backend) and backend.name == name
    assert isinstance(entry.usable(config), bool)
    backend.shutdown()  # safe before setup(): the node shuts down whatever it built


@pytest.mark.parametrize('name', sorted(CANNOT_RUN))
def test_setup_that_cannot_work_raises_a_setup_error_naming_the_setting(name: str) -> None:
    entry = backends.registered(name)
    values, setting = CANNOT_RUN[name]
    config = entry.load(values)
    assert not entry.usable(config) or name == 'scripted'
    with pytest.raises(BackendSetupError, match=setting):
        entry.create(config).setup()


def test_listing_and_constructing_every_backend_imports_no_model_stack_and_no_ros() -> None:
    code = ('import json, sys\n'
            'from omni_ros import backends\n'
            'for entry in backends.REGISTRY.values():\n'
            '    entry.create(entry.load({})).stream_spec()\n'
            "print(json.dumps([m for m in ('torch', 'transformers', 'cv2', 'onnxruntime', 'rclpy') "
            'if m in sys.modules]))\n')
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.splitlines()[-1]) == []
