"""py_trees behaviours for omni_node's proactive alerts, written on plain rclpy.

Conventions follow py_trees_ros, so the behaviours drop into trees built for it:
- the ROS node is handed over in ``setup(node=...)`` (``tree.setup(node=node)``), nothing talks to ROS
  in ``__init__``;
- nothing blocks inside a tick: goals are sent asynchronously and their futures are polled by ``update()``;
  whoever owns the tree spins the node between ticks (see ``omni_ros_bt.runner``);
- blackboard keys are constructor arguments; ``feedback_message`` says what the behaviour is waiting for
  or why it failed, in words that say what to change;
- a behaviour stopped while RUNNING (halted, preempted by a higher-priority branch) cancels its goal.

Client-side deadlines (server discovery, goal acceptance, server loss) use the wall clock: under
``use_sim_time`` a paused or replayed /clock must not make the tree wait forever or fail at once. The
watch and answer timeouts themselves travel in the goal and are measured by omni_node on its own clock.
"""

from __future__ import annotations

import enum
import functools
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Generic, Iterable, TypeVar

import py_trees
from action_msgs.msg import GoalStatus
from py_trees.common import Access, Status
from rclpy.action import ActionClient
from rclpy.action.client import ClientGoalHandle
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.task import Future
from unique_identifier_msgs.msg import UUID

from omni_ros.ros.action_qos import client_qos
from omni_ros.ros.mapping import duration_to_msg, goal_id_hex, msg_to_duration
from omni_ros.watches.policy import check_durations
from omni_ros_interfaces.action import Ask as AskAction
from omni_ros_interfaces.action import SetWatch
from omni_ros_interfaces.msg import ProactiveEvent

__all__ = ['ActionError', 'ActionBehaviour', 'WaitForWatch', 'Ask', 'EventGuard', 'EVENTS_QOS', 'goal_id_hex']

# What omni_node's `events` topic is subscribed with: reliable so that an alert is not lost on a busy
# network, volatile so that a guard started late does not act on an alert from before it existed.
EVENTS_QOS = QoSProfile(depth=20, reliability=ReliabilityPolicy.RELIABLE)


class ActionError(enum.Enum):
    """Why an action behaviour failed; same cases as BehaviorTree.ROS2's ActionNodeErrorCode."""

    SERVER_UNREACHABLE = 'SERVER_UNREACHABLE'    # no server appeared within wait_for_server_timeout_sec
    SEND_GOAL_TIMEOUT = 'SEND_GOAL_TIMEOUT'      # the server did not answer the goal request in time
    GOAL_REJECTED_BY_SERVER = 'GOAL_REJECTED_BY_SERVER'
    ACTION_ABORTED = 'ACTION_ABORTED'            # omni_node aborted the goal (timeout, backend loss)
    ACTION_CANCELLED = 'ACTION_CANCELLED'        # canceled by someone else than this behaviour
    INVALID_GOAL = 'INVALID_GOAL'                # the goal could not be built (e.g. empty blackboard key)
    SERVER_LOST = 'SERVER_LOST'                  # the server vanished while the goal was active
    UNEXPECTED_RESULT = 'UNEXPECTED_RESULT'      # the goal succeeded with a result code the behaviour does not expect


GoalT = TypeVar('GoalT')


@dataclass
class _GoalRequest:
    """One goal's progress; a fresh object per initialise(), so late callbacks of an old goal touch nothing."""

    goal_uuid: UUID
    started: float                              # time.monotonic() of initialise()
    goal: Any
    send_future: Future | None = None
    sent_at: float = 0.0
    handle: ClientGoalHandle | None = None
    result_future: Future | None = None
    unavailable_since: float | None = None
    feedback: deque = field(default_factory=lambda: deque(maxlen=100))
    lock: threading.Lock = field(default_factory=threading.Lock)
    cancel_future: Future | None = None
    done: bool = False                          # finished or stopped: nothing left for update()


