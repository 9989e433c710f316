"""Plain data passed between the synchronizer, the backends, the watch table and the node.

Times are float seconds on the input clock: the sensor header stamps (simulated time when replaying
a bag). Audio inside the core is always float32 mono in [-1, 1].
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
ImageArray = npt.NDArray[np.uint8]


class EventKind(enum.Enum):
    ALERT = 'alert'
    COMMENT = 'comment'
    ANSWER = 'answer'


class Modality(enum.Enum):
    UNKNOWN = 'unknown'
    VISION = 'vision'
    AUDIO = 'audio'
    AUDIOVISUAL = 'audiovisual'


class Speaker(enum.Enum):
    USER = 'user'
    ASSISTANT = 'assistant'


class WatchSource(enum.Enum):
    ACTION = 'action'
    PARAMETER = 'parameter'
    SPOKEN = 'spoken'


class InterruptMode(enum.Enum):
    """How a backend is told to stop speaking.

    FORCE_LISTEN: listen for the next units (the user is talking); BREAK: drop the current turn now.
    """

    FORCE_LISTEN = 'force_listen'
    BREAK = 'break'


@dataclass(frozen=True)
class Frame:
    """One camera frame chosen for a chunk; ``image`` is HxWx3 RGB uint8."""

    stamp: float
    image: ImageArray


@dataclass(frozen=True)
class LazyFrame:
    """A received frame that is decoded only if the synchronizer picks it.

    ``decode`` turns the still-serialized message into RGB pixels; it may raise ConversionError.
    """

    stamp: float
    decode: Callable[[], ImageArray]


@dataclass(frozen=True)
class Chunk:
    """A time-aligned unit of input: ``duration`` seconds starting at ``start`` (input time).

    ``audio`` has exactly round(duration * sample_rate) samples; stretches with no audio received are
    zeros and counted in ``audio_missing``. ``frames`` are in time order and may be empty when the
    camera sent nothing for this span.
    """

    index: int
    start: float
    duration: float
    sample_rate: int
    audio: FloatArray
    frames: tuple[Frame, ...]
    audio_missing: float = 0.0
    # True for the first chunk after a stream reset (start, or a clock jump such as a looping bag).
    new_stream: bool = False
    # Frames picked for this chunk but not decoded yet (a synchronizer with decode_frames=False leaves
    # decoding to whoever consumes the chunk: ChunkSynchronizer.decode).
    undecoded: tuple[LazyFrame, ...] = ()

    @property
    def end(self) -> float:
        return self.start + self.duration


@dataclass(frozen=True)
class Watch:
    """A standing instruction the backend follows until it is removed."""

    watch_id: str
    instruction: str
    continuous: bool = False
    cooldown: float = 0.0
    timeout: float = 0.0  # 0: none
    source: WatchSource = WatchSource.ACTION
    created: float = 0.0  # input time
    # The meaning the backend follows, in a sentence for the user ('' when the backend does not say).
    interpretation: str = ''


@dataclass(frozen=True)
class Question:
    """A question to answer about what the robot sees and hears now (Ask action)."""

    question_id: str
    text: str
    asked: float = 0.0  # input time


@dataclass(frozen=True)
class Event:
    """Something the backend decided to say: an alert for a watch, a comment, or an answer."""

    kind: EventKind
    text: str
    stamp: float  # start of the input chunk it refers to
    watch_id: str = ''
    question_id: str = ''
    confidence: float = 1.0
    modality: Modality = Modality.UNKNOWN


@dataclass(frozen=True)
class Transcript:
    speaker: Speaker
    text: str
    turn_id: int
    stamp: float
    final: bool = True
    interrupted: bool = False


@dataclass(frozen=True)
class AudioBlock:
    """Microphone input as it arrives: float32 mono at ``sample_rate`` (any rate; the pipeline resamples),
    ``stamp`` = input time of the first sample."""

    stamp: float
    samples: FloatArray
    sample_rate: int

    @property
    def seconds(self) -> float:
        return self.samples.size / self.sample_rate


@dataclass(frozen=True)
class Speech:
    """Speech audio, float32 mono at ``sample_rate``.

    From a backend: the piece produced for one chunk, ``stamp`` = that chunk's start, ``turn_id`` = the
    assistant turn it belongs to and ``text`` = the words it voices (so the node can tell what was
    actually played when the user cuts in). Published as speech output: ``stamp`` = playback time.
    """

    samples: FloatArray
    sample_rate: int
    stamp: float
    turn_id: int = 0
    text: str = ''


@dataclass(frozen=True)
class SpeechInterruption:
    """Players must stop: drop queued speech of turn ``turn_id`` and earlier ones (SpeechInterrupt msg)."""

    turn_id: int
    stamp: float  # input time playback stopped
    reason: str


@dataclass
class BackendOutput:
    """What a backend produced for one chunk."""

    speaking: bool = False
    events: list[Event] = field(default_factory=list)
    transcripts: list[Transcript] = field(default_factory=list)
    speech: list[Speech] = field(default_factory=list)
    # Watches the user asked for by voice ("tell me when ..."), source SPOKEN: the node adopts them
    # (lists them, routes their alerts) and passes them back in set_watches().
    watch_requests: list[Watch] = field(default_factory=list)
    # Watch ids the user ended by voice ("stop watching the light"): the node removes them.
    watch_cancellations: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StreamSpec:
    """What a backend wants from the synchronizer."""

    sample_rate: int = 16000
    frames_per_chunk: int = 1
    chunk_seconds: float = 1.0
    # > 0: the backend decides on chunks of this many seconds (a hop shorter than the node's unit, for
    # alerts sooner than a unit's end), whatever the node's chunk_period; 0: it takes the node's unit.
    hop_seconds: float = 0.0
