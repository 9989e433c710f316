"""Option specs of the MiniCPM-o backends (ROS parameters ``<backend>.<option>``).

SESSION_OPTIONS are shared by every MiniCPM-o backend (transformers and llama.cpp-omni): prompt, watches,
pacing and interrupt handling. DUPLEX_OPTIONS are the upstream duplex object's settings (constructor keyword
arguments, read with ``kwargs.get`` upstream: see DUPLEX_SETTING_KEYS) and per-unit ``streaming_generate``
arguments (GENERATE_KEYS), named as upstream names them so the upstream documentation applies unchanged.
"""

from __future__ import annotations

from omni_ros.settings import OptionSpec

DEFAULT_PERSONA = (
    'You are the voice of a robot. You see through its camera and hear through its microphone. '
    'Speak briefly and only when it helps the people around you.')

SESSION_OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec('persona', DEFAULT_PERSONA, 'Start of the system prompt: who the model is and how it talks.'),
    OptionSpec('ref_voice_wav', '', 'WAV file with the voice to speak in (any rate, mono or stereo; resampled '
               'to 16 kHz mono for the prompt, the file itself sets up the vocoder). Empty: the checkpoint\'s own '
               'reference voice (minicpmo: the first assets/ref_audio/*.wav of model_path; setup fails when '
               'speech is on and there is none), or the server\'s default voice (llamacpp_omni).'),
    OptionSpec('stacked_frames', 1, 'Camera frames per 1 s unit. 1: one frame; 3 or 5: "high refresh" mode as '
               'upstream trains it: the first frame of the second as the main image, the later ones stacked '
               'into one image (2x1 or 1x2, 3x1 or 1x3 whichever is squarer, 2x2; 6 px separators).',
               choices=(1, 3, 5)),
    OptionSpec('max_slice_nums', 1, 'Image slices for the main frame (1 = 64 tokens; 2 for HD detail). '
               'The stacked grid always uses 1.', minimum=1, maximum=9),
    OptionSpec('chunk_ms', 1000, 'Length of one model unit in ms (upstream trains with 1000).',
               minimum=500, maximum=2000),
    OptionSpec('first_chunk_ms', 1035, 'Length of the first unit after each prepare in ms; the missing part '
               'is zero-padded in front of the first chunk\'s audio.', minimum=500, maximum=2100),
    OptionSpec('barge_in_listen_units', 3, 'Units the model is held listening after a FORCE_LISTEN interrupt '
               '(barge-in). minicpmo: per-unit force_listen_override where the model code has it, else a break '
               'and a new prepare (logged); llamacpp_omni: units prefilled without a decode.', minimum=0,
               maximum=30),
    OptionSpec('max_lag_s', 2.0, 'Backlog (s) behind the input stream above which whole units are skipped '
               'to catch up; between 0 and this, the stacked frame grid is dropped first.',
               minimum=0.0, maximum=30.0),
    OptionSpec('warmup', True, 'Run one silent unit at setup so the first real unit is not slowed by '
               'lazy initialisation.'),
    OptionSpec('summary_max_chars', 600, 'Longest summary of recent turns carried into the system prompt when '
               'it is rebuilt (watch change, question, break); the new prepare starts with an empty context.',
               minimum=0, maximum=4000),
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
    OptionSpec('generate_audio', True, 'Produce speech (24 kHz) as well as text. Needs a reference voice '
               '(ref_voice_wav or the checkpoint\'s assets/ref_audio) for the vocoder.'),
    OptionSpec('force_listen_count', 0, 'Upstream\'s start-up force-listen: the first N units after EVERY '
               'prepare are forced to listen, so a watch or question change (a new prepare) makes the model deaf '
               'N seconds too. Barge-in is barge_in_listen_units.', minimum=0, maximum=30),
    OptionSpec('listen_prob_scale', 1.0, 'Scales the logit of the listen token; above 1 the model listens more '
               '(speaks less often).', minimum=0.0, maximum=10.0),
    OptionSpec('listen_top_k', 0, 'Listen whenever the listen token ranks among the top k (0: off, upstream\'s '
               'None; OpenBMB\'s server uses 5).', minimum=0, maximum=200000),
    OptionSpec('max_new_speak_tokens_per_chunk', 20, 'Text tokens generated at most per 1 s unit.', minimum=2,
               maximum=200),
    OptionSpec('decode_mode', 'sampling', 'Text decoding: sampling (upstream default) or greedy.',
               choices=('sampling', 'greedy')),
    OptionSpec('temperature', 0.7, 'Text sampling temperature.', minimum=0.01, maximum=2.0),
    OptionSpec('top_k', 20, 'Text sampling top-k.', minimum=1, maximum=1000),
    OptionSpec('top_p', 0.8, 'Text sampling top-p.', minimum=0.0, maximum=1.0),
    OptionSpec('text_repetition_penalty', 1.05, 'Divides the logits of recently said tokens (>1: less '
               'repetition).', minimum=0.5, maximum=2.0),
    OptionSpec('text_repetition_window_size', 512, 'Recent tokens the text repetition penalty looks at.',
               minimum=1, maximum=8192),
    OptionSpec('length_penalty', 1.1, 'Above 1 the end-of-turn token is suppressed (longer turns). Only model '
               'code whose streaming_generate takes it (the unified revision); ignored with a warning otherwise.',
               minimum=0.5, maximum=3.0),
    OptionSpec('batch_vision_feed', False, 'Feed all image embeddings of a unit in one forward pass (faster; '
               'slightly different numerics).'),
    OptionSpec('tts_temperature', 0.8, 'Speech token sampling temperature.', minimum=0.01, maximum=2.0),
    OptionSpec('tts_repetition_penalty', 1.05, 'Repetition penalty of the speech token sampler.', minimum=0.5,
               maximum=2.0),
    OptionSpec('sliding_window_mode', 'context', 'KV cache window: "context" keeps the system prompt and carries '
               'the text of slid-out units as upstream\'s own "previous:" section (needed for long sessions), '
               '"basic" drops old tokens, "off" stops near 8192 tokens (~100 s).',
               choices=('off', 'basic', 'context')),
    OptionSpec('basic_window_high_tokens', 4000, '"basic" window: trim when the cache exceeds this.',
               minimum=512, maximum=32768),
    OptionSpec('basic_window_low_tokens', 3500, '"basic" window: trim down to this.', minimum=256,
               maximum=32768),
    OptionSpec('context_previous_max_tokens', 500, '"context" window: longest "previous:" carry.',
               minimum=0, maximum=8192),
    OptionSpec('context_max_units', 24, '"context" window: units kept before sliding.', minimum=1,
               maximum=1000),
    OptionSpec('enable_float16', False, 'Run the speech decoder (Token2wav flow) in float16.'),
    OptionSpec('n_timesteps', 0, 'Flow-matching steps of the speech decoder (fewer = faster, rougher); 0: the '
               'model code\'s own default (10 plain, 5 unified).', minimum=0, maximum=100),
)

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

