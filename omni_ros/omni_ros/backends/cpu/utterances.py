"""Cutting the microphone stream into utterances from the VAD's per-frame speech decisions.

An utterance starts after a few speech frames (with a short pre-roll so the first phoneme is kept) and
ends after enough non-speech frames; recognizers then run once on the finished utterance rather than on
every chunk.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omni_ros.backends.cpu.vad import FRAME, SAMPLE_RATE, VadResult
from omni_ros.data import FloatArray


@dataclass(frozen=True)
class Utterance:
    audio: FloatArray
    start: float  # input time
    end: float


class UtteranceSegmenter:
    def __init__(self, start_frames: int = 3, end_silence: float = 0.5, max_seconds: float = 12.0,
                 pre_roll: float = 0.25) -> None:
        self.start_frames = start_frames
        self.end_frames = max(1, int(round(end_silence * SAMPLE_RATE / FRAME)))
        self.max_samples = int(max_seconds * SAMPLE_RATE)
        self.pre_roll = int(pre_roll * SAMPLE_RATE)
        self.reset()

    def reset(self) -> None:
        self._buffer = np.zeros(0, np.float32)  # recent audio, ending at the last sample fed
        self._buffer_end = 0  # absolute sample index just past the buffer
        self._vad_pos = 0  # absolute sample index of the next VAD frame
        self._time_origin = 0.0  # input time of absolute sample 0
        self._in_speech = False
        self._utt_start = 0
        self._speech_run = 0
        self._silence_run = 0

    @property
    def in_speech(self) -> bool:
        return self._in_speech

    def feed(self, audio: FloatArray, start: float, vad: VadResult, new_stream: bool = False) -> list[Utterance]:
        """Utterances that ended within this chunk. ``vad`` must come from the same audio."""
        if new_stream or self._buffer_end == 0:
            self.reset()
            self._time_origin = start
        self._buffer = np.concatenate([self._buffer, np.asarray(audio, np.float32)])
        self._buffer_end += len(audio)
        keep = self.max_samples + self.pre_roll + SAMPLE_RATE
        if len(self._buffer) > keep:
            self._buffer = self._buffer[-keep:]
        done: list[Utterance] = []
        for speech in vad.speech:
            frame_start = self._vad_pos
            self._vad_pos += FRAME
            if not self._in_speech:
                self._speech_run = self._speech_run + 1 if speech else 0
                if self._speech_run >= self.start_frames:
                    self._in_speech = True
                    self._silence_run = 0
                    self._utt_start = max(0, frame_start - (self.start_frames - 1) * FRAME - self.pre_roll)
                continue
            self._silence_run = 0 if speech else self._silence_run + 1
            too_long = self._vad_pos - self._utt_start >= self.max_samples
            if self._silence_run >= self.end_frames or too_long:
                done.append(self._cut(self._vad_pos - (self._silence_run - 2) * FRAME if not too_long
                                      else self._vad_pos))
                self._in_speech = False
                self._speech_run = 0
        return done

    def _cut(self, end: int) -> Utterance:
        buf_start = self._buffer_end - len(self._buffer)
        a = max(self._utt_start, buf_start) - buf_start
        b = max(a, min(end, self._buffer_end) - buf_start)
        return Utterance(self._buffer[a:b].copy(), self._time_origin + self._utt_start / SAMPLE_RATE,
                         self._time_origin + end / SAMPLE_RATE)
