"""Settings of the MiniCPM-o backends (ROS parameters ``<backend>.<setting>``), one declaration each.

SessionSettings are shared by every MiniCPM-o backend (transformers and llama.cpp-omni): prompt, watches,
pacing and interrupt handling. DuplexSettings are the upstream duplex object's settings (constructor keyword
arguments, read with ``kwargs.get`` upstream: see DUPLEX_SETTING_KEYS) and per-unit ``streaming_generate``
arguments (GENERATE_KEYS), named as upstream names them so the upstream documentation applies unchanged.
ModelSettings say which checkpoint to load and how. A backend's Config combines them (``MiniCPMoConfig``
here, ``LlamaCppOmniConfig`` in llamacpp_omni/options.py); fields are listed model, duplex, session.
"""

from __future__ import annotations

from dataclasses import dataclass

from omni_ros.settings import Change, check_fields, setting

DEFAULT_PERSONA = (
    'You are the voice of a robot. You see through its camera and hear through its microphone. '
    'Speak briefly and only when it helps the people around you.')
PERSONA_DESCRIPTION = 'Start of the system prompt: who the model is and how it talks.'


@dataclass(frozen=True)
class SessionSettings:
    """What every MiniCPM-o backend reads: prompt, voice, units, pacing, summary and attribution."""

    persona: str = setting(DEFAULT_PERSONA, PERSONA_DESCRIPTION)
    ref_voice_wav: str = setting(
        '', 'WAV file with the voice to speak in (any rate, mono or stereo; resampled to 16 kHz mono for the '
        'prompt, the file itself sets up the vocoder). Empty: the checkpoint\'s own reference voice (minicpmo: '
        'the first assets/ref_audio/*.wav of model_path; setup fails when speech is on and there is none), or '
        'the server\'s default voice (llamacpp_omni).')
    stacked_frames: int = setting(
        1, 'Camera frames per 1 s unit. 1: one frame; 3 or 5: "high refresh" mode as upstream trains it: the '
        'first frame of the second as the main image, the later ones stacked into one image (2x1 or 1x2, 3x1 '
        'or 1x3 whichever is squarer, 2x2; 6 px separators).', choices=(1, 3, 5))
    max_slice_nums: int = setting(
        1, 'Image slices for the main frame (1 = 64 tokens; 2 for HD detail). The stacked grid always uses 1.',
        minimum=1, maximum=9)
    chunk_ms: int = setting(1000, 'Length of one model unit in ms (upstream trains with 1000).',
                            minimum=500, maximum=2000)
    first_chunk_ms: int = setting(
        1035, 'Length of the first unit after each prepare in ms; the missing part is zero-padded in front of '
        'the first chunk\'s audio.', minimum=500, maximum=2100)
    barge_in_listen_units: int = setting(
        3, 'Units the model is held listening after a FORCE_LISTEN interrupt (barge-in). minicpmo: per-unit '
        'force_listen_override where the model code has it, else a break and a new prepare (logged); '
        'llamacpp_omni: units prefilled without a decode.', minimum=0, maximum=30)
    max_lag_s: float = setting(
        2.0, 'Backlog (s) behind the input stream above which whole units are skipped to catch up; between 0 '
        'and this, the stacked frame grid is dropped first.', minimum=0.0, maximum=30.0)
    warmup: bool = setting(True, 'Run one silent unit at setup so the first real unit is not slowed by lazy '
                           'initialisation.')
    summary_max_chars: int = setting(
        600, 'Longest summary of recent turns carried into the system prompt when it is rebuilt (watch change, '
        'question, break); the new prepare starts with an empty context.', minimum=0, maximum=4000)
    summary_turns: int = setting(6, 'How many recent assistant turns the carried summary may mention.',
                                 minimum=0, maximum=50)
    tag_fallback_min_similarity: float = setting(
        0.25, 'Least word overlap (0..1) between an untagged spoken turn and a watch instruction for the turn '
        'to be attributed to that watch (with lower confidence); below it the turn is a comment.',
        minimum=0.0, maximum=1.0)
    reprepare_max_defer_units: int = setting(
        3, 'While the model is speaking, a watch or question change waits at most this many units for the '
        'turn to end before re-preparing.', minimum=0, maximum=30)

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True)
class DuplexSettings:
    """The upstream duplex object's settings and per-unit ``streaming_generate`` arguments, by upstream's names."""

    generate_audio: bool = setting(
        True, 'Produce speech (24 kHz) as well as text. Needs a reference voice (ref_voice_wav or the '
        'checkpoint\'s assets/ref_audio) for the vocoder.')
    force_listen_count: int = setting(
        0, 'Upstream\'s start-up force-listen: the first N units after EVERY prepare are forced to listen, so a '
        'watch or question change (a new prepare) makes the model deaf N seconds too. Barge-in is '
        'barge_in_listen_units.', minimum=0, maximum=30)
    listen_prob_scale: float = setting(
        1.0, 'Scales the logit of the listen token; above 1 the model listens more (speaks less often).',
        minimum=0.0, maximum=10.0)
    listen_top_k: int = setting(
        0, 'Listen whenever the listen token ranks among the top k (0: off, upstream\'s None; OpenBMB\'s server '
        'uses 5).', minimum=0, maximum=200000)
    max_new_speak_tokens_per_chunk: int = setting(20, 'Text tokens generated at most per 1 s unit.',
                                                  minimum=2, maximum=200)
    decode_mode: str = setting('sampling', 'Text decoding: sampling (upstream default) or greedy.',
                               choices=('sampling', 'greedy'))
    temperature: float = setting(0.7, 'Text sampling temperature.', minimum=0.01, maximum=2.0)
    top_k: int = setting(20, 'Text sampling top-k.', minimum=1, maximum=1000)
    top_p: float = setting(0.8, 'Text sampling top-p.', minimum=0.0, maximum=1.0)
    text_repetition_penalty: float = setting(
        1.05, 'Divides the logits of recently said tokens (>1: less repetition).', minimum=0.5, maximum=2.0)
    text_repetition_window_size: int = setting(512, 'Recent tokens the text repetition penalty looks at.',
                                               minimum=1, maximum=8192)
    length_penalty: float = setting(
        1.1, 'Above 1 the end-of-turn token is suppressed (longer turns). Only model code whose '
        'streaming_generate takes it (the unified revision); ignored with a warning otherwise.',
        minimum=0.5, maximum=3.0)
    batch_vision_feed: bool = setting(
        False, 'Feed all image embeddings of a unit in one forward pass (faster; slightly different numerics).')
    tts_temperature: float = setting(0.8, 'Speech token sampling temperature.', minimum=0.01, maximum=2.0)
    tts_repetition_penalty: float = setting(1.05, 'Repetition penalty of the speech token sampler.',
                                            minimum=0.5, maximum=2.0)
    sliding_window_mode: str = setting(
        'context', 'KV cache window: "context" keeps the system prompt and carries the text of slid-out units '
        'as upstream\'s own "previous:" section (needed for long sessions), "basic" drops old tokens, "off" '
        'stops near 8192 tokens (~100 s).', choices=('off', 'basic', 'context'))
    basic_window_high_tokens: int = setting(4000, '"basic" window: trim when the cache exceeds this.',
                                            minimum=512, maximum=32768)
    basic_window_low_tokens: int = setting(3500, '"basic" window: trim down to this.', minimum=256,
                                           maximum=32768)
    context_previous_max_tokens: int = setting(500, '"context" window: longest "previous:" carry.',
                                               minimum=0, maximum=8192)
    context_max_units: int = setting(24, '"context" window: units kept before sliding.', minimum=1,
                                     maximum=1000)
    enable_float16: bool = setting(False, 'Run the speech decoder (Token2wav flow) in float16.')
    n_timesteps: int = setting(
        0, 'Flow-matching steps of the speech decoder (fewer = faster, rougher); 0: the model code\'s own '
        'default (10 plain, 5 unified).', minimum=0, maximum=100)

    def __post_init__(self) -> None:
        check_fields(self)


