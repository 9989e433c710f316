"""Example tree: a robot's errand that waits on omni_node's alerts, over the bundled `crossing` scenario.

    crossing_demo (Selector, reactive: the guard is checked every tick)
    ├── respond_to_standing_alert (Sequence)
    │   ├── standing_alert      EventGuard: an alert of standing watch `standing-0` (e.g. "someone fell")
    │   └── stop_and_help       Report
    └── crossing_errand (Sequence with memory)
        ├── wait_for_green      WaitForWatch "tell me when the traffic light turns green"
        ├── cross_the_street    Report (stand-in for e.g. a Nav2 NavigateToPose)
        ├── wait_for_floor_16   WaitForWatch "tell me when the display shows floor 16"
        ├── leave_the_elevator  Report
        └── read_the_sign       Ask "What does the sign say?"

The BehaviorTree.CPP version is bt_cpp/crossing_demo.xml.

Against a running omni_node (robot or simulation):
    omni_bt_example --namespace /omni
Self-contained over the bundled scenario (starts omni_node with the scripted backend and replays the
`crossing` bag with /clock, as the README's demo does):
    omni_bt_example --demo [--rate 2] [--backend scripted|cpu]
Exit status: 0 when the errand finished, 1 when a behaviour failed, 2 on timeout or a start-up problem.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import py_trees
from py_trees.common import Status

from omni_ros_bt.behaviours import Ask, EventGuard, WaitForWatch

GREEN_INSTRUCTION = 'tell me when the traffic light turns green'
FLOOR_INSTRUCTION = 'tell me when the display shows floor 16'
SIGN_QUESTION = 'What does the sign say?'
STANDING_WATCH = 'alert me if the smoke alarm goes off'  # what --demo loads as standing-0; never happens in `crossing`

# Blackboard keys the tree writes (absolute, so other trees and tests can read them).
GREEN_EVENT = '/green_event'
FLOOR_EVENT = '/floor_event'
SIGN_ANSWER = '/sign_answer'
STANDING_EVENT = '/standing_alert'


class Report(py_trees.behaviour.Behaviour):
    """Says what the robot does now and why (the event text on ``key``); stands in for a real action."""

    def __init__(self, name: str, action: str, key: str, say: Callable[[str], None] = print) -> None:
        super().__init__(name=name)
        self.action = action
        self.key = key
        self.say = say
        self.blackboard = self.attach_blackboard_client(name=name)
        self.blackboard.register_key(key=key, access=py_trees.common.Access.READ)

    def update(self) -> Status:
        value = self.blackboard.get(self.key) if self.blackboard.exists(self.key) else None
        why = getattr(value, 'text', value)
        self.feedback_message = f'{self.action} (because: {why})'
        self.say(f'[bt] {self.feedback_message}')
        return Status.SUCCESS


def create_tree(namespace: str = '', *, watch_timeout_sec: float = 30.0, ask_timeout_sec: float = 0.0,
                standing_watch_id: str = 'standing-0', say: Callable[[str], None] = print,
                wait_for_server_timeout_sec: float = 10.0) -> py_trees.behaviour.Behaviour:
    """The tree above; ``namespace`` is omni_node's (its actions and events topic live under it).

    An empty namespace leaves the names relative, so they resolve in the tree node's own namespace.
    """
    prefix = namespace.rstrip('/') + '/' if namespace else ''
    common: dict[str, Any] = dict(wait_for_server_timeout_sec=wait_for_server_timeout_sec)
    guard = py_trees.composites.Sequence('respond_to_standing_alert', memory=False, children=[
        EventGuard('standing_alert', topic=prefix + 'events', watch_id=standing_watch_id, event_key=STANDING_EVENT),
        Report('stop_and_help', 'stopping to help', STANDING_EVENT, say),
    ])
    errand = py_trees.composites.Sequence('crossing_errand', memory=True, children=[
        WaitForWatch('wait_for_green', GREEN_INSTRUCTION, action_name=prefix + 'set_watch',
                     timeout_sec=watch_timeout_sec, event_key=GREEN_EVENT, **common),
        Report('cross_the_street', 'crossing the street', GREEN_EVENT, say),
        WaitForWatch('wait_for_floor_16', FLOOR_INSTRUCTION, action_name=prefix + 'set_watch',
                     timeout_sec=watch_timeout_sec, event_key=FLOOR_EVENT, **common),
        Report('leave_the_elevator', 'leaving the elevator', FLOOR_EVENT, say),
        Ask('read_the_sign', SIGN_QUESTION, action_name=prefix + 'ask', timeout_sec=ask_timeout_sec,
            answer_key=SIGN_ANSWER, **common),
    ])
    return py_trees.composites.Selector('crossing_demo', memory=False, children=[guard, errand])


def wait_for_omni_active(node: Any, executor: Any, namespace: str, timeout_sec: float,
                         alive: Callable[[], bool] = lambda: True) -> bool:
    """True once omni_node publishes its state (it does only while active); goals sent earlier are rejected."""
    from omni_ros_interfaces.msg import OmniState

    seen: list[OmniState] = []
    prefix = namespace.rstrip('/') + '/' if namespace else ''
    sub = node.create_subscription(OmniState, prefix + 'state', seen.append, 10)
    try:
        deadline = time.monotonic() + timeout_sec
        while not seen and time.monotonic() < deadline and alive():
            executor.spin_once(timeout_sec=0.1)
        return bool(seen)
    finally:
        node.destroy_subscription(sub)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog='omni_bt_example', description=__doc__.splitlines()[0])
    parser.add_argument('--namespace', default='/omni', help="omni_node's namespace (default /omni)")
    parser.add_argument('--demo', action='store_true',
                        help='start omni_node and replay the bundled crossing scenario first')
    parser.add_argument('--backend', default='scripted', help='omni_node backend for --demo (default scripted)')
    parser.add_argument('--rate', type=float, default=1.0, help='replay rate for --demo')
    parser.add_argument('--watch-timeout', type=float, default=30.0,
                        help="seconds (omni_node's clock) each watch may take before it fails")
    parser.add_argument('--timeout', type=float, default=120.0, help='wall seconds before the tree is halted')
    parser.add_argument('--startup-timeout', type=float, default=120.0,
                        help='wall seconds to wait for omni_node to become active')
    parser.add_argument('--period', type=float, default=0.1, help='seconds between ticks')
    parser.add_argument('--standing-watch-id', default='standing-0',
                        help='watch id the guard reacts to (standing watches are standing-0, standing-1, ...)')
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.utilities import remove_ros_args

    from omni_ros.ros.spin import initialized

    ros_argv = sys.argv if argv is None else ['omni_bt_example', *argv]
    args = _parse(remove_ros_args(ros_argv)[1:])
    procs: list[Any] = []
    env = dict(os.environ)
    if args.demo:
        from omni_ros.tools import processes
        env = processes.isolated_ros_env()
        os.environ.update(env)  # this process joins the children's private ROS graph
    try:
        with initialized(ros_argv):
            node = rclpy.create_node('omni_bt_example')
            executor = SingleThreadedExecutor()
            executor.add_node(node)
            try:
                return _run(args, node, executor, env, procs)
            except KeyboardInterrupt:
                return 130
            finally:
                executor.shutdown()
                node.destroy_node()
    finally:
        for proc in reversed(procs):
            proc.stop()


def _start_demo(args: argparse.Namespace, env: dict[str, str], procs: list[Any]) -> tuple[Path, str]:
    from omni_ros import scenario
    from omni_ros.tools import processes

    scn = scenario.load_scenario('crossing')
    bag = scenario.cached_bag('crossing')  # written once, before the node starts
    log_dir = tempfile.mkdtemp(prefix='omni_bt_example_')
    params = {'use_sim_time': True, 'backend': args.backend, 'standing_watches': [STANDING_WATCH]}
    remaps = {'__ns': args.namespace, 'image': scn.camera.topic, 'audio': scn.audio.topic}
    procs.append(processes.start_node(env, log_dir, params=params, remaps=remaps))
    print(f'[bt] demo: omni_node ({args.backend} backend) in {args.namespace}, logs in {log_dir}', flush=True)
    return bag, log_dir


def _run(args: argparse.Namespace, node: Any, executor: Any, env: dict[str, str], procs: list[Any]) -> int:
    from omni_ros_bt.runner import TreeRunner

    bag: Path | None = None
    log_dir = ''
    if args.demo:
        bag, log_dir = _start_demo(args, env, procs)
    alive = (lambda: procs[0].running()) if procs else (lambda: True)
    print(f'[bt] waiting for omni_node in {args.namespace} to become active ...', flush=True)
    if not wait_for_omni_active(node, executor, args.namespace, args.startup_timeout, alive):
        print(f'[bt] omni_node in {args.namespace} did not become active within {args.startup_timeout:g} s: '
              'start it (autostart true) or fix --namespace' +
              (f'\n{procs[0].output()}' if procs else ''), file=sys.stderr)
        return 2
    root = create_tree(args.namespace, watch_timeout_sec=args.watch_timeout,
                       standing_watch_id=args.standing_watch_id)
    tree = py_trees.trees.BehaviourTree(root)
    runner = TreeRunner(tree, node, executor, period_sec=args.period)
    runner.setup(timeout_sec=15.0)
    if bag is not None:
        from omni_ros.tools import processes
        procs.append(processes.start_replay(env, log_dir, bag, rate=args.rate,
                                            extra=['--wait-for-subscribers', '30', '--tail', '3']))
        print(f'[bt] replaying the crossing scenario at {args.rate:g}x', flush=True)

    last: dict[str, str] = {}

    def report(t: py_trees.trees.BehaviourTree) -> None:
        # Print a behaviour's feedback when it changes, so the run reads as a log of what the tree waits on.
        for b in t.root.iterate():
            if isinstance(b, Report):
                continue  # says it itself
            if b.feedback_message and last.get(b.name) != b.feedback_message and b.status != Status.INVALID:
                last[b.name] = b.feedback_message
                print(f'[bt] {b.name}: {b.feedback_message}', flush=True)

    try:
        status = runner.run(timeout_sec=args.timeout, on_tick=report)
    except KeyboardInterrupt:
        runner.halt()
        raise
    finally:
        print(py_trees.display.unicode_tree(root, show_status=True), flush=True)
    runner.shutdown()
    if status == Status.INVALID:
        print(f'[bt] halted after {args.timeout:g} s (goals canceled)', flush=True)
        return 2
    errand = root.children[1]
    if status == Status.SUCCESS and errand.status == Status.SUCCESS:
        answer = py_trees.blackboard.Blackboard.get(SIGN_ANSWER)
        print(f'[bt] errand done; the sign says: {answer}', flush=True)
        return 0
    if status == Status.SUCCESS:
        print('[bt] errand interrupted by a standing alert', flush=True)
        return 0
    return 1


if __name__ == '__main__':
    sys.exit(main())
