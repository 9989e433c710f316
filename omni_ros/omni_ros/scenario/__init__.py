"""Synthetic test scenes: a described scene rendered into camera frames and audio and written to a bag.

    scn = load_scenario('crossing')            # bundled name or path to a scenario .yaml
    image = render_frame(scn, 5.5)             # HxWx3 uint8 RGB at 5.5 s
    audio = render_audio(scn)                  # float32 mono, whole scenario
    bag = write_bag(scn, '/tmp/bags')          # rosbag2 MCAP directory /tmp/bags/crossing
    bag = cached_bag('crossing')               # same, generated once into ~/.cache/omni_ros

The core of omni_ros never needs this package; tools, demos and tests do. No rclpy here.
"""

from omni_ros.scenario.bag import (GENERATOR_VERSION, IMAGE_FORMATS, STORAGES, cache_dir, cached_bag,
                                   image_topic, write_bag)
from omni_ros.scenario.model import (AudioSpec, CameraSpec, Expected, ExpectedAnswer, ExpectedWatch, Lamp, Person,
                                     Scenario, Scene, SegmentDisplay, Sign, Sound, Step, TrafficLight,
                                     bundled_scenarios, load_scenario, parse_scenario, scenario_path)
from omni_ros.scenario.render import SEGMENTS, display_segments, render_audio, render_clean, render_frame, to_s16le
from omni_ros.scenario.script import ScriptAnswer, ScriptLine, Timeline, load_timeline, parse_timeline

__all__ = [
    'GENERATOR_VERSION', 'IMAGE_FORMATS', 'SEGMENTS', 'STORAGES', 'AudioSpec', 'CameraSpec', 'Expected',
    'ExpectedAnswer', 'ExpectedWatch', 'Lamp', 'Person', 'Scenario', 'Scene', 'ScriptAnswer', 'ScriptLine',
    'SegmentDisplay', 'Sign', 'Sound', 'Step', 'Timeline', 'TrafficLight', 'bundled_scenarios',
    'cache_dir', 'cached_bag', 'display_segments', 'image_topic', 'load_scenario', 'load_timeline', 'parse_scenario',
    'parse_timeline', 'render_audio', 'render_clean', 'render_frame', 'scenario_path', 'to_s16le', 'write_bag',
]