# Settings of the upstream duplex object (MiniCPMODuplex / DuplexCapability / as_duplex keyword arguments),
# passed unchanged; chunk_ms, first_chunk_ms, sample_rate and attn_implementation are added by the engine.
DUPLEX_SETTING_KEYS: tuple[str, ...] = (
    'generate_audio', 'force_listen_count', 'max_new_speak_tokens_per_chunk', 'temperature', 'top_k', 'top_p',
    'listen_prob_scale', 'text_repetition_penalty', 'text_repetition_window_size', 'tts_temperature',
    'tts_repetition_penalty', 'sliding_window_mode', 'basic_window_high_tokens', 'basic_window_low_tokens',
    'context_previous_max_tokens', 'context_max_units', 'enable_float16')

# Per-unit streaming_generate arguments (upstream reads these per call, not from the settings above);
# each is passed only when the loaded revision's streaming_generate accepts it.
GENERATE_KEYS: tuple[str, ...] = (
    'max_new_speak_tokens_per_chunk', 'decode_mode', 'temperature', 'top_k', 'top_p', 'listen_prob_scale',
    'listen_top_k', 'text_repetition_penalty', 'text_repetition_window_size', 'length_penalty')


@dataclass(frozen=True)
class ModelSettings:
    """Which checkpoint the transformers backend loads, and how."""

    model_path: str = setting('', 'Local directory of the MiniCPM-o 4.5 checkpoint (bf16 or int4 AWQ). Required.')
    model_code: str = setting(
        'auto', 'Which of the checkpoint\'s modeling files to run, imported from model_path as OpenBMB\'s server '
        'does. auto: modeling_minicpmo_unified when present (per-unit force-listen), else config.json\'s '
        'auto_map module.', choices=('auto', 'modeling_minicpmo_unified', 'modeling_minicpmo'))
    allow_hub_download: bool = setting(
        False, 'Let model_path be a Hugging Face hub name that is downloaded at setup. Off by default: robots '
        'should load local weights only.')
    dtype: str = setting(
        'bfloat16', 'Weights dtype: bfloat16 (~19 GB), float16, int4-awq for an AWQ checkpoint (~11 GB), or '
        'float32 (CPU tests with a tiny checkpoint: CPUs without bf16 units run bf16 slowly).',
        choices=('bfloat16', 'float16', 'int4-awq', 'float32'))
    attn_implementation: str = setting('sdpa', 'Attention kernel; flash_attention_2 needs the flash-attn package.',
                                       choices=('sdpa', 'flash_attention_2', 'eager'))
    device: str = setting('cuda', 'Torch device, e.g. cuda or cuda:1. cpu is refused unless allow_cpu is set.')
    allow_cpu: bool = setting(
        False, 'Accept device=cpu. Only for tests with a stand-in model: the real model is far too slow on a CPU.')

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True)
class MiniCPMoConfig(SessionSettings, DuplexSettings, ModelSettings):
    """The ``minicpmo`` backend's settings: ModelSettings, DuplexSettings, SessionSettings, in that order.

    ``persona`` applies live here: a change re-prepares the session (as a watch change does, carrying the
    conversation), see MiniCPMoBackend.reconfigure.
    """

    persona: str = setting(DEFAULT_PERSONA, PERSONA_DESCRIPTION, change=Change.LIVE)
