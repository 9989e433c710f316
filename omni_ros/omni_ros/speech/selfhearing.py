"""Barge-in detection and self-hearing suppression for a robot that listens while it speaks, without ROS.

The node tells ``SelfHearing`` what the speaker plays (``played``, stamped with the playback time on the
input clock) and passes every microphone block through ``process``. It returns the audio to give the
model, with the robot's own voice suppressed while it plays, and a ``BargeIn`` when a user talks over
the robot. Strategies (``SelfHearingConfig.strategy``):

- ``aec``: an adaptive echo canceller against the played reference (bulk delay found by GCC-PHAT,
  frequency-domain NLMS). The VAD listens to the residual, and while the robot plays a voiced frame
  also needs energy well above the echo expected to be left; the model gets the residual with that
  leftover echo suppressed.
- ``gate``: the VAD listens to the raw microphone; while the robot plays, a voiced frame also needs
  energy well above the echo predicted from the reference (echo gain and delay learned online).
- ``none``: the VAD on the raw microphone (only the threshold changes while speaking); the baseline.

``python -m omni_ros.tools.bench_bargein`` measures them on the same looped-back speech. The echo path
(delay, filter) is learned from the robot's first words and kept across ``reset``: until it is known the
robot cannot be interrupted, and its voice is muted in the returned audio.
"""

from __future__ import annotations

import collections
import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from omni_ros.ingest.audio import resample
from omni_ros.speech.echopath import (BLOCK, FLOOR_RISE, SAMPLE_RATE, EchoCanceller, EnergyVad, LeakEstimator,
                               Reference, estimate_delay, follow_floor)
from omni_ros.errors import ConfigError, ConversionError
from omni_ros.settings import check_fields, load, setting
from omni_ros.data import FloatArray

VAD_FRAME = 512  # samples per VAD decision (silero's step, 32 ms)

# Delay estimation: GCC-PHAT over _DELAY_WINDOW seconds, every _DELAY_PERIOD blocks while playing; a
# peak must stand _MIN_STRENGTH above the mean correlation, and estimates in a row must agree within
# _LAG_TOLERANCE samples.
_DELAY_WINDOW = 1.0
_DELAY_PERIOD = 32  # blocks (0.256 s)
_MIN_STRENGTH = 12.0
_LAG_TOLERANCE = 2
# The filter starts this many samples before the direct sound (the resampled reference rings a little).
_PRE_ECHO = 32
# The canceller counts as converged once residual echo is this far below its estimate (10 dB), after
# at least this many blocks of robot speech (1 s).
_CONVERGED_LEAK = 0.1
_LEARN_BLOCKS = 125
# Residual echo varies around its estimate (syllable onsets, a filter still converging): the model's
# audio is suppressed as if it were this many times larger; a user louder than that passes.
_OVERSUBTRACT = 4.0
# Per block, the echo left after cancellation is expected to fade no faster than this (a 0.5 s
# reverberation time: 60 dB in 0.5 s).
_TAIL_DECAY = 10.0 ** (-60.0 / 0.5 * BLOCK / SAMPLE_RATE / 10.0)
# Gate: frames of echo energy ratios kept, and needed before the gate trusts its echo gain.
_GATE_HISTORY = 150
_GATE_MIN_FRAMES = 30
# Microphone stamps within this of the running sample count are one stream; a forward gap up to
# _MAX_GAP is filled with silence, anything else starts a new stream.
_STAMP_TOLERANCE = 0.02
_MAX_GAP = 1.0


