"""Speech output without ROS: the backend's speech cut into short blocks stamped with their playback
time, released shortly ahead of it, and cut off when the user barges in.

Playback time is on the input clock (the node clock: simulated time when replaying), the same clock
the microphone stamps use, so the node knows what the loudspeaker plays at any input time. A speaker
node plays each block at its stamp; when the node cuts a turn it tells players to drop what they
queued, and reports the assistant transcript truncated to the words actually played (proportionally
within the piece that was playing).

Turn ids are published as ``turn_base + backend turn id``, the base rising with every backend session,
so players and transcript readers never see an id reused after a restart.

Thread-safe: the backend worker adds speech, a timer releases blocks, the input path cuts turns.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from omni_ros.ingest.audio import resample
from omni_ros.errors import ConfigError
from omni_ros.settings import check_fields, load, setting
from omni_ros.data import Speaker, Speech, Transcript

@dataclass(frozen=True)
class SpeechConfig:
    block_seconds: float = setting(0.16, 'length of one published speech message in seconds',
                                   minimum=0.02, maximum=0.5)
    lead: float = setting(0.2, 'seconds ahead of its playback time each block is published (the player needs it '
                          'before then; more lead means more queued audio to drop on a barge-in)',
                          minimum=0.0, maximum=2.0)
    sample_rate: int = setting(0, "rate of the published speech; 0 keeps the backend's (24000 for MiniCPM-o)",
                               minimum=0, maximum=192000)

    def __post_init__(self) -> None:
        check_fields(self)
        if self.sample_rate and self.sample_rate < 8000:
            raise ConfigError(f"'sample_rate' {self.sample_rate} Hz is too low for speech: use 0 (the backend's "
                              'rate) or the loudspeaker\'s rate, e.g. 16000, 24000 or 48000')

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> SpeechConfig:
        return load(cls, values)


@dataclass(frozen=True)
class SpeechCut:
    """A barge-in (or a stop) applied to the output: what players and transcript readers are told."""

    turn_id: int  # the newest turn cut: players drop it and every earlier one
    stamp: float  # input time playback stopped
    transcripts: tuple[Transcript, ...]  # each cut turn, truncated to what was played, interrupted=True


@dataclass
class _Piece:
    """One backend speech piece on the playback timeline."""

    turn_id: int  # published id
    start: float
    end: float
    text: str


class SpeechOutput:
    def __init__(self, config: SpeechConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._pending: list[Speech] = []  # blocks not yet released, in playback order
        self._pieces: list[_Piece] = []  # what plays from now on (older ones are pruned)
        self._tail = float('-inf')  # playback end of everything scheduled
        self._turn_base = 0
        self._highest = 0  # highest published turn id seen
        self._cut_upto = 0  # published turn ids up to this one were cut: their late output is dropped

    # -- sessions and turn ids ----------------------------------------------------------------------
    def begin_session(self) -> None:
        """A backend session starts (its turn ids restart): forget queued speech, keep ids rising."""
        with self._lock:
            self._pending.clear()
            self._pieces.clear()
            self._tail = float('-inf')
            self._turn_base = self._highest

    def _published(self, backend_turn: int) -> int:
        turn = self._turn_base + backend_turn
        self._highest = max(self._highest, turn)
        return turn

    def transcript(self, transcript: Transcript) -> Transcript | None:
        """The backend's transcript with the published turn id; None for a turn already cut (the
        node reported that one itself, truncated to what was played)."""
        with self._lock:
            turn = self._published(transcript.turn_id)
            if transcript.speaker is Speaker.ASSISTANT and turn <= self._cut_upto:
                return None
        return Transcript(transcript.speaker, transcript.text, turn, transcript.stamp, transcript.final,
                          transcript.interrupted)

    # -- scheduling ---------------------------------------------------------------------------------
    def add(self, speech: Speech, now: float) -> list[Speech]:
        """Schedule a backend piece right after what is already queued (or ``lead`` from now).

        Returns the blocks as they will be played (stamp = playback time): the self-hearing
        reference. A piece of a turn that was already cut is dropped and nothing is returned.
        """
        if not speech.samples.size:
            return []
        rate = self.config.sample_rate or speech.sample_rate
        samples = speech.samples if rate == speech.sample_rate else resample(speech.samples, speech.sample_rate, rate)
        with self._lock:
            turn = self._published(speech.turn_id)
            if turn <= self._cut_upto:
                return []
            start = max(now + self.config.lead, self._tail)
            end = start + samples.size / rate
            self._tail = end
            self._pieces.append(_Piece(turn, start, end, speech.text))
            blocks = self._blocks(samples, rate, start, turn)
            self._pending.extend(blocks)
            return blocks

    def _blocks(self, samples: np.ndarray, rate: int, start: float, turn: int) -> list[Speech]:
        size = max(1, int(round(self.config.block_seconds * rate)))
        edges = list(range(0, samples.size, size))
        if len(edges) > 1 and samples.size - edges[-1] < size // 2:
            edges.pop()  # a short tail joins the block before it: no 10 ms messages
        edges.append(samples.size)
        return [Speech(samples[a:b], rate, start + a / rate, turn) for a, b in zip(edges, edges[1:])]

    def due(self, now: float) -> list[Speech]:
        """Blocks to publish now: those starting within ``lead`` of ``now``."""
        with self._lock:
            horizon = now + self.config.lead
            n = 0
            while n < len(self._pending) and self._pending[n].stamp <= horizon:
                n += 1
            released, self._pending = self._pending[:n], self._pending[n:]
            # Pieces of a turn still playing stay: a cut reports the whole turn's played words.
            live = {p.turn_id for p in self._pieces if p.end > now}
            self._pieces = [p for p in self._pieces if p.turn_id in live]
            return released

    def playing(self, now: float) -> bool:
        """True while scheduled speech has not finished playing at ``now``."""
        with self._lock:
            return self._tail > now

    # -- barge-in -----------------------------------------------------------------------------------
    def cut(self, at: float) -> SpeechCut | None:
        """Stop playback at input time ``at``: drop everything not yet played, return what players and
        listeners must be told, or None if nothing was playing or queued then."""
        with self._lock:
            cut = [p for p in self._pieces if p.end > at]
            if not cut:
                return None
            cut_turns = {p.turn_id for p in cut}
            turns: dict[int, list[str]] = {}
            for piece in self._pieces:
                if piece.turn_id in cut_turns:
                    turns.setdefault(piece.turn_id, []).append(_played_words(piece, at))
            self._pending = [b for b in self._pending if b.stamp + b.samples.size / b.sample_rate <= at]
            self._pieces = [p for p in self._pieces if p.end <= at]
            self._tail = min(self._tail, at)
            newest = max(turns)
            self._cut_upto = max(self._cut_upto, newest)
            transcripts = tuple(Transcript(Speaker.ASSISTANT, ' '.join(w for w in words if w), turn, at,
                                           final=True, interrupted=True) for turn, words in sorted(turns.items()))
            return SpeechCut(newest, at, transcripts)


def _played_words(piece: _Piece, at: float) -> str:
    """The words of ``piece`` played by ``at``, in proportion to its duration."""
    words = piece.text.split()
    if at >= piece.end:
        return piece.text.strip()
    fraction = max(0.0, (at - piece.start) / max(piece.end - piece.start, 1e-9))
    return ' '.join(words[:int(len(words) * fraction)])
