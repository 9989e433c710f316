"""The CPU backend's settings: ROS parameters ``cpu.<setting>``, one typed declaration each.

Cooldowns are not among them: the watch policy (``omni_ros.watches.policy``) owns them and the node
hands every watch over with its cooldown resolved.
"""

from __future__ import annotations

from dataclasses import dataclass

from omni_ros.backends.cpu.tts import VOICES
from omni_ros.settings import check_fields, setting

ASR_MODES = ('grammar+whisper', 'grammar', 'whisper', 'off')


@dataclass(frozen=True)
class CpuConfig:
    hop: float = setting(0.25, 'Seconds of input per decision: sounds, lights, displays and the other '
                         'perceptions are decided this often (the node cuts its input into chunks this long), so an '
                         'alert waits for at most one hop, not a whole 1 s unit.', choices=(0.25, 0.5, 1.0))
    lights: bool = setting(True, 'Detect traffic-light colours (colour segmentation; cheap).')
    digits: bool = setting(True, 'Read seven-segment displays (floor numbers; cheap).')
    scene_text: bool = setting(True, 'Read signs with rapidocr (~0.3 s a frame; runs only while a watch or '
                               'question needs text).')
    people: bool = setting(True, 'Detect people (HOG) and faces (Haar); runs only while needed.')
    sounds: bool = setting(True, 'Detect beeps, dings, doorbells and knocks (DSP; cheap).')
    asr: str = setting('grammar+whisper', 'Speech recognition: pocketsphinx command grammar first and Whisper '
                       'tiny.en for anything else; grammar or whisper alone; or off.', choices=ASR_MODES)
    speak: bool = setting(True, 'Speak alerts, answers and confirmations with flite.')
    tts_voice: str = setting('slt', 'flite voice.', choices=VOICES)
    tts_sample_rate: int = setting(16000, 'Sample rate of the speech returned (flite speaks at 16 kHz; other '
                                   'rates are resampled).', choices=(16000, 22050, 24000, 44100, 48000))
    alert_if_already_true: bool = setting(True, 'Alert at once when a new watch\'s condition already holds '
                                          '(otherwise wait for it to become false and true again).')
    vad_threshold: float = setting(0.5, 'Silero speech probability above which a 32 ms frame is speech.',
                                   minimum=0.05, maximum=0.95)
    end_of_utterance: float = setting(0.5, 'Seconds of silence that end an utterance.', minimum=0.2, maximum=3.0)
    grammar_margin: float = setting(0.08, 'How much better than a phone loop the command grammar must fit an '
                                    'utterance to accept it (higher: fewer false commands, more Whisper runs).',
                                    minimum=0.0, maximum=1.0)
    ocr_min_score: float = setting(0.6, 'Lowest rapidocr score kept for a line of scene text.', minimum=0.0,
                                   maximum=1.0)
    ocr_width: int = setting(400, 'Width (px) frames are shrunk to for scene text: larger reads smaller text '
                             'and costs more (640x480 native: ~3x the time of 400).', minimum=160, maximum=1920)
    ocr_every: int = setting(2, 'Run scene text on every Nth second while needed (questions run it at once).',
                             minimum=1, maximum=30)
    people_every: int = setting(1, 'Run the people detector on every Nth second while needed.', minimum=1,
                                maximum=30)
    rerun_after: int = setting(5, 'Seconds after which OCR and the people detector run again on a picture '
                               'that has not changed (a changed picture reruns them sooner).', minimum=1, maximum=60)
    hog_threshold: float = setting(0.5, 'Lowest HOG score counted as a person.', minimum=0.0, maximum=5.0)
    tone_snr_db: float = setting(14.0, 'How far above the noise floor a tone must be to count as a beep or '
                                 'bell.', minimum=3.0, maximum=60.0)
    click_snr_db: float = setting(9.0, 'How far above the background (dB, 16 ms frames) a click must be to '
                                  'count toward a knock; steady noise stays within about 1 dB of it.',
                                  minimum=3.0, maximum=60.0)
    threads: int = setting(2, 'CPU threads for Whisper and OCR.', minimum=1, maximum=64)

    def __post_init__(self) -> None:
        check_fields(self)
