"""omni_node driven through its lifecycle from another process, and fed bad input while active."""

from __future__ import annotations

import math
import os
import time

import pytest
from support import (call, change_state, future_result, lifecycle_state as state, send_watch, set_parameters,
                     wait_for, watch_client)

from omni_ros.tools import processes

pytestmark = pytest.mark.dds


def transition(ros_client, transition_id: int) -> bool:
    return change_state(ros_client, transition_id)


def set_param(ros_client, name: str, value: str) -> bool:
    return set_parameters(ros_client, {name: value})[0].successful


def test_bad_configuration_fails_configure_and_the_node_can_be_configured_again(ros_client, log_dir, tmp_path):
    from lifecycle_msgs.msg import Transition

    node = processes.start_node(os.environ, log_dir, params={
        'autostart': False, 'backend': 'scripted', 'scripted.timeline': str(tmp_path / 'missing.yaml')})
    try:
        assert state(ros_client) == 'unconfigured'
        assert not transition(ros_client, Transition.TRANSITION_CONFIGURE)
        assert state(ros_client) == 'unconfigured' and node.running()
        assert 'missing.yaml' in node.output()  # the error names what to fix

        assert not set_param(ros_client, 'image_transport', 'theora')  # validated at once, refused
        assert set_param(ros_client, 'scripted.timeline', '')
        assert transition(ros_client, Transition.TRANSITION_CONFIGURE)
        assert transition(ros_client, Transition.TRANSITION_ACTIVATE)
        assert state(ros_client) == 'active'
        assert transition(ros_client, Transition.TRANSITION_DEACTIVATE)
        assert state(ros_client) == 'inactive'
        assert transition(ros_client, Transition.TRANSITION_CLEANUP)
        assert state(ros_client) == 'unconfigured'
        assert transition(ros_client, Transition.TRANSITION_CONFIGURE)
        assert transition(ros_client, Transition.TRANSITION_ACTIVATE)
        assert state(ros_client) == 'active'
    finally:
        assert node.stop() == 0, node.output()


def test_bad_input_gives_rate_limited_errors_and_the_node_keeps_running(ros_client, log_dir) -> None:
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import Image

    from omni_ros_interfaces.msg import AudioChunk

    node = processes.start_node(os.environ, log_dir, params={'backend': 'scripted', 'error_log_period': 30.0})
    try:
        diagnostics: list[DiagnosticArray] = []
        ros_client.create_subscription(DiagnosticArray, '/diagnostics', diagnostics.append, 10)
        audio = ros_client.create_publisher(AudioChunk, 'audio', qos_profile_sensor_data)
        image = ros_client.create_publisher(Image, 'image', qos_profile_sensor_data)
        wait_for(lambda: audio.get_subscription_count() and image.get_subscription_count(), 30, 'the node inputs')
        now = time.time()
        bad_audio = [
            AudioChunk(sample_rate=16000, channels=1, encoding='S16LE', data=b'\x00' * 801),  # odd byte count
            AudioChunk(sample_rate=16000, channels=1, encoding='MP3', data=b'\x00' * 800),
            AudioChunk(sample_rate=3, channels=1, encoding='S16LE', data=b'\x00' * 800),
            AudioChunk(sample_rate=16000, channels=0, encoding='F32LE', data=b'\x00' * 800),
        ]
        bad_images = [
            Image(height=4, width=4, encoding='bayer_rggb8', step=4, data=b'\x00' * 16),
            Image(height=4, width=4, encoding='rgb8', step=12, data=b'\x00' * 10),  # too little data
            Image(height=100000, width=100000, encoding='mono8', step=100000, data=b'\x00' * 16),
        ]
        for i in range(5):
            for msg in bad_audio:
                msg.header.stamp.sec = int(now) + i
                audio.publish(msg)
            for msg in bad_images:
                msg.header.stamp.sec = int(now) + i
                image.publish(msg)
            time.sleep(0.2)
        # Frames are decoded only when a unit is cut: good audio keeps the stream going past them.
        for i in range(40):
            good = AudioChunk(sample_rate=16000, channels=1, encoding='S16LE', data=b'\x00' * 3200)
            good.header.stamp.sec, good.header.stamp.nanosec = int(now) + 5 + i // 10, (i % 10) * 100_000_000
            audio.publish(good)
            time.sleep(0.01)

        def reported():
            for array in diagnostics[::-1]:
                values = {kv.key: kv.value for s in array.status for kv in s.values}
                if int(values.get('input_errors', 0)) >= 10 and int(values.get('decode_errors', 0)) >= 1:
                    return array.status[0]
            return None

        status = wait_for(reported, 30, 'diagnostics reporting the bad input')
        assert status.level == status.WARN and 'bad input' in status.message
        assert node.running()
        log = node.output()
        assert 'odd' in log or 'multiple' in log  # the messages say what is wrong
        # 20 bad audio messages in a second, one error line per 30 s: the log is not flooded.
        assert log.count('audio message dropped') <= 2
    finally:
        assert node.stop() == 0, node.output()


