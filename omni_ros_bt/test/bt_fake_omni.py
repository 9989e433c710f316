"""A small stand-in for omni_node's SetWatch / Ask servers and events topic, for the behaviour tests.

Same contract as omni_node where the behaviours depend on it: the watch id is the goal UUID in hex,
one-shot watches succeed with CODE_TRIGGERED and their events, timeouts abort with CODE_TIMED_OUT,
cancels end with CODE_CANCELED, empty instructions are rejected. Instead of a model it triggers every
watch ``trigger_after`` seconds after acceptance, except watches whose instruction contains 'never';
instructions containing 'reject' are rejected. Runs on its own executor in a background thread.
"""

from __future__ import annotations

import threading
import time

from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.action.server import ServerGoalHandle
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.executors import MultiThreadedExecutor
from rclpy.node import Node
from rclpy.qos import QoSProfile

from omni_ros_interfaces.action import Ask, SetWatch
from omni_ros_interfaces.msg import ProactiveEvent


def _seconds(duration) -> float:
    return duration.sec + duration.nanosec * 1e-9


class FakeOmni:
    def __init__(self, namespace: str, trigger_after: float = 0.3) -> None:
        self.trigger_after = trigger_after
        self.node = Node('fake_omni', namespace=namespace)
        group = ReentrantCallbackGroup()
        self.events = self.node.create_publisher(ProactiveEvent, 'events', QoSProfile(depth=50))
        self._watch_server = ActionServer(self.node, SetWatch, 'set_watch', execute_callback=self._execute_watch,
                                          goal_callback=self._accept_watch,
                                          cancel_callback=lambda _: CancelResponse.ACCEPT, callback_group=group)
        self._ask_server = ActionServer(self.node, Ask, 'ask', execute_callback=self._execute_ask,
                                        cancel_callback=lambda _: CancelResponse.ACCEPT, callback_group=group)
        self.lock = threading.Lock()
        self.accepted: list[str] = []        # watch ids, in order
        self.outcomes: dict[str, int] = {}   # watch id -> SetWatch.Result code
        self._event_count = 0
        self._stopping = threading.Event()
        self._executor = MultiThreadedExecutor(num_threads=4)
        self._executor.add_node(self.node)
        self._thread = threading.Thread(target=self._executor.spin, daemon=True)
        self._thread.start()

    def close(self, vanish: bool = False) -> None:
        """Stop; running goals are aborted, or with ``vanish`` left unanswered as if the process died."""
        if vanish:
            self._watch_server.destroy()
            self._ask_server.destroy()
            self.node.destroy_node()
        self._stopping.set()
        self._executor.shutdown(timeout_sec=2.0)
        self._thread.join(timeout=5.0)
        if not vanish:
            self._watch_server.destroy()
            self._ask_server.destroy()
            self.node.destroy_node()

    def wait_for(self, predicate, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if predicate(self):
                    return True
            time.sleep(0.02)
        return False

    def publish_event(self, text: str, watch_id: str = '', kind: int = ProactiveEvent.KIND_ALERT) -> ProactiveEvent:
        with self.lock:
            self._event_count += 1
            n = self._event_count
        msg = ProactiveEvent(event_id=f'fake-{n}', kind=kind, text=text, watch_id=watch_id, confidence=0.9,
                             modality=ProactiveEvent.MODALITY_VISION)
        msg.header.stamp = self.node.get_clock().now().to_msg()
        self.events.publish(msg)
        return msg

    def _accept_watch(self, goal: SetWatch.Goal) -> GoalResponse:
        text = goal.instruction.strip()
        return GoalResponse.REJECT if not text or 'reject' in text else GoalResponse.ACCEPT

    def _execute_watch(self, handle: ServerGoalHandle) -> SetWatch.Result:
        goal: SetWatch.Goal = handle.request
        watch_id = bytes(handle.goal_id.uuid).hex()
        with self.lock:
            self.accepted.append(watch_id)
        started = time.monotonic()
        timeout = _seconds(goal.timeout)
        code, message, events = None, '', []
        while code is None:
            time.sleep(0.02)
            elapsed = time.monotonic() - started
            if self._stopping.is_set():
                try:
                    handle.abort()
                except Exception:  # vanished: the server no longer exists to answer
                    pass
                code, message = SetWatch.Result.CODE_ABORTED, 'fake omni_node stopped'
            elif handle.is_cancel_requested:
                handle.canceled()
                code, message = SetWatch.Result.CODE_CANCELED, 'canceled by the client'
            elif timeout and elapsed >= timeout:
                handle.abort()
                code, message = SetWatch.Result.CODE_TIMED_OUT, f'no trigger within {timeout:g} s'
            elif 'never' not in goal.instruction and elapsed >= self.trigger_after:
                events = [self.publish_event(f'seen: {goal.instruction}', watch_id)]
                handle.succeed()
                code, message = SetWatch.Result.CODE_TRIGGERED, 'triggered'
        with self.lock:
            self.outcomes[watch_id] = code
        return SetWatch.Result(code=code, message=message, watch_id=watch_id, events=events)

    def _execute_ask(self, handle: ServerGoalHandle) -> Ask.Result:
        question_id = bytes(handle.goal_id.uuid).hex()
        for _ in range(3):
            time.sleep(0.05)
            handle.publish_feedback(Ask.Feedback(waited=0.05))
            if handle.is_cancel_requested:
                handle.canceled()
                return Ask.Result(code=Ask.Result.CODE_CANCELED, message='canceled by the client')
        handle.succeed()
        event = ProactiveEvent(event_id=f'answer-{question_id}', kind=ProactiveEvent.KIND_ANSWER,
                               text=f'answer to: {handle.request.question}', question_id=question_id)
        return Ask.Result(code=Ask.Result.CODE_ANSWERED, message='answered', answer=event.text, event=event)
