"""Watches across a backend restart, driven from another process through the lifecycle services.

Standing watches come from parameters and must be back after every configure; a watch set through
the action survives deactivate/activate (re-applied) and is aborted with a reason when the backend is
unloaded (cleanup), never silently dropped.
"""

from __future__ import annotations

import os

import pytest
from support import call, future_result, replay, send_watch, wait_for, watch_client
from support import change_state as transition
from support import lifecycle_state as state

from omni_ros import scenario
from omni_ros.ros import mapping
from omni_ros.tools import processes

pytestmark = pytest.mark.dds

STANDING = ['tell me when the traffic light turns green', 'alert me if someone falls']


def listed(ros_client) -> list:
    from omni_ros_interfaces.srv import ListWatches

    return list(call(ros_client, ListWatches, 'list_watches', ListWatches.Request()).watches)


def test_backend_restart_restores_standing_watches_and_ends_action_watches_with_a_reason(
        ros_client, log_dir, crossing: scenario.Scenario) -> None:
    from action_msgs.msg import GoalStatus
    from lifecycle_msgs.msg import Transition

    from omni_ros_interfaces.action import SetWatch
    from omni_ros_interfaces.msg import ProactiveEvent, WatchInfo

    node = processes.start_node(os.environ, log_dir, params={
        'use_sim_time': True, 'backend': 'scripted', 'standing_watches': STANDING},
        remaps={'image': crossing.camera.topic, 'audio': crossing.audio.topic})
    try:
        client = watch_client(ros_client, node)
        handle = send_watch(client, 'let me know when we reach floor 16', continuous=True)
        assert handle.accepted, node.output()
        watch_id = bytes(handle.goal_id.uuid).hex()
        before = listed(ros_client)
        standing_before = sorted((w.instruction, w.watch_id) for w in before if w.source == WatchInfo.SOURCE_PARAMETER)
        assert [i for i, _ in standing_before] == sorted(STANDING)
        assert watch_id in [w.watch_id for w in before]

        # Deactivate / activate keeps the backend: the action watch stays and its goal keeps running.
        assert transition(ros_client, Transition.TRANSITION_DEACTIVATE)
        assert transition(ros_client, Transition.TRANSITION_ACTIVATE)
        assert watch_id in [w.watch_id for w in listed(ros_client)]
        result_future = handle.get_result_async()
        assert not result_future.done()

        # Cleanup unloads the backend: the goal ends, aborted, saying why.
        assert transition(ros_client, Transition.TRANSITION_DEACTIVATE)
        assert transition(ros_client, Transition.TRANSITION_CLEANUP)
        outcome = wait_for(lambda: future_result(result_future), 10, 'the aborted watch result')
        assert outcome.status == GoalStatus.STATUS_ABORTED
        assert outcome.result.code == SetWatch.Result.CODE_ABORTED and outcome.result.watch_id == watch_id
        assert 'cleaned up' in outcome.result.message

        # Configure loads the backend again: the standing watches are back, the action watch is not.
        assert transition(ros_client, Transition.TRANSITION_CONFIGURE)
        assert transition(ros_client, Transition.TRANSITION_ACTIVATE)
        assert state(ros_client) == 'active'
        after = listed(ros_client)
        assert sorted(w.instruction for w in after) == sorted(STANDING)
        assert all(w.source == WatchInfo.SOURCE_PARAMETER for w in after)

        # And they are followed: the light watch alerts on the replayed scenario.
        light = next(w.watch_id for w in after if 'green' in w.instruction)
        events: list[ProactiveEvent] = []
        ros_client.create_subscription(ProactiveEvent, 'events', events.append, 50)
        player = replay(crossing.name, log_dir)
        event = wait_for(lambda: next((e for e in events if e.watch_id == light), None), 60,
                         f'an alert for the restored standing watch:\n{node.output()}')
        player.stop()
        assert 'green' in mapping.msg_to_event(event).text
    finally:
        assert node.stop() == 0, node.output()
