"""Options of the ``llamacpp_omni`` backend (ROS parameters ``llamacpp_omni.<option>``)."""

from __future__ import annotations

from omni_ros.backends.minicpmo.options import SESSION_OPTIONS
from omni_ros.settings import OptionSpec

SERVER_OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec('server_url', '', 'Base URL of the llama.cpp-omni llama-server, e.g. http://127.0.0.1:8080. '
               'Required. The server must run on this machine: audio, images and speech are exchanged as '
               'files.'),
    OptionSpec('model_dir', '', 'GGUF model folder as the server sees it (sent in omni_init). Required.'),
    OptionSpec('output_dir', '', 'Folder where the server writes speech WAV files (sent in omni_init); '
               'empty: a fresh temporary folder.'),
    OptionSpec('work_dir', '', 'Folder for the per-unit WAV and JPEG files the server reads; empty: a '
               'fresh temporary folder.'),
    OptionSpec('media_type', 'omni', 'omni: audio and camera; audio: audio only (media_type 2 / 1).',
               choices=('omni', 'audio')),
    OptionSpec('use_tts', True, 'Ask the server for speech as well as text.'),
    OptionSpec('jpeg_quality', 90, 'JPEG quality of the frames handed to the server.', minimum=30, maximum=100),
    OptionSpec('connect_timeout_s', 3.0, 'Seconds to wait for the server to accept a connection.',
               minimum=0.1, maximum=60.0),
    OptionSpec('request_timeout_s', 30.0, 'Seconds to wait for one answer (omni_init may take minutes on a '
               'cold start: it is given 10x this).', minimum=0.5, maximum=600.0),
)

OPTIONS: tuple[OptionSpec, ...] = SERVER_OPTIONS + SESSION_OPTIONS
