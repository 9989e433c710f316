"""omni_replay: play a rosbag2 bag (MCAP or sqlite3) into ROS 2 with a /clock, without rosbag2.

Reads the bag with rosbags and publishes each message's serialized bytes unchanged at bag-time pace
(scaled by --rate), plus rosgraph_msgs/msg/Clock on /clock following bag time, so nodes with
use_sim_time see the recording's clock. Machines with a full ROS install can use
``ros2 bag play --clock`` instead; this exists for pip-only installs and tests.

    omni_replay BAG [--rate 1.0] [--loop] [--clock/--no-clock] [--clock-hz 100]
                    [--remap /from:=/to ...] [--topics /a /b ...] [--wait-for-subscribers SECONDS]
                    [--tail SECONDS] [--ros-args ...]
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Generator, Iterator, Sequence

NS = 1_000_000_000
QOS_DEPTH = 50  # reliable with some depth: a briefly slow subscriber still gets every frame
SETTLE_SECONDS = 0.5  # after subscribers appear, for discovery to complete on their side too


class ReplayError(Exception):
    """The bag cannot be replayed as asked; the message says what to change."""


@dataclass(frozen=True)
class ReplayOptions:
    bag: Path
    rate: float = 1.0
    loop: bool = False
    clock: bool = True
    clock_hz: float = 100.0
    remaps: dict[str, str] = field(default_factory=dict)
    topics: tuple[str, ...] = ()  # empty: every topic in the bag
    wait_for_subscribers: float = 0.0  # seconds; 0: start at once
    tail: float = 2.0  # seconds of bag time the clock keeps ticking after the last message
    shm_segment_mb: float | None = None  # Fast DDS shared-memory segment; None: sized from the bag, 0: leave as is


@dataclass(frozen=True)
class Topic:
    name: str  # in the bag
    out: str  # published as (after --remap)
    msgtype: str  # e.g. sensor_msgs/msg/Image


class BagSource:
    """The selected topics of a bag, read with rosbags; messages as (topic, bag time ns, bytes)."""

    def __init__(self, path: Path, topics: Sequence[str] = (), remaps: dict[str, str] | None = None) -> None:
        from rosbags.rosbag2 import Reader

        if not path.exists():
            raise ReplayError(f'bag {path} does not exist')
        self.path = path
        self._reader_cls = Reader
        with Reader(path) as reader:
            available = {c.topic: c.msgtype for c in reader.connections}
            self.start_ns = reader.start_time
            self.end_ns = reader.end_time - 1  # rosbags' end_time is one past the last message
        missing = [t for t in topics if t not in available]
        if missing:
            raise ReplayError(f"topic(s) {', '.join(missing)} not in {path}; it has: {', '.join(sorted(available))}")
        chosen = list(topics) if topics else sorted(available)
        remaps = remaps or {}
        unknown = sorted(set(remaps) - set(chosen))
        if unknown:
            raise ReplayError(f"--remap names topic(s) {', '.join(unknown)} that are not replayed; "
                              f"replayed: {', '.join(chosen)}")
        self.topics = [Topic(t, remaps.get(t, t), available[t]) for t in chosen]
        if not self.topics:
            raise ReplayError(f'{path} holds no messages')

    def messages(self) -> Generator[tuple[str, int, bytes], None, None]:
        names = {t.name for t in self.topics}
        with self._reader_cls(self.path) as reader:
            connections = [c for c in reader.connections if c.topic in names]
            for connection, ns, raw in reader.messages(connections=connections):
                yield connection.topic, ns, raw if isinstance(raw, bytes) else bytes(raw)

    def largest_message(self) -> int:
        """Bytes of the largest first message over the selected topics (a camera's frames are all alike)."""
        names = {t.name for t in self.topics}
        largest = 0
        with self._reader_cls(self.path) as reader:
            for connection in reader.connections:
                if connection.topic in names:
                    for _, _, raw in reader.messages(connections=[connection]):
                        largest = max(largest, len(raw))
                        break
        return largest

    def first_stamp(self) -> int:
        for _, ns, _ in self.messages():
            return ns
        raise ReplayError(f'{self.path} holds no messages on the selected topics')


def message_class(msgtype: str) -> Any:
    """The generated Python class for 'pkg/msg/Type' (publishers need the type, not only bytes)."""
    package, _, name = msgtype.rpartition('/')
    module_name = package.replace('/', '.')
    try:
        return getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError) as exc:
        raise ReplayError(
            f'cannot import {module_name}.{name} for {msgtype}: install or source the package that '
            f'provides it, or leave its topic out with --topics') from exc


