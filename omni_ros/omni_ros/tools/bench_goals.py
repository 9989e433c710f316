"""How many goals per second omni_node accepts, and what a client sees beyond that.

omni_node runs in its own process (scripted backend, no input, so only goal handling costs anything);
this process is the action client. Printed, each measured in this run:

- acceptance: ``--goals`` SetWatch requests sent at once; goals per second from the first request to the
  last answer, and the slowest answer;
- results: all of them ended at once (cancel-all); results per second until the last one arrived;
- beyond ``max_goals``: twice ``--limit`` requests at once with ``max_goals`` set to ``--limit``: how
  many were accepted, rejected (each with an answer) and never answered, and ``goals_shed`` on
  /diagnostics;
- a client on rclpy's default action QoS (depth 10) sending the same burst: how many answers it gets.

Run: ``python -m omni_ros.tools.bench_goals`` (part of ``make bench``); ``--goals 100 --limit 50`` is brief.
No ROS is imported until it runs (the core loads no ROS).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from typing import Any, Callable

from omni_ros.tools import processes


def _wait(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def _goals(n: int, tag: str) -> list[Any]:
    from omni_ros_interfaces.action import SetWatch

    return [SetWatch.Goal(instruction=f'tell me when the light turns green ({tag} {i})', continuous=True)
            for i in range(n)]


def _burst(client: Any, goals: list[Any], timeout: float) -> dict[str, Any]:
    """Send ``goals`` at once; when each was answered (seconds from the first send), or None."""
    answered: list[float | None] = [None] * len(goals)
    start = time.perf_counter()

    def done(i: int, _: Any) -> None:
        answered[i] = time.perf_counter() - start

    futures = []
    for i, goal in enumerate(goals):
        future = client.send_goal_async(goal)
        future.add_done_callback(lambda f, i=i: done(i, f))
        futures.append(future)
    _wait(lambda: all(f.done() for f in futures), timeout)
    handles = [f.result() if f.done() else None for f in futures]
    times = [t for t in answered if t is not None]
    return {'handles': handles, 'answered': len(times), 'last': max(times, default=float('nan')),
            'accepted': sum(1 for h in handles if h is not None and h.accepted),
            'rejected': sum(1 for h in handles if h is not None and not h.accepted)}


def _cancel_all(node: Any) -> None:
    from action_msgs.srv import CancelGoal

    client = node.create_client(CancelGoal, 'set_watch/_action/cancel_goal')
    client.wait_for_service(timeout_sec=10)
    future = client.call_async(CancelGoal.Request())
    _wait(future.done, 30)


def _set_limit(node: Any, limit: int) -> None:
    from rcl_interfaces.srv import SetParameters
    from rclpy.parameter import Parameter

    client = node.create_client(SetParameters, '/omni_node/set_parameters')
    client.wait_for_service(timeout_sec=10)
    request = SetParameters.Request(parameters=[Parameter('max_goals', value=limit).to_parameter_msg()])
    future = client.call_async(request)
    _wait(future.done, 10)


def measure(goals: int, limit: int, timeout: float = 60.0) -> dict[str, Any]:
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.action import ActionClient

    from omni_ros.ros.action_qos import client_qos
    from omni_ros.ros.spin import initialized, spun_node
    from omni_ros_interfaces.action import SetWatch

    env = processes.isolated_ros_env()
    os.environ.update({k: env[k] for k in ('ROS_DOMAIN_ID', 'ROS_AUTOMATIC_DISCOVERY_RANGE', 'ROS_HOME')})
    log_dir = tempfile.mkdtemp(prefix='bench_goals_')
    node_proc = processes.start_node(env, log_dir, params={'backend': 'scripted', 'use_camera': False},
                                         remaps={'audio': '/unused/audio'})
    figures: dict[str, Any] = {}
    try:
        with initialized(), spun_node('bench_goals') as node:
            shed: list[int] = []
            node.create_subscription(DiagnosticArray, '/diagnostics', lambda m: shed.extend(
                int(kv.value) for s in m.status for kv in s.values if kv.key == 'goals_shed'), 10)
            client: ActionClient[Any, Any, Any] = ActionClient(node, SetWatch, 'set_watch', **client_qos())
            if not client.wait_for_server(timeout_sec=60) or not _wait(
                    lambda: _burst(client, _goals(1, 'probe'), 10)['accepted'] == 1, 60):
                raise RuntimeError(f'omni_node did not accept goals:\n{node_proc.output()}')
            _cancel_all(node)

            burst = _burst(client, _goals(goals, 'rate'), timeout)
            figures['acceptance'] = {'goals': goals, 'answered': burst['answered'], 'accepted': burst['accepted'],
                                     'seconds': round(burst['last'], 3),
                                     'goals_per_s': round(burst['answered'] / burst['last'], 1)}
            results = [h.get_result_async() for h in burst['handles'] if h is not None and h.accepted]
            start = time.perf_counter()
            _cancel_all(node)
            _wait(lambda: all(f.done() for f in results), timeout)
            seconds = time.perf_counter() - start
            arrived = sum(f.done() for f in results)
            figures['results'] = {'ended_at_once': len(results), 'arrived': arrived, 'seconds': round(seconds, 3),
                                  'results_per_s': round(arrived / seconds, 1)}

            _set_limit(node, limit)
            beyond = _burst(client, _goals(2 * limit, 'beyond'), timeout)
            _wait(lambda: bool(shed) and shed[-1] >= beyond['rejected'], 10)
            figures['beyond_max_goals'] = {'max_goals': limit, 'sent': 2 * limit, 'accepted': beyond['accepted'],
                                           'rejected': beyond['rejected'],
                                           'unanswered': 2 * limit - beyond['answered'],
                                           'seconds': round(beyond['last'], 3), 'goals_shed': shed[-1] if shed else 0}
            _cancel_all(node)
            _set_limit(node, 1000)

            plain: ActionClient[Any, Any, Any] = ActionClient(node, SetWatch, 'set_watch')  # rclpy's default QoS
            plain.wait_for_server(timeout_sec=10)
            default = _burst(plain, _goals(goals, 'default-qos'), 15.0)
            figures['default_qos_client'] = {'sent': goals, 'answered': default['answered'],
                                             'accepted': default['accepted']}
            _cancel_all(node)
    finally:
        node_proc.stop()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--goals', type=int, default=500, help='goals per burst (default 500)')
    parser.add_argument('--limit', type=int, default=200, help='max_goals for the burst beyond it (default 200)')
    parser.add_argument('--json', action='store_true', help='print the figures as JSON')
    args = parser.parse_args(argv)
    figures = measure(args.goals, args.limit)
    if args.json:
        print(json.dumps(figures))
        return 0
    a, r, b, d = (figures[k] for k in ('acceptance', 'results', 'beyond_max_goals', 'default_qos_client'))
    print(f"[goals] acceptance: {a['goals']} SetWatch requests at once, {a['accepted']} accepted, all answered in "
          f"{a['seconds']:.2f} s: {a['goals_per_s']:.0f} goals/s")
    print(f"[goals] results: {r['ended_at_once']} goals ended at once (cancel-all), {r['arrived']} results in "
          f"{r['seconds']:.2f} s: {r['results_per_s']:.0f} results/s")
    print(f"[goals] beyond max_goals {b['max_goals']}: {b['sent']} at once, {b['accepted']} accepted, "
          f"{b['rejected']} rejected with an answer, {b['unanswered']} unanswered, in {b['seconds']:.2f} s; "
          f"goals_shed on /diagnostics: {b['goals_shed']}")
    print(f"[goals] a client on rclpy's default action QoS (depth 10): {d['sent']} at once, {d['answered']} answered")
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
