"""The fuzz-and-fault tier: one omni_node process (scripted backend, sim time from this process) under
seeded, bounded abuse over DDS, then checked that nothing was lost.

What it throws at the node, in rounds: malformed raw images (bogus encodings, sizes, byte counts,
stamps), malformed compressed images (random bytes, truncated JPEG/PNG), malformed audio (rates,
channels, encodings, odd byte counts, large messages), goal bursts and cancel storms (SetWatch and
Ask, one by one and cancel-all), lifecycle loops with goals open (deactivate/activate,
cleanup/configure, switching the image transport), clock faults (sim time jumping back and forward,
stalling) and, at the end, SIGTERM with goals open. Meanwhile a microphone stand-in sends valid audio
on the sim clock, so units are cut and frames decoded. Stamps include ones below zero and past 2^31 s
(what a Time message carries beyond ``int32`` seconds), compressed images include headers claiming more
pixels than ``max_image_pixels`` (a 16 KB PNG of 4096x4096).

Then checked inputs, one kind at a time with only valid audio beside them, each counted by the node on
/diagnostics: raw images whose step and byte count disagree (decode errors, on the worker), frames and
compressed headers over the pixel limit (input errors, on arrival), valid long audio blocks (2-9.9 s,
taken without an error) and one past ``max_audio_message_seconds`` (an input error); the sim clock
running from below zero (audio and frames stamped before 0, /clock messages below zero) and across
2^31 s, with questions asked meanwhile.

It asserts: the process stays alive, ``state`` keeps flowing, every accepted goal ends with a result
(also the ones open at SIGTERM), resident memory stays bounded, and a valid watch still alerts
afterwards. The counts it tried are printed in the test summary (``support.REPORTS``).
Seeded (``OMNI_FUZZ_SEED``, default 16) and sized for about 100 s (at most about 120 s) on two busy cores.
"""

from __future__ import annotations

import io
import math
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
MAX_PIXELS = 2_000_000  # the node's max_image_pixels: a 4096x4096 header is over it, 1024x1024 under
ROUNDS = 6
PER_ROUND = 200  # malformed messages of each kind per round
RSS_GROWTH_MB = 150.0  # bound on resident memory growth over the whole run
SR = 16000
BLOCK = 0.05  # s of audio per valid microphone message
START = 1000.0  # sim time at start: far from 0 (the checked inputs run the clock from below zero later)
INT32 = 2 ** 31 - 1
ENCODINGS = ('rgb8', 'bgr8', 'rgba8', 'bgra8', 'mono8', 'mono16', '8UC1', '8UC3', 'rgb16', 'yuv422', 'uyvy',
             'yuyv', 'bayer_rggb8', '32FC1', '', 'RGB8', 'garbage\x00', 'x' * 300)


