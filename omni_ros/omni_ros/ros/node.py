"""omni_node: the ROS 2 lifecycle node around one ``OmniSession`` (``omni_ros.session.session``).

A mapping only: parameters -> the session's config, messages -> session calls, session outputs ->
publishers. configure loads the backend (and fails cleanly, staying up, when it cannot); activate
subscribes to the camera and microphone; the SetWatch and Ask action servers and the ListWatches
service (``omni_ros.ros.actions``) live for the whole process and refuse goals unless it is active.
No callback raises into the executor (``spin.GuardedNode``): the session counts and logs errors.
"""

from __future__ import annotations

import traceback
from typing import Any, Callable

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.clock import Clock, ClockType
from rclpy.lifecycle import LifecycleState, TransitionCallbackReturn
from rclpy.qos import QoSProfile, qos_profile_sensor_data
from sensor_msgs.msg import CompressedImage, Image

from omni_ros import backends
from omni_ros.data import Event, Speech, SpeechInterruption, Transcript
from omni_ros.errors import ConfigError, OmniError
from omni_ros.ingest import imaging
from omni_ros.ros import mapping, spin
from omni_ros.ros.actions import GoalServers
from omni_ros.ros.alerts import WatchAlerts
from omni_ros.ros.params import Changes, DeclaredSettings
from omni_ros.session.config import SECTION_CONFIGS, NodeConfig
from omni_ros.session.session import OmniSession, SessionConfig
from omni_ros.watches.table import WatchState
from omni_ros_interfaces.msg import AudioChunk, OmniState, ProactiveEvent, SpeechInterrupt
from omni_ros_interfaces.msg import Transcript as TranscriptMsg

_OUTPUT_QOS = QoSProfile(depth=50)
# Sensor-data QoS, but deep: audio blocks are small and every one matters (a lost 50 ms block can
# hold a ding's onset), while depth 5 overflows whenever the backend keeps Python busy for 250 ms.
_AUDIO_QOS = QoSProfile(depth=200, reliability=qos_profile_sensor_data.reliability,
                        durability=qos_profile_sensor_data.durability)
_OUTPUTS = {'events': ProactiveEvent, 'transcript': TranscriptMsg, 'speech': AudioChunk,
            'speech/interrupt': SpeechInterrupt, 'state': OmniState}
_GOAL_PERIOD = 0.1  # s between checks of waiting goals: feedback, cancel, timeout, outcome
_SPEECH_PERIOD = 0.02  # s between releases of speech blocks: well under a block and the lead
_OK, _FAILURE = TransitionCallbackReturn.SUCCESS, TransitionCallbackReturn.FAILURE


