"""CPU cost of ingesting camera + microphone input: the node's strategy against a naive baseline.

Input: ``--seconds`` of a 1920x1080 rgb8 camera at 30 fps (serialized sensor_msgs/Image, as a
``raw=True`` subscription hands them over) and 16 kHz S16LE audio in 100 ms AudioChunk-sized blocks.

(a) node: read only the header stamp of every frame (cdr.peek_stamp); parse and decode to RGB only the
    one frame per second the synchronizer uses; decode and resample all audio.
(b) baseline: rclpy.serialization.deserialize_message every frame and convert each to an RGB array;
    the same audio work.

CPU time is time.process_time (all threads of this process); the median of ``--reps`` runs is printed
as CPU milliseconds per second of input. Run: ``python -m omni_ros.tools.bench_ingest``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from omni_ros.ingest import audio, cdr, imaging


@dataclass(frozen=True)
class Workload:
    seconds: float
    frames: list[bytes]  # serialized sensor_msgs/Image, in stamp order
    audio_blocks: list[bytes]  # S16LE mono
    audio_rate: int
    model_rate: int


def make_frames(seconds: float, fps: float, width: int, height: int, encoding: str = 'rgb8',
                start: float = 1000.0) -> list[bytes]:
    """Serialized Image messages with distinct stamps; serialized once, up front."""
    from rclpy.serialization import serialize_message
    from sensor_msgs.msg import Image

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8).tobytes()
    frames = []
    for i in range(int(round(seconds * fps))):
        stamp = start + i / fps
        msg = Image(height=height, width=width, encoding=encoding, is_bigendian=0, step=width * 3, data=pixels)
        msg.header.stamp.sec = int(stamp)
        msg.header.stamp.nanosec = int(round((stamp - int(stamp)) * 1e9))
        msg.header.frame_id = 'camera_optical_frame'
        frames.append(serialize_message(msg))
    return frames


def make_audio_blocks(seconds: float, rate: int, block_seconds: float = 0.1) -> list[bytes]:
    t = np.arange(int(round(seconds * rate))) / rate
    samples = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * np.random.default_rng(1).standard_normal(t.size)
    data = audio.encode_audio(samples, 'S16LE')
    step = int(round(block_seconds * rate)) * 2
    return [data[i:i + step] for i in range(0, len(data), step)]


def ingest_audio(work: Workload) -> int:
    """Decode and resample every block, as the node does for each AudioChunk; returns samples out."""
    resampler = audio.StreamResampler(work.audio_rate, work.model_rate)
    produced = 0
    for block in work.audio_blocks:
        produced += resampler.process(audio.decode_audio('S16LE', work.audio_rate, 1, block)).size
    return produced


def ingest_node_strategy(work: Workload, frames_per_second: float = 1.0) -> int:
    """(a): stamp of every frame, full parse + decode only of the frames that will be used."""
    used = 0
    next_pick = -float('inf')
    for raw in work.frames:
        stamp = cdr.peek_stamp(raw)
        if stamp >= next_pick:
            img = cdr.parse_image(raw)
            imaging.decode_image(img.encoding, img.height, img.width, img.step, img.data, img.is_bigendian)
            next_pick = stamp + 1.0 / frames_per_second - 1e-6
            used += 1
    ingest_audio(work)
    return used


def ingest_baseline(work: Workload) -> int:
    """(b): deserialize every frame into a Python message and convert each one to RGB."""
    from rclpy.serialization import deserialize_message
    from sensor_msgs.msg import Image

    for raw in work.frames:
        msg = deserialize_message(raw, Image)
        imaging.decode_image(msg.encoding, msg.height, msg.width, msg.step, msg.data, bool(msg.is_bigendian))
    ingest_audio(work)
    return len(work.frames)


def cpu_ms(fn: Callable[[Workload], object], work: Workload, reps: int) -> list[float]:
    """CPU milliseconds per second of input, one value per repetition."""
    fn(work)  # warm-up: imports, first-touch allocations
    out = []
    for _ in range(reps):
        start = time.process_time()
        fn(work)
        out.append((time.process_time() - start) * 1000.0 / work.seconds)
    return out


def _per_frame_us(fn: Callable[[bytes], object], frames: Sequence[bytes], reps: int = 3) -> float:
    start = time.process_time()
    for _ in range(reps):
        for raw in frames:
            fn(raw)
    return (time.process_time() - start) * 1e6 / (reps * len(frames))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--seconds', type=float, default=1.0, help='seconds of input per repetition')
    parser.add_argument('--reps', type=int, default=5)
    parser.add_argument('--fps', type=float, default=30.0)
    parser.add_argument('--width', type=int, default=1920)
    parser.add_argument('--height', type=int, default=1080)
    parser.add_argument('--encoding', choices=['rgb8', 'bgr8'], default='rgb8')
    parser.add_argument('--audio-rate', type=int, default=16000, help='microphone rate (Hz)')
    parser.add_argument('--model-rate', type=int, default=16000, help='rate the backend wants (Hz)')
    args = parser.parse_args(argv)

    setup_start = time.perf_counter()
    work = Workload(args.seconds, make_frames(args.seconds, args.fps, args.width, args.height, args.encoding),
                    make_audio_blocks(args.seconds, args.audio_rate), args.audio_rate, args.model_rate)
    print(f'input: {args.seconds:g} s of {args.width}x{args.height} {args.encoding} at {args.fps:g} fps '
          f'({len(work.frames)} frames, {len(work.frames[0]) / 1e6:.1f} MB each) + {args.audio_rate} Hz '
          f'S16LE audio in {len(work.audio_blocks)} blocks -> {args.model_rate} Hz '
          f'(serialized in {time.perf_counter() - setup_start:.1f} s)')

    node = cpu_ms(ingest_node_strategy, work, args.reps)
    baseline = cpu_ms(ingest_baseline, work, args.reps)
    audio_only = cpu_ms(ingest_audio, work, args.reps)
    node_med, base_med = statistics.median(node), statistics.median(baseline)
    fmt = ', '.join
    print(f'(a) node     (peek every frame, decode 1/s, audio): median {node_med:7.2f} CPU ms per s '
          f'[{fmt(f"{v:.2f}" for v in node)}]')
    print(f'(b) baseline (deserialize + convert every frame, audio): median {base_med:7.2f} CPU ms per s '
          f'[{fmt(f"{v:.1f}" for v in baseline)}]')
    print(f'    of which audio decode + resample: median {statistics.median(audio_only):.2f} CPU ms per s')
    print(f'ratio baseline / node: {base_med / node_med:.1f}x')

    from rclpy.serialization import deserialize_message
    from sensor_msgs.msg import Image
    print('per frame: peek_stamp {:.1f} us, parse_image {:.1f} us, parse+decode_image {:.0f} us, '
          'deserialize_message {:.0f} us'.format(
              _per_frame_us(cdr.peek_stamp, work.frames),
              _per_frame_us(cdr.parse_image, work.frames),
              _per_frame_us(lambda raw: _decode(cdr.parse_image(raw)), work.frames[:3]),
              _per_frame_us(lambda raw: deserialize_message(raw, Image), work.frames[:5])))


def _decode(img: cdr.RawImage) -> np.ndarray:
    return imaging.decode_image(img.encoding, img.height, img.width, img.step, img.data, img.is_bigendian)


if __name__ == '__main__':
    main()
