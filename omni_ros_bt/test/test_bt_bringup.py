"""omni_ros_bringup: what its launch file and parameter file name must exist and agree with the node.

`launch` is not installable here, so the launch file is read with `ast`: the included launch file and
its arguments, the parameter names it sets, the params file it points to. The parameter file is checked
against the node's own option table, and once against a real omni_node (standing watches listed).
"""

from __future__ import annotations

import ast
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from bt_support import fresh_blackboard, rclpy_session  # noqa: F401  (fixtures; env set up first)

REPO = Path(__file__).resolve().parents[2]
BRINGUP = REPO / 'omni_ros_bringup'
LAUNCH = BRINGUP / 'launch' / 'robot.launch.py'
PARAMS = BRINGUP / 'config' / 'omni_robot.yaml'
SHARE = {'omni_ros': REPO / 'omni_ros', 'omni_ros_bringup': BRINGUP}
# Set by the launch file through SetParameter; a key in the params file would override them.
LAUNCH_SET = {'image_transport', 'use_camera', 'use_microphone'}


def calls(tree: ast.AST, name: str) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call)
            and getattr(n.func, 'id', getattr(n.func, 'attr', None)) == name]


def const(node: ast.AST | None) -> object:
    return node.value if isinstance(node, ast.Constant) else None


def kwarg(call: ast.Call, name: str) -> ast.AST | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def declared_arguments(tree: ast.AST) -> dict[str, ast.Call]:
    return {const(c.args[0]): c for c in calls(tree, 'DeclareLaunchArgument')}


def share_paths(tree: ast.AST) -> list[Path]:
    """Files named as PathJoinSubstitution([FindPackageShare('pkg'), 'dir', 'file']) -> source paths."""
    out = []
    for call in calls(tree, 'PathJoinSubstitution'):
        parts = call.args[0].elts
        share = parts[0]
        if isinstance(share, ast.Call) and getattr(share.func, 'id', '') == 'FindPackageShare':
            out.append(SHARE[const(share.args[0])].joinpath(*[const(p) for p in parts[1:]]))
    return out


@pytest.fixture(scope='module')
def launch_tree() -> ast.Module:
    return ast.parse(LAUNCH.read_text(), str(LAUNCH))


@pytest.fixture(scope='module')
def node_options() -> dict[str, object]:
    from omni_ros.session.config import NODE_OPTIONS

    return {spec.name: spec for spec in NODE_OPTIONS}


def test_launch_file_shape(launch_tree: ast.Module) -> None:
    functions = [n.name for n in launch_tree.body if isinstance(n, ast.FunctionDef)]
    assert 'generate_launch_description' in functions
    modules = {n.module for n in ast.walk(launch_tree) if isinstance(n, ast.ImportFrom)}
    assert modules <= {'launch', 'launch.actions', 'launch.launch_description_sources', 'launch.substitutions',
                       'launch_ros.actions', 'launch_ros.substitutions'}


def test_named_files_exist_and_are_installed(launch_tree: ast.Module) -> None:
    paths = share_paths(launch_tree)
    assert REPO / 'omni_ros' / 'launch' / 'omni.launch.py' in paths
    assert PARAMS in paths
    for path in paths:
        assert path.is_file(), f'{LAUNCH.name} names {path}, which does not exist'
    # setup.py installs them where FindPackageShare looks.
    setup = (BRINGUP / 'setup.py').read_text()
    assert "glob('launch/*.launch.py')" in setup and "glob('config/*.yaml')" in setup
    omni_setup = (REPO / 'omni_ros' / 'setup.py').read_text()
    assert "glob('launch/*.launch.py')" in omni_setup


def test_included_launch_arguments_are_declared_there(launch_tree: ast.Module) -> None:
    included = ast.parse((REPO / 'omni_ros' / 'launch' / 'omni.launch.py').read_text())
    theirs = set(declared_arguments(included))
    (include,) = calls(launch_tree, 'IncludeLaunchDescription')
    args = kwarg(include, 'launch_arguments')
    passed = {const(k) for k in args.func.value.keys}  # {...}.items()
    assert passed <= theirs, f'omni.launch.py does not declare {sorted(passed - theirs)}'
    assert {'image_topic', 'audio_topic', 'params_file', 'use_sim_time', 'namespace'} <= passed
    # omni.launch.py remaps the node's inputs from those arguments, for raw and compressed images.
    remapped = {const(t.elts[0]) for c in calls(included, 'LifecycleNode') + calls(included, 'Node')
                for t in kwarg(c, 'remappings').elts}
    assert {'image', 'image/compressed', 'audio'} <= remapped


