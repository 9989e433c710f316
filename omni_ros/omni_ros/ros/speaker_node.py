"""omni_speaker: plays the ``speech`` topic (omni_ros_interfaces/AudioChunk) on a sound device (or into
a WAV file) at the blocks' stamps, and drops interrupted turns on ``speech/interrupt``.

A lifecycle node (see ``audio_node``); the jitter buffer and scheduling are ``audio_io.Player``.
Every speech message is checked (rate, channels, encoding, byte count, how far ahead it is stamped);
a bad one is dropped with a rate-limited error and the node keeps playing.
"""

from __future__ import annotations

from typing import Any

from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data

from omni_ros.devices import sound as audio_devices
from omni_ros.devices.sound import PlaybackConfig
from omni_ros.devices.streams import AudioStream, PlaybackStats, Player
from omni_ros.errors import ConversionError
from omni_ros.ros import mapping
from omni_ros.ros.audio_node import AudioNode
from omni_ros.ros.audio_node import main as run
from omni_ros_interfaces.msg import AudioChunk, SpeechInterrupt

# Sensor-data style (best effort matches any publisher, reliable ones such as omni_node included), deep
# enough for a whole turn published in a burst.
_SPEECH_QOS = QoSProfile(depth=200, reliability=qos_profile_sensor_data.reliability,
                         durability=qos_profile_sensor_data.durability)
# An interruption must not be lost: reliable.
_INTERRUPT_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
_MAX_MESSAGE_SECONDS = 30.0
_REPORT_PERIOD = 1.0  # s between checks of the playback counters


class SpeakerNode(AudioNode[PlaybackConfig]):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__('omni_speaker', PlaybackConfig, **kwargs)
        self._config: PlaybackConfig | None = None
        self._player: Player | None = None
        self._stream: AudioStream | None = None
        self._subscriptions_: list[Any] = []
        self._timer: Any = None
        self._reported = PlaybackStats()

    def configure(self, config: PlaybackConfig) -> str:
        settings = config.stream
        device = audio_devices.check_playback(settings)
        self._config = config
        return (f'{device}, {settings.sample_rate} Hz, {settings.channels} channel(s), {settings.block_size} '
                f'frames per callback, jitter delay {config.jitter_delay:g} s')

    def activate(self) -> None:
        config = self._config
        assert config is not None
        settings = config.stream
        self._player = Player(settings.sample_rate, settings.channels, self.now, jitter_delay=config.jitter_delay,
                              max_queue_seconds=config.max_queue_seconds)
        self._reported = PlaybackStats()
        self._stream = audio_devices.open_playback(settings, self._player.on_output)
        self._stream.start()
        self._subscriptions_ = [
            self.create_subscription(AudioChunk, 'speech', self._on_speech, _SPEECH_QOS),
            self.create_subscription(SpeechInterrupt, 'speech/interrupt', self._on_interrupt, _INTERRUPT_QOS),
        ]
        self._timer = self.create_timer(_REPORT_PERIOD, self._report, clock=self.steady)

    def deactivate(self) -> None:
        for sub in self._subscriptions_:
            self.destroy_subscription(sub)
        if self._timer is not None:
            self.destroy_timer(self._timer)
        if self._stream is not None:
            self._stream.close()
        # A new Player on the next activate: a restarted publisher may reuse turn ids.
        self._subscriptions_, self._timer, self._stream, self._player = [], None, None, None

    def cleanup(self) -> None:
        self._config = None

    def _on_speech(self, msg: AudioChunk) -> None:
        player = self._player
        if player is None:
            return
        try:
            speech = mapping.msg_to_speech(msg)
            seconds = speech.samples.size / speech.sample_rate
            if seconds > _MAX_MESSAGE_SECONDS:
                raise ConversionError(f'speech message holds {seconds:.1f} s; the limit is '
                                      f'{_MAX_MESSAGE_SECONDS:g} s: publish short blocks (0.1-0.2 s)')
            player.add(speech)
        except ConversionError as error:
            self.input_error('speech message', error)

    def _on_interrupt(self, msg: SpeechInterrupt) -> None:
        player = self._player
        if player is None:
            return
        interruption = mapping.msg_to_interruption(msg)
        dropped = player.interrupt(interruption)
        reason = interruption.reason or 'no reason given'
        self.get_logger().info(f'interrupted turn {interruption.turn_id} and earlier ({reason}): dropped '
                               f'{dropped:.2f} s of queued speech')

    def _report(self) -> None:
        player = self._player
        if player is None:
            return
        stats, last = player.stats, self._reported
        problems = []
        if stats.late > last.late:
            problems.append(f'{stats.late - last.late} speech block(s) arrived after their playback time (up to '
                            f'{stats.late_seconds:.3f} s late) and were played that much later (raise '
                            'jitter_delay, or check that the publisher and this node share a clock)')
        if stats.underruns > last.underruns or stats.resyncs > last.resyncs:
            problems.append(f'{stats.underruns} device underrun(s) and {stats.resyncs} resync(s) to the node clock '
                            'so far (a busy machine, a small block_size, or a device clock far off the system clock)')
        if problems:
            self.warn('playback: ' + '; '.join(problems))
        self._reported = PlaybackStats(**vars(stats))


def main(args: list[str] | None = None) -> None:
    run(SpeakerNode, args)


if __name__ == '__main__':
    main()