class ActionBehaviour(py_trees.behaviour.Behaviour, Generic[GoalT]):
    """Sends one goal per activation and turns its outcome into SUCCESS / FAILURE.

    Subclasses set ``action_type`` and implement ``make_goal()`` and ``on_result()``; ``on_feedback()`` is
    optional. The goal is canceled whenever the behaviour is stopped before the server finished it.
    """

    action_type: Any = None

    def __init__(self, name: str, action_name: str, *, wait_for_server_timeout_sec: float = 5.0,
                 send_goal_timeout_sec: float = 5.0, server_lost_timeout_sec: float = 3.0,
                 error_key: str | None = None) -> None:
        super().__init__(name=name)
        if not action_name:
            raise ValueError(f'{name}: action_name is empty; pass the action of omni_node, e.g. "/omni/set_watch"')
        self.action_name = action_name
        self.wait_for_server_timeout_sec = wait_for_server_timeout_sec
        self.send_goal_timeout_sec = send_goal_timeout_sec
        self.server_lost_timeout_sec = server_lost_timeout_sec
        self.error_key = error_key
        self.node: Node | None = None
        self.error: ActionError | None = None
        self._client: ActionClient | None = None
        self._request: _GoalRequest | None = None
        # Goals stopped before the server finished them, until their cancel is answered.
        self._stopped: list[_GoalRequest] = []
        self.blackboard = self.attach_blackboard_client(name=self.name)
        if error_key:
            self.blackboard.register_key(key=error_key, access=Access.WRITE)

    # -- py_trees life cycle --------------------------------------------------------------------------

    def setup(self, **kwargs: Any) -> None:
        try:
            self.node = kwargs['node']
        except KeyError as e:
            raise KeyError(f"{self.qualified_name}: setup() needs the rclpy node: call "
                           "tree.setup(node=your_node) (py_trees_ros convention)") from e
        if self._client is None:
            # The QoS omni_node's servers use: a tree ending many goals at once gets every result.
            self._client = ActionClient(self.node, self.action_type, self.action_name, **client_qos())
        self.feedback_message = f'client for {self._resolved_name()} created'

    def initialise(self) -> None:
        if self._client is None:
            raise RuntimeError(f'{self.qualified_name}: ticked before setup(node=...); set the tree up first')
        self.error = None
        self._write_error(None)
        u = uuid.uuid4()
        goal = self.make_goal()
        self._request = _GoalRequest(goal_uuid=UUID(uuid=list(u.bytes)), started=time.monotonic(), goal=goal)
        self.on_start(goal_id_hex(self._request.goal_uuid))
        self.feedback_message = f'waiting for the action server {self._resolved_name()}'

    def update(self) -> Status:
        req, client = self._request, self._client
        assert req is not None and client is not None, 'update() without setup() and initialise()'
        if req.goal is None:
            return self._fail(ActionError.INVALID_GOAL, self.invalid_goal_message())
        now = time.monotonic()
        if req.send_future is None:
            if not client.server_is_ready():
                if now - req.started > self.wait_for_server_timeout_sec:
                    return self._fail(ActionError.SERVER_UNREACHABLE,
                                      f'no action server at {self._resolved_name()} after '
                                      f'{self.wait_for_server_timeout_sec:g} s: start omni_node (and activate it) '
                                      'or pass the right action_name / namespace')
                return Status.RUNNING
            req.send_future = client.send_goal_async(
                req.goal, feedback_callback=functools.partial(self._store_feedback, req), goal_uuid=req.goal_uuid)
            req.sent_at = now
            self.feedback_message = f'goal sent to {self._resolved_name()}'
            return Status.RUNNING
        if req.handle is None:
            if not req.send_future.done():
                if now - req.sent_at > self.send_goal_timeout_sec:
                    return self._fail(ActionError.SEND_GOAL_TIMEOUT,
                                      f'{self._resolved_name()} did not answer the goal request within '
                                      f'{self.send_goal_timeout_sec:g} s: is omni_node active and its executor '
                                      'spinning? (the tree owner must spin this node between ticks)')
                return Status.RUNNING
            handle = req.send_future.result()
            if handle is None or not handle.accepted:
                req.done = True
                return self._fail(ActionError.GOAL_REJECTED_BY_SERVER, self.rejected_message())
            req.handle = handle
            req.result_future = handle.get_result_async()
            self.feedback_message = self.accepted_message()
        if req.result_future is not None and req.result_future.done():
            req.done = True
            response = req.result_future.result()
            assert response is not None  # a done result future holds the result
            return self._finish(response.status, response.result)
        # Still active: react to feedback, and notice a server that disappeared without answering.
        with req.lock:
            pending = list(req.feedback)
            req.feedback.clear()
        for fb in pending:
            status = self.on_feedback(fb)
            if status is not None and status != Status.RUNNING:
                return status
        if not client.server_is_ready():
            req.unavailable_since = req.unavailable_since or now
            if now - req.unavailable_since > self.server_lost_timeout_sec:
                return self._fail(ActionError.SERVER_LOST,
                                  f'{self._resolved_name()} disappeared while the goal was active: omni_node '
                                  'stopped or crashed; restart it and tick again')
        else:
            req.unavailable_since = None
        return Status.RUNNING

    def terminate(self, new_status: Status) -> None:
        req = self._request
        if req is None or req.done:
            return
        # Stopped before the server finished: cancel, including a goal whose acceptance is still in flight.
        req.done = True
        if new_status == Status.INVALID:
            self.feedback_message = f'halted: canceling goal {self.goal_id}'
        self._stopped.append(req)
        if req.handle is not None:
            self._cancel(req)
        elif req.send_future is not None:
            # The done callback cancels even when nobody calls pending_cancels(); _cancel() runs once.
            req.send_future.add_done_callback(lambda _future: self._cancel_if_accepted(req))

    def _cancel_if_accepted(self, req: _GoalRequest) -> None:
        future = req.send_future
        if future is None or not future.done() or future.cancelled() or future.exception() is not None:
            return
        handle = future.result()
        if handle is not None and handle.accepted:
            req.handle = handle
            self._cancel(req)

    def _cancel(self, req: _GoalRequest) -> None:
        with req.lock:
            if req.cancel_future is not None or req.handle is None:
                return
            req.cancel_future = req.handle.cancel_goal_async()

    def shutdown(self) -> None:
        if self._client is not None:
            self._client.destroy()
            self._client = None

    # -- for owners of the tree -----------------------------------------------------------------------

    def pending_cancels(self) -> list[Future]:
        """Cancels (and goal requests of halted goals) not answered yet; spin until none are left.

        A process that exits right after halting may otherwise never deliver its cancel request.
        """
        pending: list[Future] = []
        still_stopping: list[_GoalRequest] = []
        for req in self._stopped:
            self._cancel_if_accepted(req)
            if req.send_future is not None and not req.send_future.done():
                pending.append(req.send_future)
            elif req.cancel_future is not None and not req.cancel_future.done():
                pending.append(req.cancel_future)
            else:
                continue
            still_stopping.append(req)
        self._stopped = still_stopping
        return pending

    @property
    def goal_id(self) -> str | None:
        """Hex UUID of the current (or last) goal: omni_node's watch id or question id."""
        return goal_id_hex(self._request.goal_uuid) if self._request else None

    # -- subclass hooks -------------------------------------------------------------------------------

    def _goal(self) -> Any:
        """The goal being sent (for messages about it)."""
        assert self._request is not None and self._request.goal is not None
        return self._request.goal

    def make_goal(self) -> GoalT | None:
        """The goal to send, or None if it cannot be built (fails with INVALID_GOAL)."""
        raise NotImplementedError

    def on_start(self, goal_id: str) -> None:
        """Called in initialise() with the id the goal will have."""

    def on_feedback(self, feedback: Any) -> Status | None:
        """Return SUCCESS / FAILURE to finish early (the goal is then canceled), else None."""
        return None

    def on_result(self, status: int, result: Any) -> Status:
        raise NotImplementedError

    def invalid_goal_message(self) -> str:
        return 'the goal could not be built'

    def rejected_message(self) -> str:
        return f'{self._resolved_name()} rejected the goal'

    def accepted_message(self) -> str:
        return f'goal accepted by {self._resolved_name()}'

    # -- helpers --------------------------------------------------------------------------------------

    def _finish(self, status: int, result: Any) -> Status:
        if status == GoalStatus.STATUS_ABORTED:
            self.on_result(status, result)
            return self._fail(ActionError.ACTION_ABORTED, self._server_said('aborted', result))
        if status == GoalStatus.STATUS_CANCELED:
            self.on_result(status, result)
            return self._fail(ActionError.ACTION_CANCELLED, self._server_said('canceled', result))
        return self.on_result(status, result)

    def _server_said(self, what: str, result: Any) -> str:
        message = getattr(result, 'message', '')
        return f'{self._resolved_name()} {what} the goal' + (f': {message}' if message else '')

    def _fail(self, error: ActionError, message: str) -> Status:
        self.error = error
        self._write_error(error)
        self.feedback_message = f'{error.value}: {message}'
        self.logger.warning(self.feedback_message)
        return Status.FAILURE

    def _write_error(self, error: ActionError | None) -> None:
        if self.error_key:
            self.blackboard.set(self.error_key, error.value if error else '', overwrite=True)

    def _store_feedback(self, req: _GoalRequest, msg: Any) -> None:
        # Runs in the executor's thread; update() consumes it on the next tick.
        with req.lock:
            req.feedback.append(msg.feedback)

    def _resolved_name(self) -> str:
        if self.node is None or self.action_name.startswith('/'):
            return self.action_name
        ns = self.node.get_namespace().rstrip('/')
        return f'{ns}/{self.action_name}'