def test_every_launch_configuration_is_declared(launch_tree: ast.Module) -> None:
    ours = declared_arguments(launch_tree)
    used = {const(c.args[0]) for c in calls(launch_tree, 'LaunchConfiguration')}
    assert used <= set(ours), f'undeclared launch arguments {sorted(used - set(ours))}'
    assert {'camera_topic', 'microphone_topic', 'image_transport', 'use_sim_time', 'params_file'} <= set(ours)
    assert const(kwarg(ours['camera_topic'], 'default_value')) == '/camera/image_raw'


def test_parameters_set_by_the_launch_file_exist_on_the_node(launch_tree: ast.Module, node_options) -> None:
    names = {const(kwarg(c, 'name')) for c in calls(launch_tree, 'SetParameter')}
    assert names == LAUNCH_SET
    assert names <= set(node_options)
    image = declared_arguments(launch_tree)['image_transport']
    choices = [const(e) for e in kwarg(image, 'choices').elts]
    assert tuple(choices) == tuple(node_options['image_transport'].choices)


def test_readme_documents_every_launch_argument(launch_tree: ast.Module) -> None:
    readme = (BRINGUP / 'README.md').read_text()
    for name in declared_arguments(launch_tree):
        assert f'`{name}`' in readme, f'README does not document the launch argument {name}'
    assert 'ros_gz_bridge' in readme and 'use_sim_time:=true' in readme and '--clock' in readme


def test_params_file_is_valid_for_the_node(node_options) -> None:
    from omni_ros.session.config import NodeConfig
    from omni_ros.watches.table import normalize_instruction

    data = yaml.safe_load(PARAMS.read_text())
    assert list(data) == ['/**/omni_node'], 'match the node in any namespace'
    params = data['/**/omni_node']['ros__parameters']
    assert set(params) <= set(node_options), f'unknown parameters {sorted(set(params) - set(node_options))}'
    assert not set(params) & LAUNCH_SET, 'these would override the launch arguments'
    config = NodeConfig.from_values(params)
    assert len(config.standing_watches) >= 2
    for text in config.standing_watches:
        normalize_instruction(text)


def test_standing_watches_are_understood_by_the_cpu_backend() -> None:
    """backend auto falls back to the CPU backend on a robot without a GPU: configure must not fail."""
    from omni_ros import backends

    params = yaml.safe_load(PARAMS.read_text())['/**/omni_node']['ros__parameters']
    backend = backends.create_backend('cpu', {})
    for text in params['standing_watches']:
        backend.check_instruction(text)


def test_package_manifest() -> None:
    root = ET.parse(BRINGUP / 'package.xml').getroot()
    assert root.get('format') == '3' and root.findtext('name') == 'omni_ros_bringup'
    deps = {e.text for e in root.findall('exec_depend')}
    assert {'omni_ros', 'launch', 'launch_ros'} <= deps
    assert root.find('export/build_type').text == 'ament_python'
    assert (BRINGUP / 'resource' / 'omni_ros_bringup').is_file()
    assert not list(BRINGUP.glob('omni_ros_bringup/*.py')), 'launch/ and config/ only, no Python module'


@pytest.mark.dds
def test_params_file_loads_standing_watches_into_a_namespaced_node(rclpy_session, tmp_path: Path) -> None:
    import rclpy
    from omni_ros.tools import processes
    from omni_ros_interfaces.msg import WatchInfo
    from omni_ros_interfaces.srv import ListWatches

    ns = f'/bringup_{os.getpid()}'
    proc = processes.start_node(os.environ, tmp_path, params_file=PARAMS, params={'backend': 'scripted'},
                                remaps={'__ns': ns})
    node = rclpy.create_node('bringup_check')
    try:
        client = node.create_client(ListWatches, f'{ns}/list_watches')
        assert client.wait_for_service(timeout_sec=30), proc.output()
        expected = yaml.safe_load(PARAMS.read_text())['/**/omni_node']['ros__parameters']['standing_watches']
        watches = []
        for _ in range(50):  # listed once configure has run
            future = client.call_async(ListWatches.Request())
            rclpy.spin_until_future_complete(node, future, timeout_sec=5)
            watches = future.result().watches
            if watches:
                break
        assert [(w.watch_id, w.instruction, w.source) for w in watches] == \
            [(f'standing-{i}', text, WatchInfo.SOURCE_PARAMETER) for i, text in enumerate(expected)], proc.output()
    finally:
        node.destroy_node()
        assert proc.stop() == 0, proc.output()
