"""omni_ros's rclpy code paths that need none of its interfaces, across processes: the process main
(spin.run), lifecycle transitions, parameters, executors, omni_replay, and the tests' own ros_client.

This module runs twice in ``make test``: here on Kilted's rclpy, and in the Jazzy venv on Jazzy's rclpy
7.1 (test_jazzy.py), so an API that only newer rclpy has (``with rclpy.init():``) fails a test. It
imports nothing from omni_ros_interfaces, numpy-free parts only, and std_msgs / rosgraph_msgs.
"""

from __future__ import annotations

import ast
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from support import wait_for

pytestmark = pytest.mark.dds

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PROBE = HERE / 'probe_node.py'
ACTIVE, INACTIVE, UNCONFIGURED = 3, 2, 1  # lifecycle_msgs/State primary states


def start_probe(log_dir: Path, ns: str, *params: str) -> subprocess.Popen:
    args = [sys.executable, str(PROBE), '--ros-args', '-r', f'__ns:={ns}']
    for param in params:
        args += ['-p', param]
    log = open(log_dir / f'probe{ns.replace("/", "_")}.log', 'w')
    return subprocess.Popen(args, env=os.environ, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def output(log_dir: Path, ns: str) -> str:
    return (log_dir / f'probe{ns.replace("/", "_")}.log').read_text(errors='replace')


def call(node: Any, srv_type: Any, name: str, request: Any) -> Any:
    client = node.create_client(srv_type, name)
    try:
        assert client.wait_for_service(timeout_sec=30), f'no service {name}'
        future = client.call_async(request)
        wait_for(future.done, 10, f'a response from {name}')
        return future.result()
    finally:
        node.destroy_client(client)


def state(node: Any, ns: str) -> int:
    from lifecycle_msgs.srv import GetState

    return call(node, GetState, f'{ns}/probe/get_state', GetState.Request()).current_state.id


def transition(node: Any, ns: str, transition_id: int) -> bool:
    from lifecycle_msgs.msg import Transition
    from lifecycle_msgs.srv import ChangeState

    request = ChangeState.Request(transition=Transition(id=transition_id))
    return call(node, ChangeState, f'{ns}/probe/change_state', request).success


def stop(proc: subprocess.Popen, sig: int) -> int:
    proc.send_signal(sig)
    try:
        return proc.wait(20)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_no_code_uses_the_context_manager_form_of_rclpy_init() -> None:
    """`with rclpy.init():` exists only in rclpy newer than Jazzy's (TypeError there)."""
    offenders = []
    for path in REPO.glob('omni_ros*/**/*.py'):
        if '.venv' in path.parts or 'build' in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    call_ = item.context_expr
                    if isinstance(call_, ast.Call) and ast.unparse(call_.func) in ('rclpy.init', 'init'):
                        offenders.append(f'{path.relative_to(REPO)}:{node.lineno}')
    assert not offenders, f'use omni_ros.ros.spin.initialized(args) instead: {offenders}'


def test_the_action_qos_keywords_are_those_of_this_rclpys_action_server_and_client() -> None:
    """omni_node's explicit action QoS (depth, result retention) is taken by Jazzy's and Kilted's rclpy alike
    (no action type is built for Jazzy here, so the keywords are bound to the constructors' signatures)."""
    import inspect

    from rclpy.action import ActionClient, ActionServer

    from omni_ros.ros import action_qos

    server = inspect.signature(ActionServer.__init__).bind(None, 'node', 'type', 'name', 'execute',
                                                           **action_qos.server_qos())
    client = inspect.signature(ActionClient.__init__).bind(None, 'node', 'type', 'name', **action_qos.client_qos())
    assert server.arguments['result_timeout'] == action_qos.RESULT_RETENTION
    for kwargs in (server.arguments, client.arguments):
        assert kwargs['result_service_qos_profile'].depth == kwargs['goal_service_qos_profile'].depth \
            == action_qos.GOAL_BURST


def test_main_autostarts_publishes_and_stops_cleanly_on_sigterm(ros_client, log_dir) -> None:
    from std_msgs.msg import String

    heard: list[str] = []
    ros_client.create_subscription(String, '/auto/chatter', lambda m: heard.append(m.data), 10)
    proc = start_probe(log_dir, '/auto', 'word:=ahoy')
    try:
        wait_for(lambda: heard, 30, f'chatter from the probe:\n{output(log_dir, "/auto")}')
        assert set(heard) == {'ahoy'} and state(ros_client, '/auto') == ACTIVE
    finally:
        code = stop(proc, signal.SIGTERM)
    assert code == 0 and 'probe: stopped cleanly' in output(log_dir, '/auto'), output(log_dir, '/auto')


def test_lifecycle_from_another_process_and_a_failed_configure_keeps_the_node_up(ros_client, log_dir) -> None:
    from lifecycle_msgs.msg import Transition
    from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
    from rcl_interfaces.srv import SetParameters
    from std_msgs.msg import String

    heard: list[str] = []
    ros_client.create_subscription(String, '/managed/chatter', lambda m: heard.append(m.data), 10)
    proc = start_probe(log_dir, '/managed', 'autostart:=false', 'word:=fail')
    try:
        assert state(ros_client, '/managed') == UNCONFIGURED
        assert not transition(ros_client, '/managed', Transition.TRANSITION_CONFIGURE)
        assert state(ros_client, '/managed') == UNCONFIGURED and proc.poll() is None
        assert "word must not be 'fail'" in output(log_dir, '/managed')
        word = Parameter(name='word', value=ParameterValue(type=ParameterType.PARAMETER_STRING, string_value='ok'))
        result = call(ros_client, SetParameters, '/managed/probe/set_parameters',
                      SetParameters.Request(parameters=[word]))
        assert result.results[0].successful
        assert transition(ros_client, '/managed', Transition.TRANSITION_CONFIGURE)
        assert transition(ros_client, '/managed', Transition.TRANSITION_ACTIVATE)
        wait_for(lambda: heard, 15, 'chatter once active')
        assert transition(ros_client, '/managed', Transition.TRANSITION_DEACTIVATE)
        assert state(ros_client, '/managed') == INACTIVE
        assert transition(ros_client, '/managed', Transition.TRANSITION_CLEANUP)
        assert state(ros_client, '/managed') == UNCONFIGURED
    finally:
        code = stop(proc, signal.SIGINT)
    assert code == 0, output(log_dir, '/managed')


def test_parameters_are_described_and_bad_changes_refused(ros_client, log_dir) -> None:
    from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
    from rcl_interfaces.srv import DescribeParameters, SetParameters

    proc = start_probe(log_dir, '/params')
    try:
        wait_for(lambda: state(ros_client, '/params') == ACTIVE, 30, 'the probe active')
        (described,) = call(ros_client, DescribeParameters, '/params/probe/describe_parameters',
                            DescribeParameters.Request(names=['rate'])).descriptors
        assert described.description.startswith('chatter messages per second')

        def set_rate(value: float) -> Any:
            rate = Parameter(name='rate', value=ParameterValue(type=ParameterType.PARAMETER_DOUBLE, double_value=value))
            return call(ros_client, SetParameters, '/params/probe/set_parameters',
                        SetParameters.Request(parameters=[rate])).results[0]

        refused = set_rate(1000.0)
        assert not refused.successful and 'rate' in refused.reason
        assert set_rate(20.0).successful
    finally:
        code = stop(proc, signal.SIGTERM)
    assert code == 0, output(log_dir, '/params')


def test_replay_main_plays_a_bag_with_its_clock(ros_client, tmp_path, log_dir) -> None:
    from rosbags.rosbag2 import Writer
    from rosbags.typesys import Stores, get_typestore
    from rosgraph_msgs.msg import Clock
    from std_msgs.msg import String

    store = get_typestore(Stores.ROS2_JAZZY)
    bag = tmp_path / 'words'
    start_ns = 1_700_000_000 * 10**9
    with Writer(bag, version=8) as writer:
        connection = writer.add_connection('/replayed/words', 'std_msgs/msg/String', typestore=store)
        for i in range(5):
            msg = store.types['std_msgs/msg/String'](data=f'word {i}')
            writer.write(connection, start_ns + i * 100_000_000, store.serialize_cdr(msg, 'std_msgs/msg/String'))
    words: list[str] = []
    clock: list[int] = []
    ros_client.create_subscription(String, '/replayed/words', lambda m: words.append(m.data), 10)
    ros_client.create_subscription(Clock, '/clock', lambda m: clock.append(m.clock.sec), 10)
    with open(log_dir / 'replay.log', 'w') as log:
        done = subprocess.run([sys.executable, '-m', 'omni_ros.ros.replay', str(bag), '--wait-for-subscribers', '20',
                               '--tail', '0.5'], env=os.environ, stdout=log, stderr=subprocess.STDOUT, timeout=60)
    replay_log = (log_dir / 'replay.log').read_text()
    assert done.returncode == 0, replay_log
    wait_for(lambda: len(words) == 5, 5, f'all five messages:\n{replay_log}')
    assert words == [f'word {i}' for i in range(5)]
    assert clock and min(clock) == start_ns // 10**9
