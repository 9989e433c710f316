"""SetWatch and Ask goals, followed without holding an executor thread per goal.

A waiting goal is just an entry here. One periodic ``tick`` (a node timer) sends feedback and decides
each goal's outcome: triggered, answered, canceled, timed out, or ended by the node with a reason.
Only then is the goal handed to rclpy's ``execute()``, whose callback (``finish``) applies the outcome
at once. Blocking execute callbacks would need one executor thread per waiting goal, and rclpy's
MultiThreadedExecutor slows everything, camera and microphone input included, as threads grow.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.action.server import ServerGoalHandle
from rclpy.clock import Clock, ClockType
from rclpy.node import Node

from omni_ros.data import Question
from omni_ros.errors import WatchRejectedError
from omni_ros.ros import mapping
from omni_ros.ros.action_qos import FLUSH, GOAL_BURST, server_qos
from omni_ros.session.pipeline import PendingQuestion
from omni_ros.session.session import OmniSession
from omni_ros.watches.table import Stopwatch, WatchState, WatchTable, normalize_instruction
from omni_ros_interfaces.action import Ask, SetWatch
from omni_ros_interfaces.srv import ListWatches


def goal_uuid(goal_handle: ServerGoalHandle) -> str:
    """The goal id as 32 hex digits: the watch id (and question id) clients already know."""
    return mapping.goal_id_hex(goal_handle.goal_id)


@dataclass
class _Goal:
    handle: ServerGoalHandle
    clock: Stopwatch
    timeout: float  # 0: none
    watch: WatchState | None = None
    question: PendingQuestion | None = None
    sent: int = 0  # watch: events already sent as feedback; question: whole seconds of waiting reported
    abort_reason: str = ''
    inactive: bool = False  # question: the node was seen inactive (deactivated) while it waited
    announced: bool = False  # the acceptance feedback (trigger_count 0, the interpretation) went out
    # Decided outcome: the terminal transition ('succeed', 'abort', 'canceled') and the result.
    end: str = ''
    result: Any = None
    handed_over: bool = False


class GoalSupervisor:
    def __init__(self, watches: WatchTable, now: Callable[[], float], log: Callable[[str], object],
                 active: Callable[[], bool] = lambda: True) -> None:
        self._watches = watches
        self._now = now
        self._log = log
        self._active = active  # whether the session runs: a question waiting while it does not goes unheard
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
                try:
                    if goal.watch is not None:
                        self._follow_watch(goal_id, goal, now)
                    else:
                        self._follow_question(goal_id, goal, now, forget_question)
                except Exception as error:  # a goal that cannot be reported still ends, saying why
                    self._fail(goal_id, goal, f'omni_node could not report this goal: {type(error).__name__}: '
                               f'{error}', forget_question)
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

    def _fail(self, goal_id: str, goal: _Goal, message: str, forget_question: Callable[[str], None]) -> None:
        self._log(f'goal {goal_id} aborted: {message}')
        if goal.watch is not None:
            self._watches.remove(goal_id, 'aborted')
            goal.result = SetWatch.Result(code=SetWatch.Result.CODE_ABORTED, message=message, watch_id=goal_id)
        else:
            forget_question(goal_id)
            goal.result = Ask.Result(code=Ask.Result.CODE_ABORTED, message=message)
        goal.end = 'abort'

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
        active = self._active()
        goal.inactive = goal.inactive or not active
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
                                               message=unanswered(goal.timeout, active, goal.inactive)), 'abort'
        if goal.end:
            forget_question(question_id)

    # -- execute callback ---------------------------------------------------------------------------
    def finish(self, handle: ServerGoalHandle) -> Any:
        with self._lock:
            goal = self._goals.pop(goal_uuid(handle))
        getattr(handle, goal.end)()
        return goal.result


def unanswered(timeout: float, active: bool, was_inactive: bool) -> str:
    """Why an Ask timed out: the node being inactive (deactivated) is said, since then nothing was heard."""
    if not active:
        return (f'no answer within {timeout:g} s: omni_node was inactive (deactivated), so the backend heard '
                'no input; activate it and ask again')
    if was_inactive:
        return (f'no answer within {timeout:g} s; omni_node was inactive (deactivated) for part of that time, '
                'so the backend heard less input')
    return f'no answer within {timeout:g} s'


class GoalServers:
    """The SetWatch and Ask action servers and the ListWatches service of one node, over its session.

    They live for the whole process; goals are refused (with the reason logged) unless the session is
    active, or when ``max_goals`` are open. ``tick`` (a node timer) follows accepted goals through the
    supervisor.
    """

    def __init__(self, node: Node, session: OmniSession) -> None:
        self._node, self._session = node, session
        self._log = node.get_logger()
        self._steady = Clock(clock_type=ClockType.STEADY_TIME)
        self.supervisor = GoalSupervisor(session.watches, session.host.now, self._log.info,
                                         active=lambda: session.active)
        self.counts = {'goals_accepted': 0, 'goals_rejected': 0, 'goals_shed': 0}
        self._ticks = 0
        finish, cancel, qos = self.supervisor.finish, (lambda _: CancelResponse.ACCEPT), server_qos()
        self._servers = [
            ActionServer(node, SetWatch, 'set_watch', execute_callback=finish, goal_callback=self._accept_watch,
                         handle_accepted_callback=self._start_watch, cancel_callback=cancel, **qos),
            ActionServer(node, Ask, 'ask', execute_callback=finish, goal_callback=self._accept_ask,
                         handle_accepted_callback=self._start_ask, cancel_callback=cancel, **qos)]
        self._service = node.create_service(ListWatches, 'list_watches', self._list_watches)

    def tick(self) -> None:
        self.supervisor.tick(self._session.forget_question)
        self._ticks += 1

    def diagnostics(self) -> dict[str, int]:
        return {'goals_open': len(self.supervisor), **self.counts}

    def destroy(self) -> None:
        """Destroy the action servers (Node.destroy_node leaves them, and with them the node, alive)."""
        for server in self._servers:
            server.destroy()
        self._servers = []

    def wait(self, timeout: float) -> None:
        """Let the executor send the results of goals that were ended (at shutdown), then let clients take
        them: the goal timer hands each outcome to rclpy, whose tasks send the results before the timer's
        next two turns (the executor runs its queued tasks before waiting for new work)."""
        if not self.supervisor:
            return
        deadline = time.monotonic() + timeout
        while self.supervisor and time.monotonic() < deadline:
            time.sleep(0.02)
        if self.supervisor:
            self._log.warn(f'{len(self.supervisor)} goal(s) still open at shutdown')
            return
        ticks = self._ticks
        while self._ticks < ticks + 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(FLUSH)

    def _accept(self, what: str, check: Callable[[], object]) -> GoalResponse:
        config = self._session.config
        limit = config.node.max_goals if config is not None else GOAL_BURST
        try:
            check()
        except WatchRejectedError as error:
            self._log.warn(f'{what} rejected: {error}')
            self.counts['goals_rejected'] += 1
            return GoalResponse.REJECT
        if len(self.supervisor) >= limit:
            self.counts['goals_rejected'] += 1
            self.counts['goals_shed'] += 1
            self._log.warning(f'{what} rejected: {limit} goals are open (max_goals); '
                              f'{self.counts["goals_shed"]} rejected so far for this reason',
                              throttle_duration_sec=self._session.error_log_period,
                              throttle_time_source_type=self._steady)
            return GoalResponse.REJECT
        self.counts['goals_accepted'] += 1
        return GoalResponse.ACCEPT

    def _accept_watch(self, goal: SetWatch.Goal) -> GoalResponse:
        return self._accept(f'SetWatch goal {goal.instruction!r}', lambda: self._session.check_watch(
            goal.instruction, mapping.msg_to_duration(goal.timeout), mapping.msg_to_duration(goal.cooldown)))

    def _start_watch(self, goal_handle: ServerGoalHandle) -> None:
        goal: SetWatch.Goal = goal_handle.request
        session, watch_id = self._session, goal_uuid(goal_handle)
        instruction = normalize_instruction(goal.instruction)  # accepted: check_watch normalized it
        state = session.add_watch(mapping.goal_to_watch(goal, watch_id, instruction, session.host.now()))
        self._log.info(f'watch {watch_id} set: {instruction!r}')
        self.supervisor.add_watch(goal_handle, state, session.stopwatch())

    def _list_watches(self, request: ListWatches.Request, response: ListWatches.Response) -> ListWatches.Response:
        response.watches = [mapping.watch_to_msg(w, n) for w, n in self._session.watches.snapshot()]
        return response

    def _accept_ask(self, goal: Ask.Goal) -> GoalResponse:
        return self._accept(f'Ask goal {goal.question!r}', lambda: self._session.check_question(goal.question))

    def _start_ask(self, goal_handle: ServerGoalHandle) -> None:
        goal: Ask.Goal = goal_handle.request
        session = self._session
        question = Question(goal_uuid(goal_handle), ' '.join(goal.question.split()), session.host.now())
        pending = session.ask(question)
        timeout = session.question_timeout(mapping.msg_to_duration(goal.timeout))
        self.supervisor.add_question(goal_handle, pending or PendingQuestion(question), session.stopwatch(), timeout)
        if pending is None:  # deactivated between acceptance and now
            self.supervisor.abort_questions('omni_node is not active')