FASTDDS_PROFILE = '''<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by omni_replay: a shared-memory segment large enough for whole camera frames. -->
<dds xmlns="http://www.eprosima.com">
  <profiles>
    <transport_descriptors>
      <transport_descriptor>
        <transport_id>omni_replay_shm</transport_id>
        <type>SHM</type>
        <segment_size>{segment}</segment_size>
      </transport_descriptor>
      <transport_descriptor>
        <transport_id>omni_replay_udp</transport_id>
        <type>UDPv4</type>
      </transport_descriptor>
    </transport_descriptors>
    <participant profile_name="omni_replay" is_default_profile="true">
      <rtps>
        <userTransports>
          <transport_id>omni_replay_shm</transport_id>
          <transport_id>omni_replay_udp</transport_id>
        </userTransports>
        <useBuiltinTransports>false</useBuiltinTransports>
      </rtps>
    </participant>
  </profiles>
</dds>
'''


def shm_segment_bytes(largest_message: int, requested_mb: float | None) -> int:
    """Shared-memory segment for the replay's participant; 0 leaves Fast DDS' default.

    Fast DDS' default segment (512 KiB) cannot hold a 640x480 rgb8 frame (900 KiB). Such samples then
    go over the network transports, where a best-effort subscriber (camera QoS) loses nearly all of
    them and a reliable one stalls every other topic for seconds (measured here). Room for 16 messages
    in flight keeps them on shared memory.
    """
    if requested_mb is not None:
        return int(requested_mb * 1024 * 1024)
    return min(max(16 * largest_message, 8 << 20), 512 << 20)


def use_fastdds_profile(segment: int, directory: Path) -> Path | None:
    """Point Fast DDS at a profile with a ``segment``-byte SHM segment, unless the user chose a profile
    or another middleware. Must run before rclpy.init (the participant reads it when created)."""
    rmw = os.environ.get('RMW_IMPLEMENTATION', 'rmw_fastrtps_cpp')
    if segment <= 0 or not rmw.startswith('rmw_fastrtps'):
        return None
    if os.environ.get('FASTDDS_DEFAULT_PROFILES_FILE') or os.environ.get('FASTRTPS_DEFAULT_PROFILES_FILE'):
        return None
    path = directory / 'omni_replay_fastdds.xml'
    path.write_text(FASTDDS_PROFILE.format(segment=segment), encoding='utf-8')
    os.environ['FASTDDS_DEFAULT_PROFILES_FILE'] = str(path)
    return path


def parse_remap(text: str) -> tuple[str, str]:
    src, sep, dst = text.partition(':=')
    if not sep or not src or not dst:
        raise argparse.ArgumentTypeError(f'remap {text!r} must look like /from:=/to')
    return src, dst


