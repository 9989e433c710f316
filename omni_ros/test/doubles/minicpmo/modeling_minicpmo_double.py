"""Model class of the MiniCPM-o double: a real PreTrainedModel found by AutoModel through auto_map.

It has one tiny weight (loaded from model.safetensors by the real from_pretrained path) and hands out a
DuplexDouble from as_duplex(). Load-time checks: init_vision/init_audio/init_tts flags, init_tts() before
as_duplex(), eval mode.
"""

import torch
from transformers import PreTrainedModel

from .configuration_minicpmo_double import MiniCPMODoubleConfig
from .duplex_double import ContractViolation, DuplexDouble

INSTANCES = []  # every model loaded in this process, newest last (tests read them)


class MiniCPMODouble(PreTrainedModel):
    config_class = MiniCPMODoubleConfig
    _supports_sdpa = True
    _supports_flash_attn_2 = True

    def __init__(self, config):
        super().__init__(config)
        missing = [f for f in ('init_vision', 'init_audio', 'init_tts') if not getattr(config, f)]
        if missing:
            raise ContractViolation(f'from_pretrained() without {missing}=True: the duplex model needs vision, '
                                    'audio and TTS')
        self.probe = torch.nn.Linear(4, 4)
        self.tts_ready = False
        self.duplex = None
        INSTANCES.append(self)

    def init_tts(self, *args, **kwargs):
        if args or kwargs:
            raise ContractViolation(f'init_tts() takes no arguments here, got {args} {kwargs}')
        self.tts_ready = True

    def as_duplex(self, *args, **settings):
        if args:
            raise ContractViolation('as_duplex() takes keyword settings only')
        self.duplex = DuplexDouble(settings, script=self.config.double_script,
                                   model_state={'tts_ready': self.tts_ready, 'training': self.training})
        return self.duplex

    @property
    def loaded_dtype(self):
        return self.probe.weight.dtype

    @property
    def attn_implementation(self):
        return self.config._attn_implementation
