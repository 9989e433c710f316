"""omni_node: the ROS 2 lifecycle node around the pipeline.

configure loads the backend (and fails cleanly, staying up, when it cannot); activate subscribes to
the camera and microphone and starts the backend session; the SetWatch and Ask action servers and the
ListWatches service live for the whole process and reject goals unless the node is active.
All message <-> core mapping is in ``omni_ros.ros.mapping``; the processing is in ``omni_ros.session.pipeline``.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
import traceback
from typing import Any, Callable

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.action.server import ServerGoalHandle
from rclpy.clock import Clock, ClockType
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.qos import QoSProfile, qos_profile_sensor_data
from sensor_msgs.msg import CompressedImage, Image

from omni_ros import backends
from omni_ros.ros import mapping, spin
from omni_ros.ros.actions import GoalSupervisor, goal_uuid
from omni_ros.ros.alerts import WatchAlerts
from omni_ros.session.config import NODE_OPTIONS, SECTIONS, NodeConfig
from omni_ros.errors import BackendSetupError, ConfigError, ConversionError, OmniError, WatchRejectedError
from omni_ros.ros.params import DeclaredOptions
from omni_ros.session.pipeline import PendingQuestion, Pipeline
from omni_ros.speech.selfhearing import SAMPLE_RATE as SELF_HEARING_RATE
from omni_ros.speech.selfhearing import BargeIn, SelfHearing, SelfHearingConfig
from omni_ros.speech.output import SpeechConfig, SpeechOutput
from omni_ros.data import (Event, FloatArray, InterruptMode, Question, Speech, SpeechInterruption, StreamSpec,
                            Transcript)
from omni_ros.watches.table import Stopwatch, WatchState, WatchTable, normalize_instruction, standing_watches
from omni_ros_interfaces.action import Ask, SetWatch
from omni_ros_interfaces.msg import AudioChunk, OmniState, ProactiveEvent, SpeechInterrupt
from omni_ros_interfaces.msg import Transcript as TranscriptMsg
from omni_ros_interfaces.srv import ListWatches

_OUTPUT_QOS = QoSProfile(depth=50)
# Sensor-data QoS, but deep: audio blocks are small and every one matters (a lost 50 ms block can
# hold a ding's onset), while depth 5 overflows whenever the backend keeps Python busy for 250 ms.
_AUDIO_QOS = QoSProfile(depth=200, reliability=qos_profile_sensor_data.reliability,
                        durability=qos_profile_sensor_data.durability)
_GOAL_PERIOD = 0.1  # s between checks of waiting goals: feedback, cancel, timeout, outcome
_SPEECH_PERIOD = 0.02  # s between releases of speech blocks: well under a block and the lead


class OmniNode(LifecycleNode):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__('omni_node', **kwargs)
        self._params = DeclaredOptions(self)
        self._params.declare(NODE_OPTIONS)
        for section, options in SECTIONS.items():
            self._params.declare(options, prefix=f'{section}.')
        for name in backends.BUILTIN:
            try:
                options = backends.backend_options(name)
            except ImportError as error:  # a broken optional backend must not take the others down
                self.get_logger().error(f"backend '{name}' cannot be imported: {error}")
                continue
            self._params.declare(options, prefix=f'{name}.')
        self._params.validate_changes()

        self.config: NodeConfig | None = None
        self.backend_name = ''
        self._backend: backends.Backend | None = None
        self._pipeline: Pipeline | None = None
        self._speech_out: SpeechOutput | None = None
        self._hearing: SelfHearing | None = None
        # played() comes from the backend worker, process() from the microphone callback.
        self._hearing_lock = threading.Lock()
        self._barge_ins = 0
        self._audio_info: Any = None  # latest audio_common_msgs/AudioInfo (audio_input 'audio_common')
        self.watches = WatchTable()
        self._active = False
        self._run_token = secrets.token_hex(4)
        self._event_ids = itertools.count(1)
        self._input_errors = 0
        self._last_input_error = ''
        self._backend_error = ''
        self._resets_logged = 0
        self._subscriptions_: list[Any] = []
        self._timers_: list[Any] = []
        self._publishers_: dict[str, Any] = {}
        self._alerts = WatchAlerts(self, _OUTPUT_QOS)
        self._goals = GoalSupervisor(self.watches, self._now, self.get_logger().info)

        self._steady = Clock(clock_type=ClockType.STEADY_TIME)
        self._diagnostics = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self._watch_server = ActionServer(
            self, SetWatch, 'set_watch', execute_callback=self._goals.finish, goal_callback=self._accept_watch,
            handle_accepted_callback=self._start_watch, cancel_callback=lambda _: CancelResponse.ACCEPT)
        self._ask_server = ActionServer(
            self, Ask, 'ask', execute_callback=self._goals.finish, goal_callback=self._accept_ask,
            handle_accepted_callback=self._start_ask, cancel_callback=lambda _: CancelResponse.ACCEPT)
        self._list_service = self.create_service(ListWatches, 'list_watches', self._list_watches)
        self._diagnostics_timer = self.create_timer(1.0, self._publish_diagnostics, clock=self._steady)
        self._goal_timer = self.create_timer(_GOAL_PERIOD, self._supervise_goals, clock=self._steady)

    # -- lifecycle ----------------------------------------------------------------------------------
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        try:
            return self._configure()
        except Exception:  # rclpy turns an exception into a silent ERROR transition: say what broke
            self.get_logger().error(f'configure failed unexpectedly:\n{traceback.format_exc()}')
            return TransitionCallbackReturn.FAILURE

    def _configure(self) -> TransitionCallbackReturn:
        try:
            config = NodeConfig.from_values(self._params.values(''))
            speech_config = SpeechConfig.from_values(self._params.values('speech.'))
            hearing_config = SelfHearingConfig.from_values(self._params.values('self_hearing.'))
            name = backends.resolve_backend(config.backend, lambda n: self._params.values(f'{n}.'))
            backend = backends.create_backend(name, self._params.values(f'{name}.'))
        except ConfigError as error:
            self.get_logger().error(f'configure failed: {error}')
            return TransitionCallbackReturn.FAILURE
        if config.use_microphone and config.audio_input == 'audio_common':
            try:
                import audio_common_msgs.msg  # noqa: F401
            except ImportError:
                self.get_logger().error(
                    "configure failed: audio_input is 'audio_common' but audio_common_msgs is not installed: "
                    "install it (ros-<distro>-audio-common-msgs), or publish omni_ros_interfaces/AudioChunk "
                    "(e.g. with omni_mic) and set audio_input to 'omni'")
                return TransitionCallbackReturn.FAILURE
        hearing = None
        if config.use_microphone and (config.barge_in or hearing_config.strategy != 'none'):
            hearing = SelfHearing(hearing_config)
            try:
                hearing.setup()
            except OmniError as error:
                self.get_logger().error(f'configure failed: self-hearing could not be set up: {error}; set '
                                        "self_hearing.vad to 'energy', or barge_in false with self_hearing.strategy 'none'")
                return TransitionCallbackReturn.FAILURE
        self.get_logger().info(f"loading backend '{name}'")
        try:
            backend.setup()
        except BackendSetupError as error:
            self.get_logger().error(f"configure failed: backend '{name}' could not be set up: {error}")
            self._backend_error = str(error)
            return TransitionCallbackReturn.FAILURE
        try:
            for text in config.standing_watches:
                backend.check_instruction(normalize_instruction(text))
        except WatchRejectedError as error:
            backend.shutdown()
            self.get_logger().error(f"configure failed: a standing watch was rejected: {error}")
            return TransitionCallbackReturn.FAILURE
        self.config, self.backend_name, self._backend, self._backend_error = config, name, backend, ''
        self._speech_out = SpeechOutput(speech_config)
        self._hearing = hearing
        self.watches.default_cooldown = config.default_cooldown
        # Configure starts from an empty table (cleanup ended every watch), so standing ones come back.
        standing = standing_watches(list(config.standing_watches), self._now())
        for watch in standing:
            self.watches.add(watch)
        self._alerts.open(w.watch_id for w in standing)
        wanted = backend.stream_spec()
        spec = StreamSpec(wanted.sample_rate, config.frames_per_chunk or wanted.frames_per_chunk,
                          config.chunk_period)
        if hearing is not None and spec.sample_rate != SELF_HEARING_RATE:
            # Only our own backends exist and all listen at 16 kHz; say so rather than hear badly.
            self.get_logger().warn(f"backend '{name}' listens at {spec.sample_rate} Hz; self-hearing works at "
                                   f'{SELF_HEARING_RATE} Hz and is off: the robot cannot be interrupted')
            self._hearing = hearing = None
        self._pipeline = Pipeline(backend, spec, self.watches, self, max_latency=config.max_latency,
                                  jump_threshold=config.jump_threshold, max_backlog=config.max_backlog,
                                  expect_audio=config.use_microphone, expect_video=config.use_camera,
                                  audio_filter=self._hear if hearing is not None else None)
        pub = self.create_lifecycle_publisher
        self._publishers_ = {
            'events': pub(ProactiveEvent, 'events', _OUTPUT_QOS),
            'transcript': pub(TranscriptMsg, 'transcript', _OUTPUT_QOS),
            'speech': pub(AudioChunk, 'speech', _OUTPUT_QOS),
            'speech/interrupt': pub(SpeechInterrupt, 'speech/interrupt', _OUTPUT_QOS),
            'state': pub(OmniState, 'state', 10),
        }
        self._diagnostics_timer.timer_period_ns = int(config.diagnostics_period * 1e9)
        self.get_logger().info(f"configured: backend '{name}', {spec.frames_per_chunk} frame(s) per "
                               f'{spec.chunk_seconds:g} s unit, audio at {spec.sample_rate} Hz')
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        assert self.config is not None and self._pipeline is not None and self._speech_out is not None
        self._speech_out.begin_session()
        try:
            self._pipeline.start()
        except OmniError as error:
            self.get_logger().error(f'activate failed: {error}')
            return TransitionCallbackReturn.FAILURE
        config = self.config
        if config.use_camera:
            compressed = config.image_transport == 'compressed'
            topic, msg_type = ('image/compressed', CompressedImage) if compressed else ('image', Image)
            # raw=True: only the header stamp of every frame is read; pixels only for frames used.
            self._subscriptions_.append(self.create_subscription(
                msg_type, topic, lambda raw: self._on_image(raw, compressed), qos_profile_sensor_data, raw=True))
        if config.use_microphone and config.audio_input == 'audio_common':
            from audio_common_msgs.msg import AudioDataStamped, AudioInfo

            self._audio_info = None
            # Best effort matches any publisher; capture nodes repeat their info or send it at start.
            self._subscriptions_ += [
                self.create_subscription(AudioInfo, 'audio_info', self._on_audio_info, _AUDIO_QOS),
                self.create_subscription(AudioDataStamped, 'audio', self._on_audio_common, _AUDIO_QOS)]
        elif config.use_microphone:
            self._subscriptions_.append(self.create_subscription(
                AudioChunk, 'audio', self._on_audio, _AUDIO_QOS))
        self._timers_ = [
            self.create_timer(0.05, self._poll, clock=self._steady),
            self.create_timer(_SPEECH_PERIOD, self._release_speech, clock=self._steady),
            self.create_timer(config.state_period, self._publish_state, clock=self._steady),
        ]
        self._active = True
        self._resets_logged = 0
        self.get_logger().info('active: listening and watching')
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_streams()
        self._cut_speech(self._now(), 'deactivated')  # players must not go on with queued speech
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._release('the node was cleaned up (backend unloaded)')
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._release('the node is shutting down')
        return TransitionCallbackReturn.SUCCESS

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._release('the node hit an error and was reset')
        return TransitionCallbackReturn.SUCCESS

    def _stop_streams(self) -> None:
        self._active = False
        for sub in self._subscriptions_:
            self.destroy_subscription(sub)
        for timer in self._timers_:
            self.destroy_timer(timer)
        self._subscriptions_, self._timers_ = [], []
        if self._pipeline is not None:
            self._pipeline.stop()

    def close(self) -> None:
        """Release everything before the process exits; every action watch ends with a reason."""
        self._release('the node is shutting down')

    def wait_for_goals(self, timeout: float) -> None:
        """Let the goal timer send the results of the goals close() ended."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._goals:
                return
            time.sleep(0.05)
        self.get_logger().warn(f'{len(self._goals)} goal(s) still open at shutdown')

    def _release(self, reason: str) -> None:
        """Stop everything and end every action watch with ``reason`` (never drop a goal silently)."""
        if self._active:
            self._stop_streams()
            self._cut_speech(self._now(), reason)
        self.watches.remove_where(lambda _: True, reason)
        self._goals.abort_questions(reason)
        for pub in self._publishers_.values():
            self.destroy_lifecycle_publisher(pub)
        self._publishers_ = {}
        self._alerts.close()
        if self._backend is not None:
            self._backend.shutdown()
        self._backend, self._pipeline, self._speech_out, self._hearing = None, None, None, None

    # -- input --------------------------------------------------------------------------------------
    def _input_error(self, what: str, error: Exception) -> None:
        self._input_errors += 1
        self._last_input_error = f'{what}: {error}'
        period = self.config.error_log_period if self.config else 5.0
        self.get_logger().error(f'{what} dropped: {error}', throttle_duration_sec=period,
                                throttle_time_source_type=self._steady)

    def _on_image(self, raw: bytes, compressed: bool) -> None:
        assert self.config is not None and self._pipeline is not None
        try:
            self._pipeline.add_frame(mapping.serialized_image_to_frame(
                raw, compressed, max_pixels=self.config.max_image_pixels))
        except ConversionError as error:
            self._input_error('camera frame', error)

    def _on_audio(self, msg: AudioChunk) -> None:
        self._add_audio(lambda: mapping.msg_to_speech(msg))

    def _on_audio_info(self, msg: Any) -> None:
        self._audio_info = msg

    def _on_audio_common(self, msg: Any) -> None:
        self._add_audio(lambda: mapping.audio_data_to_speech(msg, self._audio_info))

    def _add_audio(self, decode: Callable[[], Speech]) -> None:
        assert self.config is not None and self._pipeline is not None
        try:
            audio = decode()
            seconds = audio.samples.size / audio.sample_rate
            if seconds > self.config.max_audio_message_seconds:
                raise ConversionError(
                    f'audio message holds {seconds:.1f} s; the limit is max_audio_message_seconds = '
                    f'{self.config.max_audio_message_seconds:g} s: publish shorter blocks (e.g. 20-100 ms)')
            self._pipeline.add_audio(audio.stamp, audio.samples, audio.sample_rate)
        except ConversionError as error:
            self._input_error('audio message', error)

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _stopwatch(self) -> Stopwatch:
        """Measures goal timeouts on the node clock, robust to sim-time starts and bag loops."""
        threshold = self.config.jump_threshold if self.config else 3.0
        return Stopwatch(self._now(), max_step=threshold)

    def _poll(self) -> None:
        if self._pipeline is not None:
            now = self._now()
            # Under use_sim_time the clock reads 0 until /clock arrives: no watermark from it then.
            self._pipeline.poll(now if now > 0 else None)

    # -- outputs (pipeline worker thread) -----------------------------------------------------------
    def _publish(self, topic: str, msg: Any) -> None:
        pub = self._publishers_.get(topic)
        if pub is not None:
            pub.publish(msg)

    def event(self, event: Event, watch: WatchState | None) -> None:
        event_id = f'{self._run_token}-{next(self._event_ids)}'
        msg = mapping.event_to_msg(event, event_id, self._now())
        self._alerts.publish(msg, watch)
        self._publish('events', msg)

    def transcript(self, transcript: Transcript) -> None:
        out = self._speech_out
        published = out.transcript(transcript) if out is not None else None
        if published is not None:
            self._publish('transcript', mapping.transcript_to_msg(published))

    def speech(self, speech: Speech) -> None:
        out, hearing = self._speech_out, self._hearing
        if out is None:
            return
        blocks = out.add(speech, self._now())
        if hearing is not None:
            with self._hearing_lock:
                for block in blocks:
                    hearing.played(block.stamp, block.samples, block.sample_rate)

    # -- barge-in (microphone callback, under the pipeline's input lock) -----------------------------
    def _hear(self, stamp: float, samples: FloatArray) -> FloatArray:
        """The robot's own voice out of the microphone audio; a user talking over it cuts the speech."""
        hearing = self._hearing
        assert hearing is not None and self.config is not None
        with self._hearing_lock:
            heard, barge_in = hearing.process(stamp, samples)
        if barge_in is not None and self.config.barge_in:
            self._barge_in(barge_in)
        return heard

    def _barge_in(self, barge_in: BargeIn) -> None:
        at = barge_in.detected
        out, pipeline, hearing = self._speech_out, self._pipeline, self._hearing
        if out is None or pipeline is None or hearing is None or not out.playing(at):
            return
        self._cut_speech(at, 'barge_in')
        with self._hearing_lock:
            hearing.stop_playback(at)
        pipeline.interrupt(InterruptMode.FORCE_LISTEN)
        self._barge_ins += 1
        self.get_logger().info(f'barge-in: the user spoke from {barge_in.onset:.2f} s; speech stopped at {at:.2f} s')

    def _release_speech(self) -> None:
        out, config = self._speech_out, self.config
        if out is None or config is None:
            return
        for block in out.due(self._now()):
            self._publish('speech', mapping.speech_to_msg(block, config.speech_encoding))

    def _cut_speech(self, at: float, reason: str) -> None:
        """Stop playback at input time ``at``: tell players, and report each cut turn as played."""
        out = self._speech_out
        cut = out.cut(at) if out is not None else None
        if cut is None:
            return
        self._publish('speech/interrupt', mapping.interruption_to_msg(SpeechInterruption(cut.turn_id, at, reason)))
        for transcript in cut.transcripts:
            self._publish('transcript', mapping.transcript_to_msg(transcript))

    def backend_failed(self, error: Exception) -> None:
        self._backend_error = f'{type(error).__name__}: {error}'
        self.get_logger().error(f"backend '{self.backend_name}' failed on a unit: {error}",
                                throttle_duration_sec=5.0, throttle_time_source_type=self._steady)

    # -- state and diagnostics ----------------------------------------------------------------------
    def _publish_state(self) -> None:
        if self._pipeline is None:
            return
        sync = self._pipeline.sync.stats
        if sync.resets != self._resets_logged:
            self._resets_logged = sync.resets
            self.get_logger().info(f'input stream restarted: {sync.last_reset_reason}')
        stats = self._pipeline.stats
        speaking = stats.speaking or (self._speech_out is not None and self._speech_out.playing(self._now()))
        msg = OmniState(mode=OmniState.MODE_SPEAKING if speaking else OmniState.MODE_LISTENING,
                        backend=self.backend_name, backlog=stats.backlog,
                        real_time_factor=float(stats.real_time_factor), chunks_processed=stats.chunks_processed,
                        chunks_skipped=stats.chunks_skipped, active_watches=len(self.watches))
        msg.header.stamp = self.get_clock().now().to_msg()
        self._publish('state', msg)

    def _publish_diagnostics(self) -> None:
        status = DiagnosticStatus(name=f'{self.get_name()}: pipeline', hardware_id=self.backend_name or 'none')
        values: dict[str, Any] = {'backend': self.backend_name, 'active': self._active,
                                  'active_watches': len(self.watches), 'input_errors': self._input_errors,
                                  'last_input_error': self._last_input_error,
                                  'backend_error': self._backend_error, 'barge_ins': self._barge_ins}
        level, message = DiagnosticStatus.OK, 'running'
        pipeline = self._pipeline
        if pipeline is None:
            level, message = DiagnosticStatus.WARN, 'not configured'
        elif not self._active:
            level, message = DiagnosticStatus.WARN, 'inactive'
        else:
            stats, sync = pipeline.stats, pipeline.sync.stats
            values.update(chunks_processed=stats.chunks_processed, chunks_skipped=stats.chunks_skipped,
                          backlog=stats.backlog, real_time_factor=round(stats.real_time_factor, 3),
                          frames_received=sync.frames_received, frames_decoded=sync.frames_decoded,
                          frames_dropped_late=sync.frames_dropped_late, stream_resets=sync.resets,
                          audio_gaps_filled_s=round(sync.audio_gaps_filled_s, 3),
                          decode_errors=sync.decode_errors, backend_errors=stats.backend_errors,
                          last_stream_reset=sync.last_reset_reason)
            if stats.real_time_factor > 1.0:
                level, message = DiagnosticStatus.WARN, 'backend slower than real time: units are dropped'
            if self._input_errors or sync.decode_errors:
                level, message = DiagnosticStatus.WARN, f'bad input: {self._last_input_error or sync.last_decode_error}'
        if self._backend_error:
            level, message = DiagnosticStatus.ERROR, f'backend error: {self._backend_error}'
        status.level, status.message = level, message
        status.values = [KeyValue(key=k, value=str(v)) for k, v in values.items()]
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self._diagnostics.publish(array)

    # -- SetWatch -----------------------------------------------------------------------------------
    def _accept_watch(self, goal: SetWatch.Goal) -> GoalResponse:
        backend = self._backend
        try:
            if not self._active or backend is None:
                raise WatchRejectedError('omni_node is not active; activate it (or set autostart) first')
            instruction = normalize_instruction(goal.instruction)
            backend.check_instruction(instruction)
            if mapping.msg_to_duration(goal.timeout) < 0 or mapping.msg_to_duration(goal.cooldown) < 0:
                raise WatchRejectedError('timeout and cooldown must not be negative')
        except WatchRejectedError as error:
            self.get_logger().warn(f'SetWatch goal {goal.instruction!r} rejected: {error}')
            return GoalResponse.REJECT
        return GoalResponse.ACCEPT

    def _start_watch(self, goal_handle: ServerGoalHandle) -> None:
        goal: SetWatch.Goal = goal_handle.request
        watch_id = goal_uuid(goal_handle)
        watch = mapping.goal_to_watch(goal, watch_id, normalize_instruction(goal.instruction), self._now())
        state = self.watches.add(watch)
        self.get_logger().info(f'watch {watch_id} set: {watch.instruction!r}')
        self._goals.add_watch(goal_handle, state, self._stopwatch())

    def _list_watches(self, request: ListWatches.Request, response: ListWatches.Response) -> ListWatches.Response:
        response.watches = [mapping.watch_to_msg(w, n) for w, n in self.watches.snapshot()]
        return response

    def _accept_ask(self, goal: Ask.Goal) -> GoalResponse:
        try:
            if not self._active:
                raise WatchRejectedError('omni_node is not active')
            if not goal.question.strip():
                raise WatchRejectedError('the question is empty')
        except WatchRejectedError as error:
            self.get_logger().warn(f'Ask goal {goal.question!r} rejected: {error}')
            return GoalResponse.REJECT
        return GoalResponse.ACCEPT

    def _start_ask(self, goal_handle: ServerGoalHandle) -> None:
        assert self.config is not None
        goal: Ask.Goal = goal_handle.request
        question = Question(goal_uuid(goal_handle), ' '.join(goal.question.split()), self._now())
        timeout = mapping.msg_to_duration(goal.timeout) or self.config.ask_timeout
        pipeline = self._pipeline
        pending = pipeline.ask(question) if pipeline is not None else PendingQuestion(question)
        self._goals.add_question(goal_handle, pending, self._stopwatch(), timeout)
        if pipeline is None:  # deactivated between acceptance and now
            self._goals.abort_questions('omni_node is not active')

    def _supervise_goals(self) -> None:
        pipeline = self._pipeline
        self._goals.tick(pipeline.forget_question if pipeline is not None else lambda _: None)


def main(args: list[str] | None = None) -> None:
    def stop(node: OmniNode) -> None:
        node.close()  # every action watch ends with a reason before the context goes
        node.wait_for_goals(timeout=3.0)

    spin.run(OmniNode, stop, args)


if __name__ == '__main__':
    main()
