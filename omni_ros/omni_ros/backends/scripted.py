"""A backend that says what a YAML timeline tells it to, when it tells it to.

No model and no GPU: it lets people wire behaviour trees, dashboards and launch files against the
real node and its actions, and it gives tests deterministic output. The timeline format is described
in ``omni_ros/scenario/script.py``; the default is the bundled ``crossing`` scenario's ``script``,
which matches the scene rendered into that scenario's bag.

Semantics (times are seconds from the start of the stream, i.e. the first chunk after
``start_session()`` or after a chunk flagged ``new_stream``, such as a looping bag):

* A line fires in the first chunk whose span [start, end) reaches its ``at``. A line with ``watch``
  produces one ALERT per active watch whose instruction contains that text (case-insensitive), and
  nothing when none matches; a line without ``watch`` is a COMMENT. Event stamps are the chunk start.
* ``ask()`` is answered on the next chunk with an ANSWER event (the latest matching answer already
  valid, or a "no scripted answer" text).
* Everything said also gives a final ASSISTANT transcript (turn ids increase by one per utterance)
  and 24 kHz placeholder speech spread over the following chunks at ``speech_rate`` words per second;
  ``speaking`` is true while speech is pending. ``interrupt()`` drops pending speech at once and the
  next chunk reports what was cut off (transcript with ``interrupted`` and only the words played).
"""

from __future__ import annotations

import collections
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from omni_ros.backends.speaking import SpeechQueue, Utterance
from omni_ros.errors import BackendError, BackendSetupError, ConfigError, WatchRejectedError
from omni_ros.settings import Change, check_fields, setting
from omni_ros.data import (BackendOutput, Chunk, Event, EventKind, FloatArray, InterruptMode, Question, Speaker,
                           StreamSpec, Transcript, Watch)

if TYPE_CHECKING:  # the scenario package (PyYAML) is imported at setup()
    from omni_ros.scenario.script import Timeline

SPEECH_SAMPLE_RATE = 24000
DEFAULT_SCENARIO = 'crossing'


def _bundled_scenario_file(name: str) -> Path:
    return Path(__file__).resolve().parent.parent / 'scenarios' / f'{name}.yaml'