def parse_args(argv: Sequence[str]) -> ReplayOptions:
    parser = argparse.ArgumentParser(
        prog='omni_replay',
        description='Play a rosbag2 bag (MCAP or sqlite3) with a /clock. '
                    'With a full ROS install, `ros2 bag play --clock` does the same.')
    parser.add_argument('bag', type=Path, help='bag directory (or its .mcap / .db3 file)')
    parser.add_argument('--rate', type=float, default=1.0, help='playback speed factor (default 1.0)')
    parser.add_argument('--loop', action='store_true',
                        help='start over at the end (the clock jumps back: a time jump downstream)')
    parser.add_argument('--clock', action=argparse.BooleanOptionalAction, default=True,
                        help='publish /clock following bag time (default on)')
    parser.add_argument('--clock-hz', type=float, default=100.0, help='/clock messages per wall second')
    parser.add_argument('--remap', type=parse_remap, nargs='+', action='extend', default=[],
                        metavar='/FROM:=/TO', help='publish a bag topic under another name')
    parser.add_argument('--topics', nargs='+', action='extend', default=[], metavar='TOPIC',
                        help='replay only these topics (default: all)')
    parser.add_argument('--wait-for-subscribers', type=float, default=0.0, metavar='SECONDS',
                        help='before starting, wait up to this long until every topic has a subscriber')
    parser.add_argument('--tail', type=float, default=2.0, metavar='SECONDS',
                        help='keep the clock running this long (bag time) after the last message')
    parser.add_argument('--shm-segment-mb', type=float, default=None, metavar='MB',
                        help='Fast DDS shared-memory segment for large frames (default: sized from the '
                             'bag; 0: Fast DDS defaults). Ignored when FASTDDS_DEFAULT_PROFILES_FILE is set')
    args = parser.parse_args(argv)
    if args.shm_segment_mb is not None and (not math.isfinite(args.shm_segment_mb) or args.shm_segment_mb < 0):
        parser.error(f'--shm-segment-mb must be 0 or more, got {args.shm_segment_mb}')
    for name in ('rate', 'clock_hz'):
        value = getattr(args, name)
        if not math.isfinite(value) or value <= 0:
            parser.error(f"--{name.replace('_', '-')} must be greater than 0, got {value}")
    for name in ('wait_for_subscribers', 'tail'):
        value = getattr(args, name)
        if not math.isfinite(value) or value < 0:
            parser.error(f"--{name.replace('_', '-')} must be 0 or more, got {value}")
    return ReplayOptions(
        bag=args.bag, rate=args.rate, loop=args.loop, clock=args.clock, clock_hz=args.clock_hz,
        remaps=dict(args.remap), topics=tuple(args.topics),
        wait_for_subscribers=args.wait_for_subscribers, tail=args.tail, shm_segment_mb=args.shm_segment_mb)


