"""Helpers shared by the tests (import them from here, not from other test modules).

ROS imports happen inside the helpers, so core tests can import this module without rclpy.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

from omni_ros.ingest.audio import resample
from omni_ros.tools import processes


# Lines a test wants in the summary at the end of the run (conftest prints them), e.g. the fuzz counts.
REPORTS: list[str] = []


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

    from omni_ros.ros.action_qos import client_qos

    client = ActionClient(ros_client, SetWatch, 'set_watch', **client_qos())
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


def send_goals(client: Any, goals: list[Any], timeout: float = 120.0) -> list[Any]:
    """Send every goal at once (no waiting in between); the goal handles, in order, once each is answered."""
    futures = [client.send_goal_async(goal) for goal in goals]
    wait_for(lambda: all(f.done() for f in futures), timeout,
             f'answers to {len(goals)} goal requests ({sum(f.done() for f in futures)} answered)', interval=0.2)
    return [f.result() for f in futures]


def await_results(handles: list[Any], timeout: float = 120.0) -> list[Any]:
    """Ask for the result of every accepted goal at once; the results (status, result) once all arrived."""
    futures = [h.get_result_async() for h in handles if h.accepted]
    wait_for(lambda: all(f.done() for f in futures), timeout,
             f'the results of {len(futures)} accepted goals ({sum(f.done() for f in futures)} arrived)', interval=0.2)
    return [f.result() for f in futures]


def cancel_all(ros_client: Any, action: str = 'set_watch') -> Any:
    """Cancel every goal of ``action`` in one request (zero goal id and stamp), as rclcpp's
    async_cancel_all_goals does; the CancelGoal response."""
    from action_msgs.srv import CancelGoal

    return call(ros_client, CancelGoal, f'{action}/_action/cancel_goal', CancelGoal.Request())


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (Linux)."""
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
    raise AssertionError(f'no VmRSS for process {pid}')


def replay(scenario_name: str, log_dir: Path, rate: float = 2.0) -> processes.RosProcess:
    """The bundled scenario's bag published with /clock, after its subscribers appear."""
    from omni_ros import scenario

    return processes.start_replay(os.environ, log_dir, scenario.cached_bag(scenario_name), rate=rate,
                                  extra=['--wait-for-subscribers', '20', '--tail', '3'])


# -- a room for barge-in tests: the robot hears its own speech, and a user talks over it --------------
SR = 16000
BLOCK = 320  # 20 ms microphone blocks
LINE = ('I am going to tell you a rather long story about the elevator, the traffic light and the little '
        'sign on the corner of the street, so please bear with me for a while.')
WORDS_PER_SECOND = 2.5
USER_AFTER = 3.0  # s of robot speech before the user talks over it
# The robot's echo at the microphone is about 2 dB below the user's voice (IR gain 0.2, user peak 0.4).
ROOM_SETTINGS = dict(name='test room', delay=0.06, echo_db=-2.0, rt60=0.3, seed=7)


class SimulatedRoom:
    """Loudspeaker-to-microphone path on a 16 kHz timeline starting at ``origin`` (input time)."""

    def __init__(self, origin: float, seconds: float) -> None:
        from omni_ros.tools.bench_bargein import Room, impulse_response

        self.room = Room(**ROOM_SETTINGS)  # type: ignore[arg-type]
        self.origin = origin
        self._ir = impulse_response(self.room, np.random.default_rng(self.room.seed)) * 0.2
        self._echo = np.zeros(int(seconds * SR) + self._ir.size, np.float32)
        self._user = np.zeros_like(self._echo)
        self._lock = threading.Lock()
        self.blocks: list = []  # (reception wall time, Speech) of every speech block
        self.interrupts: list = []  # (reception wall time, SpeechInterruption)
        self._stopped_turn = 0

    def index(self, stamp: float) -> int:
        return int(round((stamp - self.origin) * SR))

    def play(self, msg: Any) -> None:
        from omni_ros.ros import mapping

        block = mapping.msg_to_speech(msg)
        with self._lock:
            self.blocks.append((time.time(), block))
            if block.turn_id <= self._stopped_turn:
                return  # a player drops blocks of an interrupted turn
            echo = np.convolve(resample(block.samples, block.sample_rate, SR), self._ir)
            start = self.index(block.stamp)
            end = min(start + echo.size, self._echo.size)
            if start >= 0 and end > start:
                self._echo[start:end] += echo[:end - start]

    def interrupt(self, msg: Any) -> None:
        from omni_ros.ros import mapping

        interruption = mapping.msg_to_interruption(msg)
        with self._lock:
            received = time.time()
            self.interrupts.append((received, interruption))
            self._stopped_turn = max(self._stopped_turn, interruption.turn_id)
            # The player stops now: nothing it had queued reaches the microphone any more.
            self._echo[max(0, self.index(max(received, interruption.stamp) + self.room.delay)):] = 0.0

    def say(self, at: float, samples: np.ndarray) -> None:
        start = self.index(at)
        with self._lock:
            self._user[start:start + samples.size] += samples

    def capture(self, start: int, rng: np.random.Generator) -> np.ndarray:
        with self._lock:
            x = self._echo[start:start + BLOCK] + self._user[start:start + BLOCK]
        return np.clip(x + 0.002 * rng.standard_normal(BLOCK), -1, 1).astype(np.float32)


def user_voice() -> tuple[np.ndarray, float]:
    """A different voice saying something short, at about the echo's level; and its onset in s."""
    from omni_ros.backends.cpu.tts import FliteTts

    tts = FliteTts('awb', SR)
    tts.setup()
    x = tts.synthesize('Wait, stop please, I have a question.')
    x = 0.4 * x / np.max(np.abs(x))
    frames = np.sqrt(np.mean(x[:x.size // 160 * 160].reshape(-1, 160) ** 2, axis=1))
    onset = int(np.argmax(frames > 0.1 * frames.max())) * 160 / SR
    return x, onset
