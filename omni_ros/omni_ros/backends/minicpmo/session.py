"""The Backend implementation shared by the MiniCPM-o backends; an engine does the model calls.

One place for: system prompt and tags (prompting), re-prepare on watch/question change without losing
the conversation (carried summary, deferred while the model is mid-sentence), per-unit conversion (media),
pacing (realtime), interrupts, and mapping unit results to transcripts, speech and events.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Generic, Optional, Sequence, TypeVar

import numpy as np

from omni_ros.backends.minicpmo.engine import DuplexEngine, ModelUnit, UnitResult
from omni_ros.backends.minicpmo.media import MODEL_RATE, FrameSelector, UnitAudio, resample_linear
from omni_ros.backends.minicpmo.options import SessionSettings
from omni_ros.backends.minicpmo.prompting import PromptBook, strip_tags
from omni_ros.backends.minicpmo.realtime import RealtimeGovernor, RealtimeStats, UnitPlan
from omni_ros.errors import BackendError, BackendSetupError, OmniError
from omni_ros.data import (BackendOutput, Chunk, Event, InterruptMode, Question, Speaker, Speech,
                            StreamSpec, Transcript, Watch)
from omni_ros.watches.table import normalize_instruction

log = logging.getLogger('omni_ros.minicpmo')

MAX_INSTRUCTION_CHARS = 400  # a watch line in the system prompt; longer ones crowd out the context

C = TypeVar('C', bound=SessionSettings)


class DuplexSessionBackend(Generic[C]):
    """Base of ``minicpmo`` and ``llamacpp_omni`` (``C``: the backend's Config, with the shared
    SessionSettings); subclasses provide ``_make_engine``."""

    name = 'minicpmo-session'

    def __init__(self, config: C) -> None:
        self.config = config
        self._engine: Optional[DuplexEngine] = None
        self._lock = threading.Lock()  # guards the interrupt flags: interrupt() may come from any thread
        self._ref_audio: Optional[np.ndarray] = None
        self._voice_file: Optional[Path] = None
        self._reset_state()

    # --- subclass hooks -----------------------------------------------------------------------------
    def _make_engine(self) -> DuplexEngine:
        raise NotImplementedError

    # --- read-only views for the node and for diagnostics -----------------------------------------------
    @property
    def engine(self) -> Optional[DuplexEngine]:
        return self._engine

    @property
    def stats(self) -> RealtimeStats:
        """Real-time counters (units skipped, grids dropped, lag, real-time factor); see realtime.py."""
        return self._governor.stats

    @property
    def system_prompt(self) -> str:
        """The prompt of the last prepare() (persona, voice line, tagged watches and questions, summary)."""
        return self._last_prompt

    def stream_spec(self) -> StreamSpec:
        return StreamSpec(sample_rate=MODEL_RATE, frames_per_chunk=self.config.stacked_frames,
                          chunk_seconds=self.config.chunk_ms / 1000.0)

    # --- life cycle ---------------------------------------------------------------------------------------
    def _reset_state(self) -> None:
        c = self.config
        self._book = PromptBook(persona=c.persona, has_ref_voice=self._ref_audio is not None,
                                summary_max_chars=c.summary_max_chars, summary_turns=c.summary_turns,
                                min_similarity=c.tag_fallback_min_similarity)
        self._audio = UnitAudio(chunk_ms=c.chunk_ms, first_ms=c.first_chunk_ms)
        self._frames = FrameSelector(stacked=c.stacked_frames)
        self._governor = RealtimeGovernor(c.chunk_ms / 1000.0, c.max_lag_s)
        self._session = False
        self._dirty = False
        self._defer = 0
        self._speaking = False
        self._turn_id = 0
        self._turn_text = ''
        self._turn_start = 0.0
        self._turn_final_sent = False
        self._turn_answerable: frozenset[str] = frozenset()
        self._force_listen_left = 0
        self._break_requested = False
        self._warned_no_force_listen = False
        self._last_prompt = ''

    def setup(self) -> None:
        if self._engine is not None:
            self.shutdown()
        c = self.config
        if c.first_chunk_ms < c.chunk_ms:
            raise BackendSetupError(f'{self.name}.first_chunk_ms ({c.first_chunk_ms}) must be at least '
                                    f'{self.name}.chunk_ms ({c.chunk_ms}); upstream uses 1035 and 1000')
        engine = self._make_engine()
        self._ref_audio = self._load_ref_voice(engine)
        self._reset_state()
        try:
            engine.load()
            if c.warmup:
                self._warm_up(engine)
        except OmniError:
            engine.close()
            raise
        except Exception as exc:  # a runtime failing in a way we did not foresee still fails setup cleanly
            engine.close()
            raise BackendSetupError(f'{self.name}: setup failed: {exc!r}; check the {self.name}.* '
                                    'parameters and the logs above') from exc
        self._engine = engine

    def shutdown(self) -> None:
        engine, self._engine = self._engine, None
        if engine is None:
            return
        try:
            if self._session:
                engine.end_session()
        finally:
            engine.close()
            self._session = False

    def start_session(self) -> None:
        self._require_engine()
        self._frames.reset()
        self._book.clear_history()
        self._speaking = False
        self._governor.reset_lag()
        self._prepare()
        self._session = True

    def stop_session(self) -> None:
        if self._engine is not None and self._session:
            self._engine.end_session()
        self._session = False
        self._speaking = False

    # --- watches, questions, interrupts ------------------------------------------------------------------
    def check_instruction(self, instruction: str) -> str:
        # The model reads the words themselves: the meaning followed is the instruction.
        return normalize_instruction(instruction, max_chars=MAX_INSTRUCTION_CHARS)

    def set_watches(self, watches: Sequence[Watch]) -> None:
        for w in watches:
            self.check_instruction(w.instruction)
        if self._book.set_watches(watches):
            self._mark_dirty('watches changed')

    def ask(self, question: Question) -> None:
        self.check_instruction(question.text)
        tag = self._book.add_question(question)
        self._mark_dirty(f'question {tag} added')

    def interrupt(self, mode: InterruptMode) -> None:
        engine = self._engine
        with self._lock:
            if mode is InterruptMode.FORCE_LISTEN and engine is not None and engine.supports_force_listen:
                self._force_listen_left = max(self._force_listen_left, self.config.barge_in_listen_units)
                return
            self._break_requested = True
            warn = mode is InterruptMode.FORCE_LISTEN and not self._warned_no_force_listen
            self._warned_no_force_listen = self._warned_no_force_listen or warn
        if warn:
            log.warning('%s: the model code has no per-unit force-listen, so a barge-in stops the turn with a '
                        'break and the next unit prepares again (the conversation is carried in the prompt '
                        'summary); see docs/minicpmo.md "Barge-in"', self.name)
        if engine is not None:
            engine.request_break()  # stops the speech now; the next feed prepares again

    def watch_tag(self, watch_id: str) -> str:
        """The tag ('W1') the model is told to say for ``watch_id``; '' when it is not active."""
        return self._book.tag_of(watch_id)

    # --- streaming -------------------------------------------------------------------------------------------
    def feed(self, chunk: Chunk) -> BackendOutput:
        t0 = time.perf_counter()
        engine = self._require_engine()
        if not self._session:
            self.start_session()
        out = BackendOutput()
        with self._lock:
            brk, self._break_requested = self._break_requested, False
            force_listen = self._force_listen_left > 0
        if brk:
            self._close_turn(out, chunk.start, interrupted=True)
            self._mark_dirty('break')
        elif force_listen:
            self._close_turn(out, chunk.start, interrupted=True)  # we cut the turn, the model did not end it
        if chunk.new_stream and self._governor.stats.units_run:
            self._mark_dirty('input stream restarted')
        if self._dirty:
            if not self._speaking or self._defer >= self.config.reprepare_max_defer_units:
                self._close_turn(out, chunk.start, interrupted=True)
                self._prepare()
            else:
                self._defer += 1
        has_grid = self.config.stacked_frames > 1 and len(chunk.frames) > 1
        plan = self._governor.plan(has_grid)
        if plan is UnitPlan.SKIP:
            self._governor.skipped(chunk.duration)
            log.warning('%s: %.2f s behind the stream; skipped unit %d (%d skipped so far)', self.name,
                        self._governor.stats.lag_s + chunk.duration, chunk.index,
                        self._governor.stats.units_skipped)
            out.speaking = self._speaking
            return out
        unit = ModelUnit(audio=self._audio.unit(chunk), frames=self._frames.frames(chunk, plan is UnitPlan.RUN),
                         max_slice_nums=self.config.max_slice_nums, force_listen=force_listen)
        try:
            result = engine.step(unit)
        except OmniError:
            raise
        except Exception as exc:
            raise BackendError(f'{self.name}: model step failed on chunk {chunk.index}: {exc!r}') from exc
        if result.halted:
            # A break arrived during the unit and upstream refused it, as designed: nothing was said.
            # The break request is pending, so the next feed closes the turn and prepares again.
            out.speaking = self._speaking
            return out
        self._audio.consumed()
        if force_listen:
            with self._lock:
                self._force_listen_left = max(0, self._force_listen_left - 1)
        self._map(result, chunk, out)
        self._governor.ran(time.perf_counter() - t0, result.model_s, grid_dropped=plan is UnitPlan.RUN_LITE)
        return out

    # --- internals -------------------------------------------------------------------------------------------
    def _require_engine(self) -> DuplexEngine:
        if self._engine is None:
            raise BackendError(f'{self.name}: not set up; call setup() (configure the node) first')
        return self._engine

    def _mark_dirty(self, why: str) -> None:
        if not self._dirty:
            log.debug('%s: re-prepare pending (%s)', self.name, why)
        self._dirty = True

    def _prepare(self) -> None:
        prompt = self._book.compose()
        given = self._require_engine().prepare(prompt, self._ref_audio)
        self._last_prompt = given if isinstance(given, str) else prompt.text
        self._audio.restart()
        self._governor.prepared()
        self._dirty = False
        self._defer = 0
        with self._lock:
            self._break_requested = False

    def _warm_up(self, engine: DuplexEngine) -> None:
        from PIL import Image
        t0 = time.perf_counter()
        engine.prepare(self._book.compose(), self._ref_audio)
        engine.step(ModelUnit(audio=np.zeros(self._audio.first_samples, np.float32),
                              frames=[Image.new('RGB', (448, 448))], max_slice_nums=1))
        self._governor.warmed(time.perf_counter() - t0)

    def _load_ref_voice(self, engine: DuplexEngine) -> Optional[np.ndarray]:
        """The reference voice at 16 kHz: ref_voice_wav, else the engine's own default voice file (if any)."""
        voice_file = getattr(engine, 'voice_file', None)
        found = voice_file() if callable(voice_file) else None
        path = self.config.ref_voice_wav or (str(found) if found else '')
        self._voice_file = Path(path) if path else None
        if not path:
            return None
        from omni_ros.backends.minicpmo.wavio import read_wav
        try:
            samples, rate = read_wav(path)
        except FileNotFoundError:
            raise BackendSetupError(f'{self.name}.ref_voice_wav: {path} does not exist; give a WAV file '
                                    'or leave it empty for the default voice') from None
        except (OSError, ValueError) as exc:
            raise BackendSetupError(f'{self.name}.ref_voice_wav: cannot read {path} ({exc}); give a 16-bit '
                                    'PCM or float WAV file') from None
        if samples.size < rate // 2:
            raise BackendSetupError(f'{self.name}.ref_voice_wav: {path} is shorter than 0.5 s; give 3-10 s '
                                    'of clear speech')
        return resample_linear(samples, rate, MODEL_RATE)

    def _map(self, result: UnitResult, chunk: Chunk, out: BackendOutput) -> None:
        stamp = chunk.start
        if not result.is_listen:
            if not self._speaking:
                self._speaking = True
                self._turn_id += 1
                self._turn_text = ''
                self._turn_start = stamp
                self._turn_final_sent = False
                self._turn_answerable = self._book.prompted
            self._turn_text += result.text or ''
            if result.speech is not None and result.speech.size:
                out.speech.append(Speech(samples=np.asarray(result.speech, dtype=np.float32),
                                         sample_rate=result.speech_rate, stamp=stamp, turn_id=self._turn_id,
                                         text=strip_tags(result.text or '')))
            if result.end_of_turn:
                self._close_turn(out, stamp, interrupted=False)
            elif result.text:
                out.transcripts.append(Transcript(Speaker.ASSISTANT, strip_tags(self._turn_text), self._turn_id,
                                                  stamp, final=False))
        elif self._speaking:
            # Back to listening without an explicit end of turn: the turn is over all the same.
            self._turn_text += result.text or ''
            self._close_turn(out, stamp, interrupted=False)
        out.speaking = self._speaking

    def _close_turn(self, out: BackendOutput, stamp: float, interrupted: bool) -> None:
        if not self._speaking:
            return
        self._speaking = False
        text = self._turn_text
        plain = strip_tags(text)
        out.transcripts.append(Transcript(Speaker.ASSISTANT, plain, self._turn_id, stamp, final=True,
                                          interrupted=interrupted))
        if not plain:
            return
        before = len(self._book.questions)
        attr = self._book.attribute(text, answerable=self._turn_answerable)
        if len(self._book.questions) != before:
            self._mark_dirty('question answered')
        out.events.append(Event(kind=attr.kind, text=attr.text, stamp=self._turn_start, watch_id=attr.watch_id,
                                question_id=attr.question_id, confidence=attr.confidence))
        label = attr.watch_id and f'alert {attr.watch_id}' or attr.question_id and 'answer' or ''
        self._book.remember(text, self._turn_start, label)