def test_stamps_below_zero_and_past_2038_never_stop_the_node(ros_client, log_dir, tmp_path) -> None:
    """Issue 16: under sim time a stream starting just before 0 gave events, transcripts and answers
    stamped below zero; mapping one raised inside the goal timer, rclpy re-raised it and the executor
    thread ended: no state, no diagnostics, no list_watches, no goal ever ended. Stamps past what a ROS
    stamp holds (int32 seconds) did the same. Here both go through a live node, which keeps answering."""
    import yaml
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.action import ActionClient
    from rclpy.qos import qos_profile_sensor_data
    from rosgraph_msgs.msg import Clock

    from builtin_interfaces.msg import Time

    from omni_ros_interfaces.action import Ask, SetWatch
    from omni_ros_interfaces.msg import AudioChunk, OmniState, ProactiveEvent
    from omni_ros_interfaces.srv import ListWatches

    timeline = tmp_path / 'stamps.yaml'
    timeline.write_text(yaml.safe_dump({'lines': [{'at': 0.0, 'say': 'Hello there.'},
                                                  {'at': 0.3, 'watch': 'green', 'say': 'The light is green.'}],
                                        'answers': [{'question': 'floor', 'say': 'We are on floor 16.'}]}))
    node = processes.start_node(os.environ, log_dir, params={
        'backend': 'scripted', 'scripted.timeline': str(timeline), 'use_camera': False, 'use_sim_time': True,
        'error_log_period': 30.0})
    try:
        states: list[OmniState] = []
        diagnostics: list[DiagnosticArray] = []
        events: list[ProactiveEvent] = []
        ros_client.create_subscription(OmniState, 'state', states.append, 10)
        ros_client.create_subscription(DiagnosticArray, '/diagnostics', diagnostics.append, 10)
        ros_client.create_subscription(ProactiveEvent, 'events', events.append, 50)
        clock = ros_client.create_publisher(Clock, '/clock', 10)
        audio = ros_client.create_publisher(AudioChunk, 'audio', qos_profile_sensor_data)
        wait_for(audio.get_subscription_count, 30, 'the node subscribing to audio')
        watches = watch_client(ros_client, node)
        asks = ActionClient(ros_client, Ask, 'ask')
        assert asks.wait_for_server(timeout_sec=30)

        def stamp(t: float) -> Time:
            whole = math.floor(t)
            return Time(sec=whole, nanosec=min(round((t - whole) * 1e9), 999_999_999))

        def segment(start: float, seconds: float) -> tuple[object, object]:
            """Audio from ``start`` (input time) with the clock following it; the watch's and the Ask's results."""
            clock.publish(Clock(clock=stamp(max(start, 0.001))))
            watch = send_watch(watches, 'tell me when the light turns green')
            assert watch.accepted, node.output()
            ask = wait_for(lambda: future_result(asks.send_goal_async(Ask.Goal(question='what floor are we on?'))),
                           10, 'Ask goal response')
            assert ask.accepted
            results = watch.get_result_async(), ask.get_result_async()
            for i in range(round(seconds * 10)):
                block = AudioChunk(sample_rate=16000, channels=1, encoding='S16LE', data=bytes(3200))
                block.header.stamp = stamp(start + 0.1 * i)
                audio.publish(block)
                clock.publish(Clock(clock=stamp(min(max(start + 0.1 * (i + 1), 0.0), 2 ** 31 - 1e-6))))
                time.sleep(0.03)
            watch_result = future_result(results[0], timeout=60)
            ask_result = future_result(results[1], timeout=60)
            assert watch_result is not None and ask_result is not None, node.output()
            return watch_result.result, ask_result.result

        watch_result, ask_result = segment(-0.55, 4.0)  # a sim-time source starting just below zero
        assert watch_result.code == SetWatch.Result.CODE_TRIGGERED, watch_result.message
        assert (watch_result.events[0].input_stamp.sec, watch_result.events[0].input_stamp.nanosec) == (0, 0)
        assert ask_result.code == Ask.Result.CODE_ANSWERED and 'floor 16' in ask_result.answer
        clock.publish(Clock(clock=Time(sec=-1)))  # rclpy's clock callback raises on it: counted, not fatal

        def output_errors() -> int:
            values = [{kv.key: kv.value for kv in s.values} for a in diagnostics[-3:] for s in a.status]
            return max((int(v.get('output_errors', 0)) for v in values), default=0)

        wait_for(output_errors, 30, 'diagnostics counting the failed callback')
        watch_result, ask_result = segment(2 ** 31 - 3.0, 3.0)  # up to the last second a stamp can carry
        assert watch_result.code == SetWatch.Result.CODE_TRIGGERED, watch_result.message
        assert ask_result.code == Ask.Result.CODE_ANSWERED
        assert any(e.header.stamp.sec >= 2 ** 31 - 3 for e in events)

        # Still serving: state keeps flowing, diagnostics keep coming, list_watches answers.
        seen_states, seen_diagnostics = len(states), len(diagnostics)
        wait_for(lambda: len(states) > seen_states + 2 and len(diagnostics) > seen_diagnostics, 30,
                 'state and diagnostics still flowing')
        assert call(ros_client, ListWatches, 'list_watches', ListWatches.Request()) is not None
        assert node.running()
        assert 'Traceback' not in node.output(), node.output()
    finally:
        assert node.stop() == 0, node.output()


