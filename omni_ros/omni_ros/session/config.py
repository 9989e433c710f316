"""The node's own settings, declared once: the ROS parameters of omni_node and their validation.

Groups of settings are declared as ``<section>.<name>`` (SECTIONS: speech, self_hearing); backend
options as ``<backend>.<name>`` (see ``omni_ros.backends``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from omni_ros.errors import ConfigError
from omni_ros.ingest.imaging import DEFAULT_MAX_PIXELS
from omni_ros.settings import Change, OptionSpec, check_fields, load, options_of, setting
from omni_ros.speech.output import SpeechConfig
from omni_ros.speech.selfhearing import SelfHearingConfig
from omni_ros.watches.policy import DEFAULT_COOLDOWN

LIVE, START = Change.LIVE, Change.START


@dataclass(frozen=True)
class NodeConfig:
    backend: str = setting(
        'auto', "model backend: 'auto' (MiniCPM-o when configured with weights and a GPU, else the CPU backend), "
        "or a backend name such as 'cpu', 'minicpmo', 'llamacpp_omni', 'scripted'")
    autostart: bool = setting(True, 'configure and activate at start-up (set false when a lifecycle manager '
                              'drives the node)', change=START)
    image_transport: str = setting(
        'raw', "camera input: 'raw' subscribes to image (sensor_msgs/Image), 'compressed' to image/compressed "
        '(sensor_msgs/CompressedImage, jpeg or png)', choices=('raw', 'compressed'))
    use_camera: bool = setting(True, 'subscribe to the camera; false runs on audio only')
    audio_input: str = setting(
        'omni', "microphone message type on 'audio': 'omni' (omni_ros_interfaces/AudioChunk, e.g. from omni_mic) "
        "or 'audio_common' (audio_common_msgs/AudioDataStamped, e.g. audio_capture's audio_stamped, with its "
        "format from audio_common_msgs/AudioInfo on 'audio_info')", choices=('omni', 'audio_common'))
    use_microphone: bool = setting(True, 'subscribe to the audio topic; false runs on video only')
    chunk_period: float = setting(1.0, 'length of one input unit in seconds (MiniCPM-o is built for 1.0); a '
                                  "backend that decides on a shorter hop (the cpu backend's 'hop') asks for it",
                                  minimum=0.2, maximum=5.0)
    frames_per_chunk: int = setting(0, 'camera frames per unit; 0 lets the backend decide (1, or 3-5 for '
                                    'stacked high-refresh mode)', minimum=0, maximum=10)
    max_latency: float = setting(0.5, 'seconds to wait for late input before a unit is cut without it',
                                 minimum=0.0, maximum=10.0)
    jump_threshold: float = setting(3.0, 'a header stamp this many seconds before the current unit or after the '
                                    'newest input resets the stream (looping bag, restarted clock)',
                                    minimum=0.5, maximum=3600.0)
    max_backlog: int = setting(3, 'units waiting for a slow backend before the oldest is dropped (counted in '
                               'state and diagnostics)', minimum=1, maximum=100)
    max_image_pixels: int = setting(DEFAULT_MAX_PIXELS, 'frames with more pixels are rejected with an error',
                                    minimum=1, maximum=268_435_456)
    max_audio_message_seconds: float = setting(
        10.0, 'audio messages longer than this are rejected; shorter ones are accepted whole: units wait up to '
        'the longest recent message for audio still on its way (so long blocks add their length to the latency)',
        minimum=0.01, maximum=600.0)
    default_cooldown: float = setting(DEFAULT_COOLDOWN, 'minimum seconds between two alerts of one watch when '
                                      'its goal sets no cooldown', minimum=0.0, maximum=3600.0, change=LIVE)
    ask_timeout: float = setting(15.0, 'seconds an Ask goal without its own timeout waits for an answer',
                                 minimum=0.1, maximum=3600.0, change=LIVE)
    max_goals: int = setting(1000, 'SetWatch and Ask goals open at once; more are rejected (counted as goals_shed '
                             'on /diagnostics, logged rate-limited). At most 1000: the results of that many '
                             'goals ending in one moment still all arrive', minimum=1, maximum=1000, change=LIVE)
    standing_watches: tuple[str, ...] = setting(
        (), "instructions followed from configure on, without an action goal (e.g. 'tell me when the "
        "doorbell rings'); restored after every reconfigure", change=LIVE)
    barge_in: bool = setting(True, 'a user talking over the robot interrupts it: speech stops, players are told '
                             'to drop what they queued, the backend listens (sensitivity and echo handling: '
                             'self_hearing.*)')
    speech_encoding: str = setting('S16LE', 'encoding of the published speech audio', choices=('S16LE', 'F32LE'))
    state_period: float = setting(0.5, 'seconds between state messages', minimum=0.05, maximum=60.0)
    diagnostics_period: float = setting(1.0, 'seconds between /diagnostics reports', minimum=0.1, maximum=60.0)
    error_log_period: float = setting(5.0, 'the same input error is logged at most once per this many seconds',
                                      minimum=0.0, maximum=3600.0, change=LIVE)

    def __post_init__(self) -> None:
        check_fields(self)
        object.__setattr__(self, 'standing_watches', tuple(w for w in self.standing_watches if w.strip()))
        if self.jump_threshold <= self.max_latency:
            raise ConfigError(f"'jump_threshold' ({self.jump_threshold:g} s) must be greater than 'max_latency' "
                              f'({self.max_latency:g} s), or ordinary late input would count as a clock jump')
        if not (self.use_camera or self.use_microphone):
            raise ConfigError("'use_camera' and 'use_microphone' are both false: enable at least one input")

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> NodeConfig:
        return load(cls, values)


NODE_OPTIONS: tuple[OptionSpec, ...] = options_of(NodeConfig)

# Groups of node settings, declared as '<section>.<name>' (backend options are declared the same way).
SECTION_CONFIGS: dict[str, type] = {'speech': SpeechConfig, 'self_hearing': SelfHearingConfig}
SECTIONS: dict[str, tuple[OptionSpec, ...]] = {name: options_of(t) for name, t in SECTION_CONFIGS.items()}
