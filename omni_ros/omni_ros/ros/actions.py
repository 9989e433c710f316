"""SetWatch and Ask goals, followed without holding an executor thread per goal.

A waiting goal is just an entry here. One periodic ``tick`` (a node timer) sends feedback and decides
each goal's outcome: triggered, answered, canceled, timed out, or ended by the node with a reason.
Only then is the goal handed to rclpy's ``execute()``, whose callback (``finish``) applies the outcome
at once. Blocking execute callbacks would need one executor thread per waiting goal, and rclpy's
MultiThreadedExecutor slows everything, camera and microphone input included, as threads grow.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable

from rclpy.action.server import ServerGoalHandle

from omni_ros.ros import mapping
from omni_ros.session.pipeline import PendingQuestion
from omni_ros.watches.table import Stopwatch, WatchState, WatchTable
from omni_ros_interfaces.action import Ask, SetWatch


def goal_uuid(goal_handle: ServerGoalHandle) -> str:
    """The goal id as 32 hex digits: the watch id (and question id) clients already know."""
    return bytes(goal_handle.goal_id.uuid).hex()


@dataclass
class _Goal:
    handle: ServerGoalHandle
    clock: Stopwatch
    timeout: float  # 0: none
    watch: WatchState | None = None
    question: PendingQuestion | None = None
    sent: int = 0  # watch: events already sent as feedback; question: whole seconds of waiting reported
    abort_reason: str = ''
    announced: bool = False  # the acceptance feedback (trigger_count 0, the interpretation) went out
    # Decided outcome: the terminal transition ('succeed', 'abort', 'canceled') and the result.
    end: str = ''
    result: Any = None
    handed_over: bool = False


class GoalSupervisor:
    def __init__(self, watches: WatchTable, now: Callable[[], float], log: Callable[[str], None]) -> None:
        self._watches = watches
        self._now = now
        self._log = log
        self._goals: dict[str, _Goal] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._goals)

    def add_watch(self, handle: ServerGoalHandle, state: WatchState, clock: Stopwatch) -> None:
        self._add(_Goal(handle, clock, state.watch.timeout, watch=state))

    def add_question(self, handle: ServerGoalHandle, pending: PendingQuestion, clock: Stopwatch,
                     timeout: float) -> None:
        self._add(_Goal(handle, clock, timeout, question=pending))

    def abort_questions(self, reason: str) -> None:
        """Questions cannot outlive the backend that would answer them."""
        with self._lock:
            for goal in self._goals.values():
                if goal.question is not None:
                    goal.abort_reason = reason

    def _add(self, goal: _Goal) -> None:
        with self._lock:
            self._goals[goal_uuid(goal.handle)] = goal

    # -- timer --------------------------------------------------------------------------------------
    def tick(self, forget_question: Callable[[str], None]) -> None:
        now = self._now()
        with self._lock:
            goals = list(self._goals.items())
        for goal_id, goal in goals:
            if not goal.end:
                if goal.watch is not None:
                    self._follow_watch(goal_id, goal, now)
                else:
                    self._follow_question(goal_id, goal, now, forget_question)
            if goal.end and not goal.handed_over:
                goal.handed_over = True
                goal.handle.execute()  # rclpy then calls finish() from the executor

    def _follow_watch(self, watch_id: str, goal: _Goal, now: float) -> None:
        state = goal.watch
        assert state is not None
        meaning = state.watch.interpretation
        if not goal.announced:  # what the backend will follow, before anything triggers
            goal.announced = True
            goal.handle.publish_feedback(SetWatch.Feedback(watch_id=watch_id, trigger_count=0, interpretation=meaning))
        for event in state.events[goal.sent:]:
            goal.sent += 1
            event_msg = mapping.event_to_msg(event, f'{watch_id}-{goal.sent}', now)
            goal.handle.publish_feedback(
                SetWatch.Feedback(watch_id=watch_id, trigger_count=goal.sent, event=event_msg, interpretation=meaning))
        if goal.handle.is_cancel_requested:
            self._watches.remove(watch_id, 'canceled')
            self._end_watch(goal, 'canceled', SetWatch.Result.CODE_CANCELED, 'canceled by the client', now)
        elif state.finished:
            if state.reason == 'triggered':
                self._end_watch(goal, 'succeed', SetWatch.Result.CODE_TRIGGERED, 'triggered', now)
            else:
                self._end_watch(goal, 'abort', SetWatch.Result.CODE_ABORTED, state.reason, now)
        elif goal.timeout and goal.clock.update(now) >= goal.timeout:
            self._watches.remove(watch_id, 'timed out')
            self._end_watch(goal, 'abort', SetWatch.Result.CODE_TIMED_OUT, f'no trigger within {goal.timeout:g} s',
                            now)

    def _end_watch(self, goal: _Goal, end: str, code: int, message: str, now: float) -> None:
        state = goal.watch
        assert state is not None
        watch_id = state.watch.watch_id
        self._log(f'watch {watch_id} ended: {message}')
        events = [mapping.event_to_msg(e, f'{watch_id}-{i + 1}', now) for i, e in enumerate(state.events)]
        goal.result = SetWatch.Result(code=code, message=message, watch_id=watch_id, events=events,
                                      interpretation=state.watch.interpretation)
        goal.end = end

    def _follow_question(self, question_id: str, goal: _Goal, now: float,
                         forget_question: Callable[[str], None]) -> None:
        pending = goal.question
        assert pending is not None
        waited = goal.clock.update(now)
        if pending.answered.is_set() and pending.answer is not None:
            goal.result = Ask.Result(code=Ask.Result.CODE_ANSWERED, message='answered', answer=pending.answer.text,
                                     event=mapping.event_to_msg(pending.answer, question_id, now))
            goal.end = 'succeed'
            return
        if int(waited) > goal.sent:  # one feedback per second of input waited is enough to show progress
            goal.sent = int(waited)
            goal.handle.publish_feedback(Ask.Feedback(waited=float(waited)))
        if goal.handle.is_cancel_requested:
            goal.result, goal.end = Ask.Result(code=Ask.Result.CODE_CANCELED, message='canceled by the client'), \
                'canceled'
        elif goal.abort_reason:
            goal.result, goal.end = Ask.Result(code=Ask.Result.CODE_ABORTED, message=goal.abort_reason), 'abort'
        elif waited >= goal.timeout:
            goal.result, goal.end = Ask.Result(code=Ask.Result.CODE_TIMED_OUT,
                                               message=f'no answer within {goal.timeout:g} s'), 'abort'
        if goal.end:
            forget_question(question_id)

    # -- execute callback ---------------------------------------------------------------------------
    def finish(self, handle: ServerGoalHandle) -> Any:
        with self._lock:
            goal = self._goals.pop(goal_uuid(handle))
        getattr(handle, goal.end)()
        return goal.result
