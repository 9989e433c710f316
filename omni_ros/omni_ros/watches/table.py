"""The table of active watches: which exist, which events reach them, when they are done.

Shared by the ROS action servers (which add and remove watches and wait for their events) and the
backend worker (which feeds the backend and routes its events); every method takes the lock.
Cooldowns and one-shot ending follow ``watches.policy``; goal timeouts are the node's business.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from typing import Callable

from omni_ros.data import Event, EventKind, Watch, WatchSource
from omni_ros.errors import WatchRejectedError
from omni_ros.watches import policy

MAX_INSTRUCTION_CHARS = 500


@dataclass
class WatchState:
    watch: Watch
    triggers: int = 0
    last_trigger: float | None = None
    events: list[Event] = field(default_factory=list)
    # Set when the watch ends; wakes whoever waits on it. Reason is the closing message.
    finished: bool = False
    reason: str = ''


def normalize_instruction(instruction: str, max_chars: int = MAX_INSTRUCTION_CHARS) -> str:
    """Whitespace-collapsed instruction; raises WatchRejectedError if empty or too long."""
    text = ' '.join(instruction.split())
    if not text:
        raise WatchRejectedError('the watch instruction is empty; say what to watch for, '
                                 "e.g. 'tell me when the light turns green'")
    if len(text) > max_chars:
        raise WatchRejectedError(f'the watch instruction has {len(text)} characters; '
                                 f'keep it under {max_chars} (one short sentence per watch)')
    return text


class WatchTable:
    def __init__(self, default_cooldown: float = 0.0) -> None:
        self._lock = threading.Condition()
        self._states: dict[str, WatchState] = {}
        self._version = 0
        self.default_cooldown = default_cooldown

    @property
    def version(self) -> int:
        """Changes whenever the set of active watches changes (the backend must be told)."""
        with self._lock:
            return self._version

    def add(self, watch: Watch) -> WatchState:
        with self._lock:
            if watch.watch_id in self._states:
                raise WatchRejectedError(f'a watch with id {watch.watch_id} is already active')
            state = WatchState(watch)
            self._states[watch.watch_id] = state
            self._version += 1
            return state

    def remove(self, watch_id: str, reason: str) -> WatchState | None:
        with self._lock:
            state = self._states.pop(watch_id, None)
            if state is not None:
                self._version += 1
                self._finish(state, reason)
            return state

    def remove_where(self, predicate: Callable[[Watch], bool], reason: str) -> list[WatchState]:
        with self._lock:
            ids = [i for i, s in self._states.items() if predicate(s.watch)]
            return [s for s in (self.remove(i, reason) for i in ids) if s is not None]

    def get(self, watch_id: str) -> WatchState | None:
        with self._lock:
            return self._states.get(watch_id)

    def watches(self) -> list[Watch]:
        with self._lock:
            return [s.watch for s in self._states.values()]

    def for_backend(self) -> list[Watch]:
        """The active watches as a backend gets them: each with the cooldown that applies to it."""
        with self._lock:
            return [policy.resolved(s.watch, self.default_cooldown) for s in self._states.values()]

    def set_default_cooldown(self, seconds: float) -> None:
        """A new default cooldown (a live parameter change): backends are told with the watches."""
        with self._lock:
            self.default_cooldown = seconds
            self._version += 1

    def replace_standing(self, watches: list[Watch]) -> None:
        """Make the PARAMETER watches exactly ``watches`` (by instruction): unchanged ones keep their
        id and trigger count, removed ones end, new ones are added with an id not in use."""
        with self._lock:
            wanted = {w.instruction: w for w in watches}
            current = {s.watch.instruction: i for i, s in self._states.items()
                       if s.watch.source is WatchSource.PARAMETER}
            for instruction, watch_id in current.items():
                if instruction not in wanted:
                    self.remove(watch_id, 'removed from standing_watches')
            n = 0
            for instruction, watch in wanted.items():
                if instruction in current:
                    continue
                while f'standing-{n}' in self._states:
                    n += 1
                self.add(dataclasses.replace(watch, watch_id=f'standing-{n}'))

    def snapshot(self) -> list[tuple[Watch, int]]:
        """(watch, trigger count) for every active watch, for listing."""
        with self._lock:
            return [(s.watch, s.triggers) for s in self._states.values()]

    def __len__(self) -> int:
        with self._lock:
            return len(self._states)

    def route(self, event: Event) -> WatchState | None:
        """Record an ALERT against its watch; None when it is for no active watch or in cooldown.

        A one-shot watch ends with its first event.
        """
        if event.kind is not EventKind.ALERT or not event.watch_id:
            return None
        with self._lock:
            state = self._states.get(event.watch_id)
            if state is None:
                return None
            cooldown = policy.effective_cooldown(state.watch, self.default_cooldown)
            if not policy.cooldown_allows(state.last_trigger, event.stamp, cooldown):
                return None
            state.triggers += 1
            state.last_trigger = event.stamp
            state.events.append(event)
            if policy.ends_watch(state.watch, event):
                del self._states[event.watch_id]
                self._version += 1
                self._finish(state, 'triggered')
            else:
                self._lock.notify_all()
            return state

    def wait(self, state: WatchState, seen: int, timeout: float) -> None:
        """Block up to ``timeout`` s until ``state`` has more than ``seen`` events or is finished."""
        with self._lock:
            self._lock.wait_for(lambda: state.finished or len(state.events) > seen, timeout)

    def _finish(self, state: WatchState, reason: str) -> None:
        state.finished = True
        state.reason = reason
        self._lock.notify_all()


def standing_watches(instructions: list[str], created: float) -> list[Watch]:
    """Watches from the node's ``standing_watches`` parameter: continuous, with stable ids."""
    return [Watch(watch_id=f'standing-{i}', instruction=normalize_instruction(text), continuous=True,
                  source=WatchSource.PARAMETER, created=created)
            for i, text in enumerate(instructions)]


class Stopwatch:
    """Time elapsed on a clock that may jump: simulated time starts at 0 before /clock arrives and
    moves backwards when a bag loops. Only steady forward steps of at most ``max_step`` count."""

    def __init__(self, now: float, max_step: float) -> None:
        self._last = now
        self._max_step = max_step
        self.elapsed = 0.0

    def update(self, now: float) -> float:
        step = now - self._last
        if 0.0 < step <= self._max_step:
            self.elapsed += step
        self._last = now
        return self.elapsed