def _register(bb: py_trees.blackboard.Client, key: str | None, access: Access) -> None:
    if key:
        bb.register_key(key=key, access=access)


def _require_one_of(name: str, what: str, value: str | None, key: str | None) -> None:
    """A text comes either as a constant or from a blackboard key, never both or neither."""
    if (value is None) == (key is None):
        raise ValueError(f'{name}: pass exactly one of {what}="..." or {what}_key="bb_key"')


def _text(bb: py_trees.blackboard.Client, value: str | None, key: str | None) -> str:
    """The constant, or the string under ``key`` ('' when unset or not a string)."""
    if key is None:
        return value or ''
    found = bb.get(key) if bb.exists(key) else None
    return found if isinstance(found, str) else ''


class WaitForWatch(ActionBehaviour[SetWatch.Goal]):
    """Sets a one-shot watch on omni_node and waits for it to trigger.

    RUNNING until the event; SUCCESS with the ProactiveEvent written to ``event_key``; FAILURE when the watch
    times out (``timeout_sec``, on omni_node's clock), is rejected, aborted or canceled by someone else, or
    the server is missing or lost (see ``error`` / ``error_key``). Halting the behaviour cancels the watch.

    The instruction is a constant (``instruction``) or read from the blackboard (``instruction_key``) at
    each activation. ``watch_id_key`` receives the watch id as soon as the goal is sent, ``result_key`` the
    whole SetWatch.Result when the goal ends.
    """

    action_type = SetWatch

    def __init__(self, name: str, instruction: str | None = None, *, instruction_key: str | None = None,
                 action_name: str = 'set_watch', timeout_sec: float = 0.0, cooldown_sec: float = 0.0,
                 event_key: str | None = 'watch_event', watch_id_key: str | None = None,
                 result_key: str | None = None, error_key: str | None = None,
                 wait_for_server_timeout_sec: float = 5.0, send_goal_timeout_sec: float = 5.0,
                 server_lost_timeout_sec: float = 3.0) -> None:
        _require_one_of(name, 'instruction', instruction, instruction_key)
        super().__init__(name, action_name, wait_for_server_timeout_sec=wait_for_server_timeout_sec,
                         send_goal_timeout_sec=send_goal_timeout_sec,
                         server_lost_timeout_sec=server_lost_timeout_sec, error_key=error_key)
        self.instruction = instruction
        self.instruction_key = instruction_key
        check_durations(timeout_sec, cooldown_sec)  # omni_node's own check, before a goal is ever sent
        self.timeout = duration_to_msg(timeout_sec)
        self.cooldown = duration_to_msg(cooldown_sec)
        self.event_key = event_key
        self.watch_id_key = watch_id_key
        self.result_key = result_key
        self.event: ProactiveEvent | None = None
        self.result: SetWatch.Result | None = None
        _register(self.blackboard, instruction_key, Access.READ)
        _register(self.blackboard, event_key, Access.WRITE)
        _register(self.blackboard, watch_id_key, Access.WRITE)
        _register(self.blackboard, result_key, Access.WRITE)

    def _instruction(self) -> str:
        return _text(self.blackboard, self.instruction, self.instruction_key)

    def make_goal(self) -> SetWatch.Goal | None:
        self.event = None
        self.result = None
        text = self._instruction().strip()
        if not text:
            return None
        return SetWatch.Goal(instruction=text, timeout=self.timeout, continuous=False, cooldown=self.cooldown)

    def invalid_goal_message(self) -> str:
        where = f"blackboard key '{self.instruction_key}'" if self.instruction_key else 'instruction'
        return f'the watch instruction is empty: set {where} to what to watch for, e.g. "tell me when the ' \
               'light turns green"'

    def rejected_message(self) -> str:
        return (f'{self._resolved_name()} rejected the watch "{self._instruction().strip()}": omni_node refuses '
                'empty, too long or not understood instructions (its log says which); rephrase it')

    def accepted_message(self) -> str:
        return f'watching for "{self._goal().instruction}" (watch {self.goal_id})'

    def on_start(self, goal_id: str) -> None:
        if self.watch_id_key:
            self.blackboard.set(self.watch_id_key, goal_id, overwrite=True)

    def on_result(self, status: int, result: SetWatch.Result) -> Status:
        self.result = result
        if self.result_key:
            self.blackboard.set(self.result_key, result, overwrite=True)
        if status != GoalStatus.STATUS_SUCCEEDED:
            return Status.FAILURE
        if result.code != SetWatch.Result.CODE_TRIGGERED or not result.events:
            return self._fail(ActionError.UNEXPECTED_RESULT,
                              f'watch ended with code {result.code} and {len(result.events)} events: {result.message}')
        self.event = result.events[-1]
        if self.event_key:
            self.blackboard.set(self.event_key, self.event, overwrite=True)
        self.feedback_message = f'triggered: {self.event.text}'
        return Status.SUCCESS

    def _server_said(self, what: str, result: Any) -> str:
        code = getattr(result, 'code', None)
        if what == 'aborted' and code == SetWatch.Result.CODE_TIMED_OUT:
            return (f'the watch "{self._goal().instruction}" timed out after '
                    f'{msg_to_duration(self.timeout):g} s without triggering')
        return super()._server_said(what, result)


