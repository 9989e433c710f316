"""What launch/ and config/ name must exist and agree with the node (read statically; test_launch.py launches them)."""

from __future__ import annotations

import ast
import configparser
from pathlib import Path

import pytest
import yaml

from omni_ros import backends
from omni_ros.session.config import NODE_OPTIONS, SECTIONS

PACKAGE = Path(__file__).resolve().parents[1]
LAUNCH = PACKAGE / 'launch' / 'omni.launch.py'
PARAMS = PACKAGE / 'config' / 'omni_node.yaml'


def declared_parameters() -> set[str]:
    names = {spec.name for spec in NODE_OPTIONS} | {'use_sim_time'}
    for section, options in SECTIONS.items():
        names |= {f'{section}.{spec.name}' for spec in options}
    for backend in backends.BUILTIN:
        names |= {f'{backend}.{spec.name}' for spec in backends.backend_options(backend)}
    return names


def flatten(tree: dict, prefix: str = '') -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(flatten(value, f'{prefix}{key}.'))
        else:
            out[f'{prefix}{key}'] = value
    return out


def console_scripts() -> set[str]:
    tree = ast.parse((PACKAGE / 'setup.py').read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value == 'console_scripts':
                    return {ast.literal_eval(item).split('=')[0].strip() for item in value.elts}
    raise AssertionError('no console_scripts in setup.py')


def launch_calls(name: str) -> list[ast.Call]:
    tree = ast.parse(LAUNCH.read_text())
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, 'id', '') == name]


def keywords(call: ast.Call) -> dict[str, ast.expr]:
    return {k.arg: k.value for k in call.keywords if k.arg}


def test_params_file_sets_only_declared_parameters_with_valid_values() -> None:
    params = flatten(yaml.safe_load(PARAMS.read_text())['/**/omni_node']['ros__parameters'])
    unknown = set(params) - declared_parameters()
    assert not unknown, f'{PARAMS.name} sets parameters omni_node does not declare: {sorted(unknown)}'
    specs = {s.name: s for s in NODE_OPTIONS}
    for name, value in params.items():
        if name in specs:
            specs[name].validate(value)
        else:
            group, option = name.split('.', 1)
            options = SECTIONS.get(group) or backends.backend_options(group)
            {s.name: s for s in options}[option].validate(value)
    # Every node parameter is shown (and commented) in the params file users copy; those the launch file
    # sets are commented out, since a key in the file would override the launch argument.
    launch_set = set_by_launch()
    assert not launch_set & set(params), f'{PARAMS.name} would override the launch arguments {launch_set & set(params)}'
    text = PARAMS.read_text()
    assert all(f'# {name}: ' in text for name in launch_set - {'use_sim_time'})
    assert {s.name for s in NODE_OPTIONS} - launch_set <= set(params)
    assert {f'{g}.{s.name}' for g, options in SECTIONS.items() for s in options} <= set(params)


def test_launch_file_starts_an_installed_executable_of_this_package() -> None:
    (node,) = launch_calls('LifecycleNode')
    kw = keywords(node)
    assert ast.literal_eval(kw['package']) == 'omni_ros'
    assert ast.literal_eval(kw['executable']) in console_scripts()
    assert ast.literal_eval(kw['name']) == 'omni_node'


def set_by_launch() -> set[str]:
    return {ast.literal_eval(keywords(c)['name']) for c in launch_calls('SetParameter')}


def test_launch_file_remaps_the_node_inputs_and_sets_no_transport_for_the_node() -> None:
    (node,) = launch_calls('LifecycleNode')
    remapped = {ast.literal_eval(pair.elts[0]) for pair in keywords(node)['remappings'].elts}
    assert remapped == {'image', 'image/compressed', 'audio'}
    # A DDS transport set for this node alone cuts it off from the robot (README, "Camera frames and DDS").
    assert not launch_calls('SetEnvironmentVariable') and 'FASTDDS' not in LAUNCH.read_text().split('"""', 2)[2]


def test_launch_arguments_used_are_declared_and_parameters_exist() -> None:
    declared = {ast.literal_eval(c.args[0]) for c in launch_calls('DeclareLaunchArgument')}
    used = {ast.literal_eval(c.args[0]) for c in launch_calls('LaunchConfiguration')}
    assert used <= declared, f'undeclared launch arguments: {used - declared}'
    (node,) = launch_calls('LifecycleNode')
    # Only the params file is the node's own parameter list: what the launch arguments set comes before it.
    (params_file,) = keywords(node)['parameters'].elts
    assert isinstance(params_file, ast.Call) and ast.literal_eval(params_file.args[0]) == 'params_file'
    names = set_by_launch()
    assert names <= declared_parameters()
    assert names == {'backend', 'use_sim_time'}


def test_params_file_path_in_launch_is_installed_by_setup() -> None:
    (default,) = [c for c in launch_calls('DeclareLaunchArgument') if ast.literal_eval(c.args[0]) == 'params_file']
    parts = [ast.literal_eval(e) for e in keywords(default)['default_value'].args[0].elts[1:]]
    assert PACKAGE.joinpath(*parts) == PARAMS
    setup = (PACKAGE / 'setup.py').read_text()
    assert "glob('config/*.yaml')" in setup and "glob('launch/*.launch.py')" in setup


def test_setup_cfg_installs_scripts_where_ros2_run_finds_them() -> None:
    cfg = configparser.ConfigParser()
    cfg.read(PACKAGE / 'setup.cfg')
    assert cfg['install']['install_scripts'] == '$base/lib/omni_ros'


@pytest.mark.parametrize('package', ['omni_ros', 'omni_ros_interfaces'])
def test_package_manifests_are_valid(package: str) -> None:
    from catkin_pkg.package import parse_package

    pkg = parse_package(str(PACKAGE.parent / package / 'package.xml'))
    assert pkg.name == package and pkg.package_format == 3
    build_type = pkg.get_build_type()
    assert build_type == ('ament_python' if package == 'omni_ros' else 'ament_cmake')