@dataclass(frozen=True)
class SelfHearingConfig:
    strategy: str = setting(
        'aec', "how the robot's own voice is kept out: 'aec' cancels the echo of the played speech, 'gate' asks "
        "for energy well above the predicted echo while speaking, 'none' runs the VAD on the raw microphone",
        choices=('aec', 'gate', 'none'))
    vad: str = setting('silero', "voice detector: 'silero' (onnxruntime) or 'energy' (numpy, tells loud from "
                       'quiet only)', choices=('silero', 'energy'))
    threshold: float = setting(0.5, 'voice probability that counts as speech while the robot is silent',
                               minimum=0.05, maximum=0.99)
    speaking_threshold: float = setting(0.4, 'voice probability that counts as a user talking over the robot '
                                        '(sensitivity while speaking)', minimum=0.05, maximum=0.99)
    min_speech: float = setting(0.064, 'seconds of continuous user voice over the robot before a barge-in '
                                '(rounded up to 32 ms VAD frames)', minimum=0.032, maximum=2.0)
    hangover: float = setting(0.15, 'seconds the speaking state lasts after the echo of the played speech has '
                              'died away', minimum=0.0, maximum=2.0)
    max_echo_delay: float = setting(0.3, 'longest delay in seconds from a playback stamp to the microphone hearing '
                                    'it (audio buffers plus distance)', minimum=0.01, maximum=1.0)
    echo_length: float = setting(0.128, 'seconds of room echo after the direct sound that the canceller models '
                                 '(and the gate expects)', minimum=0.008, maximum=0.256)
    echo_margin_db: float = setting(12.0, "'aec': while speaking, user voice needs this many dB more energy than "
                                    'the echo expected to be left after cancellation', minimum=0.0, maximum=30.0)
    gate_margin_db: float = setting(9.0, "'gate': while speaking, user voice needs this many dB more energy than "
                                    'the echo predicted at the microphone', minimum=0.0, maximum=30.0)
    suppression_db: float = setting(30.0, 'attenuation in dB of echo left after cancellation, and of the robot '
                                    'voice while the echo path is still unknown', minimum=0.0, maximum=80.0)

    def __post_init__(self) -> None:
        check_fields(self)

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> SelfHearingConfig:
        return load(cls, values)

    @property
    def min_frames(self) -> int:
        return max(1, math.ceil(round(self.min_speech * SAMPLE_RATE) / VAD_FRAME))

    @property
    def taps(self) -> int:
        return BLOCK * max(1, math.ceil(self.echo_length * SAMPLE_RATE / BLOCK))


@dataclass(frozen=True)
class BargeIn:
    """A user talking over the robot: input times of the first voiced frame and of the decision."""

    onset: float
    detected: float


