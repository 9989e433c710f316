"""omni_replay in its own process, observed from this process through DDS."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from support import wait_for

from omni_ros.scenario import load_scenario, write_bag
from omni_ros.ros import replay

START_NS = 1_700_000_000 * 10**9
DURATION = 1.5  # 15 frames, 30 audio blocks: enough to see pacing, short enough to stay fast


@pytest.fixture(scope='module')
def bag(tmp_path_factory) -> Path:
    scn = dataclasses.replace(load_scenario('crossing'), duration=DURATION)
    return write_bag(scn, tmp_path_factory.mktemp('bags'))


def stamp_ns(stamp) -> int:
    return stamp.sec * 10**9 + stamp.nanosec


class Recorder:
    """(monotonic arrival time, stamp ns) per topic, filled by the ros_client executor threads."""

    def __init__(self, node, *, audio_topic: str = '/audio', best_effort: bool = False) -> None:
        from rclpy.qos import QoSProfile, qos_profile_sensor_data
        from rosgraph_msgs.msg import Clock
        from sensor_msgs.msg import Image

        from omni_ros_interfaces.msg import AudioChunk

        self.lock = threading.Lock()
        self.images: list[tuple[float, int]] = []
        self.audio: list[tuple[float, int]] = []
        self.clock: list[tuple[float, int]] = []
        # omni_node subscribes with sensor-data QoS (best effort); reliable checks nothing is lost.
        qos = qos_profile_sensor_data if best_effort else QoSProfile(depth=200)
        self.subs = [
            node.create_subscription(Image, '/camera/image_raw', lambda m: self._add(self.images, m.header.stamp), qos),
            node.create_subscription(AudioChunk, audio_topic, lambda m: self._add(self.audio, m.header.stamp), qos),
            node.create_subscription(Clock, '/clock', lambda m: self._add(self.clock, m.clock), QoSProfile(depth=500)),
        ]

    def _add(self, into: list, stamp) -> None:
        with self.lock:
            into.append((time.monotonic(), stamp_ns(stamp)))

    def stamps(self, which: str) -> list[int]:
        with self.lock:
            return [ns for _, ns in getattr(self, which)]


def start_replay(bag: Path, log_dir: Path, *args: str) -> tuple[subprocess.Popen, Path]:
    log = log_dir / 'replay.log'
    with open(log, 'w') as out:
        proc = subprocess.Popen([sys.executable, '-m', 'omni_ros.ros.replay', str(bag), *args],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=dict(os.environ))
    return proc, log


def finish(proc: subprocess.Popen, timeout: float = 20.0) -> int:
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


@pytest.mark.dds
def test_replay_publishes_the_bag_with_its_clock(bag, ros_client, log_dir):
    rec = Recorder(ros_client, audio_topic='/mic')
    rate, tail = 3.0, 0.5
    proc, log = start_replay(bag, log_dir, '--rate', str(rate), '--remap', '/audio:=/mic',
                             '--wait-for-subscribers', '15', '--tail', str(tail))
    code = finish(proc)
    assert code == 0, log.read_text()
    last_ns = START_NS + int((DURATION - 0.05) * 1e9)  # the last audio block
    wait_for(lambda: rec.clock and rec.clock[-1][1] == last_ns + int(tail * 1e9), 5, 'the final /clock')

    # Every message, in order, with the bag's stamps (and audio under its remapped name).
    assert rec.stamps('images') == [START_NS + k * 100_000_000 for k in range(15)]
    assert rec.stamps('audio') == [START_NS + i * 50_000_000 for i in range(30)]
    # Bag-time pace scaled by the rate: 1.4 s of frames in about 1.4 / 3 s.
    span = rec.images[-1][0] - rec.images[0][0]
    assert 0.3 < span < 1.2, span
    # /clock starts at the first stamp, never goes back, and runs on for the tail.
    clock = rec.stamps('clock')
    assert clock[0] == START_NS and clock == sorted(clock)
    assert len(clock) > 20
    assert 'published 45 messages in 1 complete pass' in log.read_text()


@pytest.mark.dds
def test_loop_jumps_the_clock_back_and_stops_cleanly(bag, ros_client, log_dir):
    rec = Recorder(ros_client, best_effort=True)
    proc, log = start_replay(bag, log_dir, '--rate', '4', '--loop', '--tail', '0.2', '--wait-for-subscribers', '15')
    try:
        def jumped_back() -> bool:
            clock = rec.stamps('clock')
            return any(b < a for a, b in zip(clock, clock[1:]))

        wait_for(jumped_back, 20, f'/clock to go back when the bag loops:\n{log.read_text()}')
        # Let the second pass publish frames too.
        wait_for(lambda: rec.stamps('images').count(START_NS + 500_000_000) >= 2, 10, 'frames of the second pass')
    finally:
        proc.send_signal(signal.SIGTERM)
        code = finish(proc, 10)
    assert code == 0, log.read_text()
    clock = rec.stamps('clock')
    back = next(i for i in range(1, len(clock)) if clock[i] < clock[i - 1])
    assert clock[back] == START_NS  # the second pass starts at the bag's first stamp again
    assert clock[back - 1] >= START_NS + int(1.45e9)
    # Best effort, like a camera subscriber: whole 900 KiB frames get through (Fast DDS' default
    # shared-memory segment would drop nearly all of them; omni_replay enlarges it).
    images = rec.stamps('images')
    restart = next((i for i in range(1, len(images)) if images[i] < images[i - 1]), len(images))
    first_pass = [(ns - START_NS) // 1_000_000 for ns in images[:restart]]
    assert len(first_pass) >= 12, f'frames of the first pass (ms): {first_pass}'
    assert 'loop 1 done' in log.read_text()


@pytest.mark.dds
def test_sigint_while_waiting_for_subscribers_exits_cleanly(bag, log_dir):
    proc, log = start_replay(bag, log_dir, '--remap', '/camera/image_raw:=/nobody_listens', '/audio:=/nor_here',
                             '--wait-for-subscribers', '60')
    wait_for(lambda: 'waiting up to 60 s for subscribers' in log.read_text(), 15, 'the replay to start waiting')
    assert proc.poll() is None, log.read_text()
    proc.send_signal(signal.SIGINT)
    assert finish(proc, 10) == 0, log.read_text()
    assert 'published 0 messages' in log.read_text()


def test_bad_bag_or_topics_fail_with_a_message(bag, tmp_path, capsys):
    assert replay.main([str(tmp_path / 'missing')]) == 2
    assert 'does not exist' in capsys.readouterr().err
    assert replay.main([str(bag), '--topics', '/nope']) == 2
    assert 'not in' in (err := capsys.readouterr().err) and '/camera/image_raw' in err
    assert replay.main([str(bag), '--remap', '/other:=/x']) == 2
    assert 'not replayed' in capsys.readouterr().err
    for bad in (['--rate', '0'], ['--clock-hz', '-1'], ['--tail', 'nan'], ['--remap', 'nocolon']):
        with pytest.raises(SystemExit) as exc:
            replay.parse_args([str(bag), *bad])
        assert exc.value.code == 2


def test_options_and_bag_source(bag):
    opts = replay.parse_args([str(bag), '--rate', '2', '--loop', '--no-clock', '--remap', '/audio:=/mic',
                              '--topics', '/audio', '--tail', '1'])
    assert (opts.rate, opts.loop, opts.clock, opts.remaps, opts.topics, opts.tail) == (
        2.0, True, False, {'/audio': '/mic'}, ('/audio',), 1.0)
    source = replay.BagSource(bag, opts.topics, opts.remaps)
    assert source.topics == [replay.Topic('/audio', '/mic', 'omni_ros_interfaces/msg/AudioChunk')]
    assert source.first_stamp() == START_NS == source.start_ns
    assert source.largest_message() == 1656  # one 800-sample block plus header and turn id
    assert all(isinstance(raw, bytes) for _, _, raw in source.messages())
    assert replay.message_class('sensor_msgs/msg/Image').__name__ == 'Image'
    with pytest.raises(replay.ReplayError, match='cannot import'):
        replay.message_class('no_such_pkg/msg/Thing')


def test_shm_profile_only_when_nobody_chose_one(tmp_path, monkeypatch):
    frame = 640 * 480 * 3 + 52
    assert replay.shm_segment_bytes(frame, None) == 16 * frame
    assert replay.shm_segment_bytes(1000, None) == 8 << 20
    assert replay.shm_segment_bytes(frame, 0) == 0
    monkeypatch.delenv('FASTDDS_DEFAULT_PROFILES_FILE', raising=False)
    monkeypatch.delenv('FASTRTPS_DEFAULT_PROFILES_FILE', raising=False)
    monkeypatch.setenv('RMW_IMPLEMENTATION', 'rmw_cyclonedds_cpp')
    assert replay.use_fastdds_profile(1 << 24, tmp_path) is None
    monkeypatch.delenv('RMW_IMPLEMENTATION')
    path = replay.use_fastdds_profile(1 << 24, tmp_path)
    assert path is not None and os.environ['FASTDDS_DEFAULT_PROFILES_FILE'] == str(path)
    assert '<segment_size>16777216</segment_size>' in path.read_text()
    monkeypatch.setenv('FASTDDS_DEFAULT_PROFILES_FILE', '/users/own.xml')
    assert replay.use_fastdds_profile(1 << 24, tmp_path) is None
