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
