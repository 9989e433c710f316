"""The CPU backend's settings (ROS parameters under the node's backend options)."""

from __future__ import annotations

from omni_ros.backends.cpu.tts import VOICES
from omni_ros.settings import OptionSpec

ASR_MODES = ('grammar+whisper', 'grammar', 'whisper', 'off')

OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec('lights', True, 'Detect traffic-light colours (colour segmentation; cheap).'),
    OptionSpec('digits', True, 'Read seven-segment displays (floor numbers; cheap).'),
    OptionSpec('scene_text', True, 'Read signs with rapidocr (~0.3 s a frame; runs only while a watch or '
               'question needs text).'),
    OptionSpec('people', True, 'Detect people (HOG) and faces (Haar); runs only while needed.'),
    OptionSpec('sounds', True, 'Detect beeps, dings, doorbells and knocks (DSP; cheap).'),
    OptionSpec('asr', 'grammar+whisper', 'Speech recognition: pocketsphinx command grammar first and Whisper '
               'tiny.en for anything else; grammar or whisper alone; or off.', choices=ASR_MODES),
    OptionSpec('speak', True, 'Speak alerts, answers and confirmations with flite.'),
    OptionSpec('tts_voice', 'slt', 'flite voice.', choices=VOICES),
    OptionSpec('tts_sample_rate', 16000, 'Sample rate of the speech returned (flite speaks at 16 kHz; other '
               'rates are resampled).', choices=(16000, 22050, 24000, 44100, 48000)),
    OptionSpec('default_cooldown', 3.0, 'Seconds between two alerts of one watch when the watch sets no '
               'cooldown of its own.', minimum=0.0, maximum=3600.0),
    OptionSpec('alert_if_already_true', True, 'Alert at once when a new watch\'s condition already holds '
               '(otherwise wait for it to become false and true again).'),
    OptionSpec('vad_threshold', 0.5, 'Silero speech probability above which a 32 ms frame is speech.',
               minimum=0.05, maximum=0.95),
    OptionSpec('end_of_utterance', 0.5, 'Seconds of silence that end an utterance.', minimum=0.2, maximum=3.0),
    OptionSpec('grammar_margin', 0.08, 'How much better than a phone loop the command grammar must fit an '
               'utterance to accept it (higher: fewer false commands, more Whisper runs).',
               minimum=0.0, maximum=1.0),
    OptionSpec('ocr_min_score', 0.6, 'Lowest rapidocr score kept for a line of scene text.', minimum=0.0,
               maximum=1.0),
    OptionSpec('ocr_width', 400, 'Width (px) frames are shrunk to for scene text: larger reads smaller text '
               'and costs more (640x480 native: ~3x the time of 400).', minimum=160, maximum=1920),
    OptionSpec('ocr_every', 2, 'Run scene text on every Nth chunk while needed (questions run it at once).',
               minimum=1, maximum=30),
    OptionSpec('people_every', 1, 'Run the people detector on every Nth chunk while needed.', minimum=1,
               maximum=30),
    OptionSpec('rerun_after', 5, 'Chunks after which OCR and the people detector run again on a picture '
               'that has not changed (a changed picture reruns them sooner).', minimum=1, maximum=60),
    OptionSpec('hog_threshold', 0.5, 'Lowest HOG score counted as a person.', minimum=0.0, maximum=5.0),
    OptionSpec('tone_snr_db', 14.0, 'How far above the noise floor a tone must be to count as a beep or '
               'bell.', minimum=3.0, maximum=60.0),
    OptionSpec('click_snr_db', 9.0, 'How far above the background (dB, 16 ms frames) a click must be to '
               'count toward a knock; steady noise stays within about 1 dB of it.', minimum=3.0, maximum=60.0),
    OptionSpec('threads', 2, 'CPU threads for Whisper and OCR.', minimum=1, maximum=64),
)
