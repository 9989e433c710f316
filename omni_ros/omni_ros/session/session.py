"""One omni session without ROS: the backend, the pipeline, the watch table, speech output, self-hearing
and barge-in, and the figures the node reports. ``omni_ros.ros.node`` maps parameters, messages and
this session's outputs to ROS; everything it decides is decided here, so it is tested without DDS.

Threads: input (``frame``, ``audio``) comes from subscription callbacks, ``poll``/``release_speech``/
``state``/``diagnostics`` from timers, goals from action callbacks, and the pipeline's worker thread
calls the ``OutputSink`` methods (``event``, ``transcript``, ``speech``, ``backend_failed``).
"""

from __future__ import annotations

import enum
import itertools
import math
import secrets
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping, Protocol, Sequence

from omni_ros import backends
from omni_ros.backends.base import Backend
from omni_ros.data import (AudioBlock, Event, FloatArray, InterruptMode, LazyFrame, Question, Speech,
                           SpeechInterruption, StreamSpec, Transcript, Watch, WatchSource)
from omni_ros.errors import BackendSetupError, ConfigError, ConversionError, OmniError, WatchRejectedError
from omni_ros.ingest.audio import too_long
from omni_ros.session.config import SECTION_CONFIGS, NodeConfig
from omni_ros.session.pipeline import PendingQuestion, Pipeline
from omni_ros.settings import load
from omni_ros.speech.output import SpeechConfig, SpeechOutput
from omni_ros.speech.echopath import SAMPLE_RATE as SELF_HEARING_RATE
from omni_ros.speech.selfhearing import BargeIn, SelfHearing, SelfHearingConfig
from omni_ros.watches import policy
from omni_ros.watches.table import Stopwatch, WatchState, WatchTable, normalize_instruction, standing_watches


class Host(Protocol):
    """What a session needs from its node: the clock, its outputs, and a log."""

    def now(self) -> float:
        """Input time now (the node clock; simulated time when replaying)."""
        ...

    def event(self, event: Event, event_id: str, watch: WatchState | None) -> None:
        """An event to publish; ``watch`` is the watch an alert was routed to (None otherwise)."""
        ...

    def transcript(self, transcript: Transcript) -> None: ...

    def speech(self, block: Speech) -> None:
        """A speech block to publish now (its stamp is its playback time)."""
        ...

    def interruption(self, interruption: SpeechInterruption) -> None: ...

    def log(self, level: str, text: str) -> None:
        """``level`` is 'info', 'warn' or 'error'."""
        ...


@dataclass(frozen=True)
class SessionConfig:
    """Everything configure reads: the node's settings, its sections and the chosen backend's."""

    node: NodeConfig
    speech: SpeechConfig
    hearing: SelfHearingConfig
    backend_name: str
    backend: Any  # the backend's Config

    @classmethod
    def load(cls, values: Callable[[str], Mapping[str, Any]], problems: tuple[str, ...] = (),
             backend: str | None = None) -> SessionConfig:
        """From parameter values (``values(prefix)``: the settings under a prefix, by name), for the
        backend the ``backend`` setting picks (or ``backend``, the one already running). Raises one
        ConfigError listing ``problems`` (e.g. parameters given with a wrong type) and every bad setting."""
        errors = list(problems)
        loaded: dict[str, Any] = {}
        for prefix, config_type in (('', NodeConfig), *((f'{s}.', t) for s, t in SECTION_CONFIGS.items())):
            try:
                loaded[prefix] = load(config_type, values(prefix), prefix)
            except ConfigError as error:
                errors.append(str(error))
        name, backend_config = '', None
        node = loaded.get('')
        if node is not None:
            try:
                name = backend or backends.resolve_backend(node.backend, lambda n: values(f'{n}.'))
                backend_config = backends.registered(name).load(values(f'{name}.'))
            except ConfigError as error:
                errors.append(str(error))
        if errors:
            raise ConfigError('; '.join(errors))
        return cls(loaded[''], loaded['speech.'], loaded['self_hearing.'], name, backend_config)


class Level(enum.Enum):
    OK = 'ok'
    WARN = 'warn'
    ERROR = 'error'


@dataclass(frozen=True)
class State:
    """What the ``state`` topic reports."""

    speaking: bool
    backend: str
    backlog: int
    real_time_factor: float
    chunks_processed: int
    chunks_skipped: int
    active_watches: int


