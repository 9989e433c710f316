"""Per-watch decisions once per hop: debounced edge triggering and cooldowns.

Semantics:
- A watch alerts when its condition *becomes* true (a rising edge), not on every chunk while it stays true.
- A condition must be seen false for ``fall`` consecutive observed seconds (``fall * per_second`` hops)
  before it can rise again, and true from its first hop through ``rise - 1`` further seconds to rise, so
  one flickering detection neither re-arms nor fires a watch; a condition that needs one sighting
  (``rise`` 1) fires on the first hop it is seen, without waiting for the rest of a second.
- A new watch whose condition is already true on its first observation alerts at once when
  ``alert_if_already_true`` (default): someone asking "tell me when the light is green" while it is green
  wants to hear it now. Otherwise it waits for the condition to go false and rise again.
- Cooldown (the rule of ``omni_ros.watches.policy``, with the cooldown the node resolved for the watch):
  a rising edge within ``cooldown`` seconds of this watch's previous alert is swallowed (the state
  still follows the condition, so the next alert needs a new edge after the cooldown).
- Chunks where the condition was not observed (no frame, perception skipped) change nothing.
- One-shot versus continuous is the node's business: every trigger is reported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from omni_ros.backends.cpu.conditions import Condition, Observation, Perceptions
from omni_ros.data import Watch
from omni_ros.watches import policy


@dataclass
class WatchTracker:
    watch: Watch
    condition: Condition
    cooldown: float
    alert_if_already_true: bool = True
    per_second: int = 1  # decisions (hops) per second of input
    active: bool | None = None  # debounced state; None until first observed
    true_run: int = 0
    false_run: int = 0
    last_alert: float = -math.inf

    def reset(self) -> None:
        """A new stream: forget the state and the cooldown."""
        self.active = None
        self.true_run = self.false_run = 0
        self.last_alert = -math.inf

    def step(self, perceptions: Perceptions) -> Observation | None:
        """The observation that triggered an alert this chunk, or None."""
        obs = self.condition.evaluate(perceptions)
        if obs.state is None:
            return None
        if obs.state:
            self.true_run += 1
            self.false_run = 0
            if self.active is not True and self.true_run >= 1 + (self.condition.rise - 1) * self.per_second:
                first = self.active is None
                self.active = True
                if first and not self.alert_if_already_true:
                    return None
                if not policy.cooldown_allows(self.last_alert, perceptions.stamp, self.cooldown):
                    return None
                self.last_alert = perceptions.stamp
                return obs
            return None
        self.false_run += 1
        self.true_run = 0
        if self.active is None or (self.active and self.false_run >= self.condition.fall * self.per_second):
            self.active = False
        return None
