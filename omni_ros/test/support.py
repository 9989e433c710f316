"""Helpers shared by the tests (import them from here, not from other test modules).

ROS imports happen inside the helpers, so core tests can import this module without rclpy.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from omni_ros.tools import processes


def wait_for(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    """Poll ``condition`` until it returns something truthy; fail the test naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f'timed out after {timeout:g} s waiting for {what}')


def future_result(future: Any, timeout: float = 10.0) -> Any:
    """The result of an rclpy future once done (a background executor completes it); None on timeout."""
    deadline = time.monotonic() + timeout
    while not future.done() and time.monotonic() < deadline:
        time.sleep(0.02)
    return future.result() if future.done() else None


# -- services: lifecycle and parameters ------------------------------------------------------------------

def call(ros_client: Any, service_type: Any, service: str, request: Any) -> Any:
    """Call ``service`` from the test's node and wait for the response."""
    client = ros_client.create_client(service_type, service)
    assert client.wait_for_service(timeout_sec=20), f'no {service} service'
    future = client.call_async(request)
    return wait_for(lambda: future.result() if future.done() else None, 20, service)


def change_state(ros_client: Any, transition_id: int, node: str = 'omni_node') -> bool:
    from lifecycle_msgs.srv import ChangeState

    request = ChangeState.Request()
    request.transition.id = transition_id
    return bool(call(ros_client, ChangeState, f'/{node}/change_state', request).success)


def lifecycle_state(ros_client: Any, node: str = 'omni_node') -> str:
    from lifecycle_msgs.srv import GetState

    return str(call(ros_client, GetState, f'/{node}/get_state', GetState.Request()).current_state.label)


def set_parameters(ros_client: Any, values: dict[str, Any], node: str = 'omni_node') -> list[Any]:
    """Set parameters of another process's node; one SetParametersResult per value, in order."""
    from rcl_interfaces.srv import SetParameters
    from rclpy.parameter import Parameter

    request = SetParameters.Request(parameters=[Parameter(k, value=v).to_parameter_msg() for k, v in values.items()])
    return list(call(ros_client, SetParameters, f'/{node}/set_parameters', request).results)


# -- omni_node's SetWatch action over the bundled scenario -------------------------------------------------

def watch_client(ros_client: Any, node: processes.RosProcess) -> Any:
    from rclpy.action import ActionClient

    from omni_ros_interfaces.action import SetWatch

    client = ActionClient(ros_client, SetWatch, 'set_watch')
    assert client.wait_for_server(timeout_sec=60), f'no set_watch server:\n{node.output()}'
    return client


def send_watch(client: Any, instruction: str, *, continuous: bool = False, timeout: float = 0.0,
               feedback: Callable[[Any], None] | None = None, retry: bool = True) -> Any:
    """Send a SetWatch goal; the goal handle once the server answered."""
    from omni_ros.ros import mapping
    from omni_ros_interfaces.action import SetWatch

    goal = SetWatch.Goal(instruction=instruction, continuous=continuous, timeout=mapping.duration_to_msg(timeout))
    # The server exists before activation completes; an early goal is rejected, so retry briefly.
    deadline = time.monotonic() + 30
    while True:
        handle = wait_for(lambda: future_result(client.send_goal_async(goal, feedback_callback=feedback)), 10,
                          'goal response')
        if handle.accepted or not retry or time.monotonic() > deadline:
            return handle
        time.sleep(0.3)


def replay(scenario_name: str, log_dir: Path, rate: float = 2.0) -> processes.RosProcess:
    """The bundled scenario's bag published with /clock, after its subscribers appear."""
    from omni_ros import scenario

    return processes.start_replay(os.environ, log_dir, scenario.cached_bag(scenario_name), rate=rate,
                                  extra=['--wait-for-subscribers', '20', '--tail', '3'])