def synthesize(text: str, words_per_second: float, sample_rate: int = SPEECH_SAMPLE_RATE) -> FloatArray:
    """A deterministic voice-like placeholder for ``text``: a harmonic buzz with a wandering pitch,
    shaped into syllables (about one per three letters) and words, so level meters, VAD-style gates
    and speaker pipelines see something speech-shaped rather than silence or a test tone."""
    words = text.split() or ['...']
    word_seconds = 1.0 / words_per_second
    envelope: list[np.ndarray] = []
    for word in words:
        syllables = max(1, min(4, round(len(word.strip('.,!?;:')) / 3)))
        voiced = int(word_seconds * 0.85 * sample_rate)
        per = max(voiced // syllables, 1)
        for _ in range(syllables):
            envelope.append(np.hanning(per) ** 0.7)
        envelope.append(np.zeros(int(word_seconds * sample_rate) - per * syllables))  # pause between words
    env = np.concatenate(envelope)
    t = np.arange(len(env)) / sample_rate
    seed = zlib.crc32(text.encode('utf-8'))  # same text, same voice
    wobble = 2 * np.pi * (seed % 1000) / 1000.0
    f0 = 135.0 + 18.0 * np.sin(2 * np.pi * 0.9 * t + wobble) - 12.0 * t / max(t[-1], 1e-3)  # falling intonation
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    voice = np.zeros_like(t)
    for k in range(1, 11):
        voice += np.sin(k * phase) / k  # a glottal-ish buzz: harmonics falling off as 1/k
    out = env * voice
    peak = np.max(np.abs(out))
    return (0.3 * out / peak if peak > 0 else out).astype(np.float32)


@dataclass(frozen=True)
class ScriptedConfig:
    timeline: str = setting('', 'path to a timeline YAML (lines/answers, or a scenario file with a script '
                            'section); empty uses the bundled crossing scenario script')
    speech_rate: float = setting(2.5, 'speaking rate of the placeholder voice in words per second',
                                 minimum=0.5, maximum=10.0, change=Change.LIVE)
    frames_per_chunk: int = setting(1, 'camera frames per input chunk (more than 1: stacked mode)',
                                    minimum=1, maximum=30)
    chunk_seconds: float = setting(1.0, 'seconds of input per chunk', minimum=0.1, maximum=10.0)
    model_time: float = setting(0.0, "seconds each chunk takes, as a model's processing would (0: none); "
                                'set it to stand in for MiniCPM-o in latency benchmarks', minimum=0.0, maximum=5.0)

    def __post_init__(self) -> None:
        check_fields(self)


class ScriptedBackend:
    """Backend that follows a YAML timeline (see the module docstring)."""

    name = 'scripted'
    Config = ScriptedConfig

    def __init__(self, config: ScriptedConfig | None = None) -> None:
        self.config = config or ScriptedConfig()
        self._timeline: Timeline | None = None  # once set up
        self._in_session = False
        self._watches: tuple[Watch, ...] = ()
        self._questions: collections.deque[Question] = collections.deque()
        self._speech = SpeechQueue(SPEECH_SAMPLE_RATE)
        self._cut_off: list[Utterance] = []  # interrupted utterances to report on the next chunk
        self._stream_start: float | None = None
        self._next_line = 0
        self._turn_id = 0

    # -- life cycle -------------------------------------------------------------------------------

    @classmethod
    def usable(cls, config: ScriptedConfig) -> bool:
        return True  # numpy and PyYAML only, both core dependencies

    def reconfigure(self, config: ScriptedConfig) -> None:
        """A live change: only ``speech_rate`` (Change.LIVE) differs; it applies to what is said next."""
        self.config = config

    def stream_spec(self) -> StreamSpec:
        return StreamSpec(sample_rate=16000, frames_per_chunk=self.config.frames_per_chunk,
                          chunk_seconds=self.config.chunk_seconds)

    def setup(self) -> None:
        from omni_ros.scenario.script import load_timeline

        given = self.config.timeline.strip()
        path = Path(given).expanduser() if given else _bundled_scenario_file(DEFAULT_SCENARIO)
        if not path.is_file():
            raise BackendSetupError(
                f"scripted backend: timeline file {path} does not exist; set the backend option 'timeline' "
                'to a YAML file with lines/answers (or leave it empty for the bundled crossing script)')
        try:
            self._timeline = load_timeline(path)
        except ConfigError as exc:
            raise BackendSetupError(f'scripted backend: bad timeline: {exc}') from exc

    def shutdown(self) -> None:
        self.stop_session()
        self._timeline = None

    def start_session(self) -> None:
        if self._timeline is None:
            raise BackendError('scripted backend: call setup() before start_session()')
        self._in_session = True
        self._restart_stream()

    def stop_session(self) -> None:
        self._in_session = False
        self._speech.drop()
        self._cut_off.clear()
        self._questions.clear()
        self._stream_start = None

    # -- watches, questions, interruption ---------------------------------------------------------

    def check_instruction(self, instruction: str) -> str:
        if not instruction or not instruction.strip():
            raise WatchRejectedError(
                "the watch instruction is empty; say what to watch for, e.g. 'tell me when the light turns green'")
        return ''  # the timeline decides what happens; there is no reading of the words to report

    def set_watches(self, watches: Sequence[Watch]) -> None:
        self._watches = tuple(watches)

    def ask(self, question: Question) -> None:
        self._questions.append(question)

    def interrupt(self, mode: InterruptMode) -> None:
        # Both modes stop talking at once: there is no model turn to keep listening within.
        self._cut_off.extend(self._speech.drop())

    # -- streaming --------------------------------------------------------------------------------

    def _restart_stream(self) -> None:
        self._stream_start = None
        self._next_line = 0
        self._cut_off.extend(self._speech.drop())  # said (transcribed) but no longer played: report it cut off

    def _say(self, text: str, chunk: Chunk, out: BackendOutput) -> None:
        self._turn_id += 1
        out.transcripts.append(Transcript(Speaker.ASSISTANT, text, self._turn_id, chunk.start, final=True))
        self._speech.say(self._turn_id, text, synthesize(text, self.config.speech_rate))

    def feed(self, chunk: Chunk) -> BackendOutput:
        if self._timeline is None:
            raise BackendError('scripted backend: call setup() before feed()')
        if not self._in_session:
            raise BackendError('scripted backend: call start_session() before feed()')
        if self.config.model_time > 0:
            time.sleep(self.config.model_time)  # the stand-in for a model's time on this chunk
        if chunk.new_stream and self._stream_start is not None:
            self._restart_stream()
        if self._stream_start is None:
            self._stream_start = chunk.start
        out = BackendOutput()
        for utterance in self._cut_off:
            out.transcripts.append(Transcript(Speaker.ASSISTANT, utterance.played_text(), utterance.turn_id,
                                              chunk.start, final=True, interrupted=True))
        self._cut_off.clear()

        # Stream time at the end of this chunk: everything scheduled before it has been "seen".
        reached = chunk.start - self._stream_start + chunk.duration
        while self._questions:
            question = self._questions.popleft()
            answer = self._timeline.answer(question.text, reached)
            text = answer.say if answer else f'There is no scripted answer for {question.text!r}.'
            out.events.append(Event(EventKind.ANSWER, text, chunk.start, question_id=question.question_id,
                                    confidence=1.0 if answer else 0.0))
            self._say(text, chunk, out)
        lines = self._timeline.lines
        while self._next_line < len(lines) and lines[self._next_line].at < reached:
            line = lines[self._next_line]
            self._next_line += 1
            if line.watch:
                matched = [w for w in self._watches if line.matches(w.instruction)]
                if not matched:
                    continue
                out.events.extend(Event(EventKind.ALERT, line.say, chunk.start, watch_id=w.watch_id,
                                        confidence=line.confidence, modality=line.modality) for w in matched)
            else:
                out.events.append(Event(EventKind.COMMENT, line.say, chunk.start, confidence=line.confidence,
                                        modality=line.modality))
            self._say(line.say, chunk, out)

        out.speech = self._speech.take(chunk.duration, chunk.start)
        out.speaking = bool(out.speech) or bool(self._speech)
        return out