class OmniNode(spin.GuardedNode):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__('omni_node', **kwargs)
        self.params = DeclaredSettings(self)
        self.params.declare(NodeConfig)
        for section, config_type in SECTION_CONFIGS.items():
            self.params.declare(config_type, f'{section}.')
        for name, entry in backends.REGISTRY.items():
            try:
                self.params.declare(entry.config_type, f'{name}.')
            except ImportError as error:  # a broken optional backend must not take the others down
                self.get_logger().error(f"backend '{name}' cannot be imported: {error}")
        self.params.watch(self._check_change, self._apply_change)
        self.session = OmniSession(self)
        self._steady = Clock(clock_type=ClockType.STEADY_TIME)
        self._subscriptions_: list[Any] = []
        self._timers_: list[Any] = []
        self._publishers_: dict[str, Any] = {}
        self._alerts = WatchAlerts(self, _OUTPUT_QOS)  # one topic per standing watch, for BT guards
        self._audio_info: Any = None  # latest audio_common_msgs/AudioInfo (audio_input 'audio_common')
        self._diagnostics = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self.goals = GoalServers(self, self.session)
        self._diagnostics_timer = self.create_timer(1.0, self._publish_diagnostics, clock=self._steady)
        self._goal_timer = self.create_timer(_GOAL_PERIOD, self.goals.tick, clock=self._steady)

    # -- lifecycle ----------------------------------------------------------------------------------
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        try:
            config = SessionConfig.load(self.params.values, self.params.problems())
            if config.node.use_microphone and config.node.audio_input == 'audio_common':
                missing = mapping.audio_common_missing()
                if missing:
                    raise ConfigError(missing)
            description = self.session.configure(config)
        except OmniError as error:
            self.get_logger().error(f'configure failed: {error}')
            return _FAILURE
        except Exception:  # rclpy turns an exception into a silent ERROR transition: say what broke
            self.get_logger().error(f'configure failed unexpectedly:\n{traceback.format_exc()}')
            return _FAILURE
        publish = self.create_lifecycle_publisher
        self._publishers_ = {topic: publish(kind, topic, 10 if topic == 'state' else _OUTPUT_QOS)
                             for topic, kind in _OUTPUTS.items()}
        self._alerts.open(self.session.standing_ids())
        self._diagnostics_timer.timer_period_ns = int(config.node.diagnostics_period * 1e9)
        self.get_logger().info(f'configured: {description}')
        return _OK

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        try:
            self.session.activate()
        except OmniError as error:
            self.get_logger().error(f'activate failed: {error}')
            return _FAILURE
        assert self.session.config is not None
        node, sub = self.session.config.node, self.create_subscription
        if node.use_camera:
            compressed = node.image_transport == 'compressed'
            topic, msg_type = ('image/compressed', CompressedImage) if compressed else ('image', Image)
            # raw=True: only the header stamp of every frame is read; pixels only for frames used.
            self._subscriptions_.append(sub(msg_type, topic, lambda raw: self._on_image(raw, compressed),
                                            qos_profile_sensor_data, raw=True))
        if node.use_microphone and node.audio_input == 'audio_common':
            from audio_common_msgs.msg import AudioDataStamped, AudioInfo

            self._audio_info = None
            # Best effort matches any publisher; capture nodes repeat their info or send it at start.
            self._subscriptions_ += [sub(AudioInfo, 'audio_info', lambda msg: setattr(self, '_audio_info', msg),
                                         _AUDIO_QOS),
                                     sub(AudioDataStamped, 'audio', self._on_audio_common, _AUDIO_QOS)]
        elif node.use_microphone:
            self._subscriptions_.append(sub(AudioChunk, 'audio', self._on_audio, _AUDIO_QOS))
        timer = self.create_timer
        self._timers_ = [timer(0.05, self.session.poll, clock=self._steady),
                         timer(_SPEECH_PERIOD, self.session.release_speech, clock=self._steady),
                         timer(node.state_period, self._publish_state, clock=self._steady)]
        self.get_logger().info('active: listening and watching')
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_streams()
        self.session.deactivate()  # players must not go on with queued speech
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        return self._release('the node was cleaned up (backend unloaded)')

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        return self._release('the node is shutting down')

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        return self._release('the node hit an error and was reset')

    def _stop_streams(self) -> None:
        for subscription in self._subscriptions_:
            self.destroy_subscription(subscription)
        for timer in self._timers_:
            self.destroy_timer(timer)
        self._subscriptions_, self._timers_ = [], []

    def destroy_node(self) -> None:
        self.goals.destroy()
        super().destroy_node()

    def close(self) -> None:
        """Before the process exits: every goal ends with a reason, and its result is sent."""
        self._release('the node is shutting down')
        self.goals.wait(timeout=5.0)

    def _release(self, reason: str) -> TransitionCallbackReturn:
        """Stop everything and end every action watch with ``reason`` (never drop a goal silently)."""
        self._stop_streams()
        self.session.release(reason)
        self.goals.supervisor.abort_questions(reason)
        for publisher in self._publishers_.values():
            self.destroy_lifecycle_publisher(publisher)
        self._publishers_ = {}
        self._alerts.close()
        return _OK

    # -- parameters changed while running -----------------------------------------------------------
    def _check_change(self, changes: Changes) -> None:
        self.params.refuse_while(self.session.config is not None, changes)
        self._live(changes, self.session.check_change)

    def _apply_change(self, changes: Changes) -> None:
        self._live({}, self.session.reconfigure)
        if self._publishers_:  # configured: standing watches may have changed
            self._alerts.update(self.session.standing_ids())

    def _live(self, changes: Changes, use: Callable[[SessionConfig], None]) -> None:
        """Hand ``use`` the running session's config with ``changes`` (nothing while unconfigured)."""
        current = self.session.config
        if current is not None:
            use(SessionConfig.load(lambda prefix: self.params.values(prefix, changes), backend=current.backend_name))

    # -- input --------------------------------------------------------------------------------------
    def _on_image(self, raw: bytes, compressed: bool) -> None:
        if (config := self.session.config) is not None:
            pixels = config.node.max_image_pixels
            self.session.frame(lambda: imaging.serialized_frame(raw, compressed, max_pixels=pixels))

    def _on_audio(self, msg: AudioChunk) -> None:
        self.session.audio(lambda: mapping.msg_to_block(msg, self.session.max_audio_seconds))

    def _on_audio_common(self, msg: Any) -> None:
        self.session.audio(lambda: mapping.audio_data_to_block(msg, self._audio_info, self.session.max_audio_seconds))

    # -- the session's host: clock, outputs, log ----------------------------------------------------
    def now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _publish(self, topic: str, msg: Any) -> None:
        if (publisher := self._publishers_.get(topic)) is not None:
            publisher.publish(msg)

    def event(self, event: Event, event_id: str, watch: WatchState | None) -> None:
        msg = mapping.event_to_msg(event, event_id, self.now())
        self._alerts.publish(msg, watch)
        self._publish('events', msg)

    def transcript(self, transcript: Transcript) -> None:
        self._publish('transcript', mapping.transcript_to_msg(transcript))

    def speech(self, block: Speech) -> None:
        config = self.session.config
        self._publish('speech', mapping.speech_to_msg(block, config.node.speech_encoding if config else 'S16LE'))

    def interruption(self, interruption: SpeechInterruption) -> None:
        self._publish('speech/interrupt', mapping.interruption_to_msg(interruption))

    def log(self, level: str, text: str) -> None:
        spin.log(self.get_logger(), level, text)

    def callback_failed(self, what: str, error: Exception) -> None:
        self.session.output_error(what, error)

    # -- state and diagnostics ----------------------------------------------------------------------
    def _publish_state(self) -> None:
        if (state := self.session.state()) is not None:
            self._publish('state', mapping.state_to_msg(state, self.now()))

    def _publish_diagnostics(self) -> None:
        config = self.session.config
        diagnostics = self.session.diagnostics()
        diagnostics.values.update(self.goals.diagnostics())
        self._diagnostics.publish(mapping.diagnostics_to_msg(
            diagnostics, f'{self.get_name()}: pipeline', config.backend_name if config else 'none', self.now()))


def main(args: list[str] | None = None) -> None:
    spin.run(OmniNode, OmniNode.close, args)


if __name__ == '__main__':
    main()
