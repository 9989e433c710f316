"""The MiniCPM-o double with a JSONL trace, for tests that load it in another process (omni_node).

Same strict checks as MiniCPMODouble / DuplexDouble (it subclasses them); in addition every documented
call (prepare with its prompt, streaming_prefill, streaming_generate with what was said, breaks) and
every contract violation is appended as one JSON object per line to the file named by the config's
``double_trace`` (written by traced_dir.build_traced_model_dir). The test process reads that file.
Copied into the model folder next to the double's own files and loaded through auto_map.
"""

from __future__ import annotations

import json
import threading
import time

from .duplex_double import ContractViolation, DuplexDouble
from .modeling_minicpmo_double import MiniCPMODouble


class Trace:
    def __init__(self, path):
        self.path = path
        self._lock = threading.Lock()

    def write(self, kind, **fields):
        if not self.path:
            return
        line = json.dumps({'kind': kind, 't': time.time(), **fields}, default=str)
        with self._lock, open(self.path, 'a', encoding='utf-8') as f:
            f.write(line + '\n')


class TracedCalls(list):
    """DuplexDouble.calls that also goes to the trace: ('prepare', {'prompt': ...}) -> {'kind': 'call', ...}."""

    def __init__(self, trace, items=()):
        super().__init__(items)
        self._trace = trace

    def append(self, item):
        name, details = item
        self._trace.write('call', name=name, **details)
        super().append(item)


class TracedDuplexDouble(DuplexDouble):
    def __init__(self, trace, settings, **kwargs):
        self._trace = trace  # before super().__init__: its settings checks may already fail
        super().__init__(settings, **kwargs)
        self.calls = TracedCalls(trace, self.calls)
        trace.write('as_duplex', settings=dict(settings))

    def _fail(self, message):
        self._trace.write('violation', message=message)
        super()._fail(message)


class MiniCPMOTracedDouble(MiniCPMODouble):
    def __init__(self, config):
        self.trace = Trace(getattr(config, 'double_trace', ''))
        try:
            super().__init__(config)
        except ContractViolation as exc:
            self.trace.write('violation', message=str(exc))
            raise
        self.trace.write('loaded', init_vision=config.init_vision, init_audio=config.init_audio,
                         init_tts=config.init_tts)

    def init_tts(self, *args, **kwargs):
        try:
            super().init_tts(*args, **kwargs)
        except ContractViolation as exc:
            self.trace.write('violation', message=str(exc))
            raise
        self.trace.write('init_tts')

    def as_duplex(self, *args, **settings):
        if args:
            self.trace.write('violation', message='as_duplex() takes keyword settings only')
            raise ContractViolation('as_duplex() takes keyword settings only')
        self.trace.write('model_state', dtype=str(self.loaded_dtype), attn=self.attn_implementation,
                         training=self.training, tts_ready=self.tts_ready)
        self.duplex = TracedDuplexDouble(self.trace, settings, script=self.config.double_script,
                                         model_state={'tts_ready': self.tts_ready, 'training': self.training})
        return self.duplex

