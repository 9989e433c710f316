"""The behaviours against a small in-process action server (bt_fake_omni) over real rclpy."""

from __future__ import annotations

import itertools
import os
import time

import py_trees
import pytest
from py_trees.common import Status

from bt_support import fresh_blackboard, rclpy_session  # noqa: F401  (fixtures; env set up first)
from bt_fake_omni import FakeOmni

pytestmark = pytest.mark.node  # the behaviours against a fake omni_node, both on executors in this process

_names = itertools.count()


@pytest.fixture
def ros(rclpy_session):
    """A fake omni_node and a client node in the same fresh namespace, and a runner factory."""
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node

    from omni_ros_bt import TreeRunner

    ns = f'/bt_test_{os.getpid()}_{next(_names)}'
    fake = FakeOmni(ns)
    node = Node('bt_client', namespace=ns)
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    runners: list[TreeRunner] = []

    def runner_for(root: py_trees.behaviour.Behaviour, period_sec: float = 0.05) -> TreeRunner:
        runner = TreeRunner(py_trees.trees.BehaviourTree(root), node, executor, period_sec=period_sec)
        runner.setup(timeout_sec=5.0)
        runners.append(runner)
        return runner

    class Ros:
        pass

    r = Ros()
    r.ns, r.fake, r.node, r.executor, r.runner_for = ns, fake, node, executor, runner_for
    yield r
    for runner in runners:
        runner.shutdown()
    executor.shutdown()
    node.destroy_node()
    fake.close()


def blackboard(key: str):
    return py_trees.blackboard.Blackboard.get(key)


def test_wait_for_watch_succeeds_with_the_event_on_the_blackboard(ros):
    from omni_ros_bt import WaitForWatch

    wait = WaitForWatch('wait_green', 'tell me when the light turns green', event_key='/green',
                        watch_id_key='/green_watch_id', result_key='/green_result')
    after = py_trees.behaviours.Success('drive_across')
    root = py_trees.composites.Sequence('cross', memory=True, children=[wait, after])
    status = ros.runner_for(root).run(timeout_sec=10.0)

    assert status == Status.SUCCESS, wait.feedback_message
    assert after.status == Status.SUCCESS
    event = blackboard('/green')
    assert event.text == 'seen: tell me when the light turns green'
    # The watch id is known before the event arrives, and it is the id omni_node uses.
    assert blackboard('/green_watch_id') == event.watch_id == ros.fake.accepted[-1] == wait.goal_id
    assert len(wait.goal_id) == 32
    assert blackboard('/green_result').watch_id == wait.goal_id
    assert wait.feedback_message.startswith('triggered')


def test_halting_cancels_the_goal_on_the_server(ros):
    from omni_ros_interfaces.action import SetWatch
    from omni_ros_bt import WaitForWatch

    wait = WaitForWatch('wait_forever', 'never ever')
    runner = ros.runner_for(wait)
    status = runner.run(timeout_sec=5.0, until=lambda _s: wait.goal_id in ros.fake.accepted)
    assert status == Status.RUNNING
    watch_id = wait.goal_id

    runner.halt()

    assert wait.status == Status.INVALID
    assert wait.pending_cancels() == []
    assert ros.fake.wait_for(lambda f: watch_id in f.outcomes), 'the server never ended the halted goal'
    assert ros.fake.outcomes[watch_id] == SetWatch.Result.CODE_CANCELED


def test_halting_before_the_goal_is_accepted_still_cancels_it(ros):
    from omni_ros_interfaces.action import SetWatch
    from omni_ros_bt import WaitForWatch

    wait = WaitForWatch('wait_forever', 'never ever')
    runner = ros.runner_for(wait)
    # Tick without spinning until the goal request is out; its acceptance has not been processed yet.
    deadline = time.monotonic() + 5.0
    while not wait.feedback_message.startswith('goal sent'):
        runner.tick()
        time.sleep(0.02)
        assert time.monotonic() < deadline, wait.feedback_message
    watch_id = wait.goal_id

    runner.halt()

    assert ros.fake.wait_for(lambda f: watch_id in f.outcomes), 'the goal accepted after halting was not canceled'
    assert ros.fake.outcomes[watch_id] == SetWatch.Result.CODE_CANCELED


