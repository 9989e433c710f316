"""Keeping a model that is sometimes slower than the stream within a bounded latency.

Policy (counted in RealtimeStats, which the node reads as ``backend.stats``):
  * ``lag`` is how far the backend is behind the input: after each model unit it grows by
    (wall time spent - unit length) and never drops below zero; a skipped unit costs ~0 s and so
    reduces it by one unit length.
  * 0 < lag <= max_lag: the unit runs without its stacked grid image (fewer vision tokens), counted
    in ``grids_dropped``.
  * lag > max_lag: the unit is skipped (no model call; its audio and frames are dropped, latest input
    wins), counted in ``units_skipped`` / ``skipped_audio_s``. The model expects exactly one unit of
    audio per call, so merging two seconds into one unit is not an option.
Nothing is queued here: feed() is synchronous, so the backlog is bounded by max_lag + one unit.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace


class UnitPlan(enum.Enum):
    RUN = 'run'
    RUN_LITE = 'run_lite'  # without the stacked frame grid
    SKIP = 'skip'


@dataclass(frozen=True)
class RealtimeStats:
    """Counters since setup(); a fresh frozen snapshot is returned by ``backend.stats``."""

    units_in: int = 0
    units_run: int = 0
    units_skipped: int = 0
    skipped_audio_s: float = 0.0
    grids_dropped: int = 0
    lag_s: float = 0.0
    rtf_last: float = 0.0  # wall time of the last unit / unit length (>1: slower than real time)
    rtf_mean: float = 0.0  # exponential mean, ~10 units
    rtf_max: float = 0.0
    model_s_last: float = 0.0  # of which inside the model (prefill + generate, or the HTTP calls)
    adapter_s_last: float = 0.0  # of which the adapter's own conversion and mapping
    prepares: int = 0
    warmup_s: float = 0.0


class RealtimeGovernor:
    def __init__(self, unit_s: float, max_lag_s: float) -> None:
        self.unit_s = unit_s
        self.max_lag_s = max_lag_s
        self.stats = RealtimeStats()

    def plan(self, has_grid: bool) -> UnitPlan:
        lag = self.stats.lag_s
        self.stats = replace(self.stats, units_in=self.stats.units_in + 1)
        if lag > self.max_lag_s:
            return UnitPlan.SKIP
        if lag > 0.0 and has_grid:
            return UnitPlan.RUN_LITE
        return UnitPlan.RUN

    def skipped(self, audio_s: float) -> None:
        s = self.stats
        self.stats = replace(s, units_skipped=s.units_skipped + 1, skipped_audio_s=s.skipped_audio_s + audio_s,
                             lag_s=max(0.0, s.lag_s - self.unit_s))

    def ran(self, wall_s: float, model_s: float, grid_dropped: bool) -> None:
        s = self.stats
        rtf = wall_s / self.unit_s
        mean = rtf if s.units_run == 0 else 0.9 * s.rtf_mean + 0.1 * rtf
        self.stats = replace(
            s, units_run=s.units_run + 1, lag_s=max(0.0, s.lag_s + wall_s - self.unit_s), rtf_last=rtf,
            rtf_mean=mean, rtf_max=max(s.rtf_max, rtf), model_s_last=model_s,
            adapter_s_last=max(0.0, wall_s - model_s), grids_dropped=s.grids_dropped + int(grid_dropped))

    def prepared(self) -> None:
        self.stats = replace(self.stats, prepares=self.stats.prepares + 1)

    def warmed(self, seconds: float) -> None:
        self.stats = replace(self.stats, warmup_s=seconds)

    def reset_lag(self) -> None:
        self.stats = replace(self.stats, lag_s=0.0)