def ros_time(seconds: float) -> Any:
    """A Time message for any stamp it can carry, also those the node's mapping refuses: below zero
    (negative ``sec``) and past 2^31 s (``sec`` at its int32 maximum, ``nanosec`` beyond a second)."""
    from builtin_interfaces.msg import Time

    sec = max(-2 ** 31, min(math.floor(seconds), INT32))
    return Time(sec=sec, nanosec=min(round((seconds - sec) * 1e9), 2 ** 32 - 1))


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

    def set(self, seconds: float) -> None:
        with self._lock:
            self.now = seconds

    def _run(self) -> None:
        from rosgraph_msgs.msg import Clock

        from omni_ros_interfaces.msg import AudioChunk

        while not self._stop.is_set():
            with self._lock:
                stamp = self.now
                self.now += BLOCK * self.speed
            self._clock_pub.publish(Clock(clock=ros_time(stamp)))
            if self.audio:
                samples = (0.01 * self._rng.standard_normal(int(SR * BLOCK))).clip(-1, 1)
                msg = AudioChunk(sample_rate=SR, channels=1, encoding='S16LE',
                                 data=(samples * 32767).astype('<i2').tobytes())
                msg.header.stamp = ros_time(stamp)
                self._audio_pub.publish(msg)
            time.sleep(BLOCK)

    def publish_clock(self, msg: Any) -> None:
        self._clock_pub.publish(msg)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def png(width: int, height: int, payload: bytes, colour: int = 2) -> bytes:
    """A PNG with a valid signature and IHDR for ``width`` x ``height`` (8 bits, colour type ``colour``:
    2 rgb, 0 grey), and ``payload`` as its data."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack('>I', len(body)) + kind + body + struct.pack('>I', zlib.crc32(kind + body))
    ihdr = struct.pack('>IIBBBBB', width, height, 8, colour, 0, 0, 0)
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', payload) + chunk(b'IEND', b'')


def jpeg(rng: np.random.Generator) -> bytes:
    from PIL import Image as PilImage

    out = io.BytesIO()
    PilImage.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(out, format='JPEG')
    return out.getvalue()


def with_sof(jpeg_data: bytes, width: int, height: int) -> bytes:
    """The JPEG with its start-of-frame header claiming ``width`` x ``height`` (the scan data unchanged)."""
    i = jpeg_data.index(b'\xff\xc0')
    return jpeg_data[:i + 5] + struct.pack('>HH', height, width) + jpeg_data[i + 9:]


def oversized_compressed(rng: np.random.Generator) -> list[tuple[bytes, str]]:
    """Compressed images whose header claims more pixels than MAX_PIXELS: a real 16 KB grey PNG that
    decodes to 4096x4096 (a decompression bomb), forged PNG headers, JPEGs whose frame header lies."""
    rows = zlib.compress(bytes(4096 * (1 + 4096)), 9)  # every row: filter byte 0, then 4096 black pixels
    good = jpeg(rng)
    return [(png(4096, 4096, rows, colour=0), 'png'),
            (png(4096, 4096, rng.integers(0, 256, 300, dtype=np.uint8).tobytes()), 'png'),
            (png(INT32, INT32, b''), 'png'),
            (with_sof(good, 8192, 8192), 'jpeg'),
            (with_sof(good, 65535, 65535), 'jpeg; bgr8')]


def inconsistent_raw() -> list[Any]:
    """Raw images whose step, size and byte count disagree (each under the pixel limit: refused when
    decoded, on the worker, as decode errors)."""
    from sensor_msgs.msg import Image

    def image(encoding: str, width: int, step: int, size: int, height: int = 48) -> Any:
        return Image(encoding=encoding, width=width, height=height, step=step, data=bytes(size))

    return [image('rgb8', 64, 100, 100 * 48),  # step below a row's 192 bytes
            image('rgb8', 64, 192, 192 * 48 - 1),  # one byte short
            image('rgb8', 64, 192, 192 * 49),  # a whole spare row
            image('rgb8', 64, 2 ** 32 - 1, 192 * 48),  # step at uint32's maximum
            image('rgb8', 64, 0, 192 * 48),
            image('mono16', 64, 127, 127 * 48),  # an odd step under the 128 a row needs
            image('yuv422', 63, 126, 126 * 48),  # 4:2:2 needs an even width
            image('bgra8', 64, 256, 256 * 47)]  # a row short


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
        if self.rng.random() < 0.05:  # below zero, the most negative, the last int32 second, past 2^31 s
            return ros_time(float(self.rng.choice([-0.4, -3.0, -2.0 ** 31, INT32 + 0.9, INT32 + 3.5])))
        offset = float(self.rng.choice([0.0] * 6 + [-0.5, 0.3, -5.0, 8.0, -400.0, 1e6]))
        return ros_time(max(1.0, self.clock.now + offset + self.rng.uniform(-0.1, 0.1)))

    def images(self, n: int) -> None:
        from sensor_msgs.msg import Image

        for _ in range(n):
            encoding = str(self.rng.choice(ENCODINGS))
            width, height = (int(v) for v in self.rng.choice([0, 1, 3, 64, 640, 100000], 2))
            size = int(self.rng.choice([0, 1, 7, 1000, width * height * 3 % 2_000_000, 300_000]))
            msg = Image(encoding=encoding, width=width, height=height, is_bigendian=int(self.rng.integers(0, 2)),
                        step=int(self.rng.choice([0, width, width * 3, 2 ** 31, 2 ** 32 - 1])),
                        data=self.rng.integers(0, 256, size, dtype=np.uint8).tobytes())
            msg.header.stamp = self._stamp()
            self._image.publish(msg)
            self.counts['raw images'] += 1
            time.sleep(0.02)  # a camera's pace, so units pick these frames up and decode them

    def compressed(self, n: int) -> None:
        from sensor_msgs.msg import CompressedImage

        good = jpeg(self.rng)
        oversized = oversized_compressed(self.rng)
        for _ in range(n):
            kind = int(self.rng.integers(0, 6))
            if kind == 0:
                data, fmt = self.rng.integers(0, 256, int(self.rng.integers(0, 5000)), dtype=np.uint8).tobytes(), 'jpeg'
            elif kind == 1:
                data, fmt = good[:int(self.rng.integers(0, len(good)))], 'jpeg'
            elif kind == 2:
                side = int(self.rng.choice([0, 1, 64, 1024]))
                data, fmt = png(side, side, self.rng.integers(0, 256, 200, dtype=np.uint8).tobytes()), 'png'
            elif kind == 5:
                data, fmt = oversized[int(self.rng.integers(0, len(oversized)))]
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


def whole(value: float) -> float | int:
    """A count as an int where it is one (for the summary)."""
    return int(value) if value == int(value) else value


class Checks:
    """Checked inputs: one kind at a time, beside the microphone stand-in's valid audio only, each of
    which must show up in the node's own counts on /diagnostics."""

    def __init__(self, ros_client: Any, fuzz: Fuzzer, clock: SimClock, node: processes.RosProcess,
                 image_topic: str, audio_topic: str) -> None:
        from diagnostic_msgs.msg import DiagnosticArray
        from rclpy.qos import qos_profile_sensor_data
        from sensor_msgs.msg import CompressedImage, Image

        from omni_ros_interfaces.msg import AudioChunk

        self.fuzz, self.clock, self.node, self.counts = fuzz, clock, node, fuzz.counts
        self.latest: dict[str, str] = {}  # the pipeline's values in the newest report
        self.reports = 0
        self.figures: dict[str, Any] = {}  # what the checks measured, for the summary
        self._lock = threading.Lock()
        self._image = ros_client.create_publisher(Image, image_topic, qos_profile_sensor_data)
        self._compressed = ros_client.create_publisher(CompressedImage, f'{image_topic}/compressed',
                                                       qos_profile_sensor_data)
        self._audio = ros_client.create_publisher(AudioChunk, audio_topic, 200)
        ros_client.create_subscription(DiagnosticArray, '/diagnostics', self._report, 10)

    def _report(self, msg: Any) -> None:
        for status in msg.status:
            values = {kv.key: kv.value for kv in status.values}
            if 'input_errors' in values:
                with self._lock:
                    self.latest, self.reports = values, self.reports + 1

    def value(self, key: str) -> float:
        with self._lock:
            return float(self.latest.get(key, 0))

    def settled(self) -> None:
        """Wait for two reports more: what was sent before is counted in the newest."""
        seen = self.reports
        wait_for(lambda: self.reports >= seen + 2 and 'decode_errors' in self.latest, 30,
                 f'/diagnostics from an active node:\n{self.node.output()[-3000:]}')

    def grows(self, key: str, base: float, what: str, text: str = '') -> float:
        """Wait until the node counted ``what`` under ``key`` (above ``base``; with ``text`` in its last
        input error); how many it counted."""
        def counted() -> bool:
            with self._lock:
                return float(self.latest.get(key, 0)) > base and text in self.latest.get('last_input_error', '')
        wait_for(counted, 30, f'{what} counted as {key} (from {base}): {self.latest}\n{self.node.output()[-3000:]}')
        return whole(self.value(key) - base)

    def raw(self, msg: Any, stamp: float) -> None:
        msg.header.stamp = ros_time(stamp)
        self._image.publish(msg)

    def valid_frame(self) -> Any:
        from sensor_msgs.msg import Image

        pixels = self.fuzz.rng.integers(0, 256, 48 * 64 * 3, dtype=np.uint8).tobytes()
        return Image(encoding='rgb8', width=64, height=48, step=192, data=pixels)

    def audio_block(self, start: float, seconds: float) -> None:
        from omni_ros_interfaces.msg import AudioChunk

        samples = (0.01 * self.fuzz.rng.standard_normal(int(SR * seconds))).clip(-1, 1)
        msg = AudioChunk(sample_rate=SR, channels=1, encoding='S16LE', data=(samples * 32767).astype('<i2').tobytes())
        msg.header.stamp = ros_time(start)
        self._audio.publish(msg)

    # -- the checks --------------------------------------------------------------------------------
    def inconsistent_and_oversized_raw(self) -> None:
        """Raw transport: frames whose step and byte count disagree are refused when decoded (decode
        errors); frames over the pixel limit on arrival (input errors)."""
        from sensor_msgs.msg import Image

        self.settled()
        decode_base, input_base = self.value('decode_errors'), self.value('input_errors')
        frames = inconsistent_raw()
        for i in range(40):  # 2 s at 20 Hz: units pick these frames and the worker decodes them
            self.raw(frames[i % len(frames)], self.clock.now)
            self.counts['inconsistent raw images'] += 1
            time.sleep(0.05)
        self.figures['decode errors (inconsistent raw)'] = self.grows('decode_errors', decode_base,
                                                                       'raw images with inconsistent step/size')
        for _ in range(5):
            self.raw(Image(encoding='rgb8', width=4096, height=4096, step=4096 * 3, data=bytes(1000)), self.clock.now)
            self.counts['raw images over max_image_pixels'] += 1
            time.sleep(0.05)
        self.figures['input errors (raw over the pixel limit)'] = self.grows(
            'input_errors', input_base, 'raw images over max_image_pixels', 'max_pixels')

    def oversized_compressed(self) -> None:
        """Compressed transport: headers claiming more than max_image_pixels are refused on arrival."""
        from sensor_msgs.msg import CompressedImage

        self.settled()
        base = self.value('input_errors')
        for _ in range(3):
            for data, fmt in oversized_compressed(self.fuzz.rng):
                msg = CompressedImage(format=fmt, data=data)
                msg.header.stamp = ros_time(self.clock.now)
                self._compressed.publish(msg)
                self.counts['compressed images over max_image_pixels'] += 1
                time.sleep(0.05)
        self.figures['input errors (compressed headers over the pixel limit)'] = self.grows(
            'input_errors', base, 'compressed headers over max_image_pixels', 'from its header')

    def long_audio(self) -> None:
        """Valid long blocks (2-9.9 s, each published once its last sample is captured) are taken without
        an error; one past max_audio_message_seconds is refused from its byte count, an input error."""
        self.settled()
        kept = ('chunks_processed', 'chunks_skipped', 'stream_resets', 'audio_gaps_filled_s')
        base = {k: self.value(k) for k in ('input_errors', *kept)}
        self.clock.audio, self.clock.speed = False, 3.0  # only the long blocks now, on a faster clock
        start = self.clock.now
        for seconds in (2.0, 5.0, 9.9):
            end = start + seconds
            wait_for(lambda end=end: self.clock.now >= end, 30, 'the sim clock')
            self.audio_block(start, seconds)
            self.counts['valid long audio blocks'] += 1
            start = end
        wait_for(lambda: self.value('chunks_processed') >= base['chunks_processed'] + 10, 60,
                 f'units from 16.9 s of long audio blocks: {self.latest}\n{self.node.output()[-3000:]}')
        self.clock.speed = 1.0
        self.settled()
        assert self.value('input_errors') == base['input_errors'], (
            f'valid long audio blocks were refused: {self.latest}')
        # Not asserted: a block longer than the recent ones arrives after units were cut (the wait
        # follows the longest recent block), so its head is lost or, past jump_threshold, resets the stream.
        self.figures['long audio: units processed, skipped, stream resets, s of gaps filled'] = tuple(
            whole(round(self.value(k) - base[k], 1)) for k in kept)
        for _ in range(2):  # past max_audio_message_seconds (10 s)
            self.audio_block(self.clock.now - 12.0, 12.0)
            self.counts['audio blocks over max_audio_message_seconds'] += 1
            time.sleep(0.3)
        self.clock.audio = True
        self.figures['input errors (audio over max_audio_message_seconds)'] = self.grows(
            'input_errors', base['input_errors'], 'audio blocks over max_audio_message_seconds',
            'max_audio_message_seconds')

    def clock_run(self, start: float, seconds: float, what: str, asks: Any, accepted: list[Any]) -> None:
        """The sim clock (and the microphone on it) from ``start`` for ``seconds``, with valid frames on
        it and a few questions meanwhile (each must end with a result)."""
        from omni_ros.ros import mapping
        from omni_ros_interfaces.action import Ask

        self.clock.set(start)
        questions = send_goals(asks, [Ask.Goal(question='which floor', timeout=mapping.duration_to_msg(3.0))
                                      for _ in range(5)])
        accepted.extend(h.get_result_async() for h in questions if h.accepted)
        self.counts[f'Ask goals sent ({what})'] += 5
        for _ in range(round(seconds * 10)):
            self.raw(self.valid_frame(), self.clock.now)
            self.counts[f'valid frames stamped {what}'] += 1
            time.sleep(0.1)

    def below_zero(self, asks: Any, accepted: list[Any]) -> None:
        """Sim time from below zero: /clock, audio and frames stamped before 0. rclpy's time source
        raises on a /clock below zero: counted as an output error, and the node goes on."""
        from rosgraph_msgs.msg import Clock

        self.settled()
        base = self.value('output_errors')
        for stamp in (-1.0, -2.0 ** 31, -0.5):
            self.clock.publish_clock(Clock(clock=ros_time(stamp)))
            self.counts['/clock messages below zero'] += 1
        self.clock_run(-0.6, 3.0, 'below zero', asks, accepted)
        self.figures['output errors (/clock below zero)'] = self.grows(
            'output_errors', base, '/clock messages below zero')

    def past_2038(self, asks: Any, accepted: list[Any], states: list[float]) -> None:
        """Sim time across 2^31 s (int32 seconds), audio and frames stamped past it: the node keeps
        reporting state (its stamps clamped to the last one a Time message holds)."""
        seen = len(states)
        self.clock_run(INT32 - 2.0, 4.0, 'across 2^31 s', asks, accepted)
        wait_for(lambda: len(states) > seen + 3, 30, f'state past 2^31 s:\n{self.node.output()[-3000:]}')


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
        'use_sim_time': True, 'backend': 'scripted', 'default_cooldown': 0.5, 'ask_timeout': 30.0,
        'max_image_pixels': MAX_PIXELS},
        remaps={'image': image_topic, 'image/compressed': f'{image_topic}/compressed', 'audio': audio_topic})
    clock = SimClock(ros_client, audio_topic)
    fuzz = Fuzzer(ros_client, clock, image_topic, audio_topic)
    checks = Checks(ros_client, fuzz, clock, node, image_topic, audio_topic)
    states: list[float] = []
    events: list[Any] = []
    ros_client.create_subscription(OmniState, 'state', lambda m: states.append(time.monotonic()), 10)
    ros_client.create_subscription(ProactiveEvent, 'events', events.append, 100)
    errors: dict[str, int] = {}  # the node's own counts of bad input (largest seen; cleanup resets them)
    ros_client.create_subscription(DiagnosticArray, '/diagnostics', lambda m: errors.update(
        {kv.key: max(int(kv.value), errors.get(kv.key, 0)) for s in m.status for kv in s.values
         if kv.key in ('input_errors', 'decode_errors', 'output_errors', 'chunks_processed')}), 10)
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

        transport = 'raw'

        def switch_transport(to: str) -> None:
            """Deactivate, cleanup, set image_transport, configure, activate (goals open meanwhile end)."""
            nonlocal transport
            assert change_state(ros_client, Transition.TRANSITION_DEACTIVATE)
            assert change_state(ros_client, Transition.TRANSITION_CLEANUP)
            assert all(r.successful for r in set_parameters(ros_client, {'image_transport': to}))
            assert change_state(ros_client, Transition.TRANSITION_CONFIGURE)
            assert change_state(ros_client, Transition.TRANSITION_ACTIVATE)
            counts['cleanup/configure'] += 1
            transport = to

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
            switch_transport('raw' if compressed else 'compressed')
            assert node.running(), node.output()

        # Checked inputs, each counted by the node; the clock from below zero and across 2^31 s.
        if transport != 'raw':
            switch_transport('raw')
        checks.inconsistent_and_oversized_raw()
        checks.below_zero(asks, accepted)
        checks.past_2038(asks, accepted, states)
        clock.set(3 * START)  # back to an ordinary clock (a new stream)
        checks.long_audio()
        switch_transport('compressed')
        checks.oversized_compressed()
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
                   f'{errors}; checked inputs: {checks.figures}')
        REPORTS.append(summary)
        print(summary)
    finally:
        clock.stop()
        node.stop()
