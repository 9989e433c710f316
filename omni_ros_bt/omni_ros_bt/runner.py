"""Ticking a py_trees tree on an rclpy node without py_trees_ros.

The tree is ticked and the node spun in the same thread, one after the other, so behaviours see their
futures complete between ticks and never need a lock against the tree (py_trees_ros' tick_tock does the
same with a timer). Ticks are paced by the wall clock so that a simulated /clock that is paused does not
stall the tree; the watches' own timeouts are on omni_node's clock anyway.
"""

from __future__ import annotations

import time
from typing import Callable

import py_trees
from py_trees.common import Status
from rclpy.executors import Executor
from rclpy.node import Node

from omni_ros_bt.behaviours import action_behaviours

__all__ = ['TreeRunner']


class TreeRunner:
    def __init__(self, tree: py_trees.trees.BehaviourTree, node: Node, executor: Executor,
                 period_sec: float = 0.1) -> None:
        if period_sec <= 0:
            raise ValueError(f'period_sec must be positive, got {period_sec}')
        self.tree = tree
        self.node = node
        self.executor = executor
        self.period_sec = period_sec
        self._set_up = False

    def setup(self, timeout_sec: float = 10.0) -> None:
        """py_trees setup with the node handed to every behaviour (py_trees_ros convention)."""
        self.tree.setup(timeout=timeout_sec, node=self.node)
        self._set_up = True

    def spin_for(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            self.executor.spin_once(timeout_sec=remaining)

    def tick(self) -> Status:
        if not self._set_up:
            raise RuntimeError('TreeRunner.tick() before setup(): call runner.setup() first')
        self.tree.tick()
        return self.tree.root.status

    def run(self, timeout_sec: float | None = None,
            on_tick: Callable[[py_trees.trees.BehaviourTree], None] | None = None,
            until: Callable[[Status], bool] | None = None) -> Status:
        """Tick until the root finishes (or ``until(status)`` is true); on timeout halt and return INVALID."""
        done = until or (lambda s: s in (Status.SUCCESS, Status.FAILURE))
        deadline = None if timeout_sec is None else time.monotonic() + timeout_sec
        while True:
            next_tick = time.monotonic() + self.period_sec
            status = self.tick()
            if on_tick is not None:
                on_tick(self.tree)
            if done(status):
                return status
            if deadline is not None and time.monotonic() >= deadline:
                self.halt()
                return Status.INVALID
            self.spin_for(max(0.0, next_tick - time.monotonic()))

    def halt(self, flush_sec: float = 2.0) -> None:
        """Stop every running behaviour (canceling their goals) and wait for the cancels to be answered.

        Without the wait, a process that exits right after halting may never deliver its cancel request.
        """
        self.tree.root.stop(Status.INVALID)
        deadline = time.monotonic() + flush_sec
        while time.monotonic() < deadline:
            if not any(b.pending_cancels() for b in action_behaviours(self.tree.root)):
                return
            self.executor.spin_once(timeout_sec=0.05)

    def shutdown(self) -> None:
        self.tree.shutdown()
