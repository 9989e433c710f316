"""The node's own parameters: one table, declared as described ROS parameters and validated.

Backend options are declared next to these as ``<backend>.<option>`` (see backends.OPTIONS).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from omni_ros.errors import ConfigError
from omni_ros.ingest.imaging import DEFAULT_MAX_PIXELS
from omni_ros.settings import OptionSpec, resolve
from omni_ros.speech.selfhearing import OPTIONS as SELF_HEARING_OPTIONS
from omni_ros.speech.output import OPTIONS as SPEECH_OPTIONS

NODE_OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec('backend', 'auto', "model backend: 'auto' (MiniCPM-o when configured with weights and a GPU, "
               "else the CPU backend), or a backend name such as 'cpu', 'minicpmo', 'llamacpp_omni', 'scripted'"),
    OptionSpec('autostart', True, 'configure and activate at start-up (set false when a lifecycle manager '
               'drives the node)'),
    OptionSpec('image_transport', 'raw', "camera input: 'raw' subscribes to image (sensor_msgs/Image), "
               "'compressed' to image/compressed (sensor_msgs/CompressedImage, jpeg or png)",
               choices=('raw', 'compressed')),
    OptionSpec('use_camera', True, 'subscribe to the camera; false runs on audio only'),
    OptionSpec('audio_input', 'omni', "microphone message type on 'audio': 'omni' (omni_ros_interfaces/AudioChunk, "
               "e.g. from omni_mic) or 'audio_common' (audio_common_msgs/AudioDataStamped, e.g. audio_capture's "
               "audio_stamped, with its format from audio_common_msgs/AudioInfo on 'audio_info')",
               choices=('omni', 'audio_common')),
    OptionSpec('use_microphone', True, 'subscribe to the audio topic; false runs on video only'),
    OptionSpec('chunk_period', 1.0, 'length of one input unit in seconds (MiniCPM-o is built for 1.0)',
               minimum=0.2, maximum=5.0),
    OptionSpec('frames_per_chunk', 0, 'camera frames per unit; 0 lets the backend decide (1, or 3-5 for '
               'stacked high-refresh mode)', minimum=0, maximum=10),
    OptionSpec('max_latency', 0.5, 'seconds to wait for late input before a unit is cut without it',
               minimum=0.0, maximum=10.0),
    OptionSpec('jump_threshold', 3.0, 'a header stamp this many seconds before the current unit or after the '
               'newest input resets the stream (looping bag, restarted clock)', minimum=0.5, maximum=3600.0),
    OptionSpec('max_backlog', 3, 'units waiting for a slow backend before the oldest is dropped (counted '
               'in state and diagnostics)', minimum=1, maximum=100),
    OptionSpec('max_image_pixels', DEFAULT_MAX_PIXELS, 'frames with more pixels are rejected with an error',
               minimum=1, maximum=268_435_456),
    OptionSpec('max_audio_message_seconds', 10.0, 'audio messages longer than this are rejected; shorter ones '
               'are accepted whole: units wait up to the longest recent message for audio still on its way '
               '(so long blocks add their length to the latency)',
               minimum=0.01, maximum=600.0),
    OptionSpec('default_cooldown', 5.0, 'minimum seconds between two alerts of one watch when its goal sets '
               'no cooldown', minimum=0.0, maximum=3600.0),
    OptionSpec('ask_timeout', 15.0, 'seconds an Ask goal without its own timeout waits for an answer',
               minimum=0.1, maximum=3600.0),
    OptionSpec('standing_watches', [], 'instructions followed from configure on, without an action goal '
               "(e.g. 'alert me if someone falls'); restored after every reconfigure"),
    OptionSpec('barge_in', True, 'a user talking over the robot interrupts it: speech stops, players are told to '
               'drop what they queued, the backend listens (sensitivity and echo handling: self_hearing.*)'),
    OptionSpec('speech_encoding', 'S16LE', 'encoding of the published speech audio',
               choices=('S16LE', 'F32LE')),
    OptionSpec('state_period', 0.5, 'seconds between state messages', minimum=0.05, maximum=60.0),
    OptionSpec('diagnostics_period', 1.0, 'seconds between /diagnostics reports', minimum=0.1, maximum=60.0),
    OptionSpec('error_log_period', 5.0, 'the same input error is logged at most once per this many seconds',
               minimum=0.0, maximum=3600.0),
)

# Groups of node parameters declared as '<group>.<option>' (backend options are declared the same way).
SECTIONS: dict[str, tuple[OptionSpec, ...]] = {'speech': SPEECH_OPTIONS, 'self_hearing': SELF_HEARING_OPTIONS}


@dataclass(frozen=True)
class NodeConfig:
    backend: str
    autostart: bool
    image_transport: str
    use_camera: bool
    use_microphone: bool
    audio_input: str
    chunk_period: float
    frames_per_chunk: int
    max_latency: float
    jump_threshold: float
    max_backlog: int
    max_image_pixels: int
    max_audio_message_seconds: float
    default_cooldown: float
    ask_timeout: float
    standing_watches: tuple[str, ...]
    barge_in: bool
    speech_encoding: str
    state_period: float
    diagnostics_period: float
    error_log_period: float

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> NodeConfig:
        v = resolve(NODE_OPTIONS, values)
        watches = v['standing_watches']
        if not all(isinstance(w, str) for w in watches):
            raise ConfigError("'standing_watches' must be a list of strings")
        v['standing_watches'] = tuple(w for w in watches if w.strip())
        if v['jump_threshold'] <= v['max_latency']:
            raise ConfigError(f"'jump_threshold' ({v['jump_threshold']:g} s) must be greater than 'max_latency' "
                              f"({v['max_latency']:g} s), or ordinary late input would count as a clock jump")
        if not (v['use_camera'] or v['use_microphone']):
            raise ConfigError("'use_camera' and 'use_microphone' are both false: enable at least one input")
        return cls(**v)
