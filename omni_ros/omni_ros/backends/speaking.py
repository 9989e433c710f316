"""Queued speech of backends that synthesize whole utterances (scripted, cpu) and hand it out per chunk.

Handing out one chunk's worth at a time keeps ``interrupt()`` meaningful: what has not been handed out
yet can still be dropped. Each piece says its turn and the words it voices, proportionally to the
samples, so the node can report what was actually played when it is cut off.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass

import numpy as np

from omni_ros.data import FloatArray, Speech


@dataclass
class Utterance:
    turn_id: int
    text: str
    samples: FloatArray
    played: int = 0  # samples already handed out

    def played_text(self) -> str:
        """The words handed out so far (proportionally to the samples)."""
        words = self.text.split()
        return ' '.join(words[:int(len(words) * self.played / max(len(self.samples), 1))])


class SpeechQueue:
    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self._queue: collections.deque[Utterance] = collections.deque()

    def __bool__(self) -> bool:
        return bool(self._queue)

    def say(self, turn_id: int, text: str, samples: FloatArray) -> None:
        self._queue.append(Utterance(turn_id, text, samples))

    def take(self, seconds: float, stamp: float) -> list[Speech]:
        """The next ``seconds`` of speech (utterances back to back), one Speech per turn, stamped ``stamp``."""
        wanted = int(round(seconds * self.sample_rate))
        pieces = []
        while wanted > 0 and self._queue:
            utterance = self._queue[0]
            before = utterance.played_text()
            piece = utterance.samples[utterance.played:utterance.played + wanted]
            utterance.played += len(piece)
            wanted -= len(piece)
            words = utterance.played_text()[len(before):].strip()
            pieces.append(Speech(np.asarray(piece, np.float32), self.sample_rate, stamp, utterance.turn_id, words))
            if utterance.played >= len(utterance.samples):
                self._queue.popleft()
        return pieces

    def drop(self) -> list[Utterance]:
        """Forget everything not handed out yet; returns the utterances that were cut."""
        cut = list(self._queue)
        self._queue.clear()
        return cut
