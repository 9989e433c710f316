"""The package manifests against the code and the README: every import declared, build types as
documented, test dependencies colcon sees, py_trees at the version Jazzy and Kilted ship."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest
import yaml
from catkin_pkg.package import parse_package

import ros_install

REPO = ros_install.REPO
# Python modules that are not ROS packages -> the rosdep key that provides them.
PYTHON_KEYS = {'numpy': 'python3-numpy', 'yaml': 'python3-yaml', 'PIL': 'python3-pil', 'rosbags': 'python3-rosbags-pip',
               'sounddevice': 'python3-sounddevice-pip', 'tqdm': 'python3-tqdm', 'py_trees': 'py_trees'}
# Imported only by the CPU backend: the pip step (omni_ros/requirements/cpu-backend.txt), not rosdep.
CPU_PIP_STEP = {'cv2': 'opencv-python-headless'}
# Imported only by the MiniCPM-o backend: setup.py's 'minicpmo' extra (GPU machines).
MINICPMO_EXTRA = {'torch', 'transformers', 'huggingface_hub'}  # the last comes with transformers
ROS_MODULE = re.compile(r'^(rclpy|launch|launch_ros|ament_index_python|[a-z0-9_]+_(msgs|interfaces))$')


def imported_modules(folder: Path) -> set[str]:
    names: set[str] = set()
    for path in folder.rglob('*.py'):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split('.')[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split('.')[0])
    return names - set(sys.stdlib_module_names) - {'__future__'}


def run_depends(package: str) -> set[str]:
    pkg = parse_package(str(REPO / package / 'package.xml'))
    return {d.name for d in pkg.exec_depends + pkg.run_depends}


@pytest.mark.parametrize('package, code', [('omni_ros', ['omni_ros', 'launch']), ('omni_ros_bt', ['omni_ros_bt']),
                                           ('omni_ros_bringup', ['launch'])])
def test_every_import_of_the_package_code_is_declared(package: str, code: list[str]) -> None:
    declared = run_depends(package)
    undeclared, unknown = [], []
    for folder in code:
        for module in sorted(imported_modules(REPO / package / folder)):
            if module == package or module in MINICPMO_EXTRA:
                continue
            if module in CPU_PIP_STEP:
                assert CPU_PIP_STEP[module] in (REPO / 'omni_ros' / 'requirements' / 'cpu-backend.txt').read_text()
                continue
            ros_package = ROS_MODULE.match(module) or module.startswith('omni_ros')
            key = PYTHON_KEYS.get(module) or (module if ros_package else None)
            if key is None:
                unknown.append(module)
            elif key not in declared:
                undeclared.append(f'{module} ({key})')
    assert not unknown, f'{package} imports {unknown}: give each a rosdep key here and in package.xml'
    assert not undeclared, f'{package}/package.xml does not declare {undeclared}'


def test_minicpmo_modules_are_in_the_minicpmo_extra() -> None:
    setup = (REPO / 'omni_ros' / 'setup.py').read_text()
    extra = re.search(r"'minicpmo': \[([^\]]*)\]", setup).group(1)
    assert all(f"'{name}" in extra for name in MINICPMO_EXTRA)


def test_readme_build_types_are_the_manifests() -> None:
    readme = (REPO / 'README.md').read_text()
    table = dict(re.findall(r'^\| `(omni_ros[a-z_]*)` \| (ament_[a-z]+) \|', readme, re.M))
    assert set(table) == set(ros_install.PACKAGES)
    for package, build_type in table.items():
        pkg = parse_package(str(REPO / package / 'package.xml'))
        assert pkg.package_format == 3 and pkg.get_build_type() == build_type, package
        if build_type == 'ament_python':
            assert (REPO / package / 'setup.py').is_file() and (REPO / package / 'resource' / package).is_file()


@pytest.mark.parametrize('package', ['omni_ros', 'omni_ros_bt'])
def test_colcon_sees_pytest_as_a_test_dependency(package: str) -> None:
    """colcon test runs pytest only for packages whose setup.py names it (extras 'test' or tests_require)."""
    tree = ast.parse((REPO / package / 'setup.py').read_text())
    setup = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, 'id', '') == 'setup')
    kwargs = {k.arg: k.value for k in setup.keywords}
    extras = ast.literal_eval(kwargs['extras_require']) if isinstance(kwargs.get('extras_require'), ast.Dict) else {}
    tests = ast.literal_eval(kwargs['tests_require']) if 'tests_require' in kwargs else []
    assert 'pytest' in extras.get('test', []) + tests
    assert 'python3-pytest' in {d.name for d in parse_package(str(REPO / package / 'package.xml')).test_depends}


def test_py_trees_is_pinned_at_the_version_jazzy_and_kilted_ship() -> None:
    from importlib import metadata

    snapshot = ros_install.upstream('rosdistro', 'OMNI_ROSDISTRO_UPSTREAM')
    shipped = set()
    for distro in ros_install.DISTROS:
        repos = yaml.safe_load((snapshot / distro / 'distribution.yaml').read_text())['repositories']
        shipped.add(repos['py_trees']['release']['version'].split('-')[0])
    (version,) = shipped
    assert f'py-trees=={version}' in (REPO / 'requirements' / 'bt.txt').read_text()
    assert metadata.version('py_trees') == version


def test_readme_states_the_commands_the_checks_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's install commands are those test_ros_install.py, test_cpu_install.py and the CPU
    backend's configure error use."""
    from omni_ros.backends.cpu.deps import install_hint

    readme = (REPO / 'README.md').read_text()
    section = readme.split('## In a ROS 2 workspace (Jazzy or Kilted)', 1)[1].split('\n## ', 1)[0]
    for distro in ros_install.DISTROS:
        assert f'source /opt/ros/{distro}/setup.bash' in section
    commands = (REPO / 'omni_ros' / 'test' / 'test_ros_install.py').read_text()
    assert 'rosdep install --from-paths src --ignore-src -y\n' in section
    assert "['rosdep', 'install', '--from-paths', 'src', '--ignore-src', '-y'," in commands
    assert '\ncolcon build\n' in section
    assert "['colcon', 'build']" in (REPO / 'omni_ros' / 'test' / 'ros_install.py').read_text()
    # The pip step: what configure prints for an installed omni_ros, with Ubuntu's python3.
    prefix = tmp_path / 'install' / 'omni_ros'
    (prefix / 'share' / 'ament_index' / 'resource_index' / 'packages').mkdir(parents=True)
    (prefix / 'share' / 'ament_index' / 'resource_index' / 'packages' / 'omni_ros').touch()
    (prefix / 'share' / 'omni_ros' / 'requirements').mkdir(parents=True)
    (prefix / 'share' / 'omni_ros' / 'requirements' / 'cpu-backend.txt').touch()
    monkeypatch.setenv('AMENT_PREFIX_PATH', str(prefix))
    hint = install_hint()
    match = re.fullmatch(r'run (\S+) -m pip install( --break-system-packages)? --no-deps -r (\S+)', hint)
    assert match and match.group(3) == str(prefix / 'share' / 'omni_ros' / 'requirements' / 'cpu-backend.txt'), hint
    step = ('python3 -m pip install --break-system-packages --no-deps -r '
            'install/omni_ros/share/omni_ros/requirements/cpu-backend.txt')
    assert step in section
