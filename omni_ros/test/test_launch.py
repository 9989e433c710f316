"""The launch files, really launched: ros2/launch + launch_ros (jazzy, from ../shared/upstream) start the
colcon-installed omni_node as ``ros2 launch`` would, and this process, a participant with default DDS
transports as the rest of a robot is, checks the result from outside: node active under its namespace,
topics remapped, the user's params file wins, messages flow both ways. ``launch_runner.py`` stands in for
the ros2cli front end only (not installable here); the launch service and actions are upstream's.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import textwrap
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from support import wait_for

import ros_install

pytestmark = pytest.mark.install  # launches processes over DDS, from a colcon install

RUNNER = Path(__file__).with_name('launch_runner.py')
ACTIVE = 3  # lifecycle_msgs/State PRIMARY_STATE_ACTIVE
# A robot's discovery, not the loopback-only one the other DDS tests use: measured, only that range lets
# a participant with other builtin transports discover this one, which would hide the mismatch. The
# test run's private ROS_DOMAIN_ID still keeps the traffic apart.
ROBOT_DISCOVERY = {'ROS_AUTOMATIC_DISCOVERY_RANGE': 'SUBNET'}


@pytest.fixture(autouse=True)
def robot_discovery(monkeypatch: pytest.MonkeyPatch) -> None:
    """Set before conftest's ros_client exists (autouse runs first), so it is created with it too."""
    monkeypatch.delenv('ROS_LOCALHOST_ONLY', raising=False)
    for name, value in ROBOT_DISCOVERY.items():
        monkeypatch.setenv(name, value)


