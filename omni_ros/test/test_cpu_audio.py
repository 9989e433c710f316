"""CPU backend audio perceptions: VAD, sound events, command grammar, Whisper and flite, on made audio."""

from __future__ import annotations

import numpy as np
import pytest

from omni_ros.backends.cpu import synth
from omni_ros.backends.cpu.asr import CommandRecognizer, FreeFormRecognizer
from omni_ros.backends.cpu.spoken import UtteranceKind, classify_utterance
from omni_ros.backends.cpu.sound_events import SoundEventDetector
from omni_ros.backends.cpu.tts import FliteTts
from omni_ros.backends.cpu.utterances import UtteranceSegmenter
from omni_ros.backends.cpu.vad import SileroVad

SR = synth.SR


@pytest.fixture(scope='module')
def vad() -> SileroVad:
    v = SileroVad()
    v.setup()
    yield v
    v.close()


@pytest.fixture(scope='module')
def commands() -> CommandRecognizer:
    c = CommandRecognizer()
    c.setup()
    yield c
    c.close()


@pytest.fixture(scope='module')
def whisper() -> FreeFormRecognizer:
    w = FreeFormRecognizer()
    w.setup()
    yield w
    w.close()


def events(vad: SileroVad, audio: np.ndarray) -> list[tuple[int, str, float]]:
    """(chunk index, kind, onset) for ``audio`` streamed in 1 s chunks with the VAD's speech mask."""
    vad.reset()
    detector = SoundEventDetector()
    n = int(np.ceil(len(audio) / SR))
    audio = np.concatenate([audio, np.zeros(n * SR - len(audio), np.float32)])
    found = []
    for i in range(n):
        a = audio[i * SR:(i + 1) * SR]
        speech = np.repeat(vad.process(a).speech, 512)
        mask = np.concatenate([speech, np.zeros(max(0, SR - len(speech)), bool)])[:SR]
        found += [(i, e.kind, e.onset) for e in detector.process(a, mask, float(i))]
    return found


def melody() -> np.ndarray:
    """A piano-like scale up and down: struck, decaying notes of changing pitch (not dings or doorbells)."""
    t = np.arange(int(0.45 * SR)) / SR
    out = np.zeros(9 * SR, np.float32)
    for i, f in enumerate([262, 294, 330, 349, 392, 440, 494, 523, 494, 440, 392, 349, 330, 294, 262, 330, 392]):
        note = sum(a * np.sin(2 * np.pi * f * k * t) for k, a in ((1, 1.0), (2, 0.5), (3, 0.25)))
        note = note * np.exp(-t / 0.25) * np.minimum(1, t / 0.005) / 1.75
        start = int((0.3 + 0.45 * i) * SR)
        out[start:start + len(t)] += note[:len(out) - start].astype(np.float32)
    return out


def speech_clip(seconds: float = 8.0) -> np.ndarray:
    words = np.concatenate([
        synth.speech('tell me when the light turns green and what floor we are on', 'slt'),
        synth.speech('beep beep, said the road runner, and the bell went ding dong', 'kal'),
        synth.speech('knock knock, who is there? a doorbell rang twice.', 'awb')])
    return synth.mix(synth.noise(max(seconds, len(words) / SR + 1), 0.003), words, 0.4, 20)


# -- voice activity ----------------------------------------------------------------------------------
def test_vad_finds_speech_and_not_noise(vad: SileroVad) -> None:
    vad.reset()
    talk = synth.mix(synth.noise(3, 0.003), synth.speech('what floor are we on', 'rms'), 0.5, 20)
    frac_speech = np.mean([vad.process(talk[i * SR:(i + 1) * SR]).speech_fraction for i in range(3)])
    vad.reset()
    noise = synth.noise(3, 0.05, 'pink')
    frac_noise = max(vad.process(noise[i * SR:(i + 1) * SR]).speech_fraction for i in range(3))
    assert frac_speech > 0.25
    assert frac_noise < 0.05


def test_utterances_are_cut_at_silence(vad: SileroVad) -> None:
    vad.reset()
    seg = UtteranceSegmenter()
    first, second = synth.speech('what floor are we on', 'slt'), synth.speech('is anyone there', 'kal')
    audio = synth.mix(synth.mix(synth.noise(7, 0.002), first, 0.5), second, 4.0)
    cut = []
    for i in range(7):
        a = audio[i * SR:(i + 1) * SR]
        cut += seg.feed(a, float(i), vad.process(a), new_stream=i == 0)
    assert len(cut) == 2
    assert abs(cut[0].start - 0.5) < 0.35 and abs(cut[1].start - 4.0) < 0.35
    assert abs(cut[0].end - (0.5 + len(first) / SR)) < 0.4