def test_watch_timeout_fails_cleanly(ros):
    from omni_ros_interfaces.action import SetWatch
    from omni_ros_bt import ActionError, WaitForWatch

    wait = WaitForWatch('wait_short', 'never turns green', timeout_sec=0.4, event_key='/ev', result_key='/res',
                        error_key='/err')
    status = ros.runner_for(wait).run(timeout_sec=10.0)

    assert status == Status.FAILURE
    assert wait.error is ActionError.ACTION_ABORTED
    assert blackboard('/err') == 'ACTION_ABORTED'
    assert blackboard('/res').code == SetWatch.Result.CODE_TIMED_OUT
    assert 'timed out after 0.4 s' in wait.feedback_message
    assert not py_trees.blackboard.Blackboard.exists('/ev')
    assert wait.pending_cancels() == []


def test_rejected_watch_fails(ros):
    from omni_ros_bt import ActionError, WaitForWatch

    wait = WaitForWatch('wait_rejected', 'please reject this')
    status = ros.runner_for(wait).run(timeout_sec=10.0)

    assert status == Status.FAILURE
    assert wait.error is ActionError.GOAL_REJECTED_BY_SERVER
    assert 'rephrase' in wait.feedback_message


def test_missing_server_fails_after_the_wait(ros):
    from omni_ros_bt import ActionError, WaitForWatch

    wait = WaitForWatch('wait_nobody', 'tell me anything', action_name='/nobody_here/set_watch',
                        wait_for_server_timeout_sec=0.5)
    started = time.monotonic()
    status = ros.runner_for(wait).run(timeout_sec=10.0)

    assert status == Status.FAILURE
    assert wait.error is ActionError.SERVER_UNREACHABLE
    assert time.monotonic() - started < 3.0
    assert '/nobody_here/set_watch' in wait.feedback_message


def test_instruction_from_the_blackboard(ros):
    from omni_ros_bt import ActionError, WaitForWatch

    wait = WaitForWatch('wait_bb', instruction_key='/what')
    runner = ros.runner_for(wait)
    assert runner.run(timeout_sec=5.0) == Status.FAILURE
    assert wait.error is ActionError.INVALID_GOAL
    assert "'/what'" in wait.feedback_message
    assert ros.fake.accepted == []

    py_trees.blackboard.Blackboard.set('/what', 'tell me when the door opens')
    assert runner.run(timeout_sec=10.0) == Status.SUCCESS
    assert wait.event.text == 'seen: tell me when the door opens'


def test_ask_writes_the_answer(ros):
    from omni_ros_bt import Ask

    ask = Ask('ask_floor', 'Which floor does the display show?', answer_key='/answer', event_key='/answer_event')
    status = ros.runner_for(ask).run(timeout_sec=10.0)

    assert status == Status.SUCCESS, ask.feedback_message
    assert blackboard('/answer') == 'answer to: Which floor does the display show?'
    assert blackboard('/answer_event').question_id == ask.goal_id


def test_event_guard_filters_and_consumes(ros):
    from omni_ros_interfaces.msg import ProactiveEvent
    from omni_ros_bt import EventGuard

    by_id = EventGuard('help_called', watch_id='standing-0', event_key='/help')
    any_alert = EventGuard('any_alert', consume=False, max_age_sec=30.0, event_key=None)
    comments = EventGuard('comments', kinds=[ProactiveEvent.KIND_COMMENT], event_key=None)
    root = py_trees.composites.Parallel('guards', policy=py_trees.common.ParallelPolicy.SuccessOnAll(),
                                        children=[by_id, any_alert, comments])
    runner = ros.runner_for(root)
    # Wait for the subscription to match the fake's publisher before publishing.
    deadline = time.monotonic() + 5.0
    while ros.fake.events.get_subscription_count() < 1:
        assert time.monotonic() < deadline, 'the guards never subscribed'
        time.sleep(0.02)

    runner.tick()
    assert (by_id.status, any_alert.status, comments.status) == (Status.FAILURE,) * 3

    ros.fake.publish_event('someone is waving', watch_id='standing-1')
    ros.fake.publish_event('someone called for help', watch_id='standing-0')
    runner.spin_for(0.5)
    runner.tick()
    assert by_id.status == Status.SUCCESS
    assert blackboard('/help').text == 'someone called for help'
    assert any_alert.status == Status.SUCCESS and any_alert.event.watch_id == 'standing-0'
    assert comments.status == Status.FAILURE

    # Consumed: the same event does not satisfy the guard twice; without consume it still does.
    runner.tick()
    assert by_id.status == Status.FAILURE
    assert any_alert.status == Status.SUCCESS


