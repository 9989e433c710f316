"""The fuzz-and-fault tier: one omni_node process (scripted backend, sim time from this process) under
seeded, bounded abuse over DDS, then checked that nothing was lost.

What it throws at the node, in rounds: malformed raw images (bogus encodings, sizes, byte counts,
stamps), malformed compressed images (random bytes, truncated JPEG/PNG), malformed audio (rates,
channels, encodings, odd byte counts, large messages), goal bursts and cancel storms (SetWatch and
Ask, one by one and cancel-all), lifecycle loops with goals open (deactivate/activate,
cleanup/configure, switching the image transport), clock faults (sim time jumping back and forward,
stalling) and, at the end, SIGTERM with goals open. Meanwhile a microphone stand-in sends valid audio
on the sim clock, so units are cut and frames decoded.

It asserts: the process stays alive, ``state`` keeps flowing, every accepted goal ends with a result
(also the ones open at SIGTERM), resident memory stays bounded, and a valid watch still alerts
afterwards. The counts it tried are printed in the test summary (``support.REPORTS``).
Seeded (``OMNI_FUZZ_SEED``, default 16) and sized for about 100 s on two busy cores.
"""

from __future__ import annotations

import io
import os
import signal
import struct
import threading
import time
import zlib
from collections import Counter
from typing import Any

import numpy as np
import pytest
from support import REPORTS, cancel_all, change_state, rss_mb, send_goals, send_watch, wait_for
from support import set_parameters, watch_client

from omni_ros.tools import processes

pytestmark = pytest.mark.dds

SEED = int(os.environ.get('OMNI_FUZZ_SEED', '16'))
ROUNDS = 6
PER_ROUND = 200  # malformed messages of each kind per round
RSS_GROWTH_MB = 150.0  # bound on resident memory growth over the whole run
SR = 16000
BLOCK = 0.05  # s of audio per valid microphone message
START = 1000.0  # sim time at start: far from 0 (negative stamps are the stamp tests' subject)
ENCODINGS = ('rgb8', 'bgr8', 'rgba8', 'bgra8', 'mono8', 'mono16', '8UC1', '8UC3', 'rgb16', 'yuv422', 'uyvy',
             'yuyv', 'bayer_rggb8', '32FC1', '', 'RGB8', 'garbage\x00', 'x' * 300)


