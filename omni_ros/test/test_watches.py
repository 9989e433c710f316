from __future__ import annotations

import threading

import pytest

from omni_ros.errors import WatchRejectedError
from omni_ros.data import Event, EventKind, Watch, WatchSource
from omni_ros.watches.table import WatchTable, normalize_instruction, standing_watches


def alert(watch_id: str, stamp: float) -> Event:
    return Event(kind=EventKind.ALERT, text='it happened', stamp=stamp, watch_id=watch_id)


@pytest.mark.parametrize('text', ['', '   ', '\n\t'])
def test_empty_instruction_is_rejected_with_an_example(text: str) -> None:
    with pytest.raises(WatchRejectedError, match='empty.*e.g.'):
        normalize_instruction(text)


def test_instruction_whitespace_is_collapsed_and_length_bounded() -> None:
    assert normalize_instruction('  tell me\n when   it rains ') == 'tell me when it rains'
    with pytest.raises(WatchRejectedError, match='characters'):
        normalize_instruction('x' * 501)


def test_one_shot_watch_ends_with_its_first_alert() -> None:
    table = WatchTable()
    state = table.add(Watch('a', 'light green'))
    version = table.version
    assert table.route(alert('a', 10.0)) is state
    assert state.finished and state.reason == 'triggered'
    assert table.get('a') is None and table.version != version
    assert table.route(alert('a', 20.0)) is None


def test_continuous_watch_respects_cooldown_on_input_time() -> None:
    table = WatchTable(default_cooldown=5.0)
    state = table.add(Watch('c', 'ding', continuous=True))
    assert table.route(alert('c', 10.0)) is state
    assert table.route(alert('c', 12.0)) is None  # within the default cooldown
    assert table.route(alert('c', 15.0)) is state
    assert state.triggers == 2 and [e.stamp for e in state.events] == [10.0, 15.0]


def test_watch_cooldown_overrides_default_and_clock_jump_back_resets_it() -> None:
    table = WatchTable(default_cooldown=5.0)
    state = table.add(Watch('c', 'ding', continuous=True, cooldown=1.0))
    assert table.route(alert('c', 10.0)) is state
    assert table.route(alert('c', 11.5)) is state
    # A looping bag restarts input time: the earlier stamp must not be swallowed by the cooldown.
    assert table.route(alert('c', 2.0)) is state
    assert state.triggers == 3


def test_comments_answers_and_unknown_watches_are_not_routed() -> None:
    table = WatchTable()
    table.add(Watch('a', 'x'))
    assert table.route(Event(kind=EventKind.COMMENT, text='hi', stamp=1.0)) is None
    assert table.route(Event(kind=EventKind.ANSWER, text='16', stamp=1.0, question_id='q')) is None
    assert table.route(alert('nope', 1.0)) is None
    assert table.get('a') is not None and table.get('a').triggers == 0


def test_duplicate_ids_are_rejected_and_remove_reports_reason() -> None:
    table = WatchTable()
    table.add(Watch('a', 'x'))
    with pytest.raises(WatchRejectedError, match='already active'):
        table.add(Watch('a', 'y'))
    state = table.remove('a', 'canceled')
    assert state is not None and state.finished and state.reason == 'canceled'
    assert table.remove('a', 'again') is None


def test_wait_wakes_on_event_from_another_thread() -> None:
    table = WatchTable()
    state = table.add(Watch('c', 'x', continuous=True))
    timer = threading.Timer(0.05, lambda: table.route(alert('c', 1.0)))
    timer.start()
    table.wait(state, 0, timeout=5.0)
    timer.join()
    assert len(state.events) == 1


def test_remove_where_and_standing_watches() -> None:
    table = WatchTable()
    for watch in standing_watches(['alert if someone falls', ' tell me  when the oven beeps'], created=3.0):
        table.add(watch)
    table.add(Watch('goal', 'x'))
    assert {w.watch_id for w in table.watches()} == {'standing-0', 'standing-1', 'goal'}
    assert all(w.continuous and w.source is WatchSource.PARAMETER
               for w in table.watches() if w.watch_id.startswith('standing'))
    removed = table.remove_where(lambda w: w.source is WatchSource.PARAMETER, 'reconfigured')
    assert len(removed) == 2 and all(s.reason == 'reconfigured' for s in removed)
    assert [w.watch_id for w in table.watches()] == ['goal']


def test_stopwatch_ignores_clock_start_and_jumps() -> None:
    from omni_ros.watches.table import Stopwatch

    watch = Stopwatch(now=0.0, max_step=3.0)  # sim time before /clock: 0
    assert watch.update(1_700_000_000.0) == 0.0  # first /clock: a jump, not elapsed time
    assert watch.update(1_700_000_001.5) == 1.5
    assert watch.update(1_700_000_000.2) == 1.5  # looping bag: backwards
    assert watch.update(1_700_000_001.2) == 2.5
    assert watch.update(1_700_000_001.2) == 2.5
