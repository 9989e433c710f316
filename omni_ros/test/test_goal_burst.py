"""Every accepted goal gets its result, when hundreds end at once: by cleanup, by cancel-all and by SIGTERM
of the node's process; and a burst of goal requests beyond ``max_goals`` is answered, goal by goal, with
the node saying that it shed load (a rate-limited log line, ``goals_shed`` on /diagnostics).

omni_node runs in its own process (scripted backend, no input: the watches just wait); this process is the
action client, with the QoS omni_node's clients use (``action_qos.client_qos``). rclpy's defaults on the
server lose most of these results (depth 10: a burst overwrites what the client has not taken yet).
"""

from __future__ import annotations

import os
import signal
from typing import Any, Iterator

import pytest
from support import cancel_all, change_state, send_goals, send_watch, set_parameters, wait_for
from support import watch_client

from omni_ros.tools import processes

N = 200  # goals ended at once in each case


def watch_goals(n: int, what: str = 'tell me when the traffic light turns green') -> list[Any]:
    from omni_ros_interfaces.action import SetWatch

    return [SetWatch.Goal(instruction=f'{what} ({i})', continuous=True) for i in range(n)]


def start_node(log_dir: Any, name: str = 'omni_node') -> processes.RosProcess:
    return processes.start_node(os.environ, log_dir, params={'backend': 'scripted', 'use_camera': False},
                                   remaps={'audio': '/unused/audio'}, name=name)


dds = pytest.mark.dds


@pytest.fixture
def node(log_dir) -> Iterator[processes.RosProcess]:
    proc = start_node(log_dir)
    yield proc
    assert proc.stop() == 0, proc.output()


@dds
def test_cleanup_and_cancel_all_end_hundreds_of_goals_and_every_result_arrives(ros_client, node) -> None:
    from action_msgs.msg import GoalStatus
    from lifecycle_msgs.msg import Transition

    from omni_ros_interfaces.action import SetWatch

    client = watch_client(ros_client, node)
    first = send_watch(client, 'tell me when the light turns green', continuous=True)  # waits for activation
    assert first.accepted, node.output()

    handles = [first, *send_goals(client, watch_goals(N))]
    assert all(h.accepted for h in handles), node.output()
    pending = [h.get_result_async() for h in handles]  # asked for before the goals end, as clients do
    assert change_state(ros_client, Transition.TRANSITION_DEACTIVATE)
    assert change_state(ros_client, Transition.TRANSITION_CLEANUP)
    wait_for(lambda: all(f.done() for f in pending), 60,
             f'{len(pending)} results after cleanup ({sum(f.done() for f in pending)} arrived):\n{node.output()}')
    results = [f.result() for f in pending]
    assert {r.status for r in results} == {GoalStatus.STATUS_ABORTED}
    assert all(r.result.code == SetWatch.Result.CODE_ABORTED and 'cleaned up' in r.result.message for r in results)

    assert change_state(ros_client, Transition.TRANSITION_CONFIGURE)
    assert change_state(ros_client, Transition.TRANSITION_ACTIVATE)
    handles = send_goals(client, watch_goals(N, 'say when the elevator reaches floor 16'))
    assert all(h.accepted for h in handles), node.output()
    pending = [h.get_result_async() for h in handles]
    response = cancel_all(ros_client)
    assert len(response.goals_canceling) == N
    wait_for(lambda: all(f.done() for f in pending), 60,
             f'{N} results after cancel-all ({sum(f.done() for f in pending)} arrived):\n{node.output()}')
    results = [f.result() for f in pending]
    assert {r.status for r in results} == {GoalStatus.STATUS_CANCELED}
    assert all(r.result.code == SetWatch.Result.CODE_CANCELED for r in results)


@dds
def test_a_burst_beyond_max_goals_is_answered_goal_by_goal_and_the_node_says_it_shed_load(ros_client, node) -> None:
    from action_msgs.msg import GoalStatus
    from diagnostic_msgs.msg import DiagnosticArray

    client = watch_client(ros_client, node)
    assert send_watch(client, 'tell me when the light turns green', continuous=True).accepted, node.output()
    assert all(r.successful for r in set_parameters(ros_client, {'max_goals': 300}))
    reports: list[dict[str, str]] = []
    ros_client.create_subscription(DiagnosticArray, '/diagnostics', lambda m: reports.extend(
        {kv.key: kv.value for kv in s.values} for s in m.status if s.name.startswith('omni_node')), 10)

    handles = send_goals(client, watch_goals(500))  # every request gets an answer: accepted or rejected
    accepted = [h for h in handles if h.accepted]
    assert len(accepted) == 299, f'{len(accepted)} of 500 accepted with max_goals 300 and one open'
    report = wait_for(lambda: next((r for r in reversed(reports) if int(r.get('goals_shed', 0)) >= 201), None),
                      30, 'goals_shed on /diagnostics')
    assert int(report['goals_open']) == 300 and int(report['goals_rejected']) >= 201
    log = node.output()
    shed_lines = [line for line in log.splitlines() if 'goals are open (max_goals)' in line]
    assert 1 <= len(shed_lines) <= 3, shed_lines  # said, and rate-limited: not once per rejected goal

    pending = [h.get_result_async() for h in accepted]
    cancel_all(ros_client)
    wait_for(lambda: all(f.done() for f in pending), 60, f'the results of {len(pending)} canceled goals')
    assert {f.result().status for f in pending} == {GoalStatus.STATUS_CANCELED}


@dds
@pytest.mark.parametrize('stop_signal', [signal.SIGTERM, signal.SIGINT], ids=['SIGTERM', 'SIGINT'])
def test_a_stop_signal_with_hundreds_of_open_goals_sends_every_result_before_the_process_ends(
        ros_client, log_dir, stop_signal: int) -> None:
    from action_msgs.msg import GoalStatus

    from omni_ros_interfaces.action import SetWatch

    node = start_node(log_dir)
    try:
        client = watch_client(ros_client, node)
        first = send_watch(client, 'tell me when the light turns green', continuous=True)
        assert first.accepted, node.output()
        handles = [first, *send_goals(client, watch_goals(N))]
        assert all(h.accepted for h in handles), node.output()
        pending = [h.get_result_async() for h in handles]
        node.popen.send_signal(stop_signal)
        assert node.wait(60) == 0, node.output()
        done = sum(f.done() for f in pending)
        wait_for(lambda: all(f.done() for f in pending), 10,
                 f'{len(pending)} results after signal {stop_signal} ({done} arrived before the process ended):\n'
                 f'{node.output()}')
        results = [f.result() for f in pending]
        assert {r.status for r in results} == {GoalStatus.STATUS_ABORTED}
        assert all(r.result.code == SetWatch.Result.CODE_ABORTED and 'shutting down' in r.result.message
                   for r in results)
    finally:
        node.stop()


@pytest.mark.node
def test_max_goals_never_exceeds_what_the_action_qos_holds() -> None:
    from omni_ros.ros import action_qos
    from omni_ros.session.config import NodeConfig
    from omni_ros.settings import options_of

    spec = next(s for s in options_of(NodeConfig) if s.name == 'max_goals')
    assert spec.maximum is not None and spec.maximum <= action_qos.GOAL_BURST and spec.default <= spec.maximum
    server = action_qos.server_qos()
    assert server['result_service_qos_profile'].depth >= action_qos.GOAL_BURST
    assert server['result_timeout'] >= 60
    assert action_qos.client_qos()['result_service_qos_profile'].depth >= action_qos.GOAL_BURST