class SimClock:
    """/clock and a valid microphone from this process: sim time advances with wall time unless faulted."""

    def __init__(self, node: Any, topic_audio: str) -> None:
        from rosgraph_msgs.msg import Clock

        from omni_ros_interfaces.msg import AudioChunk

        self._clock_pub = node.create_publisher(Clock, '/clock', 10)
        self._audio_pub = node.create_publisher(AudioChunk, topic_audio, 200)
        self.now = START
        self.speed = 1.0
        self.audio = True
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._rng = np.random.default_rng(SEED + 1)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def jump(self, seconds: float) -> None:
        with self._lock:
            self.now = max(START / 2, self.now + seconds)

    def _run(self) -> None:
        from rosgraph_msgs.msg import Clock

        from omni_ros.ros import mapping
        from omni_ros_interfaces.msg import AudioChunk

        while not self._stop.is_set():
            with self._lock:
                stamp = self.now
                self.now += BLOCK * self.speed
            self._clock_pub.publish(Clock(clock=mapping.time_to_msg(stamp)))
            if self.audio:
                samples = (0.01 * self._rng.standard_normal(int(SR * BLOCK))).clip(-1, 1)
                msg = AudioChunk(sample_rate=SR, channels=1, encoding='S16LE',
                                 data=(samples * 32767).astype('<i2').tobytes())
                msg.header.stamp = mapping.time_to_msg(stamp)
                self._audio_pub.publish(msg)
            time.sleep(BLOCK)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def png(width: int, height: int, payload: bytes) -> bytes:
    """A PNG with a valid signature and IHDR for ``width`` x ``height`` rgb8, and ``payload`` as its data."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack('>I', len(body)) + kind + body + struct.pack('>I', zlib.crc32(kind + body))
    ihdr = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', payload) + chunk(b'IEND', b'')


def jpeg(rng: np.random.Generator) -> bytes:
    from PIL import Image as PilImage

    out = io.BytesIO()
    PilImage.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(out, format='JPEG')
    return out.getvalue()


class Fuzzer:
    def __init__(self, node: Any, clock: SimClock, image_topic: str, audio_topic: str) -> None:
        from rclpy.qos import qos_profile_sensor_data
        from sensor_msgs.msg import CompressedImage, Image

        from omni_ros_interfaces.msg import AudioChunk

        self.rng = np.random.default_rng(SEED)
        self.clock = clock
        self.counts: Counter[str] = Counter()
        self._image = node.create_publisher(Image, image_topic, qos_profile_sensor_data)
        self._compressed = node.create_publisher(CompressedImage, f'{image_topic}/compressed', qos_profile_sensor_data)
        self._audio = node.create_publisher(AudioChunk, audio_topic, 200)

    def _stamp(self) -> Any:
        from omni_ros.ros import mapping

        offset = float(self.rng.choice([0.0] * 6 + [-0.5, 0.3, -5.0, 8.0, -400.0, 1e6]))
        return mapping.time_to_msg(max(1.0, self.clock.now + offset + self.rng.uniform(-0.1, 0.1)))

    def images(self, n: int) -> None:
        from sensor_msgs.msg import Image

        for _ in range(n):
            encoding = str(self.rng.choice(ENCODINGS))
            width, height = (int(v) for v in self.rng.choice([0, 1, 3, 64, 640, 100000], 2))
            size = int(self.rng.choice([0, 1, 7, 1000, width * height * 3 % 2_000_000, 300_000]))
            msg = Image(encoding=encoding, width=width, height=height, is_bigendian=int(self.rng.integers(0, 2)),
                        step=int(self.rng.choice([0, width, width * 3, 2 ** 31])),
                        data=self.rng.integers(0, 256, size, dtype=np.uint8).tobytes())
            msg.header.stamp = self._stamp()
            self._image.publish(msg)
            self.counts['raw images'] += 1
            time.sleep(0.02)  # a camera's pace, so units pick these frames up and decode them

    def compressed(self, n: int) -> None:
        from sensor_msgs.msg import CompressedImage

        good = jpeg(self.rng)
        for _ in range(n):
            kind = int(self.rng.integers(0, 5))
            if kind == 0:
                data, fmt = self.rng.integers(0, 256, int(self.rng.integers(0, 5000)), dtype=np.uint8).tobytes(), 'jpeg'
            elif kind == 1:
                data, fmt = good[:int(self.rng.integers(0, len(good)))], 'jpeg'
            elif kind == 2:
                side = int(self.rng.choice([0, 1, 64, 1024]))
                data, fmt = png(side, side, self.rng.integers(0, 256, 200, dtype=np.uint8).tobytes()), 'png'
            elif kind == 3:
                data, fmt = good, str(self.rng.choice(['png', 'bmp', '', 'rgb8; jpeg compressed bgr8', 'jpeg']))
            else:
                corrupt = bytearray(good)
                for i in self.rng.integers(20, len(good), 30):
                    corrupt[int(i)] = int(self.rng.integers(0, 256))
                data, fmt = bytes(corrupt), 'jpeg'
            msg = CompressedImage(format=fmt, data=data)
            msg.header.stamp = self._stamp()
            self._compressed.publish(msg)
            self.counts['compressed images'] += 1
            time.sleep(0.02)

    def audio(self, n: int) -> None:
        from omni_ros_interfaces.msg import AudioChunk

        for _ in range(n):
            rate = int(self.rng.choice([0, 1, 8000, 16000, 44100, 48000, 384000, 2 ** 32 - 1]))
            channels = int(self.rng.choice([0, 1, 2, 6, 255]))
            encoding = str(self.rng.choice(['S16LE', 'F32LE', 'S24LE', 'U8', '', 'mp3']))
            size = int(self.rng.choice([0, 1, 3, 801, 1600, 32000, 640_001]))
            data = self.rng.integers(0, 256, size, dtype=np.uint8).tobytes()
            if encoding == 'F32LE' and self.rng.random() < 0.5:  # NaN, inf and huge floats in well-formed messages
                values = self.rng.choice([np.nan, np.inf, -np.inf, 1e30, 0.5], size // 4).astype('<f4')
                data = values.tobytes()
            msg = AudioChunk(sample_rate=rate, channels=channels, encoding=encoding, data=data)
            msg.header.stamp = self._stamp()
            self._audio.publish(msg)
            self.counts['audio messages'] += 1
            time.sleep(0.004)


def test_fuzz_and_faults_leave_the_node_alive_and_lose_no_goal(ros_client, log_dir) -> None:
    from action_msgs.msg import GoalStatus
    from lifecycle_msgs.msg import Transition
    from rclpy.action import ActionClient

    from omni_ros.ros.action_qos import client_qos
    from omni_ros_interfaces.action import Ask, SetWatch
    from diagnostic_msgs.msg import DiagnosticArray

    from omni_ros_interfaces.msg import OmniState, ProactiveEvent

    image_topic, audio_topic = '/fuzz/camera', '/fuzz/audio'
    node = processes.start_node(os.environ, log_dir, name='omni_node', params={
        'use_sim_time': True, 'backend': 'scripted', 'default_cooldown': 0.5, 'ask_timeout': 30.0},
        remaps={'image': image_topic, 'image/compressed': f'{image_topic}/compressed', 'audio': audio_topic})
    clock = SimClock(ros_client, audio_topic)
    fuzz = Fuzzer(ros_client, clock, image_topic, audio_topic)
    states: list[float] = []
    events: list[Any] = []
    ros_client.create_subscription(OmniState, 'state', lambda m: states.append(time.monotonic()), 10)
    ros_client.create_subscription(ProactiveEvent, 'events', events.append, 100)
    errors: dict[str, int] = {}  # the node's own counts of bad input (largest seen; cleanup resets them)
    ros_client.create_subscription(DiagnosticArray, '/diagnostics', lambda m: errors.update(
        {kv.key: max(int(kv.value), errors.get(kv.key, 0)) for s in m.status for kv in s.values
         if kv.key in ('input_errors', 'decode_errors', 'chunks_processed')}), 10)
    accepted: list[Any] = []  # the result future of every accepted goal, SetWatch and Ask, asked for at once
    counts = fuzz.counts
    started = time.monotonic()
    try:
        watches = watch_client(ros_client, node)
        asks = ActionClient(ros_client, Ask, 'ask', **client_qos())
        assert asks.wait_for_server(timeout_sec=60)
        first = send_watch(watches, 'tell me when the traffic light turns green', continuous=True)
        assert first.accepted, node.output()
        accepted.append(first.get_result_async())
        wait_for(lambda: len(states) >= 2, 30, f'state messages:\n{node.output()}')
        rss_start = rss_mb(node.popen.pid)

        def burst(n: int, timeout: float = 0.0) -> list[Any]:
            goals = [SetWatch.Goal(instruction=f'say when the elevator reaches floor 16 ({i})',
                                   continuous=bool(fuzz.rng.integers(0, 2))) for i in range(n)]
            if timeout:
                from omni_ros.ros import mapping
                for goal in goals[::3]:
                    goal.timeout = mapping.duration_to_msg(timeout)
            handles = send_goals(watches, goals)
            counts['SetWatch goals sent'] += n
            accepted.extend(h.get_result_async() for h in handles if h.accepted)
            return [h for h in handles if h.accepted]

        for round_ in range(ROUNDS):
            compressed = round_ % 2 == 1
            # Questions (answered together by the next unit), then this round's image transport and audio,
            # with the microphone stand-in going on, and a moment for units to be cut and frames decoded.
            questions = send_goals(asks, [Ask.Goal(question=q) for q in
                                          fuzz.rng.choice(['what does the sign say', 'which floor', 'zzz'], 40)])
            counts['Ask goals sent'] += 40
            accepted.extend(h.get_result_async() for h in questions if h.accepted)
            (fuzz.compressed if compressed else fuzz.images)(PER_ROUND)
            fuzz.audio(PER_ROUND)
            time.sleep(1.0)

            # A goal burst, then a cancel storm: one by one in random order, then cancel-all.
            open_ = burst(100, timeout=float(fuzz.rng.uniform(1.0, 4.0)))
            for i in fuzz.rng.permutation(len(open_))[:50]:
                open_[int(i)].cancel_goal_async()
                counts['single cancels'] += 1
            burst(30)
            cancel_all(ros_client)
            counts['cancel-all'] += 1

            # Clock faults: back, forward, a stall, and back and forth.
            for jump in (-200.0, 500.0, -3.5, 4.0, -50.0):
                clock.jump(jump)
                counts['clock jumps'] += 1
                time.sleep(0.3)
            clock.speed = 0.0
            time.sleep(0.5)
            clock.speed = 1.0
            counts['clock stalls'] += 1

            # Lifecycle loops with goals open; every other round switches the image transport.
            burst(20)
            for _ in range(2):
                assert change_state(ros_client, Transition.TRANSITION_DEACTIVATE)
                assert change_state(ros_client, Transition.TRANSITION_ACTIVATE)
                counts['deactivate/activate'] += 1
            assert change_state(ros_client, Transition.TRANSITION_DEACTIVATE)
            assert change_state(ros_client, Transition.TRANSITION_CLEANUP)
            transport = 'raw' if compressed else 'compressed'
            assert all(r.successful for r in set_parameters(ros_client, {'image_transport': transport}))
            assert change_state(ros_client, Transition.TRANSITION_CONFIGURE)
            assert change_state(ros_client, Transition.TRANSITION_ACTIVATE)
            counts['cleanup/configure'] += 1
            assert node.running(), node.output()

        # Every goal accepted so far has ended (canceled, timed out, answered, or by cleanup) with a result.
        wait_for(lambda: all(f.done() for f in accepted), 120,
                 f'the results of {len(accepted)} accepted goals ({sum(f.done() for f in accepted)} arrived)')
        statuses = Counter(f.result().status for f in accepted)
        assert GoalStatus.STATUS_UNKNOWN not in statuses, statuses
        assert node.running(), node.output()
        assert errors.get('input_errors', 0) > 0, errors  # the malformed input did reach the node
        assert 'Traceback' not in node.output(), node.output()[-5000:]

        # Still alive and working: state flows, memory is bounded, a valid watch alerts on a fresh stream.
        seen = len(states)
        wait_for(lambda: len(states) >= seen + 3, 30, f'state messages after the faults:\n{node.output()[-3000:]}')
        clock.jump(100.0)  # a new stream: the scripted timeline starts again ("green" 5.3 s in)
        clock.speed = 2.0
        watch = send_watch(watches, 'tell me when the traffic light turns green')
        assert watch.accepted, node.output()[-3000:]
        outcome = watch.get_result_async()
        accepted.append(outcome)
        wait_for(outcome.done, 60, f'the valid watch to trigger after the faults:\n{node.output()[-3000:]}')
        assert outcome.result().result.code == SetWatch.Result.CODE_TRIGGERED, outcome.result().result.message
        rss_end = rss_mb(node.popen.pid)
        assert rss_end - rss_start < RSS_GROWTH_MB, f'resident memory grew from {rss_start:.0f} to {rss_end:.0f} MB'

        # Signals: SIGTERM with goals open; each still gets its result, and the process exits cleanly.
        burst(50)
        pending = accepted[-50:]
        node.popen.send_signal(signal.SIGTERM)
        counts['SIGTERM with goals open'] += 1
        assert node.wait(60) == 0, node.output()[-3000:]
        wait_for(lambda: all(f.done() for f in pending), 10,
                 f'{len(pending)} results after SIGTERM ({sum(f.done() for f in pending)} arrived)')
        assert {f.result().status for f in pending} == {GoalStatus.STATUS_ABORTED}
        summary = (f'fuzz-and-fault tier (seed {SEED}, {time.monotonic() - started:.0f} s): '
                   + ', '.join(f'{v} {k}' for k, v in counts.items())
                   + f'; {len(accepted)} goals accepted, every one ended with a result '
                   f'(by status before SIGTERM: {dict(sorted(statuses.items()))}); '
                   f'RSS {rss_start:.0f} -> {rss_end:.0f} MB; '
                   f'{len(states)} state messages, {len(events)} events; node counts (max between cleanups): '
                   f'{errors}')
        REPORTS.append(summary)
        print(summary)
    finally:
        clock.stop()
        node.stop()
