"""The main job: replay a bundled scenario through omni_node and print the alerts as they come.

Starts omni_node (default backend unless --backend), sets one SetWatch goal per watch listed in the
scenario's ground truth, replays the scenario bag with /clock (simulated time), prints every event
with its simulated time and watch id, and ends with a table comparing alerts to the ground truth:
the latency is when the alert reached this client (simulated time, so what a subscriber experiences:
the unit's end, the backend's processing and DDS) minus when the condition began; the start of the unit
the alert refers to (its stamp) is shown beside it.
Exits 0 when every watch behaved as expected (alerted within its window, or stayed silent).

    python -m omni_ros.ros.demo [--scenario crossing] [--backend cpu] [--rate 1.0]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

import rclpy
from rclpy.action import ActionClient
from rclpy.node import Node
from rclpy.parameter import Parameter

from omni_ros import scenario
from omni_ros.ros import mapping
from omni_ros.ros.action_qos import client_qos
from omni_ros.ros.spin import initialized
from omni_ros.tools import processes
from omni_ros.data import Event, EventKind
from omni_ros_interfaces.action import SetWatch
from omni_ros_interfaces.msg import ProactiveEvent


@dataclass
class WatchRun:
    expected: scenario.ExpectedWatch
    goal_handle: Any = None  # rclpy's ClientGoalHandle once the goal is accepted
    watch_id: str = ''
    alerts: list[Event] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)  # simulated time each alert reached this client
    result_code: int | None = None

    def verdict(self, start: float) -> tuple[bool, str]:
        first = self.alerts[0].stamp - start if self.alerts else None
        at = self.expected.at
        if at is None:
            return (first is None, 'silent, as expected' if first is None else f'false alarm at {first:.1f} s')
        if first is None:
            return False, 'MISSED'
        ok = at <= first + 1.0 and first <= at + self.expected.window
        latency = f'latency {self.arrivals[0] - start - at:+.2f} s' if self.arrivals else 'latency -'
        return ok, (f'{latency} (unit start {first - at:+.2f} s)'
                    + ('' if ok else ' (outside the expected window)'))


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--scenario', default='crossing', help='bundled scenario name or path to a scenario YAML')
    parser.add_argument('--backend', default='', help="omni_node backend (default: the node's default)")
    parser.add_argument('--rate', type=float, default=1.0, help='replay rate (1.0 = real time)')
    parser.add_argument('--startup-timeout', type=float, default=120.0,
                        help='seconds to wait for omni_node to come up (model loading)')
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    scn = scenario.load_scenario(args.scenario)
    print(f'[demo] scenario {scn.name}: {scn.description}', flush=True)
    scenario.cached_bag(args.scenario)  # generate before the node starts, so no time is lost later
    # This process and its children share one private ROS graph on this machine.
    env = processes.isolated_ros_env()
    os.environ.update(env)
    log_dir = tempfile.mkdtemp(prefix='omni_demo_')
    params: dict[str, object] = {'use_sim_time': True}
    if args.backend:
        params['backend'] = args.backend
    remaps = {'image': scn.camera.topic, 'audio': scn.audio.topic}
    procs = [processes.start_node(env, log_dir, params=params, remaps=remaps)]
    try:
        with initialized():
            client = Node('omni_demo', parameter_overrides=[Parameter('use_sim_time', value=True)])
            try:
                return 0 if _run(client, scn, args, procs, env, log_dir) else 1
            finally:
                client.destroy_node()
    finally:
        for proc in reversed(procs):
            proc.stop()


def _run(client: Node, scn: scenario.Scenario, args: argparse.Namespace, procs: list[processes.RosProcess],
         env: dict[str, str], log_dir: str) -> bool:
    node_proc = procs[0]
    runs = [WatchRun(w) for w in scn.expected.watches]
    start = scn.start_time
    by_id: dict[str, WatchRun] = {}

    def on_event(msg: ProactiveEvent) -> None:
        event = mapping.msg_to_event(msg)
        if event.kind is EventKind.ALERT:
            return  # printed through the watch's feedback
        print(f'[demo] sim {event.stamp:.2f} (t={event.stamp - start:5.1f} s)  {event.kind.value:7s} '
              f'"{event.text}"', flush=True)

    def feedback(msg: SetWatch.Impl.FeedbackMessage) -> None:
        run = by_id.get(msg.feedback.watch_id)
        if msg.feedback.trigger_count == 0:  # sent at acceptance: the meaning the backend follows
            print(f'[demo] watch {msg.feedback.watch_id} ({run.expected.id if run else "?"}) means: '
                  f'{msg.feedback.interpretation or "(the backend does not say)"}', flush=True)
            return
        event = mapping.msg_to_event(msg.feedback.event)
        if run is not None:
            run.alerts.append(event)
            run.arrivals.append(client.get_clock().now().nanoseconds * 1e-9)
        print(f'[demo] sim {event.stamp:.2f} (t={event.stamp - start:5.1f} s)  ALERT   watch {msg.feedback.watch_id} '
              f'({run.expected.id if run else "?"}): "{event.text}" '
              f'[{event.modality.value}, confidence {event.confidence:.2f}]', flush=True)

    client.create_subscription(ProactiveEvent, 'events', on_event, 50)
    action: ActionClient = ActionClient(client, SetWatch, 'set_watch', **client_qos())
    deadline = time.monotonic() + args.startup_timeout
    print('[demo] waiting for omni_node (loading its backend) ...', flush=True)
    while not action.wait_for_server(timeout_sec=1.0):
        if not node_proc.running() or time.monotonic() > deadline:
            print(f'[demo] omni_node did not come up; its log ({node_proc.log_path}):\n{node_proc.output()}')
            return False
    # The action server exists before activation finishes: retry until goals are accepted.
    for run in runs:
        goal = SetWatch.Goal(instruction=run.expected.instruction, continuous=True,
                             timeout=mapping.duration_to_msg(0.0))
        while True:
            future = action.send_goal_async(goal, feedback_callback=feedback)
            rclpy.spin_until_future_complete(client, future, timeout_sec=10.0)
            handle = future.result()
            if handle is not None and handle.accepted:
                break
            if time.monotonic() > deadline or not node_proc.running():
                print(f'[demo] watch "{goal.instruction}" was rejected; omni_node log:\n{node_proc.output()}')
                return False
            time.sleep(0.5)
        run.goal_handle = handle
        run.watch_id = bytes(handle.goal_id.uuid).hex()
        by_id[run.watch_id] = run
        print(f'[demo] watch {run.watch_id[:8]} set: "{goal.instruction}"', flush=True)

    replay = processes.start_replay(env, log_dir, scenario.cached_bag(args.scenario), rate=args.rate,
                                    extra=['--wait-for-subscribers', '30', '--tail', '3'])
    procs.append(replay)
    print(f'[demo] replaying {scn.duration:g} s of {scn.name} at {args.rate:g}x with /clock', flush=True)
    limit = time.monotonic() + (scn.duration + 10.0) / args.rate + 60.0
    while replay.running() and time.monotonic() < limit:
        rclpy.spin_once(client, timeout_sec=0.1)
    # Let the node finish the last units before the watches are closed.
    settle = time.monotonic() + 3.0
    while time.monotonic() < settle:
        rclpy.spin_once(client, timeout_sec=0.1)
    for run in runs:
        future = run.goal_handle.cancel_goal_async()
        rclpy.spin_until_future_complete(client, future, timeout_sec=5.0)
    if replay.running() or replay.wait(5.0) != 0:
        print(f'[demo] replay failed; its log:\n{replay.output()}')
        return False

    print('\n[demo] watch                        expected     result')
    all_ok = True
    for run in runs:
        ok, text = run.verdict(start)
        all_ok &= ok
        expected = 'never' if run.expected.at is None else f'{run.expected.at:.1f} s'
        print(f'[demo] {"ok " if ok else "BAD"} {run.expected.id:24s} {expected:12s} {text}')
    print(f'[demo] {"all watches behaved as expected" if all_ok else "some watches did not"}', flush=True)
    return all_ok


if __name__ == '__main__':
    sys.exit(main())