class SelfHearing:
    """Feed it the played speech and every microphone block; see the module docstring."""

    def __init__(self, config: SelfHearingConfig | None = None) -> None:
        self.config = config or SelfHearingConfig()
        if not isinstance(self.config, SelfHearingConfig):
            raise ConfigError(f'SelfHearing takes a SelfHearingConfig, got {type(self.config).__name__}')
        self._vad: Any = None
        self._canceller = EchoCanceller(self.config.taps)
        self._floor = 10.0 ** (-self.config.suppression_db / 20.0)
        margin = self.config.gate_margin_db if self.config.strategy == 'gate' else self.config.echo_margin_db
        self._margin = 10.0 ** (margin / 10.0)
        self._max_lag = round(self.config.max_echo_delay * SAMPLE_RATE)
        # Echo path: learned from the robot's speech, kept across reset() (the hardware did not change).
        self._lag: int | None = None
        self._candidate: int | None = None
        self._agreeing = 0  # estimates in a row that agree with _candidate
        self._converged = False
        self._leak = LeakEstimator()
        self._gate_ratios: collections.deque[float] = collections.deque(maxlen=_GATE_HISTORY)
        self._origin: float | None = None
        self._reference = Reference()
        self._new_stream(0)

    # -- public API ---------------------------------------------------------------------------------

    def setup(self) -> None:
        """Load the voice detector (raises BackendSetupError naming what to install)."""
        if self.config.vad == 'silero':
            from omni_ros.backends.cpu.vad import SileroVad  # imports the CPU backend: only when chosen

            vad: Any = SileroVad()
        else:
            vad = EnergyVad()
        vad.setup()
        self._vad = vad

    @property
    def ready(self) -> bool:
        """True once the echo path is known well enough for the robot to be interrupted."""
        if self.config.strategy == 'none':
            return True
        if self.config.strategy == 'gate':
            return self._lag is not None and len(self._gate_ratios) >= _GATE_MIN_FRAMES
        return self._converged

    @property
    def echo_delay(self) -> float | None:
        """Seconds from a playback stamp to the direct sound at the microphone, once estimated."""
        return None if self._lag is None else self._lag / SAMPLE_RATE

    def played(self, stamp: float, samples: FloatArray, sample_rate: int) -> None:
        """The speaker plays ``samples`` (float mono) from input time ``stamp``; pass it before the
        microphone audio of that time reaches ``process``."""
        x = resample(np.asarray(samples, np.float32), sample_rate, SAMPLE_RATE)
        self._reference.add(self._index(stamp), x)

    def stop_playback(self, at: float) -> None:
        """Playback was cut at input time ``at``: the reference from there on was never heard."""
        self._reference.cut(self._index(at))

    def reset(self) -> None:
        """Forget the stream and the reference (clock jump or restart); the learned echo path stays."""
        self._origin = None
        self._reference.clear()
        self._new_stream(0)

    def process(self, stamp: float, samples: FloatArray) -> tuple[FloatArray, BargeIn | None]:
        """Microphone audio (16 kHz float mono, any block size) captured from input time ``stamp``.

        Returns the audio for the model (the same length, unchanged while nothing plays) and the first
        barge-in confirmed in this block, if any: a user's voice over the robot's speech.
        """
        if self._vad is None:
            raise RuntimeError('SelfHearing.setup() was not called')
        mic = np.asarray(samples, np.float32)
        if mic.ndim != 1:
            raise ConversionError(f'SelfHearing.process needs mono samples (n,), got shape {mic.shape}')
        index = self._index(stamp)
        expected = self._base + self._pos
        if self._pos == 0:
            self._new_stream(index)
        elif abs(index - expected) > _STAMP_TOLERANCE * SAMPLE_RATE:
            if 0 < index - expected <= _MAX_GAP * SAMPLE_RATE:
                self._run(np.zeros(index - expected, np.float32))  # a lost message: silence keeps the grid
            else:
                if index < expected:
                    self._reference.clear()  # the clock went back: played stamps no longer apply
                self._new_stream(index)
        return self._run(mic)

    # -- stream -------------------------------------------------------------------------------------

    def _index(self, stamp: float) -> int:
        if self._origin is None:
            self._origin = stamp
        return int(round((stamp - self._origin) * SAMPLE_RATE))

    def _time(self, index: int) -> float:
        assert self._origin is not None
        return self._origin + index / SAMPLE_RATE

    def _new_stream(self, index: int) -> None:
        self._base = index  # absolute index of stream position 0
        self._pos = 0  # samples processed in this stream
        self._history = np.zeros(0, np.float32)  # recent raw microphone, to the end of the current block
        self._heard = np.zeros(0, np.float32)  # what the VAD heard since its last complete frame
        self._frames = 0  # VAD frames decided
        self._noise = 0.0  # power of the room's noise in what the VAD hears, per VAD frame
        self._block_noise = 0.0  # the same per BLOCK of residual (the leak estimate runs on blocks)
        self._voiced_frames: collections.deque[int] = collections.deque(maxlen=4)
        self._evidence: collections.deque[int] = collections.deque()  # recent voiced frames
        self._reported = False  # these voiced frames made their barge-in
        self._gain = 1.0
        self._target = 1.0
        self._speaking_block = False
        self._echo = np.zeros(BLOCK, np.float32)
        self._block_mic = np.zeros(BLOCK, np.float32)
        self._block_residual = np.zeros(BLOCK, np.float32)
        self._residual_power = 0.0
        # Residual echo power expected in each recent block (aec), by the block's absolute index.
        self._leftover: collections.deque[tuple[int, float]] = collections.deque(maxlen=2 * VAD_FRAME // BLOCK)
        self._canceller.clear_history()
        if self._vad is not None:
            self._vad.reset()

    def _tail(self) -> int:
        """Samples the speaking state lasts after the played speech ends."""
        delay = self._max_lag if self._lag is None else self._lag
        return delay + self.config.taps + round(self.config.hangover * SAMPLE_RATE)

    def _speaking(self, index: int) -> bool:
        return self._reference.active(index, self._tail())

    def _playing(self, index: int) -> bool:
        """Is the speaker's sound of ``index`` still on its way? Only then is there speech to interrupt
        (the echo tail and hangover after it, or after a stop, are not)."""
        return self._reference.active(index, self._max_lag if self._lag is None else self._lag)

    def _run(self, mic: FloatArray) -> tuple[FloatArray, BargeIn | None]:
        keep = round(_DELAY_WINDOW * SAMPLE_RATE)
        self._history = np.concatenate((self._history, mic))[-(keep + mic.size):]
        if self.config.strategy == 'gate':
            barge = self._listen(mic)  # the gate decides on the raw microphone before its gain follows
            _, out = self._shape(mic)
        else:
            # The VAD hears the linear residual: cancellation leaves the user's voice whole, while the
            # suppressor chops it along with the leftover echo.
            residual, out = self._shape(mic)
            barge = self._listen(residual)
        self._pos += mic.size
        self._history = self._history[-keep:]
        self._reference.trim(self._base + self._pos - keep - self._max_lag - self.config.taps - BLOCK)
        return out, barge

    # -- echo delay ---------------------------------------------------------------------------------

    def _estimate_delay(self, offset: int, block: int) -> None:
        """Estimate from the second of microphone before stream position ``offset``, inside the current
        ``block`` of samples (the history ends with it): the grid keeps it independent of block sizes."""
        window = round(_DELAY_WINDOW * SAMPLE_RATE)
        stop = self._history.size - (self._pos + block - offset)
        if stop < window:
            return
        mic = self._history[stop - window:stop]
        end = self._base + offset
        ref = self._reference.get(end - window - self._max_lag, end)
        # Only while the window holds speech from the speaker, not silence.
        if np.mean(ref[self._max_lag:] ** 2) < 1e-6 or np.mean(mic ** 2) < 1e-8:
            return
        found = estimate_delay(mic, ref, self._max_lag)
        if found.strength < _MIN_STRENGTH:
            self._agreeing = 0
            return
        same = self._candidate is not None and abs(found.lag - self._candidate) <= _LAG_TOLERANCE
        self._agreeing = self._agreeing + 1 if same else 1
        self._candidate = found.lag
        # A first estimate needs one confirmation, replacing a known path two.
        needed = 2 if self._lag is None else 3
        if self._agreeing < needed or (self._lag is not None and abs(found.lag - self._lag) <= _LAG_TOLERANCE):
            return
        self._lag = found.lag  # a new path: what was learned for the old one no longer applies
        self._canceller.reset()
        self._converged = False
        self._leak.reset()
        self._gate_ratios.clear()

    # -- audio for the model ------------------------------------------------------------------------

    def _shape(self, mic: FloatArray) -> tuple[FloatArray, FloatArray]:
        """(residual, audio for the model). The echo estimate and gain of each BLOCK are fixed when it
        starts, so the result does not depend on how the microphone stream is cut into blocks."""
        if self.config.strategy == 'none':
            return mic, mic
        residual = mic.copy()
        out = mic.copy()
        done = 0
        while done < mic.size:
            at = (self._pos + done) % BLOCK
            if at == 0:
                if (self._pos + done) % (_DELAY_PERIOD * BLOCK) == 0:
                    self._estimate_delay(self._pos + done, mic.size)
                self._start_block(self._base + self._pos + done)
            take = min(BLOCK - at, mic.size - done)
            if self._speaking_block:
                piece = mic[done:done + take]
                if self.config.strategy == 'aec':
                    residual[done:done + take] = piece - self._echo[at:at + take]
                ramp = self._gain + (self._target - self._gain) * np.arange(at + 1, at + take + 1) / BLOCK
                out[done:done + take] = residual[done:done + take] * ramp.astype(np.float32)
                self._block_mic[at:at + take] = piece
                self._block_residual[at:at + take] = residual[done:done + take]
            if at + take == BLOCK:
                self._end_block()
            done += take
        return residual, out

    def _start_block(self, index: int) -> None:
        self._gain = self._target
        self._speaking_block = self._speaking(index)
        if not self._speaking_block:
            self._target = 1.0
            if self._echo.any():
                self._canceller.clear_history()
                self._echo = np.zeros(BLOCK, np.float32)
            return
        if self.config.strategy == 'gate':
            # Open for a frame that follows a frame of user voice (frame decisions lag one frame here).
            voiced = (index - self._base) // VAD_FRAME - 1 in self._voiced_frames
            self._target = 1.0 if self.ready and voiced else self._floor
            return
        if self._lag is None:
            self._target = self._floor
            return
        start = index - max(self._lag - _PRE_ECHO, 0)
        self._echo = self._canceller.predict(self._reference.get(start, start + BLOCK))
        # Reverberation beyond the filter outlasts the direct echo: the expected leftover decays no
        # faster than a reverberant room's tail.
        leftover = max(self._leak.leak * float(np.mean(self._echo.astype(np.float64) ** 2)),
                       self._leftover[-1][1] * _TAIL_DECAY if self._leftover else 0.0)
        self._leftover.append((index, leftover))
        # Echo alone leaves about `leftover`: cut that; a louder residual is the user.
        wanted = 1.0 - _OVERSUBTRACT * leftover / max(self._residual_power, 1e-12)
        self._target = float(np.clip(wanted, self._floor, 1.0)) if self._converged else self._floor

    def _end_block(self) -> None:
        if not self._speaking_block or self.config.strategy != 'aec' or self._lag is None:
            return
        self._canceller.update(self._block_mic)
        residual = float(np.mean(self._block_residual.astype(np.float64) ** 2))
        echo = float(np.mean(self._echo.astype(np.float64) ** 2))
        self._residual_power = 0.5 * self._residual_power + 0.5 * residual
        self._block_noise = follow_floor(self._block_noise, residual, FLOOR_RISE ** (BLOCK / VAD_FRAME))
        self._leak.update(echo, residual, self._block_noise)
        self._converged = self._converged or (self._leak.blocks >= _LEARN_BLOCKS
                                              and self._leak.leak < _CONVERGED_LEAK)

    # -- voice decisions ----------------------------------------------------------------------------

    def _listen(self, heard: FloatArray) -> BargeIn | None:
        probs = self._vad.process(heard)
        probs = getattr(probs, 'probs', probs)  # SileroVad wraps its probabilities in a VadResult
        heard = np.concatenate((self._heard, heard))
        first: BargeIn | None = None
        for k, prob in enumerate(probs):
            barge = self._decide(float(prob), heard[k * VAD_FRAME:(k + 1) * VAD_FRAME])
            first = first or barge
        self._heard = heard[len(probs) * VAD_FRAME:]
        return first

    def _decide(self, prob: float, frame: FloatArray) -> BargeIn | None:
        """One VAD frame. While the robot speaks, a voiced frame must also be louder than the robot's
        predicted echo. A barge-in takes min_frames voiced frames within twice as many: a user's own
        quiet moments (stops, breaths) under a loud robot syllable do not restart the count."""
        frame_no = self._frames
        self._frames += 1
        start = self._base + frame_no * VAD_FRAME
        speaking = self._speaking(start)
        power = float(np.mean(frame.astype(np.float64) ** 2))
        self._noise = follow_floor(self._noise, power, FLOOR_RISE)
        voiced = prob >= (self.config.speaking_threshold if speaking else self.config.threshold)
        if voiced and speaking and self.config.strategy != 'none':
            voiced = power >= self._margin * (self._expected_echo(start, power) + self._noise)
        if voiced:
            self._voiced_frames.append(frame_no)
            self._evidence.append(frame_no)
        while self._evidence and self._evidence[0] <= frame_no - 2 * self.config.min_frames:
            self._evidence.popleft()
        if not self._evidence:
            self._reported = False  # the user fell silent: the next voice is a new barge-in
        if self._reported or len(self._evidence) < self.config.min_frames or not self.ready \
                or not self._playing(start):
            return None
        self._reported = True
        onset = self._base + self._evidence[0] * VAD_FRAME
        return BargeIn(onset=self._time(onset), detected=self._time(start + VAD_FRAME))

    def _expected_echo(self, start: int, power: float) -> float:
        """Echo power the VAD's input holds in frame [start, start + VAD_FRAME) if the robot talks alone
        (``power``: what it holds; the gate learns the echo gain from it)."""
        if self.config.strategy == 'aec':
            blocks = [p for i, p in self._leftover if start <= i < start + VAD_FRAME]
            return float(np.mean(blocks)) if blocks else 0.0
        if self._lag is None:
            return math.inf
        ref = self._reference.get(start - self._lag - self.config.taps, start + VAD_FRAME - self._lag)
        expected = float(np.mean(ref.astype(np.float64) ** 2))
        if expected < 1e-6:
            return 0.0  # the robot is between words
        self._gate_ratios.append(power / expected)
        # The median ratio is the echo gain as long as the user talks over less than half the time.
        return expected * float(np.median(self._gate_ratios))
