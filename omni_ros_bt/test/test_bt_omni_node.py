"""Acceptance: the behaviours and the example tree against the real omni_node in another process.

- the example tree (console script, --demo) waits on watches over the replayed crossing scenario, the
  events arrive and the tree proceeds to the end;
- halting a WaitForWatch cancels the goal on omni_node (the watch disappears from list_watches);
- a watch timeout makes the behaviour fail cleanly (ACTION_ABORTED with CODE_TIMED_OUT, no goal left);
- an instruction omni_node refuses fails with GOAL_REJECTED_BY_SERVER;
- omni_node stopping under a running watch fails the behaviour instead of leaving it RUNNING.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import py_trees
import pytest
from py_trees.common import Status

from bt_support import fresh_blackboard, rclpy_session  # noqa: F401  (fixtures; env set up first)
from omni_ros.tools import processes

pytestmark = pytest.mark.dds

NS = f'/bt_accept_{os.getpid()}'


def start_omni(log_dir: Path, namespace: str, **params) -> processes.RosProcess:
    # Wall clock, no sensor input: the scripted backend never triggers these watches, so only the
    # goal life cycle (accept, cancel, timeout, abort) is exercised.
    return processes.start_node(os.environ, log_dir, params={'backend': 'scripted', **params},
                                remaps={'__ns': namespace})


@pytest.fixture(scope='module')
def omni(tmp_path_factory: pytest.TempPathFactory) -> Iterator[processes.RosProcess]:
    proc = start_omni(tmp_path_factory.mktemp('omni_logs'), NS)
    yield proc
    code = proc.stop()
    assert code == 0, f'omni_node did not shut down cleanly ({code}):\n{proc.output()}'


class Client:
    """A tree-owning node in this process; the test thread ticks and spins it (like TreeRunner.run)."""

    def __init__(self, namespace: str) -> None:
        from rclpy.executors import SingleThreadedExecutor

        import rclpy
        from omni_ros_interfaces.srv import ListWatches

        self.namespace = namespace
        self.node = rclpy.create_node('bt_acceptance')
        self.executor = SingleThreadedExecutor()
        self.executor.add_node(self.node)
        self.lister = self.node.create_client(ListWatches, f'{namespace}/list_watches')
        self.runners = []

    def runner(self, root: py_trees.behaviour.Behaviour):
        from omni_ros_bt import TreeRunner

        runner = TreeRunner(py_trees.trees.BehaviourTree(root), self.node, self.executor, period_sec=0.05)
        runner.setup()
        self.runners.append(runner)
        return runner

    def wait_active(self, proc: processes.RosProcess, timeout: float = 60.0) -> None:
        from omni_ros_bt.example_tree import wait_for_omni_active

        assert wait_for_omni_active(self.node, self.executor, self.namespace, timeout, proc.running), \
            f'omni_node did not become active:\n{proc.output()}'

    def watch_ids(self) -> list[str]:
        from omni_ros_interfaces.srv import ListWatches

        assert self.lister.wait_for_service(timeout_sec=10)
        future = self.lister.call_async(ListWatches.Request())
        self.executor.spin_until_future_complete(future, timeout_sec=10)
        assert future.done(), 'list_watches did not answer'
        return [w.watch_id for w in future.result().watches]

    def close(self) -> None:
        for runner in self.runners:
            runner.shutdown()
        self.executor.shutdown()
        self.node.destroy_node()


@pytest.fixture
def client(rclpy_session, omni) -> Iterator[Client]:
    c = Client(NS)
    c.wait_active(omni)
    yield c
    c.close()


def poll(condition, timeout: float, what: str, client: Client | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if client is not None:
            client.executor.spin_once(timeout_sec=0.05)
        else:
            time.sleep(0.05)
    pytest.fail(f'timed out after {timeout:g} s waiting for {what}')


def test_example_tree_proceeds_on_the_replayed_scenario(tmp_path: Path) -> None:
    """The console script, as a user runs it: omni_node + replay of the bundled scenario + the tree."""
    ns = f'/bt_demo_{os.getpid()}'
    out = subprocess.run([sys.executable, '-m', 'omni_ros_bt.example_tree', '--demo', '--rate', '2',
                          '--namespace', ns, '--timeout', '90'],
                         env=dict(os.environ), capture_output=True, text=True, timeout=240, cwd=tmp_path)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log
    lines = log.splitlines()

    def first(text: str) -> int:
        return next(i for i, line in enumerate(lines) if text in line)

    # The tree waits on each watch, the event arrives, and only then does it go on.
    assert first('wait_for_green: watching for') < first('crossing the street (because: The traffic light '
                                                        'just turned green.)')
    assert first('crossing the street') < first('wait_for_floor_16: watching for') < \
        first('leaving the elevator (because: The display now shows floor 16.)')
    assert first('leaving the elevator') < first('read_the_sign: asked')
    assert 'errand done; the sign says: The sign says MAIN ST CROSSING.' in log


def test_halting_cancels_the_watch_on_omni_node(client: Client, omni: processes.RosProcess) -> None:
    from omni_ros_bt import WaitForWatch

    wait = WaitForWatch('wait_green', 'tell me when the traffic light turns green', action_name=f'{NS}/set_watch')
    runner = client.runner(wait)
    runner.run(timeout_sec=20.0, until=lambda _s: wait.feedback_message.startswith('watching'))
    assert wait.status == Status.RUNNING, wait.feedback_message
    watch_id = wait.goal_id
    assert watch_id in client.watch_ids()

    runner.halt()

    assert wait.status == Status.INVALID
    poll(lambda: watch_id not in client.watch_ids(), 10, 'the halted watch to be removed', client)
    poll(lambda: f'watch {watch_id} ended: canceled by the client' in omni.output(), 10,
         "omni_node's log of the cancel")


def test_watch_timeout_fails_cleanly(client: Client) -> None:
    from omni_ros_interfaces.action import SetWatch
    from omni_ros_bt import ActionError, WaitForWatch

    wait = WaitForWatch('wait_knock', 'tell me when someone knocks on the door', action_name=f'{NS}/set_watch',
                        timeout_sec=1.0, event_key='/knock', error_key='/knock_error')
    started = time.monotonic()
    status = client.runner(wait).run(timeout_sec=20.0)

    assert status == Status.FAILURE
    assert 1.0 <= time.monotonic() - started < 10.0
    assert wait.error is ActionError.ACTION_ABORTED
    assert wait.result.code == SetWatch.Result.CODE_TIMED_OUT and wait.result.events == []
    assert 'timed out after 1 s' in wait.feedback_message
    assert py_trees.blackboard.Blackboard.get('/knock_error') == 'ACTION_ABORTED'
    assert not py_trees.blackboard.Blackboard.exists('/knock')
    assert wait.goal_id not in client.watch_ids()


def test_refused_instruction_fails_with_rejection(client: Client) -> None:
    from omni_ros_bt import ActionError, WaitForWatch

    # omni_node refuses instructions over 500 characters.
    wait = WaitForWatch('wait_long', 'tell me when ' + 'something happens ' * 40, action_name=f'{NS}/set_watch')
    assert client.runner(wait).run(timeout_sec=20.0) == Status.FAILURE
    assert wait.error is ActionError.GOAL_REJECTED_BY_SERVER


def test_node_stopping_under_a_running_watch_fails_the_behaviour(rclpy_session, tmp_path: Path) -> None:
    from omni_ros_bt import ActionError, WaitForWatch

    ns = f'/bt_stop_{os.getpid()}'
    proc = start_omni(tmp_path, ns)
    c = Client(ns)
    try:
        c.wait_active(proc)
        wait = WaitForWatch('wait_green', 'tell me when the traffic light turns green',
                            action_name=f'{ns}/set_watch', server_lost_timeout_sec=2.0)
        runner = c.runner(wait)
        runner.run(timeout_sec=20.0, until=lambda _s: wait.feedback_message.startswith('watching'))
        assert wait.status == Status.RUNNING, wait.feedback_message

        assert proc.stop() == 0, proc.output()
        status = runner.run(timeout_sec=20.0)

        # Either omni_node aborted the goal on its way out (with the reason) or the server vanished first.
        assert status == Status.FAILURE
        assert wait.error in (ActionError.ACTION_ABORTED, ActionError.SERVER_LOST), wait.feedback_message
        if wait.error is ActionError.ACTION_ABORTED:
            assert 'shutting down' in wait.feedback_message
    finally:
        c.close()
        proc.stop()
