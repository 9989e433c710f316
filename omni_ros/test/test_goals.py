"""The goal supervisor of omni_node's actions in process, with stand-in goal handles (no DDS)."""

from __future__ import annotations

import pytest

from omni_ros.data import Event, EventKind, Question, Watch
from omni_ros.session.pipeline import PendingQuestion
from omni_ros.watches.table import Stopwatch, WatchTable

pytestmark = pytest.mark.node  # rclpy's action types in this process, no other process


class Handle:
    """What the supervisor uses of rclpy's ServerGoalHandle; ``feedback_error`` makes feedback fail."""

    def __init__(self, number: int, feedback_error: Exception | None = None) -> None:
        from unique_identifier_msgs.msg import UUID

        self.goal_id = UUID(uuid=[number] * 16)
        self.is_cancel_requested = False
        self.feedback_error = feedback_error
        self.calls: list[str] = []

    def publish_feedback(self, feedback: object) -> None:
        if self.feedback_error is not None:
            raise self.feedback_error
        self.calls.append('feedback')

    def execute(self) -> None:
        self.calls.append('execute')

    def succeed(self) -> None:
        self.calls.append('succeed')

    def abort(self) -> None:
        self.calls.append('abort')


def test_a_goal_that_cannot_be_reported_ends_aborted_and_the_others_go_on() -> None:
    """Issue 16: an exception while reporting one goal went up into the goal timer, which ended the
    node's executor and with it every goal. The goal now ends aborted with the reason."""
    from omni_ros.ros.actions import GoalSupervisor, goal_uuid
    from omni_ros_interfaces.action import Ask, SetWatch

    table, logs = WatchTable(), []
    supervisor = GoalSupervisor(table, lambda: 5.0, logs.append)
    broken = Handle(1, RuntimeError('the feedback publisher is gone'))
    state = table.add(Watch(goal_uuid(broken), 'tell me when the light turns green'))
    supervisor.add_watch(broken, state, Stopwatch(5.0, 3.0))
    asked = Handle(2)
    pending = PendingQuestion(Question(goal_uuid(asked), 'what floor?', 5.0))
    pending.answer = Event(EventKind.ANSWER, 'floor 16', 5.0, question_id=pending.question.question_id)
    pending.answered.set()
    supervisor.add_question(asked, pending, Stopwatch(5.0, 3.0), 10.0)
    supervisor.tick(lambda _: None)  # raises nothing
    assert broken.calls == ['execute'] and asked.calls == ['execute']
    result = supervisor.finish(broken)
    assert broken.calls[-1] == 'abort' and result.code == SetWatch.Result.CODE_ABORTED
    assert 'RuntimeError: the feedback publisher is gone' in result.message and len(table) == 0
    answer = supervisor.finish(asked)
    assert asked.calls[-1] == 'succeed' and answer.code == Ask.Result.CODE_ANSWERED and answer.answer == 'floor 16'
    assert any('aborted' in line for line in logs) and len(supervisor) == 0


def test_a_question_that_times_out_while_the_node_is_inactive_says_so() -> None:
    """Issue 16: an Ask that timed out while the node was deactivated said only 'no answer within N s',
    as if the backend had heard everything and found no answer. Its reason now says the node was
    inactive (now, or for part of the wait)."""
    from omni_ros.ros.actions import GoalSupervisor, goal_uuid
    from omni_ros_interfaces.action import Ask

    clock, running = [5.0], [True]
    supervisor = GoalSupervisor(WatchTable(), lambda: clock[0], lambda _: None, active=lambda: running[0])
    handles = [Handle(n) for n in (1, 2)]
    for handle in handles:
        supervisor.add_question(handle, PendingQuestion(Question(goal_uuid(handle), 'what floor?', 5.0)),
                                Stopwatch(5.0, 3.0), 2.0 if handle is handles[0] else 4.0)
    supervisor.tick(lambda _: None)
    running[0] = False  # deactivated: the first times out while inactive
    clock[0] = 6.0
    supervisor.tick(lambda _: None)
    clock[0] = 7.5
    supervisor.tick(lambda _: None)
    assert handles[0].calls[-1] == 'execute' and 'execute' not in handles[1].calls
    result = supervisor.finish(handles[0])
    assert result.code == Ask.Result.CODE_TIMED_OUT
    assert result.message.startswith('no answer within 2 s: omni_node was inactive (deactivated)'), result.message
    running[0] = True  # activated again: the others time out while active, one of them having waited inactive
    clock[0] = 9.5
    supervisor.tick(lambda _: None)
    result = supervisor.finish(handles[1])
    assert result.code == Ask.Result.CODE_TIMED_OUT and 'inactive (deactivated) for part of that time' in result.message


def test_a_question_that_times_out_while_active_keeps_the_plain_reason() -> None:
    from omni_ros.ros.actions import GoalSupervisor, goal_uuid

    clock = [5.0]
    supervisor = GoalSupervisor(WatchTable(), lambda: clock[0], lambda _: None, active=lambda: True)
    handle = Handle(4)
    supervisor.add_question(handle, PendingQuestion(Question(goal_uuid(handle), 'what floor?', 5.0)),
                            Stopwatch(5.0, 3.0), 2.0)
    for t in (5.0, 6.0, 7.5):
        clock[0] = t
        supervisor.tick(lambda _: None)
    assert supervisor.finish(handle).message == 'no answer within 2 s'
