"""The ROS side of ``omni_ros.tools.bench_latency``: a subscriber that notes when things arrive.

Records the wall-clock arrival (time.time(), one clock for every process on the machine) of every audio
block and camera frame the replay publishes (with their header stamps), of every event omni_node
publishes, and the node's last diagnostics; writes them as JSON when stopped (SIGINT) or after
``--seconds``. Optionally publishes a camera of its own (e.g. 1920x1080 at 30 fps, stamped with the
/clock time) so the node can be measured under a large camera. It waits for omni_node to subscribe to
the audio topic before it subscribes itself (so a replay waiting for subscribers waits for the node),
then touches ``--ready``.

    python -m omni_ros.ros.latency_probe --out arrivals.json --ready ready --audio-topic /audio ...
"""

from __future__ import annotations

import argparse
import json
import signal
import struct
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, qos_profile_sensor_data
from sensor_msgs.msg import Image

from omni_ros.ros import replay
from omni_ros.ros.spin import initialized
from omni_ros_interfaces.msg import AudioChunk, ProactiveEvent

_SENSOR_QOS = QoSProfile(depth=200, reliability=qos_profile_sensor_data.reliability,
                         durability=qos_profile_sensor_data.durability)


def _stamp(msg_stamp: Any) -> float:
    return float(msg_stamp.sec) + float(msg_stamp.nanosec) * 1e-9


class Probe(Node):
    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__('omni_latency_probe', parameter_overrides=[Parameter('use_sim_time', value=True)])
        self.args = args
        self.audio: list[tuple[float, float, float]] = []  # (header stamp, seconds of audio, arrival)
        self.frames: list[tuple[float, float]] = []  # (header stamp, arrival)
        self.events: list[dict[str, Any]] = []
        self.diagnostics: dict[str, str] = {}
        self.camera_frames = 0
        self._lock = threading.Lock()

    def subscribe(self) -> None:
        a = self.args
        self.create_subscription(AudioChunk, a.audio_topic, self._on_audio, _SENSOR_QOS)
        if a.image_topic:  # raw: only the header stamp is read, the pixels are never decoded
            self.create_subscription(Image, a.image_topic, self._on_frame, _SENSOR_QOS, raw=True)
        self.create_subscription(ProactiveEvent, a.events_topic, self._on_event, QoSProfile(depth=200))
        self.create_subscription(DiagnosticArray, '/diagnostics', self._on_diagnostics, 10)

    def _on_audio(self, msg: AudioChunk) -> None:
        now = time.time()
        width = 2 * max(1, msg.channels)  # S16LE
        seconds = len(msg.data) / width / max(1, msg.sample_rate)
        with self._lock:
            self.audio.append((_stamp(msg.header.stamp), seconds, now))

    def _on_frame(self, data: bytes) -> None:
        now = time.time()
        sec, nanosec = struct.unpack_from('<iI', data, 4)  # CDR: 4-byte encapsulation, then header.stamp
        with self._lock:
            self.frames.append((sec + nanosec * 1e-9, now))

    def _on_event(self, msg: ProactiveEvent) -> None:
        now = time.time()
        with self._lock:
            self.events.append({'kind': int(msg.kind), 'watch_id': msg.watch_id, 'text': msg.text,
                                'stamp': _stamp(msg.input_stamp), 'arrival': now})

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            if 'omni_node' in status.name:
                self.diagnostics = {kv.key: kv.value for kv in status.values}

    def start_camera(self, stop: threading.Event) -> threading.Thread:
        """Publish ``--camera WxH@FPS`` frames (one noisy image, restamped) on ``--camera-topic``."""
        size, _, fps_text = self.args.camera.partition('@')
        width, height = (int(v) for v in size.split('x'))
        fps = float(fps_text or 30)
        pub = self.create_publisher(Image, self.args.camera_topic, qos_profile_sensor_data)
        pixels = np.random.default_rng(0).integers(0, 255, (height, width, 3), np.uint8)
        # Built once (the pixel conversion is the slow part in Python); only the stamp changes.
        msg = Image(height=height, width=width, encoding='rgb8', step=3 * width, data=pixels.tobytes())
        msg.header.frame_id = 'camera'

        def run() -> None:
            period, due = 1.0 / fps, time.monotonic()
            while not stop.is_set():
                msg.header.stamp = self.get_clock().now().to_msg()
                pub.publish(msg)
                self.camera_frames += 1
                due += period
                stop.wait(max(0.0, due - time.monotonic()))

        thread = threading.Thread(target=run, name='probe_camera', daemon=True)
        thread.start()
        return thread

    def result(self) -> dict[str, Any]:
        with self._lock:
            return {'audio': self.audio, 'frames': self.frames, 'events': self.events,
                    'diagnostics': self.diagnostics, 'camera_frames': self.camera_frames}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', type=Path, required=True, help='JSON file written when stopped')
    parser.add_argument('--ready', type=Path, required=True, help='file touched once subscribed')
    parser.add_argument('--audio-topic', default='/audio')
    parser.add_argument('--image-topic', default='', help='camera topic to note frames of (empty: none)')
    parser.add_argument('--events-topic', default='/events')
    parser.add_argument('--node-timeout', type=float, default=120.0, help='seconds to wait for omni_node')
    parser.add_argument('--seconds', type=float, default=600.0, help='stop after this long at the latest')
    parser.add_argument('--camera', default='', help="publish a camera of this size, e.g. '1920x1080@30'")
    parser.add_argument('--camera-topic', default='/bench/camera')
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    stop = threading.Event()
    if args.camera:  # frames this large need a shared-memory segment that holds them, as omni_replay's
        width, height = (int(v) for v in args.camera.partition('@')[0].split('x'))
        scratch = Path(tempfile.mkdtemp(prefix='omni_probe_'))
        replay.use_fastdds_profile(replay.shm_segment_bytes(3 * width * height + 1024, None), scratch)
    with initialized(args=['--ros-args'], ros_signal_handlers=False):
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        probe = Probe(args)
        executor = SingleThreadedExecutor()
        executor.add_node(probe)
        spinner = threading.Thread(target=lambda: _spin(executor, stop), name='probe_spin', daemon=True)
        spinner.start()
        try:
            deadline = time.monotonic() + args.node_timeout
            while probe.count_subscribers(args.audio_topic) == 0 and not stop.is_set():
                if time.monotonic() > deadline:
                    print(f'latency_probe: nobody subscribed to {args.audio_topic} in {args.node_timeout:g} s',
                          file=sys.stderr)
                    return 1
                time.sleep(0.05)
            probe.subscribe()
            if args.camera:
                probe.start_camera(stop)
            time.sleep(1.0)  # let the node's own publishers and our readers match
            args.ready.touch()
            stop.wait(args.seconds)
        finally:
            stop.set()
            spinner.join(timeout=5.0)
            args.out.write_text(json.dumps(probe.result()), encoding='utf-8')
            executor.shutdown()
            probe.destroy_node()
    return 0


def _spin(executor: SingleThreadedExecutor, stop: threading.Event) -> None:
    while not stop.is_set():
        executor.spin_once(timeout_sec=0.05)


if __name__ == '__main__':
    sys.exit(main())
