"""Settings of the ``llamacpp_omni`` backend (ROS parameters ``llamacpp_omni.<setting>``).

Where a setting is the server's, the description gives the server's own default (tc-mb/llama.cpp-omni
0788f99, tools/server/server.cpp, S) and says whether ours differs and why.
"""

from __future__ import annotations

from dataclasses import dataclass

from omni_ros.backends.minicpmo.options import SessionSettings
from omni_ros.settings import check_fields, setting

#: The server revision this client was checked against (../shared/upstream/llama.cpp-omni).
CHECKED_REVISION = 'tc-mb/llama.cpp-omni 0788f99 (2026-02-11)'


@dataclass(frozen=True)
class ServerSettings:
    """The llama.cpp-omni server, its file exchange and the settings sent in omni_init / update_session_config."""

    server_url: str = setting(
        '', 'Base URL of the llama.cpp-omni llama-server, e.g. http://127.0.0.1:8080. Required. The server must '
        'run on this machine: audio, images and speech are exchanged as files.')
    model_dir: str = setting(
        '', 'GGUF model folder as the server sees it (sent in omni_init). The server loads '
        'vision/MiniCPM-o-4_5-vision-F16.gguf, audio/MiniCPM-o-4_5-audio-F16.gguf and '
        'tts/MiniCPM-o-4_5-tts-F16.gguf from it (fixed names, S:5784); the LLM is the server\'s --model. '
        'Required.')
    server_reads_prompt: bool = setting(
        False, 'Whether the server reads the system prompt fields voice_clone_prompt / assistant_prompt that '
        f'OpenBMB\'s own client sends (newer llama.cpp-omni revisions). {CHECKED_REVISION} does not: it keeps '
        'its built-in prompt (omni.cpp O:3521), so with false a custom persona fails setup and every watch and '
        'question is refused, saying what to upgrade. Set true only for a server that reads them; nothing in '
        'the API tells.')
    output_dir: str = setting(
        '', 'Folder where the server writes speech WAV files (sent in omni_init); empty: a fresh temporary '
        'folder. (Server default: ./tools/omni/output of its working folder.)')
    work_dir: str = setting('', 'Folder for the per-unit WAV and JPEG files the server reads; empty: a fresh '
                            'temporary folder.')
    media_type: str = setting('omni', 'omni: audio and camera; audio: audio only (media_type 2 / 1).',
                              choices=('omni', 'audio'))
    use_tts: bool = setting(
        True, 'Ask the server for speech as well as text. Needs tts/*.gguf and the Token2wav GGUFs '
        '(token2wav-gguf/ beside tts_bin_dir) in model_dir. (Server default: true.)')
    voice_audio: str = setting(
        '', 'Reference voice WAV as the server sees it, prefilled into the system prompt. Used when '
        'ref_voice_wav is empty (ref_voice_wav is resampled and written to work_dir instead). Empty with '
        'ref_voice_wav empty: the server\'s default voice (tools/omni/assets/default_ref_audio/'
        'default_ref_audio.wav under its working folder).')
    tts_bin_dir: str = setting(
        '', 'Folder of the TTS projector GGUF; Token2wav GGUFs are looked for in token2wav-gguf/ beside it. '
        'Empty: <model_dir>/tts, as OpenBMB\'s client sends. (Server default: model_dir + "token2wav-gguf" '
        'without a separator, S:5764.)')
    token2wav_device: str = setting(
        'gpu:0', 'Device of the Token2wav vocoder: cpu, gpu or gpu:N. (Server default: gpu:1, S:5768, a second '
        'GPU most PCs and every Jetson lack; the server falls back to the CPU when the device does not work.)')
    tts_gpu_layers: int = setting(99, 'TTS model layers offloaded to the GPU (server default 99: all).',
                                  minimum=0, maximum=999)
    sliding_window_mode: str = setting(
        'off', 'KV cache window of the server: off (the session stops near the server\'s --ctx-size), basic '
        '(drop old units above the high water mark), context (the same, keeping generated text as "previous"). '
        'Server default: off.', choices=('off', 'basic', 'context'))
    sliding_window_high_water: int = setting(
        4000, 'Tokens in the cache above which the window slides (server default 4000).',
        minimum=256, maximum=131072)
    sliding_window_low_water: int = setting(
        3500, 'Tokens kept after sliding (server default 3500); must be below sliding_window_high_water.',
        minimum=128, maximum=131072)
    jpeg_quality: int = setting(90, 'JPEG quality of the frames handed to the server.', minimum=30, maximum=100)
    connect_timeout_s: float = setting(3.0, 'Seconds to wait for the server to accept a connection.',
                                       minimum=0.1, maximum=60.0)
    request_timeout_s: float = setting(
        30.0, 'Seconds to wait for one answer (omni_init may take minutes on a cold start: it is given 10x '
        'this).', minimum=0.5, maximum=600.0)

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True)
class LlamaCppOmniConfig(SessionSettings, ServerSettings):
    """The ``llamacpp_omni`` backend's settings: ServerSettings, then the shared SessionSettings.

    ``persona`` applies at configure (unlike minicpmo's): the checked server revision reads no prompt at all,
    so a custom persona fails setup there (see ``server_reads_prompt`` and LlamaCppOmniBackend.setup).
    """
