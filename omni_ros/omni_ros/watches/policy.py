"""The watch policy, in one place: cooldowns, one-shot ending and the checks of goal durations.

Used by the watch table (the node and omni_eval route alerts through it) and by backends that decide
alerts themselves (the CPU backend's trackers), so a watch behaves the same everywhere.

- Cooldown: an alert of a watch less than its cooldown after the previous one (on the input clock) is
  dropped; a watch's cooldown of 0 means the default (the node's ``default_cooldown``); the clock
  moving backwards (a looping bag) resets it. Backends get each watch with its cooldown resolved.
- One-shot: a watch that is not continuous ends with its first alert.
- Goal durations (timeout, cooldown) are finite and not negative; 0 means none / the default.
"""

from __future__ import annotations

import dataclasses
import math

from omni_ros.data import Event, EventKind, Watch
from omni_ros.errors import WatchRejectedError

DEFAULT_COOLDOWN = 5.0  # s: the node's default_cooldown parameter and omni_eval's default


def effective_cooldown(watch: Watch, default: float) -> float:
    """The cooldown that applies to ``watch``: its own, or ``default`` when it sets none (0)."""
    return watch.cooldown if watch.cooldown > 0 else default


def resolved(watch: Watch, default: float) -> Watch:
    """``watch`` as backends see it: with the cooldown that applies to it."""
    return dataclasses.replace(watch, cooldown=effective_cooldown(watch, default))


def cooldown_allows(last_alert: float | None, stamp: float, cooldown: float) -> bool:
    """True when an alert at input time ``stamp`` may follow the previous one of its watch."""
    if last_alert is None or stamp < last_alert:  # first alert, or the input clock went back
        return True
    return stamp - last_alert >= cooldown


def ends_watch(watch: Watch, event: Event) -> bool:
    """True when ``event`` (an alert routed to ``watch``) ends it: one-shot watches end at the first."""
    return event.kind is EventKind.ALERT and not watch.continuous


def check_durations(timeout: float, cooldown: float) -> None:
    """Raise WatchRejectedError unless a goal's timeout and cooldown are usable durations."""
    for what, value in (('timeout', timeout), ('cooldown', cooldown)):
        if not math.isfinite(value) or value < 0:
            raise WatchRejectedError(f'the {what} is {value:g} s; it must be a finite duration of 0 or more '
                                     f'(0: {"none" if what == "timeout" else "the node default"})')