def test_an_ask_that_times_out_while_the_node_is_inactive_says_the_node_was_inactive(ros_client, log_dir) -> None:
    """Issue 16: an Ask that timed out while omni_node was deactivated ended with the generic 'no answer
    within N s', as if the backend had listened all along. The reason now says the node was inactive;
    an Ask that waited through a deactivate and timed out after activate says it was inactive for part."""
    from lifecycle_msgs.msg import Transition
    from rclpy.action import ActionClient

    from omni_ros.ros import mapping
    from omni_ros.ros.action_qos import client_qos
    from omni_ros_interfaces.action import Ask

    # No microphone input is sent, so no unit is cut and nothing answers: each Ask can only time out.
    node = processes.start_node(os.environ, log_dir, params={'backend': 'scripted', 'use_camera': False})
    try:
        asks = ActionClient(ros_client, Ask, 'ask', **client_qos())
        assert asks.wait_for_server(timeout_sec=60), node.output()

        def ask(timeout: float) -> object:
            goal = Ask.Goal(question='what floor are we on?', timeout=mapping.duration_to_msg(timeout))
            deadline = time.monotonic() + 30
            while True:  # the server exists before activation completes: an early goal is rejected
                handle = wait_for(lambda: future_result(asks.send_goal_async(goal)), 20, 'Ask goal response')
                if handle.accepted or time.monotonic() > deadline:
                    assert handle.accepted, node.output()
                    return handle.get_result_async()
                time.sleep(0.3)

        inactive = ask(4.0)
        assert transition(ros_client, Transition.TRANSITION_DEACTIVATE)
        result = future_result(inactive, timeout=60)
        assert result is not None, node.output()
        assert result.result.code == Ask.Result.CODE_TIMED_OUT
        assert 'omni_node was inactive (deactivated)' in result.result.message, result.result.message

        assert transition(ros_client, Transition.TRANSITION_ACTIVATE)
        partly = ask(10.0)
        assert transition(ros_client, Transition.TRANSITION_DEACTIVATE)
        time.sleep(0.5)
        assert transition(ros_client, Transition.TRANSITION_ACTIVATE)
        result = future_result(partly, timeout=60)
        assert result is not None, node.output()
        assert result.result.code == Ask.Result.CODE_TIMED_OUT
        assert 'inactive (deactivated) for part of that time' in result.result.message, result.result.message
        assert node.running() and 'Traceback' not in node.output(), node.output()
    finally:
        assert node.stop() == 0, node.output()