MODEL_OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec('model_path', '', 'Local directory of the MiniCPM-o 4.5 checkpoint (bf16 or int4 AWQ). '
               'Required.'),
    OptionSpec('model_code', 'auto', 'Which of the checkpoint\'s modeling files to run, imported from model_path '
               'as OpenBMB\'s server does. auto: modeling_minicpmo_unified when present (per-unit force-listen), '
               'else config.json\'s auto_map module.',
               choices=('auto', 'modeling_minicpmo_unified', 'modeling_minicpmo')),
    OptionSpec('allow_hub_download', False, 'Let model_path be a Hugging Face hub name that is downloaded '
               'at setup. Off by default: robots should load local weights only.'),
    OptionSpec('dtype', 'bfloat16', 'Weights dtype: bfloat16 (~19 GB), float16, int4-awq for an AWQ checkpoint '
               '(~11 GB), or float32 (CPU tests with a tiny checkpoint: CPUs without bf16 units run bf16 slowly).',
               choices=('bfloat16', 'float16', 'int4-awq', 'float32')),
    OptionSpec('attn_implementation', 'sdpa', 'Attention kernel; flash_attention_2 needs the flash-attn '
               'package.', choices=('sdpa', 'flash_attention_2', 'eager')),
    OptionSpec('device', 'cuda', 'Torch device, e.g. cuda or cuda:1. cpu is refused unless allow_cpu is '
               'set.'),
    OptionSpec('allow_cpu', False, 'Accept device=cpu. Only for tests with a stand-in model: the real '
               'model is far too slow on a CPU.'),
)