def test_event_guard_on_a_watch_id_from_the_blackboard(ros):
    from omni_ros_bt import EventGuard

    guard = EventGuard('my_watch', watch_id_key='/watch_id')
    runner = ros.runner_for(guard)
    assert runner.tick() == Status.FAILURE
    assert 'no watch id' in guard.feedback_message
    py_trees.blackboard.Blackboard.set('/watch_id', 'abc')
    deadline = time.monotonic() + 5.0
    while ros.fake.events.get_subscription_count() < 1:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    ros.fake.publish_event('other', watch_id='def')
    ros.fake.publish_event('mine', watch_id='abc')
    runner.spin_for(0.5)
    assert runner.tick() == Status.SUCCESS
    assert guard.event.text == 'mine'


def test_server_lost_while_waiting(rclpy_session):
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node

    from omni_ros_bt import ActionError, TreeRunner, WaitForWatch

    ns = f'/bt_lost_{os.getpid()}'
    fake = FakeOmni(ns)
    node = Node('bt_client', namespace=ns)
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    wait = WaitForWatch('wait_forever', 'never ever', server_lost_timeout_sec=0.5)
    runner = TreeRunner(py_trees.trees.BehaviourTree(wait), node, executor, period_sec=0.05)
    runner.setup()
    try:
        assert runner.run(timeout_sec=5.0, until=lambda _s: wait.goal_id in fake.accepted) == Status.RUNNING
        fake.close(vanish=True)
        status = runner.run(timeout_sec=10.0)
        assert status == Status.FAILURE
        assert wait.error is ActionError.SERVER_LOST
    finally:
        runner.shutdown()
        executor.shutdown()
        node.destroy_node()


def test_example_tree_guard_preempts_the_errand_and_cancels_its_watch(ros):
    from omni_ros_interfaces.action import SetWatch
    from omni_ros_bt import example_tree

    ros.fake.trigger_after = 60.0  # the errand's first watch stays waiting
    said: list[str] = []
    root = example_tree.create_tree(ros.ns, say=said.append)
    runner = ros.runner_for(root)
    errand = root.children[1]
    wait_green = errand.children[0]
    runner.run(timeout_sec=10.0, until=lambda _s: wait_green.feedback_message.startswith('watching'))
    watch_id = wait_green.goal_id
    deadline = time.monotonic() + 5.0
    while ros.fake.events.get_subscription_count() < 1:
        assert time.monotonic() < deadline, 'the guard never subscribed'
        time.sleep(0.02)

    ros.fake.publish_event('someone fell near the door', watch_id='standing-0')
    status = runner.run(timeout_sec=10.0)

    assert status == Status.SUCCESS
    assert root.children[0].status == Status.SUCCESS and errand.status == Status.INVALID
    assert said == ['[bt] stopping to help (because: someone fell near the door)']
    assert ros.fake.wait_for(lambda f: f.outcomes.get(watch_id) == SetWatch.Result.CODE_CANCELED), \
        'the preempted watch was not canceled on the server'


def test_example_tree_runs_to_the_end_on_the_fake(ros):
    from omni_ros_bt import example_tree

    said: list[str] = []
    root = example_tree.create_tree(ros.ns, say=said.append)
    assert ros.runner_for(root).run(timeout_sec=20.0) == Status.SUCCESS
    assert said == ['[bt] crossing the street (because: seen: tell me when the traffic light turns green)',
                    '[bt] leaving the elevator (because: seen: tell me when the display shows floor 16)']
    assert blackboard(example_tree.SIGN_ANSWER) == 'answer to: What does the sign say?'
