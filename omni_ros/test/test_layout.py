"""The package layout holds: the core (everything outside omni_ros.ros) loads no ROS, omni_eval reads bags
without ROS, and no module imports a private name from another."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {'omni_ros': ROOT / 'omni_ros' / 'omni_ros', 'omni_ros_bt': ROOT / 'omni_ros_bt' / 'omni_ros_bt'}

# What counts as ROS: the client library, the interface machinery and every message package.
ROS_CHECK = '''
import json, sys
def ros(name):
    top = name.split('.')[0]
    return (top in ('rclpy', 'rpyutils') or top.startswith('rosidl') or top.endswith('_msgs')
            or top.endswith('_interfaces') and '.' in name)
print(json.dumps(sorted(m for m in sys.modules if ros(m))))
'''


def core_modules() -> list[str]:
    root = PACKAGES['omni_ros']
    names = []
    for path in sorted(root.rglob('*.py')):
        parts = path.relative_to(root.parent).with_suffix('').parts
        if parts[1] == 'ros':
            continue
        names.append('.'.join(parts[:-1] if parts[-1] == '__init__' else parts))
    return names


def ros_loaded_after(code: str, *args: str) -> list[str]:
    proc = subprocess.run([sys.executable, '-c', code + ROS_CHECK, *args], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def test_every_core_module_imports_without_ros() -> None:
    modules = core_modules()
    assert len(modules) > 60 and 'omni_ros.session.session' in modules and 'omni_ros.tools.evaluate' in modules
    code = ''.join(f'import {name}\n' for name in modules)
    assert ros_loaded_after(code) == []


@pytest.mark.node
def test_the_check_sees_ros_when_it_is_loaded() -> None:
    assert 'diagnostic_msgs.msg' in ros_loaded_after('import omni_ros.ros.mapping\n')
    assert 'rclpy' in ros_loaded_after('import omni_ros.ros.node\n')


def test_omni_eval_reads_a_bag_without_ros(crossing_bag: Path, tmp_path: Path) -> None:
    out = tmp_path / 'eval.json'
    watches = ROOT / 'omni_ros' / 'omni_ros' / 'scenarios' / 'crossing.yaml'
    args = [str(crossing_bag), '--watches', str(watches), '--backend', 'scripted', '--no-progress', '--json', str(out)]
    code = f'import omni_ros.tools.evaluate as e\nassert e.main({args!r}) == 0\n'
    assert ros_loaded_after(code) == []
    per = {w['id']: w for w in json.loads(out.read_text())['watches']}
    assert per['light_green']['true_positives'] == 1  # it did read the bag's frames and audio


def imports_of_private_names(path: Path, package: str) -> list[str]:
    """'module: name' for each private name (or private module of another package) imported by ``path``."""
    here = '.'.join(path.relative_to(PACKAGES[package].parent).with_suffix('').parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module != '__future__':
            parts = node.module.split('.')
            owner = '.'.join(parts[:-1])
            if any(p.startswith('_') and not p.startswith('__') for p in parts[-1:]) and owner != here:
                found.append(f'{path.name}: module {node.module}')
            found += [f'{path.name}: {node.module}.{a.name}' for a in node.names
                      if a.name.startswith('_') and not a.name.startswith('__')]
    return found


@pytest.mark.parametrize('package', sorted(PACKAGES))
def test_no_module_imports_a_private_name_from_another(package: str) -> None:
    files = sorted(PACKAGES[package].rglob('*.py')) + sorted((PACKAGES[package].parent / 'test').rglob('*.py'))
    found = [f for path in files for f in imports_of_private_names(path, package)]
    assert found == []
