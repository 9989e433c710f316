"""Speech output: blocks with playback stamps, release ahead of time, cuts and truncated transcripts."""

from __future__ import annotations

import numpy as np
import pytest

from omni_ros.errors import ConfigError
from omni_ros.speech.output import SpeechConfig, SpeechOutput
from omni_ros.data import Speaker, Speech, Transcript

RATE = 24000


def piece(seconds: float, turn: int, text: str, rate: int = RATE, stamp: float = 0.0) -> Speech:
    t = np.arange(int(seconds * rate)) / rate
    return Speech((0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rate, stamp, turn, text)


def test_blocks_are_short_contiguous_and_stamped_with_playback_time() -> None:
    out = SpeechOutput(SpeechConfig(block_seconds=0.16, lead=0.2))
    blocks = out.add(piece(1.0, 1, 'one two three four'), now=10.0)
    durations = [b.samples.size / b.sample_rate for b in blocks]
    assert all(0.1 <= d <= 0.2 + 1e-9 for d in durations), durations
    assert sum(durations) == pytest.approx(1.0)
    assert blocks[0].stamp == pytest.approx(10.2)  # lead from now
    for a, b in zip(blocks, blocks[1:]):
        assert b.stamp == pytest.approx(a.stamp + a.samples.size / a.sample_rate)
    assert {b.turn_id for b in blocks} == {1}
    # A second piece queues right behind the first, not at now + lead.
    more = out.add(piece(0.5, 1, 'five six'), now=10.3)
    assert more[0].stamp == pytest.approx(11.2)


def test_blocks_are_released_lead_seconds_ahead_of_playback() -> None:
    out = SpeechOutput(SpeechConfig(block_seconds=0.1, lead=0.2))
    blocks = out.add(piece(1.0, 1, 'hello there'), now=0.0)
    assert [b.stamp for b in out.due(0.0)] == [blocks[0].stamp]  # playback at 0.2, published now
    assert out.due(0.05) == []
    assert len(out.due(0.45)) == 4  # blocks playing from 0.3, 0.4, 0.5 and 0.6 s (horizon 0.65 s)
    assert out.playing(1.1) and not out.playing(1.2 + 1e-6)


def test_resampling_to_the_speaker_rate() -> None:
    out = SpeechOutput(SpeechConfig(block_seconds=0.1, lead=0.0, sample_rate=48000))
    blocks = out.add(piece(0.5, 1, 'hi'), now=0.0)
    assert {b.sample_rate for b in blocks} == {48000}
    assert sum(b.samples.size for b in blocks) == pytest.approx(24000, abs=2)


def test_cut_drops_unplayed_speech_and_truncates_the_transcript_to_played_words() -> None:
    out = SpeechOutput(SpeechConfig(block_seconds=0.1, lead=0.0))
    out.add(piece(1.0, 1, 'one two three four'), now=0.0)
    out.add(piece(1.0, 1, 'five six seven eight'), now=0.0)
    played = out.due(1.45)  # blocks go out as their time comes
    cut = out.cut(1.5)  # halfway through the second piece
    assert cut is not None and cut.turn_id == 1 and cut.stamp == 1.5
    [transcript] = cut.transcripts
    assert transcript.text == 'one two three four five six'
    assert transcript.interrupted and transcript.final and transcript.speaker is Speaker.ASSISTANT
    assert played[-1].stamp == pytest.approx(1.4)
    assert out.due(5.0) == [] and not out.playing(1.5)
    # The backend's late output for that turn is dropped; its next turn plays.
    assert out.add(piece(1.0, 1, 'nine ten'), now=1.6) == []
    assert out.transcript(Transcript(Speaker.ASSISTANT, 'one ... ten', 1, 1.0, interrupted=True)) is None
    assert out.add(piece(0.5, 2, 'sorry?'), now=1.6)[0].stamp == pytest.approx(1.6)
    assert out.cut(10.0) is None  # nothing playing any more


def test_cut_reports_every_turn_it_stops_including_queued_ones() -> None:
    out = SpeechOutput(SpeechConfig(block_seconds=0.1, lead=0.0))
    out.add(piece(1.0, 1, 'first answer here'), now=0.0)
    out.add(piece(1.0, 2, 'second answer'), now=0.0)
    cut = out.cut(0.5)
    assert cut is not None and cut.turn_id == 2
    assert [(t.turn_id, t.text) for t in cut.transcripts] == [(1, 'first'), (2, '')]


def test_turn_ids_keep_rising_across_backend_sessions() -> None:
    out = SpeechOutput(SpeechConfig(lead=0.0))
    out.add(piece(0.2, 3, 'a'), now=0.0)
    out.begin_session()  # the new backend session numbers its turns from 1 again
    assert out.add(piece(0.2, 1, 'b'), now=1.0)[0].turn_id == 4
    t = out.transcript(Transcript(Speaker.USER, 'hi', 2, 1.0))
    assert t is not None and t.turn_id == 5 and t.text == 'hi'


def test_config_is_validated() -> None:
    with pytest.raises(ConfigError, match='block_seconds'):
        SpeechConfig.from_values({'block_seconds': 2.0})
    with pytest.raises(ConfigError, match='too low'):
        SpeechConfig.from_values({'sample_rate': 100})
    assert SpeechConfig.from_values({'sample_rate': 48000}).sample_rate == 48000
