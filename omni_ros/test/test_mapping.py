from __future__ import annotations

import numpy as np
import pytest

from omni_ros.ros import mapping
from omni_ros.errors import MappingError
from omni_ros.data import (Event, EventKind, Modality, Speaker, Speech, SpeechInterruption, Transcript, Watch,
                            WatchSource)
from omni_ros_interfaces.action import SetWatch
from omni_ros_interfaces.msg import ProactiveEvent

pytestmark = pytest.mark.node  # ROS messages in this process, no other process


@pytest.mark.parametrize('kind', list(EventKind))
@pytest.mark.parametrize('modality', list(Modality))
def test_event_round_trip(kind: EventKind, modality: Modality) -> None:
    event = Event(kind=kind, text='the light is green', stamp=1_700_000_005.25, watch_id='w1',
                  question_id='q1', confidence=0.75, modality=modality)
    msg = mapping.event_to_msg(event, 'run-1', now=1_700_000_006.0)
    assert msg.event_id == 'run-1' and msg.header.stamp.sec == 1_700_000_006
    assert mapping.msg_to_event(msg) == event


def test_unknown_enum_values_raise() -> None:
    msg = ProactiveEvent(kind=42)
    with pytest.raises(MappingError, match='unknown ProactiveEvent.kind 42'):
        mapping.msg_to_event(msg)
    with pytest.raises(MappingError, match='unknown Transcript.speaker'):
        mapping.msg_to_speaker(9)
    with pytest.raises(MappingError, match='unknown WatchInfo.source'):
        mapping.msg_to_source(7)


@pytest.mark.parametrize('seconds', [0.0, 1.5, 1_700_000_000.123456789, 0.999999999])
def test_time_round_trip(seconds: float) -> None:
    msg = mapping.time_to_msg(seconds)
    assert 0 <= msg.nanosec < 1_000_000_000
    assert mapping.msg_to_time(msg) == pytest.approx(seconds, abs=1e-9 * max(1.0, seconds))


@pytest.mark.parametrize('bad', [-1.0, float('inf'), float('nan'), 2.0 ** 31 + 1.0, 1e12])
def test_invalid_times_raise(bad: float) -> None:
    with pytest.raises(MappingError):
        mapping.time_to_msg(bad)


@pytest.mark.parametrize('stamp, sec, nanosec', [(-0.001, 0, 0), (-1e9, 0, 0), (float('-inf'), 0, 0),
                                                 (2.0 ** 31 + 0.5, 2 ** 31 - 1, 999_999_999),
                                                 (1e12, 2 ** 31 - 1, 999_999_999),
                                                 (float('inf'), 2 ** 31 - 1, 999_999_999),
                                                 (12.25, 12, 250_000_000)])
def test_output_stamps_are_clamped_into_what_a_ros_stamp_holds(stamp: float, sec: int, nanosec: int) -> None:
    """Issue 16: a unit starting just before time 0 gave an event stamp below zero, and mapping it raised
    inside a timer, which ended the node's executor. Output stamps are clamped instead."""
    event = mapping.event_to_msg(Event(kind=EventKind.ALERT, text='green', stamp=stamp, watch_id='w'), 'e-1', stamp)
    speech = mapping.speech_to_msg(Speech(samples=np.zeros(10, np.float32), sample_rate=24000, stamp=stamp, turn_id=1))
    transcript = mapping.transcript_to_msg(Transcript(speaker=Speaker.ASSISTANT, text='hi', turn_id=1, stamp=stamp))
    interruption = mapping.interruption_to_msg(SpeechInterruption(turn_id=1, stamp=stamp, reason='barge_in'))
    for msg_stamp in (event.input_stamp, event.header.stamp, speech.header.stamp, transcript.header.stamp,
                      interruption.header.stamp):
        assert (msg_stamp.sec, msg_stamp.nanosec) == (sec, nanosec)
    with pytest.raises(MappingError):
        mapping.stamp_to_msg(float('nan'))


def test_transcript_round_trip() -> None:
    t = Transcript(speaker=Speaker.ASSISTANT, text='hello', turn_id=3, stamp=12.5, final=False, interrupted=True)
    assert mapping.msg_to_transcript(mapping.transcript_to_msg(t)) == t


@pytest.mark.parametrize('encoding', ['S16LE', 'F32LE'])
def test_speech_round_trip(encoding: str) -> None:
    samples = (0.5 * np.sin(np.linspace(0, 20, 2400))).astype(np.float32)
    msg = mapping.speech_to_msg(Speech(samples, 24000, 3.0, turn_id=7), encoding)
    assert msg.sample_rate == 24000 and msg.channels == 1 and msg.encoding == encoding and msg.turn_id == 7
    back = mapping.msg_to_speech(msg)
    assert back.sample_rate == 24000 and back.stamp == 3.0 and back.turn_id == 7
    np.testing.assert_allclose(back.samples, samples, atol=1e-4)


def test_interruption_round_trip() -> None:
    interruption = SpeechInterruption(turn_id=4, stamp=12.25, reason='barge_in')
    assert mapping.msg_to_interruption(mapping.interruption_to_msg(interruption)) == interruption


def test_goal_and_watch_info_mapping() -> None:
    goal = SetWatch.Goal(instruction='tell me when the light turns green', continuous=True,
                         timeout=mapping.duration_to_msg(30.0), cooldown=mapping.duration_to_msg(2.5))
    watch = mapping.goal_to_watch(goal, 'abc', goal.instruction, created=100.0)
    assert watch == Watch('abc', goal.instruction, continuous=True, cooldown=2.5, timeout=30.0,
                          source=WatchSource.ACTION, created=100.0)
    assert mapping.watch_to_goal(watch) == goal
    assert mapping.msg_to_watch(mapping.watch_to_msg(watch, 4)) == (watch, 4)
    meant = mapping.goal_to_watch(goal, 'abc', goal.instruction, 100.0,
                                  interpretation='I will tell you when the traffic light turns green.')
    info = mapping.watch_to_msg(meant, 0)
    assert info.interpretation == meant.interpretation and mapping.msg_to_watch(info) == (meant, 0)