class Ask(ActionBehaviour[AskAction.Goal]):
    """Asks omni_node a question about what the robot sees and hears now.

    SUCCESS with the answer text on ``answer_key`` (and the ProactiveEvent on ``event_key`` if given);
    FAILURE when the question times out, is rejected or aborted, or the server is missing or lost.
    ``timeout_sec`` 0 uses the node's default answer timeout. Halting the behaviour cancels the question.
    """

    action_type = AskAction

    def __init__(self, name: str, question: str | None = None, *, question_key: str | None = None,
                 action_name: str = 'ask', timeout_sec: float = 0.0, answer_key: str | None = 'answer',
                 event_key: str | None = None, error_key: str | None = None,
                 wait_for_server_timeout_sec: float = 5.0, send_goal_timeout_sec: float = 5.0,
                 server_lost_timeout_sec: float = 3.0) -> None:
        _require_one_of(name, 'question', question, question_key)
        super().__init__(name, action_name, wait_for_server_timeout_sec=wait_for_server_timeout_sec,
                         send_goal_timeout_sec=send_goal_timeout_sec,
                         server_lost_timeout_sec=server_lost_timeout_sec, error_key=error_key)
        self.question = question
        self.question_key = question_key
        check_durations(timeout_sec, 0.0)
        self.timeout = duration_to_msg(timeout_sec)
        self.answer_key = answer_key
        self.event_key = event_key
        self.answer: str | None = None
        _register(self.blackboard, question_key, Access.READ)
        _register(self.blackboard, answer_key, Access.WRITE)
        _register(self.blackboard, event_key, Access.WRITE)

    def make_goal(self) -> AskAction.Goal | None:
        self.answer = None
        text = _text(self.blackboard, self.question, self.question_key).strip()
        return AskAction.Goal(question=text, timeout=self.timeout) if text else None

    def invalid_goal_message(self) -> str:
        where = f"blackboard key '{self.question_key}'" if self.question_key else 'question'
        return f'the question is empty: set {where}'

    def accepted_message(self) -> str:
        return f'asked "{self._goal().question}"'

    def on_feedback(self, feedback: AskAction.Feedback) -> Status | None:
        self.feedback_message = f'waiting for an answer ({feedback.waited:.1f} s of input so far)'
        return None

    def on_result(self, status: int, result: AskAction.Result) -> Status:
        if status != GoalStatus.STATUS_SUCCEEDED:
            return Status.FAILURE
        if result.code != AskAction.Result.CODE_ANSWERED:
            return self._fail(ActionError.UNEXPECTED_RESULT, f'question ended with code {result.code}: '
                              f'{result.message}')
        self.answer = result.answer
        if self.answer_key:
            self.blackboard.set(self.answer_key, result.answer, overwrite=True)
        if self.event_key:
            self.blackboard.set(self.event_key, result.event, overwrite=True)
        self.feedback_message = f'answer: {result.answer}'
        return Status.SUCCESS


