"""omni_mic: publishes a sound device (or a WAV file) as omni_ros_interfaces/AudioChunk on ``audio``.

A lifecycle node (see ``audio_node``). Blocks of ``block_size`` frames are stamped with the node time
of their first sample, consecutive while the device keeps time (see ``audio_io.Capture``), and
published best effort, the sensor-data way omni_node subscribes to them.
"""

from __future__ import annotations

from typing import Any

from rclpy.qos import QoSProfile, qos_profile_sensor_data

from omni_ros.devices import sound as audio_devices
from omni_ros.devices.sound import CaptureConfig, StreamSettings
from omni_ros.devices.streams import AudioStream, Capture, CaptureStats, PcmBlock
from omni_ros.ros import mapping
from omni_ros.ros.audio_node import AudioNode
from omni_ros.ros.audio_node import main as run
from omni_ros_interfaces.msg import AudioChunk

_QOS = QoSProfile(depth=10, reliability=qos_profile_sensor_data.reliability,
                  durability=qos_profile_sensor_data.durability)
_QUEUE_SECONDS = 2.0  # audio waiting for the publisher before the oldest blocks are dropped
_REPORT_PERIOD = 1.0  # s between checks of the capture counters


class MicNode(AudioNode[CaptureConfig]):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__('omni_mic', CaptureConfig, **kwargs)
        self._settings: StreamSettings | None = None
        self._frame_id = ''
        self._publisher: Any = None
        self._capture: Capture | None = None
        self._stream: AudioStream | None = None
        self._timer: Any = None
        self._reported = CaptureStats()
        self._ended = False

    def configure(self, config: CaptureConfig) -> str:
        settings = config.stream
        device = audio_devices.check_capture(settings)
        self._settings, self._frame_id = settings, config.frame_id
        self._publisher = self.create_lifecycle_publisher(AudioChunk, 'audio', _QOS)
        return (f'{device}, {settings.sample_rate} Hz, {settings.channels} channel(s), {settings.encoding}, '
                f'{settings.block_size} frames per message')

    def activate(self) -> None:
        settings = self._settings
        assert settings is not None
        max_queue = max(2, round(_QUEUE_SECONDS / settings.block_seconds))
        self._capture = Capture(settings.sample_rate, settings.channels, settings.encoding, self.now,
                                max_queue=max_queue)
        self._stream = audio_devices.open_capture(settings, self._capture.on_block)
        self._capture.start(self._publish)
        self._stream.start()
        self._reported, self._ended = CaptureStats(), False
        self._timer = self.create_timer(_REPORT_PERIOD, self._report, clock=self.steady)

    def deactivate(self) -> None:
        if self._timer is not None:
            self.destroy_timer(self._timer)
        if self._stream is not None:
            self._stream.close()
        if self._capture is not None:
            self._capture.stop()
        self._timer, self._stream, self._capture = None, None, None

    def cleanup(self) -> None:
        if self._publisher is not None:
            self.destroy_lifecycle_publisher(self._publisher)
        self._publisher, self._settings = None, None

    def _publish(self, block: PcmBlock) -> None:
        if self._publisher is not None:
            self._publisher.publish(mapping.pcm_to_msg(block, self._frame_id))

    def _report(self) -> None:
        capture, stream = self._capture, self._stream
        if capture is None or stream is None:
            return
        stats, last = capture.stats, self._reported
        if stats.dropped > last.dropped or stats.overflows > last.overflows:
            self.warn(f'audio lost: {stats.overflows} device overflow(s), {stats.dropped} block(s) dropped because '
                      'publishing fell behind (a busy machine, or a device that runs faster than real time)')
        self._reported = CaptureStats(**vars(stats))
        if not stream.active and not self._ended:
            self._ended = True
            self.get_logger().info('the capture stream ended (end of the WAV file, or the device stopped)')


def main(args: list[str] | None = None) -> None:
    run(MicNode, args)


if __name__ == '__main__':
    main()
