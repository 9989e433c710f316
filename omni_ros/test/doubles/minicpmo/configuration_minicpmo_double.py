"""Config of the MiniCPM-o double, loaded through auto_map like the real checkpoint's configuration file."""

from transformers import PretrainedConfig


class MiniCPMODoubleConfig(PretrainedConfig):
    model_type = 'minicpmo_double'

    def __init__(self, init_vision=False, init_audio=False, init_tts=False, double_script=None, **kwargs):
        # Defaults are False so a loader that forgets the init_* flags is caught by the model's __init__.
        self.init_vision = init_vision
        self.init_audio = init_audio
        self.init_tts = init_tts
        self.double_script = double_script or {}
        super().__init__(**kwargs)