@dataclass
class _Received:
    seq: int
    at: float            # time.monotonic() when received
    event: ProactiveEvent


class EventGuard(py_trees.behaviour.Behaviour):
    """Condition on the latest ProactiveEvent from omni_node's ``events`` topic.

    SUCCESS when an event matching the filters has arrived (and, with ``max_age_sec``, not longer ago than
    that), writing it to ``event_key``; FAILURE otherwise. Never RUNNING, so it fits guards in selectors
    ("patrol unless someone called for help") and decorators.

    Filters: ``watch_id`` (constant) or ``watch_id_key`` (blackboard, e.g. the ``watch_id_key`` of a
    WaitForWatch or a standing watch id like ``standing-0``), ``kinds`` (ProactiveEvent.KIND_*).
    With ``consume`` (default) each event satisfies the guard once: after a SUCCESS only newer events count.
    Only events received after setup() are seen.
    """

    def __init__(self, name: str, *, topic: str = 'events', watch_id: str | None = None,
                 watch_id_key: str | None = None, kinds: Iterable[int] | None = (ProactiveEvent.KIND_ALERT,),
                 max_age_sec: float | None = None, consume: bool = True, event_key: str | None = 'guard_event',
                 qos_profile: QoSProfile = EVENTS_QOS, history: int = 100) -> None:
        super().__init__(name=name)
        if watch_id is not None and watch_id_key is not None:
            raise ValueError(f'{name}: pass at most one of watch_id and watch_id_key')
        self.topic = topic
        self.watch_id = watch_id
        self.watch_id_key = watch_id_key
        self.kinds = frozenset(kinds) if kinds is not None else None
        self.max_age_sec = max_age_sec
        self.consume = consume
        self.event_key = event_key
        self.qos_profile = qos_profile
        self.node: Node | None = None
        self.event: ProactiveEvent | None = None
        self._subscription: Any = None
        self._lock = threading.Lock()
        self._received: deque[_Received] = deque(maxlen=history)
        self._seq = 0
        self._consumed_seq = 0
        self.blackboard = self.attach_blackboard_client(name=self.name)
        _register(self.blackboard, watch_id_key, Access.READ)
        _register(self.blackboard, event_key, Access.WRITE)

    def setup(self, **kwargs: Any) -> None:
        try:
            self.node = kwargs['node']
        except KeyError as e:
            raise KeyError(f"{self.qualified_name}: setup() needs the rclpy node: call "
                           "tree.setup(node=your_node) (py_trees_ros convention)") from e
        if self._subscription is None:
            self._subscription = self.node.create_subscription(ProactiveEvent, self.topic, self._on_event,
                                                               self.qos_profile)
        self.feedback_message = f'listening on {self._subscription.topic_name}'

    def _on_event(self, msg: ProactiveEvent) -> None:
        # Executor thread; update() reads under the same lock.
        with self._lock:
            self._seq += 1
            self._received.append(_Received(self._seq, time.monotonic(), msg))

    def _wanted_watch_id(self) -> str | None:
        if self.watch_id_key is None:
            return self.watch_id
        return self.blackboard.get(self.watch_id_key) if self.blackboard.exists(self.watch_id_key) else ''

    def _matches(self, event: ProactiveEvent, watch_id: str | None) -> bool:
        if self.kinds is not None and event.kind not in self.kinds:
            return False
        return watch_id is None or event.watch_id == watch_id

    def update(self) -> Status:
        if self.node is None:
            raise RuntimeError(f'{self.qualified_name}: ticked before setup(node=...); set the tree up first')
        watch_id = self._wanted_watch_id()
        if watch_id == '':
            self.feedback_message = f"no watch id on blackboard key '{self.watch_id_key}' yet"
            return Status.FAILURE
        now = time.monotonic()
        with self._lock:
            found = next((r for r in reversed(self._received)
                          if r.seq > self._consumed_seq and self._matches(r.event, watch_id)), None)
            if found is not None and self.max_age_sec is not None and now - found.at > self.max_age_sec:
                found = None
            if found is not None and self.consume:
                self._consumed_seq = found.seq
        if found is None:
            self.feedback_message = 'no matching event' + (f' for watch {watch_id}' if watch_id else '')
            return Status.FAILURE
        self.event = found.event
        if self.event_key:
            self.blackboard.set(self.event_key, found.event, overwrite=True)
        self.feedback_message = f'event: {found.event.text}'
        return Status.SUCCESS

    def shutdown(self) -> None:
        if self._subscription is not None and self.node is not None:
            self.node.destroy_subscription(self._subscription)
            self._subscription = None


def action_behaviours(root: py_trees.behaviour.Behaviour) -> list[ActionBehaviour]:
    return [b for b in root.iterate() if isinstance(b, ActionBehaviour)]

