"""omni_node across processes: the replay tool publishes the bundled scenario with /clock, omni_node
runs in its own process with the scripted backend, and this process is the action client."""

from __future__ import annotations

import os
import time
from typing import Iterator

import pytest
from support import future_result, replay, send_watch, wait_for, watch_client

from omni_ros import scenario
from omni_ros.ros import mapping
from omni_ros.tools import processes

pytestmark = pytest.mark.dds

RATE = 2.0  # replay speed: keeps the tests short while the scripted backend easily keeps up


@pytest.fixture(scope='module')
def node(crossing: scenario.Scenario, tmp_path_factory: pytest.TempPathFactory) -> Iterator[processes.RosProcess]:
    log_dir = tmp_path_factory.mktemp('node_logs')
    proc = processes.start_node(os.environ, log_dir,
                                params={'use_sim_time': True, 'backend': 'scripted', 'default_cooldown': 1.0},
                                remaps={'image': crossing.camera.topic, 'audio': crossing.audio.topic})
    yield proc
    code = proc.stop()
    assert code == 0, f'omni_node did not shut down cleanly ({code}):\n{proc.output()}'


def test_one_shot_watch_gets_its_event_through_feedback_and_result(ros_client, node, crossing, log_dir) -> None:
    from omni_ros_interfaces.action import SetWatch
    from omni_ros_interfaces.msg import ProactiveEvent

    client = watch_client(ros_client, node)
    published: list[ProactiveEvent] = []
    ros_client.create_subscription(ProactiveEvent, 'events', published.append, 50)
    feedback: list = []
    handle = send_watch(client, 'Tell me when the traffic light turns green', feedback=feedback.append)
    assert handle.accepted, node.output()
    watch_id = bytes(handle.goal_id.uuid).hex()

    player = replay(crossing.name, log_dir, RATE)
    result = wait_for(lambda: future_result(handle.get_result_async()), 60, 'the watch result').result
    player.stop()

    assert result.code == SetWatch.Result.CODE_TRIGGERED, result.message
    assert result.watch_id == watch_id and len(result.events) == 1
    event = mapping.msg_to_event(result.events[0])
    assert event.watch_id == watch_id and 'green' in event.text
    # The light turns green 5.0 s in; the scripted line fires in the unit that contains 5.3 s.
    assert 4.0 <= event.stamp - crossing.start_time <= 6.0
    # One feedback at acceptance (no event, the meaning followed: '' from the scripted backend), one per trigger.
    assert [(f.feedback.trigger_count, f.feedback.interpretation) for f in feedback] == [(0, ''), (1, '')]
    assert [mapping.msg_to_event(f.feedback.event) for f in feedback[1:]] == [event]
    wait_for(lambda: any(m.watch_id == watch_id for m in published), 5, 'the alert on the events topic')


def test_continuous_watch_reports_each_trigger_then_cancel_ends_it(ros_client, node, crossing, log_dir) -> None:
    from omni_ros_interfaces.action import SetWatch
    from omni_ros_interfaces.srv import ListWatches

    client = watch_client(ros_client, node)
    lister = ros_client.create_client(ListWatches, 'list_watches')
    assert lister.wait_for_service(timeout_sec=10)
    feedback: list = []
    handle = send_watch(client, 'say when you hear the ding', continuous=True, feedback=feedback.append)
    assert handle.accepted, node.output()
    watch_id = bytes(handle.goal_id.uuid).hex()
    listed = future_result(lister.call_async(ListWatches.Request()))
    assert watch_id in [w.watch_id for w in listed.watches]

    player = replay(crossing.name, log_dir, RATE)
    wait_for(lambda: [f for f in feedback if f.feedback.trigger_count], 60, 'a ding alert as feedback')
    assert player.wait(60) == 0, player.output()
    assert [f.feedback.trigger_count for f in feedback[:2]] == [0, 1]
    assert all(f.feedback.watch_id == watch_id for f in feedback)
    feedback = feedback[1:]  # the alerts

    future_result(handle.cancel_goal_async())
    result = wait_for(lambda: future_result(handle.get_result_async()), 10, 'the canceled result').result
    assert result.code == SetWatch.Result.CODE_CANCELED
    assert len(result.events) == len(feedback) >= 1
    listed = future_result(lister.call_async(ListWatches.Request()))
    assert watch_id not in [w.watch_id for w in listed.watches]


def test_watch_times_out_on_simulated_time(ros_client, node, crossing, log_dir) -> None:
    from omni_ros_interfaces.action import SetWatch

    client = watch_client(ros_client, node)
    # Nothing in the scenario knocks: the watch must end by its 4 s (simulated) timeout.
    handle = send_watch(client, 'tell me when someone knocks', timeout=4.0)
    assert handle.accepted, node.output()
    player = replay(crossing.name, log_dir, RATE)
    started = time.monotonic()
    result = wait_for(lambda: future_result(handle.get_result_async()), 60, 'the timed-out result').result
    wall = time.monotonic() - started
    player.stop()
    assert result.code == SetWatch.Result.CODE_TIMED_OUT and result.events == []
    assert 'no trigger within 4 s' in result.message
    # 4 s of simulated time at 2x replay: about 2 s of wall time once /clock runs (not 4 s).
    assert wall < 15


def test_empty_instruction_is_rejected(ros_client, node) -> None:
    client = watch_client(ros_client, node)
    warm_up = send_watch(client, 'warm-up: returns once the node is active')
    future_result(warm_up.cancel_goal_async())
    handle = send_watch(client, '   ', retry=False)
    assert not handle.accepted
    assert 'rejected' in node.output()