# -- sound events ------------------------------------------------------------------------------------
SOUNDS = {
    'beep': lambda: synth.beep(2500, 0.2, 3),
    'long beep': lambda: synth.beep(3200, 0.6, 1, square=True),
    'ding': lambda: synth.bell(1250),
    'doorbell': lambda: synth.doorbell(),
    'knock': lambda: synth.knock(3),
}


@pytest.mark.parametrize('name', list(SOUNDS))
@pytest.mark.parametrize('snr, color, at', [(25, 'white', 1.3), (15, 'pink', 2.7), (10, 'white', 3.05)])
def test_each_sound_event_is_found_once(vad: SileroVad, name: str, snr: float, color: str, at: float) -> None:
    kind = name.split()[-1]
    audio = synth.mix(synth.noise(6.0, 0.003, color, seed=int(at * 10)), SOUNDS[name](), at, snr)
    found = events(vad, audio)
    assert [k for _, k, _ in found] == [kind], found
    chunk, _, onset = found[0]
    assert abs(onset - at) < 0.1
    # Alerts are stamped with the chunk start: within 1.6 s of the sound (a doorbell waits for its "dong").
    assert chunk - at <= 1.6


@pytest.mark.parametrize('name, audio', [
    ('silence', lambda: np.zeros(6 * SR, np.float32)),
    ('white noise', lambda: synth.noise(6, 0.05)),
    ('pink noise', lambda: synth.noise(6, 0.08, 'pink')),
    ('speech', speech_clip),
    ('piano melody', lambda: synth.mix(synth.noise(9, 0.003), melody(), 0, 20)),
    ('a single click', lambda: synth.mix(synth.noise(6, 0.003), synth.knock(1), 2.2, 20)),
])
def test_no_sound_events_in_distractors(vad: SileroVad, name: str, audio) -> None:
    assert events(vad, audio()) == []


def test_beep_and_knock_together_are_both_found(vad: SileroVad) -> None:
    audio = synth.mix(synth.mix(synth.noise(6, 0.003), synth.beep(), 1.2, 20), synth.knock(), 3.5, 20)
    assert sorted(k for _, k, _ in events(vad, audio)) == ['beep', 'knock']


# -- speech recognition ------------------------------------------------------------------------------
@pytest.mark.parametrize('text, voice', [
    ('tell me when the light turns green', 'slt'), ('what floor are we on', 'rms'),
    ('alert me when the oven beeps', 'kal'), ('is anyone there', 'awb'),
    ('let me know when someone comes in', 'slt')])
def test_grammar_recognizes_commands(commands: CommandRecognizer, text: str, voice: str) -> None:
    result = commands.recognize(synth.speech(text, voice))
    assert result is not None and result.text == text


@pytest.mark.parametrize('text, voice', [
    ('the weather is nice today', 'kal'), ('when is the next train to boston', 'awb'),
    ('i would like some green tea please', 'slt')])
def test_grammar_rejects_other_speech(commands: CommandRecognizer, text: str, voice: str) -> None:
    assert commands.recognize(synth.speech(text, voice)) is None


def test_grammar_rejects_noise(commands: CommandRecognizer) -> None:
    assert commands.recognize(synth.noise(2.0, 0.05, 'pink')) is None


@pytest.mark.parametrize('text, voice, kind', [
    ('let me know when we reach floor sixteen', 'slt', UtteranceKind.WATCH),
    ('tell me when the sign says exit', 'kal', UtteranceKind.WATCH),
    ('what does the sign say', 'rms', UtteranceKind.QUESTION),
    ('I think it might rain later this afternoon', 'awb', UtteranceKind.TALK)])
def test_whisper_free_form(whisper: FreeFormRecognizer, text: str, voice: str, kind: UtteranceKind) -> None:
    result = whisper.recognize(synth.speech(text, voice))
    assert result is not None
    assert classify_utterance(result.text).kind is kind
    if 'sixteen' in text:
        assert classify_utterance(result.text).parsed.condition.value == '16'


def test_whisper_ignores_noise(whisper: FreeFormRecognizer) -> None:
    result = whisper.recognize(synth.noise(2.0, 0.01))
    assert result is None or classify_utterance(result.text).kind is UtteranceKind.TALK


# -- speech output -----------------------------------------------------------------------------------
@pytest.mark.parametrize('rate', [16000, 24000])
def test_flite_speaks_at_the_requested_rate(rate: int) -> None:
    tts = FliteTts('slt', rate)
    tts.setup()
    try:
        audio = tts.synthesize('The light is green now.')
    finally:
        tts.close()
    assert audio.dtype == np.float32
    assert 0.8 * rate < len(audio) < 3.0 * rate
    assert 0.02 < float(np.sqrt(np.mean(audio ** 2))) < 0.7


def test_flite_round_trip(commands: CommandRecognizer) -> None:
    tts = FliteTts('slt', 16000)
    tts.setup()
    try:
        audio = tts.synthesize('what floor are we on')
    finally:
        tts.close()
    result = commands.recognize(audio)
    assert result is not None and result.text == 'what floor are we on'
