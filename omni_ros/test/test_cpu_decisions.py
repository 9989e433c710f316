"""CPU backend: edge-triggered watch decisions, debounce, cooldown and unobserved chunks (pure logic)."""

from __future__ import annotations

from omni_ros.backends.cpu.conditions import Perceptions, SoundEvent
from omni_ros.backends.cpu.decisions import WatchTracker
from omni_ros.backends.cpu.instructions import parse_instruction
from omni_ros.data import Watch


def tracker(instruction: str, cooldown: float = 0.0, already: bool = True) -> WatchTracker:
    return WatchTracker(Watch('w', instruction), parse_instruction(instruction).condition, cooldown, already)


def light(t: float, color: str | None) -> Perceptions:
    return Perceptions(stamp=t, has_frame=True, lights={color: 0.9} if color else {})


def run(tr: WatchTracker, seq: list[Perceptions]) -> list[float]:
    return [p.stamp for p in seq if tr.step(p) is not None]


def test_alerts_on_the_rising_edge_only() -> None:
    tr = tracker('tell me when the light turns green')
    seq = [light(0, 'red'), light(1, 'red'), light(2, 'green'), light(3, 'green'), light(4, 'green')]
    assert run(tr, seq) == [2]


def test_already_true_alerts_at_once_by_default() -> None:
    tr = tracker('tell me when the light is green')
    assert run(tr, [light(0, 'green'), light(1, 'green')]) == [0]


def test_already_true_waits_for_a_new_edge_when_configured() -> None:
    tr = tracker('tell me when the light is green', already=False)
    seq = [light(0, 'green'), light(1, 'green'), light(2, 'red'), light(3, 'red'), light(4, 'green')]
    assert run(tr, seq) == [4]


def test_single_false_chunk_does_not_rearm() -> None:
    # One missed detection between greens must not produce a second alert (fall debounce of 2 chunks).
    tr = tracker('tell me when the light turns green')
    seq = [light(0, 'red'), light(1, 'green'), light(2, None), light(3, 'green'), light(4, 'red'),
           light(5, 'red'), light(6, 'green')]
    assert run(tr, seq) == [1, 6]


def test_cooldown_swallows_edges_inside_it() -> None:
    tr = tracker('tell me when the light turns green', cooldown=10.0)
    seq = [light(0, 'green'), light(1, 'red'), light(2, 'red'), light(3, 'green'), light(4, 'red'),
           light(5, 'red'), light(12, 'green')]
    assert run(tr, seq) == [0, 12]


def test_unobserved_chunks_change_nothing() -> None:
    # Camera stops while green, comes back green: no second alert; no alert while nothing is seen.
    tr = tracker('tell me when the light turns green')
    seq = [light(0, 'red'), light(1, 'green'), Perceptions(2), Perceptions(3), light(4, 'green')]
    assert run(tr, seq) == [1]


def test_sounds_alert_per_occurrence() -> None:
    tr = tracker('alert me when the oven beeps')

    def heard(t: float, kinds: tuple[str, ...]) -> Perceptions:
        return Perceptions(stamp=t, sounds=[SoundEvent(k, t, 0.9) for k in kinds])
    seq = [heard(0, ()), heard(1, ('beep',)), heard(2, ('beep',)), heard(3, ()), heard(4, ('knock',)),
           heard(5, ('beep',))]
    # A beep train over two chunks is one alert; a knock is not a beep.
    assert run(tr, seq) == [1, 5]


def test_number_must_match_whole_reading() -> None:
    tr = tracker('let me know when we reach floor 16')

    def shown(t: float, text: str) -> Perceptions:
        return Perceptions(stamp=t, has_frame=True, digits=[(text, 0.9)] if text else [])
    assert run(tr, [shown(0, '1'), shown(1, '116'), shown(2, '15'), shown(3, '16')]) == [3]


def test_nobody_present_needs_several_empty_chunks() -> None:
    tr = tracker('tell me when everyone leaves')

    def people(t: float, n: int) -> Perceptions:
        return Perceptions(stamp=t, has_frame=True, people=n, faces=0, people_confidence=0.9 if n else 0.0)
    seq = [people(0, 1), people(1, 1), people(2, 0), people(3, 1), people(4, 0), people(5, 0), people(6, 0)]
    # One empty chunk (t=2) is a missed detection; two in a row (t=4, 5) mean everyone left.
    assert run(tr, seq) == [5]


def test_reset_forgets_state_and_cooldown() -> None:
    tr = tracker('tell me when the light turns green', cooldown=100.0)
    assert run(tr, [light(0, 'green')]) == [0]
    tr.reset()
    assert run(tr, [light(0, 'green')]) == [0]