@dataclass(frozen=True)
class Diagnostics:
    level: Level
    message: str
    values: dict[str, Any] = field(default_factory=dict)


class OmniSession:
    def __init__(self, host: Host) -> None:
        self.host = host
        self.watches = WatchTable()
        self.config: SessionConfig | None = None
        self.backend: Backend | None = None
        self.pipeline: Pipeline | None = None
        self.active = False
        self._speech_out: SpeechOutput | None = None
        self._hearing: SelfHearing | None = None
        self._hearing_lock = threading.Lock()  # played() comes from the worker, process() from the microphone
        self._run_token = secrets.token_hex(4)
        self._event_ids = itertools.count(1)
        self.barge_ins = 0
        self.input_errors = 0
        self.last_input_error = ''
        self.backend_error = ''
        self.output_errors = 0
        self.last_output_error = ''
        self._resets_logged = 0
        self._late_audio_logged = 0.0
        self._logged: dict[str, float] = {}  # throttled log kinds -> when last logged (monotonic)

    def _log(self, level: str, text: str, throttle: float = 0.0, kind: str = '') -> None:
        """Log through the host; with ``throttle``, at most once per that many seconds per ``kind``."""
        if throttle > 0:
            now = time.monotonic()
            if now - self._logged.get(kind, -math.inf) < throttle:
                return
            self._logged[kind] = now
        self.host.log(level, text)

    # -- life cycle -----------------------------------------------------------------------------------
    def configure(self, config: SessionConfig) -> str:
        """Load the backend and build the pipeline; returns a line for the log. Raises OmniError saying
        what to change (the session stays unconfigured)."""
        node, name = config.node, config.backend_name
        hearing = None
        if node.use_microphone and (node.barge_in or config.hearing.strategy != 'none'):
            hearing = SelfHearing(config.hearing)
            try:
                hearing.setup()
            except OmniError as error:
                raise BackendSetupError(f"self-hearing could not be set up: {error}; set self_hearing.vad to "
                                        "'energy', or barge_in false with self_hearing.strategy 'none'") from None
        backend = backends.registered(name).create(config.backend)
        self.host.log('info', f"loading backend '{name}'")
        try:
            backend.setup()
        except BackendSetupError as error:
            self.backend_error = str(error)
            raise BackendSetupError(f"backend '{name}' could not be set up: {error}") from None
        try:
            standing = _standing_watches(backend, node.standing_watches, self.host.now())
        except WatchRejectedError as error:
            backend.shutdown()
            raise WatchRejectedError(f'a standing watch was rejected: {error}') from None
        self.config, self.backend, self.backend_error = config, backend, ''
        self._speech_out = SpeechOutput(config.speech)
        self.watches.set_default_cooldown(node.default_cooldown)
        # Configure starts from an empty table (cleanup ended every watch), so standing ones come back.
        for watch in standing:
            self.watches.add(watch)
        wanted = backend.stream_spec()
        seconds = wanted.hop_seconds or node.chunk_period  # a backend deciding on a shorter hop gets it
        spec = StreamSpec(wanted.sample_rate, node.frames_per_chunk or wanted.frames_per_chunk, seconds)
        if hearing is not None and spec.sample_rate != SELF_HEARING_RATE:
            # Only our own backends exist and all listen at 16 kHz; say so rather than hear badly.
            self.host.log('warn', f"backend '{name}' listens at {spec.sample_rate} Hz; self-hearing works at "
                          f'{SELF_HEARING_RATE} Hz and is off: the robot cannot be interrupted')
            hearing = None
        self._hearing = hearing
        per_unit = max(1, round(node.chunk_period / spec.chunk_seconds))  # a hop backend's chunks per unit
        self.pipeline = Pipeline(backend, spec, self.watches, self, max_latency=node.max_latency,
                                 jump_threshold=node.jump_threshold, max_backlog=node.max_backlog * per_unit,
                                 expect_audio=node.use_microphone, expect_video=node.use_camera,
                                 audio_filter=self._hear if hearing is not None else None,
                                 max_audio_block=node.max_audio_message_seconds)
        return (f"backend '{name}', {spec.frames_per_chunk} frame(s) per {spec.chunk_seconds:g} s unit, "
                f'audio at {spec.sample_rate} Hz')

    def activate(self) -> None:
        assert self.pipeline is not None and self._speech_out is not None, 'configure first'
        self._speech_out.begin_session()
        self.pipeline.start()
        self.active = True
        self._resets_logged = 0
        self._late_audio_logged = 0.0

    def deactivate(self, reason: str = 'deactivated') -> None:
        """Stop input and the backend session; players are told to drop queued speech."""
        was_active, self.active = self.active, False
        if self.pipeline is not None:
            self.pipeline.stop()
        if was_active:
            self._cut_speech(self.host.now(), reason)

    def release(self, reason: str) -> None:
        """Stop everything and end every watch with ``reason``; unload the backend."""
        if self.active:
            self.deactivate(reason)
        self.watches.remove_where(lambda _: True, reason)
        if self.backend is not None:
            self.backend.shutdown()
        self.config, self.backend, self.pipeline, self._speech_out, self._hearing = None, None, None, None, None

    # -- live settings ----------------------------------------------------------------------------------
    def check_change(self, config: SessionConfig) -> None:
        """Raise OmniError if a live change to ``config`` cannot be applied (e.g. a standing watch the
        backend does not understand)."""
        instructions = [normalize_instruction(text) for text in config.node.standing_watches]
        if self.backend is not None:
            for text in instructions:
                self.backend.check_instruction(text)

    def reconfigure(self, config: SessionConfig) -> None:
        """Apply live settings (``Change.LIVE``): standing watches, default cooldown, the backend's (max_goals and
        ask_timeout are read from ``config`` where they apply)."""
        old = self.config
        if old is None:
            return  # nothing runs: configure will read them
        self.config = config
        if config.node.default_cooldown != old.node.default_cooldown:
            self.watches.set_default_cooldown(config.node.default_cooldown)
        if config.node.standing_watches != old.node.standing_watches and self.backend is not None:
            self.watches.replace_standing(
                _standing_watches(self.backend, config.node.standing_watches, self.host.now()))
        if config.backend != old.backend and self.pipeline is not None:
            self.pipeline.reconfigure(config.backend)

    # -- input ----------------------------------------------------------------------------------------
    def input_error(self, what: str, error: Exception) -> None:
        self.input_errors += 1
        self.last_input_error = f'{what}: {error}'
        period = self.error_log_period
        self._log('error', f'{what} dropped: {error}', throttle=period, kind='input')

    @property
    def error_log_period(self) -> float:
        """Seconds between log lines of one kind of error (the node's setting, or its default)."""
        return self.config.node.error_log_period if self.config else NodeConfig.error_log_period

    def output_error(self, what: str, error: Exception) -> None:
        """Publishing an output (or another timer or callback of the node) failed: counted on /diagnostics
        and logged rate-limited, and the node goes on (an exception must never end its executor)."""
        self.output_errors += 1
        self.last_output_error = f'{what}: {type(error).__name__}: {error}'
        period = self.error_log_period
        self._log('error', f'{what} failed: {type(error).__name__}: {error}', throttle=period, kind='output')

    def _output(self, what: str, send: Callable[..., None], *args: Any) -> None:
        try:
            send(*args)
        except Exception as error:  # one bad output must not cost the others (or the unit's dispatch)
            self.output_error(what, error)

    def frame(self, decode: Callable[[], LazyFrame]) -> None:
        """A camera frame (``decode`` maps the message; it may raise ConversionError)."""
        if self.pipeline is None:
            return
        try:
            self.pipeline.add_frame(decode())
        except ConversionError as error:
            self.input_error('camera frame', error)

    @property
    def max_audio_seconds(self) -> float:
        """The longest audio message taken (``decode`` in ``audio`` may refuse longer ones from their size)."""
        return self.config.node.max_audio_message_seconds if self.config else math.inf

    def audio(self, decode: Callable[[], AudioBlock]) -> None:
        """A microphone block (``decode`` maps the message; it may raise ConversionError)."""
        if self.pipeline is None or self.config is None:
            return
        limit = self.config.node.max_audio_message_seconds
        try:
            block = decode()
            if block.seconds > limit:
                raise too_long(block.seconds, limit)
            self.pipeline.add_audio(block)
        except ConversionError as error:
            self.input_error('audio message', error)

    def poll(self) -> None:
        if self.pipeline is not None:
            now = self.host.now()
            # Under use_sim_time the clock reads 0 until /clock arrives: no watermark from it then.
            self.pipeline.poll(now if now > 0 else None)

    # -- outputs (pipeline worker thread): the pipeline's OutputSink --------------------------------------
    def event(self, event: Event, watch: WatchState | None) -> None:
        event_id = f'{self._run_token}-{next(self._event_ids)}'
        self._output('event', self.host.event, event, event_id, watch)

    def transcript(self, transcript: Transcript) -> None:
        out = self._speech_out
        published = out.transcript(transcript) if out is not None else None
        if published is not None:
            self._output('transcript', self.host.transcript, published)

    def speech(self, speech: Speech) -> None:
        out, hearing = self._speech_out, self._hearing
        if out is None:
            return
        blocks = out.add(speech, self.host.now())
        if hearing is not None:
            with self._hearing_lock:
                for block in blocks:
                    hearing.played(block.stamp, block.samples, block.sample_rate)

    def backend_failed(self, error: Exception) -> None:
        self.backend_error = f'{type(error).__name__}: {error}'
        name = self.config.backend_name if self.config else ''
        self._log('error', f"backend '{name}' failed on a unit: {error}", throttle=5.0, kind='backend')

    def frame_failed(self, error: Exception) -> None:
        period = self.error_log_period
        self._log('error', f'camera frame dropped: {error}', throttle=period, kind='decode')

    def release_speech(self) -> None:
        """Publish the speech blocks due now (a timer calls this well within a block)."""
        if self._speech_out is not None:
            for block in self._speech_out.due(self.host.now()):
                self._output('speech', self.host.speech, block)

    # -- barge-in (microphone callback, under the pipeline's input lock) ---------------------------------
    def _hear(self, stamp: float, samples: FloatArray) -> FloatArray:
        """The robot's own voice out of the microphone audio; a user talking over it cuts the speech."""
        hearing, config = self._hearing, self.config
        assert hearing is not None and config is not None
        with self._hearing_lock:
            heard, barge_in = hearing.process(stamp, samples)
        if barge_in is not None and config.node.barge_in:
            self._barge_in(barge_in)
        return heard

    def _barge_in(self, barge_in: BargeIn) -> None:
        at = barge_in.detected
        out, pipeline, hearing = self._speech_out, self.pipeline, self._hearing
        if out is None or pipeline is None or hearing is None or not out.playing(at):
            return
        self._cut_speech(at, 'barge_in')
        with self._hearing_lock:
            hearing.stop_playback(at)
        pipeline.interrupt(InterruptMode.FORCE_LISTEN)
        self.barge_ins += 1
        self.host.log('info', f'barge-in: the user spoke from {barge_in.onset:.2f} s; speech stopped at {at:.2f} s')

    def _cut_speech(self, at: float, reason: str) -> None:
        """Stop playback at input time ``at``: tell players, and report each cut turn as played."""
        out = self._speech_out
        cut = out.cut(at) if out is not None else None
        if cut is None:
            return
        interruption = SpeechInterruption(cut.turn_id, at, reason)
        self._output('speech interruption', self.host.interruption, interruption)
        for transcript in cut.transcripts:
            self._output('transcript', self.host.transcript, transcript)

    # -- watches and questions ------------------------------------------------------------------------
    def check_watch(self, instruction: str, timeout: float, cooldown: float) -> str:
        """The normalized instruction of a SetWatch goal; raises WatchRejectedError saying why not."""
        backend = self.backend
        if not self.active or backend is None:
            raise WatchRejectedError('omni_node is not active; activate it (or set autostart) first')
        text = normalize_instruction(instruction)
        backend.check_instruction(text)
        policy.check_durations(timeout, cooldown)
        return text

    def standing_ids(self) -> list[str]:
        """Ids of the standing watches (from parameters) now in the table."""
        return [w.watch_id for w in self.watches.watches() if w.source is WatchSource.PARAMETER]

    def add_watch(self, watch: Watch) -> WatchState:
        """Add an accepted watch, carrying the meaning the backend follows (checked at acceptance)."""
        if self.backend is not None and not watch.interpretation:
            try:
                watch = replace(watch, interpretation=self.backend.check_instruction(watch.instruction) or '')
            except WatchRejectedError:
                pass  # accepted a moment ago; the backend rejects it again when the watches are applied
        return self.watches.add(watch)

    def check_question(self, text: str) -> None:
        if not self.active:
            raise WatchRejectedError('omni_node is not active')
        if not text.strip():
            raise WatchRejectedError('the question is empty')

    def ask(self, question: Question) -> PendingQuestion | None:
        """The question queued for the backend; None when the session stopped in between."""
        return self.pipeline.ask(question) if self.pipeline is not None else None

    def question_timeout(self, given: float) -> float:
        """A question's timeout: its own, or ask_timeout when it sets none (0)."""
        return given or (self.config.node.ask_timeout if self.config else NodeConfig.ask_timeout)

    def forget_question(self, question_id: str) -> None:
        if self.pipeline is not None:
            self.pipeline.forget_question(question_id)

    def stopwatch(self) -> Stopwatch:
        """Measures goal timeouts on the input clock, robust to sim-time starts and bag loops."""
        threshold = self.config.node.jump_threshold if self.config else NodeConfig.jump_threshold
        return Stopwatch(self.host.now(), max_step=threshold)

    # -- state and diagnostics ------------------------------------------------------------------------
    def state(self) -> State | None:
        pipeline, config = self.pipeline, self.config
        if pipeline is None or config is None:
            return None
        sync = pipeline.sync.stats
        if sync.resets != self._resets_logged:
            self._resets_logged = sync.resets
            self.host.log('info', f'input stream restarted: {sync.last_reset_reason}')
        if sync.audio_dropped_late_s > self._late_audio_logged + 0.05:
            lost = sync.audio_dropped_late_s - self._late_audio_logged
            self._late_audio_logged = sync.audio_dropped_late_s
            period = self.error_log_period
            self._log('warn', f'{lost:.2f} s of audio arrived after its units were cut and was left out '
                      '(units wait as long as the longest recent audio message: a message longer than the '
                      'ones before it, or audio stamped late); keep message lengths steady, or raise '
                      'max_latency', throttle=period, kind='late-audio')
        stats = pipeline.stats
        speaking = stats.speaking or (self._speech_out is not None and self._speech_out.playing(self.host.now()))
        return State(speaking, config.backend_name, stats.backlog, float(stats.real_time_factor),
                     stats.chunks_processed, stats.chunks_skipped, len(self.watches))

    def diagnostics(self) -> Diagnostics:
        name = self.config.backend_name if self.config else ''
        values: dict[str, Any] = {'backend': name, 'active': self.active, 'active_watches': len(self.watches),
                                  'input_errors': self.input_errors, 'last_input_error': self.last_input_error,
                                  'backend_error': self.backend_error, 'barge_ins': self.barge_ins,
                                  'output_errors': self.output_errors, 'last_output_error': self.last_output_error}
        level, message = Level.OK, 'running'
        pipeline = self.pipeline
        if pipeline is None:
            level, message = Level.WARN, 'not configured'
        elif not self.active:
            level, message = Level.WARN, 'inactive'
        else:
            stats, sync = pipeline.stats, pipeline.sync.stats
            values.update(chunks_processed=stats.chunks_processed, chunks_skipped=stats.chunks_skipped,
                          backlog=stats.backlog, real_time_factor=round(stats.real_time_factor, 3),
                          frames_received=sync.frames_received, frames_decoded=sync.frames_decoded,
                          frames_dropped_late=sync.frames_dropped_late, stream_resets=sync.resets,
                          audio_gaps_filled_s=round(sync.audio_gaps_filled_s, 3),
                          audio_dropped_late_s=round(sync.audio_dropped_late_s, 3),
                          decode_errors=sync.decode_errors, backend_errors=stats.backend_errors,
                          last_stream_reset=sync.last_reset_reason)
            delays = sorted(stats.output_delays)
            if delays:  # backend output to publication, recent outputs with events
                values.update(output_delay_p50_ms=round(1e3 * delays[len(delays) // 2], 2),
                              output_delay_max_ms=round(1e3 * delays[-1], 2))
            if stats.real_time_factor > 1.0:
                level, message = Level.WARN, 'backend slower than real time: units are dropped'
            if self.input_errors or sync.decode_errors:
                level, message = Level.WARN, f'bad input: {self.last_input_error or sync.last_decode_error}'
        if self.output_errors and level is Level.OK:
            level, message = Level.WARN, f'output failed: {self.last_output_error}'
        if self.backend_error:
            level, message = Level.ERROR, f'backend error: {self.backend_error}'
        return Diagnostics(level, message, values)


def _standing_watches(backend: Backend, texts: Sequence[str], created: float) -> list[Watch]:
    """The ``standing_watches`` parameter as watches, each with the meaning ``backend`` follows; raises
    WatchRejectedError for one it cannot follow."""
    watches = standing_watches(list(texts), created)
    return [replace(w, interpretation=backend.check_instruction(w.instruction) or '') for w in watches]