class Player:
    """Publishes a BagSource through an rclpy node; ``stop`` ends playback from any thread."""

    def __init__(self, node: Any, source: BagSource, options: ReplayOptions, stop: threading.Event) -> None:
        from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

        self.node = node
        self.source = source
        self.options = options
        self.stop = stop
        self.log = node.get_logger()
        # Reliable reaches both reliable and best-effort subscribers; volatile so late joiners don't
        # get stale frames.
        qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=QOS_DEPTH,
                         reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.VOLATILE)
        self.publishers = {t.name: node.create_publisher(message_class(t.msgtype), t.out, qos)
                           for t in source.topics}
        self.clock_pub = None
        if options.clock:
            from rosgraph_msgs.msg import Clock

            self._clock_cls = Clock
            self.clock_pub = node.create_publisher(Clock, '/clock', QoSProfile(
                depth=10, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.VOLATILE))
        self.published = 0

    def wait_for_subscribers(self) -> None:
        timeout = self.options.wait_for_subscribers
        if timeout <= 0:
            return
        deadline = time.monotonic() + timeout
        self.log.info(f"waiting up to {timeout:g} s for subscribers on {', '.join(t.out for t in self.source.topics)}")
        while not self.stop.is_set():
            lonely = [t.out for t in self.source.topics if self.publishers[t.name].get_subscription_count() == 0]
            if not lonely:
                # The publisher has matched every reader, but a reader may not have matched the
                # publisher yet: best-effort samples sent in between are dropped. Give it a moment.
                self.stop.wait(SETTLE_SECONDS)
                return
            if time.monotonic() >= deadline:
                self.log.warning(f"no subscriber after {timeout:g} s on {', '.join(lonely)}; starting anyway")
                return
            self.stop.wait(0.02)

    def _publish_clock(self, ns: int) -> None:
        if self.clock_pub is None:
            return
        msg = self._clock_cls()
        msg.clock.sec, msg.clock.nanosec = divmod(ns, NS)
        self.clock_pub.publish(msg)

    def play_once(self, first_ns: int) -> bool:
        """One pass over the bag; False when stopped early."""
        rate = self.options.rate
        tail_ns = int(self.options.tail * NS) if self.clock_pub is not None else 0
        end_ns = max(self.source.end_ns, first_ns) + tail_ns
        period = 1.0 / self.options.clock_hz
        wall0 = time.monotonic()

        def wall_at(ns: int) -> float:
            return wall0 + (ns - first_ns) / NS / rate

        def bag_now() -> int:
            return first_ns + int((time.monotonic() - wall0) * rate * NS)

        self._publish_clock(first_ns)
        next_tick = wall0 + period
        messages = self.source.messages()
        try:
            return self._play(messages, wall_at, bag_now, end_ns, next_tick, period)
        finally:
            messages.close()  # closes the bag file now, also when stopped early

    def _play(self, messages: Iterator[tuple[str, int, bytes]], wall_at: Callable[[int], float],
              bag_now: Callable[[], int], end_ns: int, next_tick: float, period: float) -> bool:
        pending = next(messages, None)
        while True:
            if pending is None and (self.clock_pub is None or bag_now() >= end_ns):
                self._publish_clock(end_ns)
                return True
            due_msg = wall_at(pending[1]) if pending is not None else math.inf
            due_tick = next_tick if self.clock_pub is not None else math.inf
            wait = min(due_msg, due_tick, wall_at(end_ns)) - time.monotonic()
            if wait > 0 and self.stop.wait(wait):
                return False
            if self.stop.is_set():
                return False
            now = time.monotonic()
            if pending is not None and now >= due_msg:
                topic, _, raw = pending
                self.publishers[topic].publish(raw)
                self.published += 1
                pending = next(messages, None)
            elif now >= due_tick:
                self._publish_clock(min(bag_now(), end_ns))
                # After a stall, resume the cadence rather than sending a burst of stale ticks.
                next_tick = max(next_tick + period, now)

    def run(self) -> None:
        first_ns = self.source.first_stamp()
        self.wait_for_subscribers()
        passes = 0
        while not self.stop.is_set():
            if not self.play_once(first_ns):
                break
            passes += 1
            if not self.options.loop:
                break
            self.log.info(f'loop {passes} done; starting over (the clock jumps back)')
        self.log.info(f'published {self.published} messages in {passes} complete pass(es)')


def main(argv: Sequence[str] | None = None) -> int:
    import rclpy

    from omni_ros.ros.spin import initialized

    argv = list(sys.argv[1:] if argv is None else argv)
    # Split by hand: rcl would take our own '--remap /a:=/b' values for (deprecated) global remaps.
    split = argv.index('--ros-args') if '--ros-args' in argv else len(argv)
    options = parse_args(argv[:split])
    ros_argv = [sys.argv[0] if sys.argv else 'omni_replay', *argv[split:]]
    try:
        source = BagSource(options.bag, options.topics, options.remaps)
    except ReplayError as exc:
        print(f'omni_replay: {exc}', file=sys.stderr)
        return 2
    stop = threading.Event()
    scratch = tempfile.TemporaryDirectory(prefix='omni_replay_')
    use_fastdds_profile(shm_segment_bytes(source.largest_message(), options.shm_segment_mb), Path(scratch.name))

    def on_signal(signum: int, _frame: Any) -> None:
        stop.set()

    # Our own handlers: rclpy's would invalidate the context while we may be publishing. Nothing
    # spins here (publishing needs no executor), so setting the event is a complete shutdown request.
    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with initialized(ros_argv, ros_signal_handlers=False):
            node = rclpy.create_node('omni_replay')
            try:
                Player(node, source, options, stop).run()
            except ReplayError as exc:
                print(f'omni_replay: {exc}', file=sys.stderr)
                return 2
            finally:
                node.destroy_node()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        scratch.cleanup()
    return 0


if __name__ == '__main__':
    sys.exit(main())
