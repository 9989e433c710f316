"""Option specs of the MiniCPM-o backends (ROS parameters ``<backend>.<option>``).

SESSION_OPTIONS are shared by every MiniCPM-o backend (transformers and llama.cpp-omni): prompt, watches,
pacing and interrupt handling. DUPLEX_OPTIONS are the ``as_duplex`` keyword arguments of the transformers
model, named as upstream names them so the upstream documentation applies unchanged.
"""

from __future__ import annotations

from omni_ros.settings import OptionSpec

DEFAULT_PERSONA = (
    'You are the voice of a robot. You see through its camera and hear through its microphone. '
    'Speak briefly and only when it helps the people around you.')

SESSION_OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec('persona', DEFAULT_PERSONA, 'Start of the system prompt: who the model is and how it talks.'),
    OptionSpec('ref_voice_wav', '', 'WAV file with the voice to clone (any rate, mono or stereo; resampled '
               'to 16 kHz mono). Empty: the model\'s default voice.'),
    OptionSpec('stacked_frames', 1, 'Camera frames per 1 s unit. 1: one frame; 3 or 5: "high refresh" mode, '
               'the newest frame plus one grid image of the others.', choices=(1, 3, 5)),
    OptionSpec('max_slice_nums', 1, 'Image slices for the main frame (1 = 64 tokens; 2 for HD detail). '
               'The stacked grid always uses 1.', minimum=1, maximum=9),
    OptionSpec('chunk_ms', 1000, 'Length of one model unit in ms (upstream trains with 1000).',
               minimum=500, maximum=2000),
    OptionSpec('first_chunk_ms', 1035, 'Length of the first unit after each prepare in ms; the missing part '
               'is zero-padded in front of the first chunk\'s audio.', minimum=500, maximum=2100),
    OptionSpec('force_listen_count', 3, 'Units the model is forced to listen after an interrupt '
               '(force_listen mode; the upstream demo uses 3).', minimum=0, maximum=30),
    OptionSpec('max_lag_s', 2.0, 'Backlog (s) behind the input stream above which whole units are skipped '
               'to catch up; between 0 and this, the stacked frame grid is dropped first.',
               minimum=0.0, maximum=30.0),
    OptionSpec('warmup', True, 'Run one silent unit at setup so the first real unit is not slowed by '
               'lazy initialisation.'),
    OptionSpec('summary_max_chars', 600, 'Longest "previous:" summary of recent turns carried into the '
               'system prompt when it is rebuilt (watch change, question, break).', minimum=0, maximum=4000),
    OptionSpec('summary_turns', 6, 'How many recent assistant turns the carried summary may mention.',
               minimum=0, maximum=50),
    OptionSpec('tag_fallback_min_similarity', 0.25, 'Least word overlap (0..1) between an untagged spoken '
               'turn and a watch instruction for the turn to be attributed to that watch (with lower '
               'confidence); below it the turn is a comment.', minimum=0.0, maximum=1.0),
    OptionSpec('reprepare_max_defer_units', 3, 'While the model is speaking, a watch or question change '
               'waits at most this many units for the turn to end before re-preparing.', minimum=0,
               maximum=30),
)

DUPLEX_OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec('generate_audio', True, 'Produce speech (24 kHz) as well as text.'),
    OptionSpec('listen_prob_scale', 1.0, 'Scales the probability of staying silent; above 1 the model '
               'speaks less often.', minimum=0.0, maximum=10.0),
    OptionSpec('max_new_speak_tokens_per_chunk', 20, 'Speech tokens generated per 1 s unit.', minimum=1,
               maximum=200),
    OptionSpec('temperature', 0.7, 'Text sampling temperature.', minimum=0.0, maximum=2.0),
    OptionSpec('top_k', 20, 'Text sampling top-k.', minimum=1, maximum=1000),
    OptionSpec('top_p', 0.8, 'Text sampling top-p.', minimum=0.0, maximum=1.0),
    OptionSpec('tts_temperature', 0.8, 'Speech token sampling temperature.', minimum=0.0, maximum=2.0),
    OptionSpec('sliding_window_mode', 'context', 'KV cache window: "context" keeps the system prompt and a '
               'bounded "previous:" summary (needed for long sessions and re-prepare), "basic" drops old '
               'tokens, "off" stops near 8192 tokens (~100 s).', choices=('off', 'basic', 'context')),
    OptionSpec('basic_window_high_tokens', 4000, '"basic" window: trim when the cache exceeds this.',
               minimum=512, maximum=32768),
    OptionSpec('basic_window_low_tokens', 3500, '"basic" window: trim down to this.', minimum=256,
               maximum=32768),
    OptionSpec('context_previous_max_tokens', 500, '"context" window: longest "previous:" carry.',
               minimum=0, maximum=8192),
    OptionSpec('context_max_units', 24, '"context" window: units kept before sliding.', minimum=1,
               maximum=1000),
    OptionSpec('enable_float16', False, 'Run the speech decoder in float16.'),
    OptionSpec('n_timesteps', 10, 'Flow-matching steps of the speech decoder (fewer = faster, rougher).',
               minimum=1, maximum=100),
)

# The names above that are passed to as_duplex() unchanged (the rest are built by the backend).
AS_DUPLEX_KEYS: tuple[str, ...] = (
    'generate_audio', 'listen_prob_scale', 'max_new_speak_tokens_per_chunk', 'temperature', 'top_k', 'top_p',
    'tts_temperature', 'sliding_window_mode', 'basic_window_high_tokens', 'basic_window_low_tokens',
    'context_previous_max_tokens', 'context_max_units', 'enable_float16', 'n_timesteps')

MODEL_OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec('model_path', '', 'Local directory of the MiniCPM-o 4.5 checkpoint (bf16 or int4 AWQ). '
               'Required.'),
    OptionSpec('allow_hub_download', False, 'Let model_path be a Hugging Face hub name that is downloaded '
               'at setup. Off by default: robots should load local weights only.'),
    OptionSpec('dtype', 'bfloat16', 'Weights dtype: bfloat16 (~19 GB), float16, or int4-awq for an AWQ '
               'checkpoint (~11 GB).', choices=('bfloat16', 'float16', 'int4-awq')),
    OptionSpec('attn_implementation', 'sdpa', 'Attention kernel; flash_attention_2 needs the flash-attn '
               'package.', choices=('sdpa', 'flash_attention_2', 'eager')),
    OptionSpec('device', 'cuda', 'Torch device, e.g. cuda or cuda:1. cpu is refused unless allow_cpu is '
               'set.'),
    OptionSpec('allow_cpu', False, 'Accept device=cpu. Only for tests with a stand-in model: the real '
               'model is far too slow on a CPU.'),
)