@contextmanager
def launched(ws: ros_install.Workspace, log: Path, *args: str) -> Iterator[subprocess.Popen]:
    """`ros2 launch <args>` in the sourced workspace; stopped with SIGINT (ctrl-c) at the end."""
    env = {k: v for k, v in ws.env.items() if k != 'ROS_LOCALHOST_ONLY'} | ROBOT_DISCOVERY
    with open(log, 'w') as out:
        proc = subprocess.Popen([sys.executable, str(RUNNER), *args], env=env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
    assert code == 0, f'the launch did not end cleanly ({code}):\n{log.read_text()}'
    assert 'process has finished cleanly' in log.read_text(), log.read_text()


def call(node: Any, srv_type: Any, name: str, request: Any, log: Path, timeout: float = 30.0) -> Any:
    client = node.create_client(srv_type, name)
    try:
        assert client.wait_for_service(timeout_sec=timeout), f'no service {name}:\n{log.read_text()}'
        future = client.call_async(request)
        wait_for(future.done, 10, f'a response from {name}')
        return future.result()
    finally:
        node.destroy_client(client)


def wait_active(node: Any, fqn: str, log: Path) -> None:
    from lifecycle_msgs.srv import GetState

    def active() -> bool:
        return call(node, GetState, f'{fqn}/get_state', GetState.Request(), log).current_state.id == ACTIVE

    wait_for(active, 60, f'{fqn} active ({log})')


def parameters(node: Any, fqn: str, names: list[str], log: Path) -> dict[str, Any]:
    from rcl_interfaces.srv import GetParameters
    from rclpy.parameter import parameter_value_to_python

    response = call(node, GetParameters, f'{fqn}/get_parameters', GetParameters.Request(names=names), log)
    return {name: parameter_value_to_python(value) for name, value in zip(names, response.values, strict=True)}


def subscribed_topics(node: Any, name: str, namespace: str) -> set[str]:
    return {topic for topic, _ in node.get_subscriber_names_and_types_by_node(name, namespace)}


def node_pid(log: Path) -> int:
    found = re.search(r'\[omni_node-\d+\]: process started with pid \[(\d+)\]', log.read_text())
    assert found, log.read_text()
    return int(found.group(1))


def user_params(path: Path, values: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump({'/**/omni_node': {'ros__parameters': values}}))
    return path


def test_omni_launch_node_is_reachable_remapped_and_the_params_file_wins(colcon_ws, ros_client, tmp_path) -> None:
    from omni_ros_interfaces.msg import OmniState
    from omni_ros_interfaces.srv import ListWatches

    log = tmp_path / 'launch.log'
    params = user_params(tmp_path / 'mine.yaml', {'backend': 'scripted', 'default_cooldown': 7.5})
    states: list[OmniState] = []
    ros_client.create_subscription(OmniState, '/robot1/state', states.append, 10)
    with ros_install.timed('launch omni.launch.py, checks from another process'), \
            launched(colcon_ws, log, 'omni_ros', 'omni.launch.py', 'namespace:=robot1',
                     'image_topic:=/front/image_raw', 'audio_topic:=/mic/audio', f'params_file:={params}',
                     'backend:=cpu', 'use_sim_time:=true'):
        wait_active(ros_client, '/robot1/omni_node', log)
        # backend: the file's value beats the launch argument; use_sim_time: not in the file, so the
        # argument applies; default_cooldown: the file's.
        assert parameters(ros_client, '/robot1/omni_node', ['backend', 'use_sim_time', 'default_cooldown'], log) == \
            {'backend': 'scripted', 'use_sim_time': True, 'default_cooldown': 7.5}
        wait_for(lambda: {'/front/image_raw', '/mic/audio'} <= subscribed_topics(ros_client, 'omni_node', '/robot1'),
                 15, 'the remapped camera and microphone subscriptions')
        # Both directions with a default-transport participant: a topic it publishes, a service it serves.
        wait_for(lambda: states, 15, 'OmniState on /robot1/state')
        assert states[-1].backend == 'scripted'
        assert call(ros_client, ListWatches, '/robot1/list_watches', ListWatches.Request(), log).watches == []
        # Nothing set a DDS transport for the node alone.
        environ = Path(f'/proc/{node_pid(log)}/environ').read_bytes().split(b'\0')
        assert not [v for v in environ if v.startswith((b'FASTDDS_BUILTIN_TRANSPORTS=', b'RMW_FASTRTPS_'))]


def test_robot_launch_remaps_and_the_params_file_wins_over_its_arguments(colcon_ws, ros_client, tmp_path) -> None:
    from omni_ros_interfaces.msg import WatchInfo
    from omni_ros_interfaces.srv import ListWatches

    log = tmp_path / 'launch.log'
    watches = ['tell me when the doorbell rings', 'alert me if someone falls']
    params = user_params(tmp_path / 'robot.yaml', {'use_camera': True, 'standing_watches': watches})
    with ros_install.timed('launch robot.launch.py, checks from another process'), \
            launched(colcon_ws, log, 'omni_ros_bringup', 'robot.launch.py', 'camera_topic:=/cam/image',
                     'image_transport:=compressed', 'microphone_topic:=/robot_mic', 'use_camera:=false',
                     'backend:=scripted', f'params_file:={params}'):
        wait_active(ros_client, '/omni/omni_node', log)
        values = parameters(ros_client, '/omni/omni_node', ['use_camera', 'image_transport', 'backend'], log)
        assert values == {'use_camera': True, 'image_transport': 'compressed', 'backend': 'scripted'}
        wait_for(lambda: {'/cam/image/compressed', '/robot_mic'} <= subscribed_topics(ros_client, 'omni_node', '/omni'),
                 15, 'the compressed camera and microphone subscriptions')
        listed = call(ros_client, ListWatches, '/omni/list_watches', ListWatches.Request(), log).watches
        assert [(w.watch_id, w.instruction, w.source) for w in listed] == \
            [(f'standing-{i}', text, WatchInfo.SOURCE_PARAMETER) for i, text in enumerate(watches)]


PARENT = '''
import json
from launch import LaunchDescription
from launch.actions import IncludeLaunchDescription, OpaqueFunction, SetLaunchConfiguration, Shutdown
from launch.launch_description_sources import PythonLaunchDescriptionSource

def record(context):
    configurations = dict(context.launch_configurations)
    print('AFTER-INCLUDE ' + json.dumps({{
        'configurations': sorted(k for k in configurations if k not in ('global_params', 'ros_remaps')),
        'global_params': 'global_params' in configurations or 'ros_remaps' in configurations,
        'env': {{k: context.environment.get(k)
                for k in ('FASTDDS_BUILTIN_TRANSPORTS', 'FASTDDS_DEFAULT_PROFILES_FILE')}},
    }}), flush=True)
    return [Shutdown(reason='recorded')]

def generate_launch_description():
    return LaunchDescription([
        SetLaunchConfiguration('robot_name', 'r2'),
        IncludeLaunchDescription(PythonLaunchDescriptionSource({path!r}),
                                 launch_arguments={{'backend': 'scripted'}}.items()),
        OpaqueFunction(function=record),
    ])
'''


@pytest.mark.parametrize('package, file', [('omni_ros', 'omni.launch.py'), ('omni_ros_bringup', 'robot.launch.py')])
def test_an_unscoped_include_leaves_the_parent_launch_as_it_was(colcon_ws, tmp_path, package, file) -> None:
    """IncludeLaunchDescription (jazzy) sets the arguments it passes in the parent; nothing else may leak."""
    path = colcon_ws.install / package / 'share' / package / 'launch' / file
    parent = tmp_path / 'parent.launch.py'
    parent.write_text(textwrap.dedent(PARENT.format(path=str(path))))
    with ros_install.timed(f'launch: unscoped include of {file}'):
        done = subprocess.run([sys.executable, str(RUNNER), str(parent)], env=colcon_ws.env, capture_output=True,
                              text=True, timeout=60)
    lines = [line for line in done.stdout.splitlines() if line.startswith('AFTER-INCLUDE ')]
    assert lines, done.stdout + done.stderr
    after = json.loads(lines[0].split(' ', 1)[1])
    assert after['configurations'] == ['backend', 'robot_name'], after
    assert not after['global_params'], 'SetParameter/SetRemap leaked into the parent: it would reach every later node'
    assert after['env'] == {'FASTDDS_BUILTIN_TRANSPORTS': None, 'FASTDDS_DEFAULT_PROFILES_FILE': None}

