"""Real-time factor and memory of the CPU backend on this machine.

Streams generated input through CpuBackend.feed: a 640x480 RGB camera at 15 fps (each second's 15 frames
arrive as raw image bytes; the one the synchronizer picks for the chunk is decoded, as LazyFrame does)
and 16 kHz audio, in chunks of the backend's hop (0.25 s: one frame each). By default every watch kind is
active (light, floor, sign, person, beep, knock, doorbell, ding, phone, kettle, smoke and CO alarms, the room
going dark, a count of people), so
every perception runs, and the stream holds spoken commands (grammar and Whisper), questions, sound events
(a phone ringing and a kettle whistling among them) and changing scenes: the expensive case. RTF = processing time /
stream time (target <= 0.5). Also prints the process RSS with all models loaded.

Usage: python -m omni_ros.tools.bench_cpu [--seconds 40] [--idle] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from typing import Any

import numpy as np

from omni_ros.backends import create_backend
from omni_ros.backends.cpu import synth
from omni_ros.data import Chunk, Frame, Question, Watch

FPS = 15
WATCHES = [
    Watch('light', 'tell me when the light turns green'),
    Watch('floor', 'let me know when we reach floor 16'),
    Watch('exit', 'tell me when the sign says EXIT'),
    Watch('person', 'say something if someone comes in', continuous=True),
    Watch('beep', 'alert me when the oven beeps', continuous=True),
    Watch('knock', 'when you hear a knock', continuous=True),
    Watch('bell', 'tell me when the doorbell rings', continuous=True),
    Watch('ding', 'let me know if the microwave dings', continuous=True),
    Watch('phone', 'tell me when the phone rings', continuous=True),
    Watch('kettle', 'tell me when the kettle whistles'),
    Watch('smoke', 'tell me if the smoke alarm goes off'),
    Watch('co', 'tell me if the carbon monoxide alarm goes off'),
    Watch('dark', 'tell me when the room goes dark'),
    Watch('crowd', 'tell me when there are at least three people', continuous=True),
]


def rss_mib() -> tuple[float, float]:
    """(current, peak) resident set size of this process in MiB."""
    values = {}
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(('VmRSS:', 'VmHWM:')):
                key, amount, _ = line.split()
                values[key] = int(amount) / 1024
    return values.get('VmRSS:', 0.0), values.get('VmHWM:', 0.0)


def make_stream(seconds: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """Audio and one scene per second: events every few seconds, the floor counting up, people coming and going."""
    audio = synth.noise(seconds + 1, 0.003)
    said = ['tell me when the light turns green', 'what floor are we on', 'I think it will rain later today',
            'is anyone there']
    for t in range(0, seconds - 3, 10):
        audio = synth.mix(audio, synth.speech(said[(t // 10) % len(said)], 'slt'), t + 0.3, 25)
        audio = synth.mix(audio, synth.beep(), t + 4.2, 20)
        audio = synth.mix(audio, synth.knock(), t + 6.5, 20)
        audio = synth.mix(audio, synth.doorbell() if (t // 10) % 2 == 0 else synth.bell(), t + 8.1, 20)
        audio = synth.mix(audio, synth.phone_ring('uk', 'warble', 1200.0, 20.0, 1) if (t // 10) % 2 == 0
                          else synth.kettle(1800.0, 1.8, t), t + 2.2, 20)
    scenes = []
    for t in range(seconds):
        scenes.append(synth.scene(light=('red', 'yellow', 'green')[(t // 4) % 3], digits=str(10 + t // 3),
                                  sign_text='EXIT' if (t // 5) % 2 else None, with_person=(t // 7) % 2 == 1,
                                  brightness=(0.6, 1.0, 1.3)[(t // 6) % 3], seed=t))
    return audio, scenes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seconds', type=int, default=40, help='stream length (default 40)')
    parser.add_argument('--idle', action='store_true', help='no watches and no questions (the cheapest case)')
    parser.add_argument('--json', action='store_true', help='print the figures as JSON')
    args = parser.parse_args(argv)
    os.environ.setdefault('HF_HUB_OFFLINE', '1')  # nothing may be fetched at run time

    rss_start, _ = rss_mib()
    backend: Any = create_backend('cpu', {})  # a CpuBackend: its stage timings are read below
    t0 = time.perf_counter()
    backend.setup()
    setup_s = time.perf_counter() - t0
    rss_loaded, _ = rss_mib()

    audio, scenes = make_stream(args.seconds)
    # Raw camera messages: 15 per second, as bytes; only the chosen one is decoded (LazyFrame).
    raw = [[s.tobytes()] * FPS for s in scenes]
    backend.start_session()
    backend.set_watches([] if args.idle else WATCHES)
    times = []
    cpu_start = time.process_time()
    hop = backend.stream_spec().chunk_seconds  # the backend decides once per hop (0.25 s by default)
    per_second = round(1.0 / hop)
    n = int(16000 * hop)
    for i in range(args.seconds):
        for h in range(per_second):
            start = time.perf_counter()
            data = raw[i][min(FPS - 1, int((h + 0.5) * hop * FPS))]  # the frame in the middle of the hop
            image = np.frombuffer(data, np.uint8).reshape(480, 640, 3).copy()
            t = i + h * hop
            first = i * 16000 + h * n
            chunk = Chunk(index=i * per_second + h, start=t, duration=hop, sample_rate=16000,
                          audio=audio[first:first + n], frames=(Frame(t + hop / 2, image),),
                          new_stream=i == 0 and h == 0)
            if not args.idle and i % 10 == 5 and h == 0:
                backend.ask(Question(f'q{i}', 'what does the sign say', float(i)))
            backend.feed(chunk)
            # Less a wait for stream time to catch up with the recognition worker: real time has no such wait.
            times.append(time.perf_counter() - start - backend.last_wait)
    cpu_used = time.process_time() - cpu_start
    rss_end, rss_peak = rss_mib()
    timings = dict(backend.timings)
    backend.shutdown()

    total = sum(times)
    figures = {
        'seconds': args.seconds,
        'watches': 0 if args.idle else len(WATCHES),
        'rtf': round(total / args.seconds, 3),
        # CPU seconds (all threads) per stream second: what this process needs, whatever else is running.
        'cpu_seconds_per_second': round(cpu_used / args.seconds, 3),
        'chunk_ms_median': round(1000 * statistics.median(times), 1),
        'chunk_ms_p95': round(1000 * sorted(times)[int(0.95 * (len(times) - 1))], 1),
        'chunk_ms_max': round(1000 * max(times), 1),
        'hop_seconds': hop,
        # Left out of the chunk times: hops fed faster than real time waiting for the recognition worker.
        'replay_wait_s': round(backend.waited, 3),
        'stage_ms_per_second': {k: round(1000 * v / args.seconds, 1) for k, v in sorted(timings.items())},
        'setup_s': round(setup_s, 2),
        'rss_mib_models_loaded': round(rss_loaded, 1),
        'rss_mib_end': round(rss_end, 1),
        'rss_mib_peak': round(rss_peak, 1),
        'rss_mib_before_setup': round(rss_start, 1),
        'load_average': round(os.getloadavg()[0], 2),
        'cpus': os.cpu_count(),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"cpu backend, {figures['watches']} watches, {args.seconds} s of 640x480@{FPS} fps + 16 kHz audio")
        print(f"  real-time factor     {figures['rtf']:.3f}  (target <= 0.5; wall clock)")
        print(f"  CPU time             {figures['cpu_seconds_per_second']:.3f} CPU-s per stream second (all threads)")
        print(f"  per {hop:g} s chunk     median {figures['chunk_ms_median']} ms, p95 {figures['chunk_ms_p95']} ms, "
              f"max {figures['chunk_ms_max']} ms")
        print(f"  left out             {figures['replay_wait_s']} s of hops waiting for speech recognition (a replay "
              'faster than real time; none in real time)')
        print('  stages (ms/s)        ' + ', '.join(f'{k} {v}' for k, v in figures['stage_ms_per_second'].items()))
        print(f"  memory (RSS)         {figures['rss_mib_models_loaded']} MiB with all models loaded, "
              f"{figures['rss_mib_peak']} MiB peak")
        print(f"  set-up               {figures['setup_s']} s; load average {figures['load_average']} on "
              f"{figures['cpus']} CPUs (other processes inflate the wall-clock figures)")
    return 0 if figures['rtf'] <= 0.5 else 1


if __name__ == '__main__':
    sys.exit(main())
