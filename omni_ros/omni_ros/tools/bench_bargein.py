"""Barge-in and self-hearing: each strategy on the same looped-back robot speech, in one run.

The robot's speech (flite voice slt) plays through a simulated speaker and room into the microphone:
a bulk delay, a mildly saturating speaker, an impulse response with early reflections and a reverberant
tail, the echo at ``echo_db`` relative to the user's speech level, and background noise 24 dB below
the user. First several minutes of robot-only speech, then trials where a user (other flite voices)
talks over the robot at a known onset. When a barge-in comes after the user's onset, playback stops
``REACTION`` seconds later, as the node would stop it, and the echo of what was not played is removed.

Printed per room and strategy: false barge-ins per minute of robot-only speech, the delay from the
user's voice onset (first 10 ms within 20 dB of their speech level) to the decision (median, max),
misses, the level of the audio handed to the model during robot-only speech relative to the user's
speech, and CPU milliseconds per second of audio (time.process_time of process() and played()).
The row 'none, no echo' runs the plain VAD with the robot's echo taken out of the microphone: the
delay the VAD itself needs, for reference. Run: ``python -m omni_ros.tools.bench_bargein``.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, replace

import numpy as np

from omni_ros.backends.cpu.tts import FliteTts
from omni_ros.speech.selfhearing import BargeIn, SelfHearing, SelfHearingConfig
from omni_ros.data import FloatArray

SR = 16000
START = 100.0  # input time of the first microphone sample
USER_LEVEL = 0.05  # RMS of the user's speech at the microphone (-26 dBFS)
ROBOT_LEVEL = 0.15  # RMS of the robot's speech as played (-16 dBFS)
NOISE_LEVEL = USER_LEVEL / 16.0  # 24 dB below the user
REACTION = 0.05  # s from a barge-in decision to the speaker falling silent
LEAD = 0.2  # s the node hands speech to the player before it plays
CHUNK = 1.0  # s of speech per played() call (the model's unit)

ROBOT_LINES = (
    'I am heading to the kitchen now and will check the oven on the way.',
    'The traffic light ahead is red, so I will wait at the crossing until it turns green.',
    'There are three people in the hallway, and one of them is carrying a large box.',
    'Your package arrived this morning and I left it next to the front door.',
    'The battery is at sixty percent, which is enough for about two more hours of work.',
    'I can see the air fryer from here; it still shows four minutes on the display.',
    'Tomorrow looks cloudy with a chance of rain in the afternoon, so take an umbrella.',
    'I have finished vacuuming the living room and I am moving on to the bedroom.',
    'The front door has been open for five minutes; shall I remind someone to close it?',
    'According to the shopping list, we are out of milk, eggs and coffee beans.',
    'The meeting with the building manager is at three o clock in the conference room.',
    'I noticed water on the floor near the sink; it might be a small leak under the counter.',
    'The temperature in the greenhouse is twenty four degrees and the soil looks dry.',
    'Please stand clear of the doorway while I carry the laundry basket through.',
    'I will follow you to the parking lot and keep an eye on the bags in the meantime.',
    'The printer on the second floor is out of paper, and the toner is running low as well.',
    'Here is a summary of the messages you received while you were away this afternoon.',
    'The dog has been fed and walked, and he is now sleeping on his blanket by the window.',
    'I found your keys on the shelf by the entrance, right beside the blue umbrella.',
    'The next bus leaves in twelve minutes from the stop at the end of the street.',
    'Turning left at the end of this corridor takes us to the elevators and the stairs.',
    'The washing machine finished its cycle, and the clothes are ready to be hung up.',
    'I am recording the readings from the panel: pressure normal, valve two slightly open.',
    'Lunch will be ready in about twenty minutes; the soup is simmering on the stove.',
    'I checked all the windows on the ground floor and they are closed and locked.',
    'The garden lights will switch on at sunset, which is around eight fifteen tonight.',
    'Your sister called and asked whether you could bring the photos to dinner on Sunday.',
    'There is a delivery truck blocking the driveway, so we should use the side exit.',
    'I have updated the map of the warehouse with the new shelves in aisle seven.',
    'The light in the storage room keeps flickering; the bulb probably needs replacing.',
    'Let me describe what I see: a table, two chairs, and a lamp next to the bookcase.',
    'I will remind you about your medication at nine o clock this evening, as usual.',
)
USER_LINES = (
    'Wait, stop for a second, I need to ask you something.',
    'Hold on, that is not what I meant.',
    'Excuse me, can you repeat the last part?',
    'No no, go to the garage first please.',
    'Hey robot, listen to me for a moment.',
    'Sorry to interrupt, but where are my glasses?',
    'Stop, there is someone behind you.',
    'Actually, never mind the kitchen, come here.',
)
# Not 'kal': silero hardly takes that 8 kHz diphone voice for speech even alone.
USER_VOICES = ('rms', 'awb')


@dataclass(frozen=True)
class Room:
    name: str
    delay: float  # s from the playback stamp to the direct sound
    echo_db: float  # echo level at the microphone relative to the user's speech level
    rt60: float  # reverberation time of the impulse response tail
    seed: int


ROOMS = (Room('echo -6 dB, 40 ms', 0.040, -6.0, 0.25, 1), Room('echo 0 dB, 120 ms', 0.120, 0.0, 0.4, 2))


@dataclass(frozen=True)
class Utterance:
    start: int  # sample index of the playback stamp
    samples: FloatArray  # as played, 16 kHz


@dataclass(frozen=True)
class Trial:
    robot: int  # index into Scene.robot
    onset: int  # sample index of the user's voice onset
    end: int  # sample index where the user's speech ends


@dataclass
class Scene:
    mic: FloatArray  # microphone with the whole of every robot utterance's echo
    user: FloatArray  # the users' part of it
    echo: FloatArray  # the robot's part of it
    robot: list[Utterance]
    trials: list[Trial]
    robot_only: FloatArray  # bool per sample: the robot speaks and no user does
    room: Room
    ir: FloatArray  # speaker-to-microphone response, bulk delay and gain included

    def echo_of(self, samples: FloatArray) -> FloatArray:
        """What the microphone hears of ``samples`` played from time 0."""
        return _convolve(_speaker(samples), self.ir)


def _speaker(x: FloatArray) -> FloatArray:
    """A small loudspeaker driven hard: soft saturation (-25 dB distortion at the robot's level)."""
    out: FloatArray = (np.tanh(2.0 * x) / 2.0).astype(np.float32)
    return out


def _convolve(x: FloatArray, h: FloatArray) -> FloatArray:
    n = x.size + h.size - 1
    size = 1 << int(np.ceil(np.log2(n)))
    out: FloatArray = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(h, size), size)[:n].astype(np.float32)
    return out


def _speech_level(x: FloatArray) -> float:
    """RMS over the 10 ms windows within 30 dB of the loudest one (pauses do not count)."""
    frames = x[:x.size // 160 * 160].reshape(-1, 160).astype(np.float64)
    power = np.mean(frames ** 2, axis=1)
    return float(np.sqrt(np.mean(power[power > power.max() * 1e-3])))


def _onset(x: FloatArray) -> int:
    frames = x[:x.size // 160 * 160].reshape(-1, 160).astype(np.float64)
    loud = np.sqrt(np.mean(frames ** 2, axis=1)) > 0.1 * _speech_level(x)
    return int(np.argmax(loud)) * 160


def impulse_response(room: Room, rng: np.random.Generator) -> FloatArray:
    """Direct sound at the bulk delay (fractional), early reflections, exponentially decaying tail."""
    length = int(0.05 * SR + room.rt60 * SR)
    h = np.zeros(length)
    t = np.arange(-16, 17) - rng.uniform(0.0, 1.0)
    h[:33] = np.sinc(t) * np.hanning(33)  # a fractional-sample delay of the direct sound
    for at in rng.integers(16, int(0.025 * SR), 8):
        h[at] += rng.uniform(0.15, 0.5) * rng.choice((-1.0, 1.0))
    tail = np.arange(int(0.005 * SR), length)
    decay = rng.standard_normal(tail.size) * np.exp(-6.9 * (tail - tail[0]) / (room.rt60 * SR))
    # Speaker and microphone share the robot's body: the direct sound dominates, the tail is 12 dB down.
    h[tail] += decay * np.sqrt(np.sum(h ** 2) / np.sum(decay ** 2) * 10 ** (-12 / 10))
    return np.concatenate((np.zeros(int(room.delay * SR) - 16), h)).astype(np.float32)


def make_scene(room: Room, robot_seconds: float = 150.0, trials: int = 20) -> Scene:
    """About ``robot_seconds`` of robot-only speech, then ``trials`` users talking over the robot."""
    rng = np.random.default_rng(room.seed)
    robot_tts = FliteTts('slt', SR)
    user_tts = {voice: FliteTts(voice, SR) for voice in USER_VOICES}
    for tts in (robot_tts, *user_tts.values()):
        tts.setup()
    lines = [robot_tts.synthesize(line) for line in ROBOT_LINES]
    lines = [ROBOT_LEVEL * x / _speech_level(x) for x in lines]

    robot: list[Utterance] = []
    pos = int(0.5 * SR)
    spoken = 0
    order = iter(rng.permutation(len(lines) * 100) % len(lines))  # a shuffled deck of 100 sets of lines
    while spoken < robot_seconds * SR:
        x = np.concatenate([lines[next(order)] for _ in range(int(rng.integers(1, 3)))])
        robot.append(Utterance(pos, x))
        spoken += x.size
        pos += x.size + int(rng.uniform(0.6, 1.5) * SR)
    users: list[tuple[int, FloatArray]] = []
    trial_list: list[Trial] = []
    for i in range(trials):
        x = np.concatenate([lines[next(order)] for _ in range(2)])
        robot.append(Utterance(pos, x))
        voice = USER_VOICES[i % len(USER_VOICES)]
        said = user_tts[voice].synthesize(USER_LINES[i % len(USER_LINES)])
        said = USER_LEVEL * said / _speech_level(said)
        at = pos + int(rng.uniform(0.8, 2.5) * SR)
        users.append((at, said))
        trial_list.append(Trial(len(robot) - 1, at + _onset(said), at + said.size))
        pos = max(pos + x.size, at + said.size) + int(2.0 * SR)

    total = pos + SR
    ir = impulse_response(room, rng)
    played = np.zeros(total, np.float32)
    for u in robot:
        played[u.start:u.start + u.samples.size] = u.samples
    echo = _convolve(_speaker(played), ir)[:total]
    gain = USER_LEVEL * 10 ** (room.echo_db / 20) / _speech_level(echo)
    ir *= gain
    echo *= gain
    user_track = np.zeros(total, np.float32)
    for at, said in users:
        user_track[at:at + said.size] += said
    # Noise that falls off with frequency, like fans and motors.
    noise = np.cumsum(rng.standard_normal(total)) * 0.02
    noise = np.diff(noise, prepend=0.0) + 0.05 * (noise - np.convolve(noise, np.ones(801) / 801, 'same'))
    noise *= NOISE_LEVEL / np.sqrt(np.mean(noise ** 2))
    mic = np.clip(echo + user_track + noise.astype(np.float32), -1.0, 1.0).astype(np.float32)

    robot_only = np.zeros(total, bool)
    for u in robot:
        robot_only[u.start:u.start + u.samples.size] = True
    for trial in trial_list:
        robot_only[trial.onset - SR // 10:trial.end + SR // 2] = False
    return Scene(mic, user_track, echo, robot, trial_list, robot_only, room, ir)


@dataclass
class Result:
    strategy: str
    barge_ins: list[BargeIn]
    false: int  # barge-ins in robot-only speech
    delays: list[float]  # per detected trial: seconds from the user's onset to the decision
    missed: int
    robot_minutes: float
    robot_db: float  # level of the model's audio during robot-only speech, in dB re the user's speech
    cpu_ms_per_s: float
    out: FloatArray


def run(config: SelfHearingConfig, scene: Scene, block: float = 0.02, loopback: bool = True) -> Result:
    """Stream ``scene`` through SelfHearing in ``block``-second microphone blocks, as the node would.

    ``loopback=False`` takes the robot's echo out of the microphone: the VAD's own delay, for reference.
    """
    sh = SelfHearing(config)
    sh.setup()
    mic = scene.mic.copy() if loopback else scene.mic - scene.echo
    out = np.zeros_like(mic)
    step = int(round(block * SR))
    # Speech is handed over one CHUNK at a time, LEAD seconds before it plays.
    chunks = sorted((u.start + k - int(LEAD * SR), u.start + k, n)
                    for n, u in enumerate(scene.robot) for k in range(0, u.samples.size, int(CHUNK * SR)))
    cut: dict[int, int] = {}  # utterance -> sample index where playback stopped
    trial_of = {t.robot: t for t in scene.trials}
    barge_ins: list[BargeIn] = []
    detected: dict[int, float] = {}
    cpu = 0.0
    next_chunk = 0
    for pos in range(0, mic.size, step):
        begin = time.process_time()
        while next_chunk < len(chunks) and chunks[next_chunk][0] <= pos:
            _, at, n = chunks[next_chunk]
            next_chunk += 1
            u = scene.robot[n]
            if n not in cut:
                sh.played(START + at / SR, u.samples[at - u.start:at - u.start + int(CHUNK * SR)], SR)
        out[pos:pos + step], barge = sh.process(START + pos / SR, mic[pos:pos + step])
        cpu += time.process_time() - begin
        if barge is None:
            continue
        barge_ins.append(barge)
        index = int(round((barge.detected - START) * SR))
        playing = [n for n, u in enumerate(scene.robot) if u.start <= index < u.start + u.samples.size]
        trial = trial_of.get(playing[0]) if playing else None
        if trial is None or index < trial.onset or playing[0] in cut:
            continue
        detected[playing[0]] = (index - trial.onset) / SR
        # The node stops the speaker: the echo of the rest of the utterance never reaches the microphone.
        n, u = playing[0], scene.robot[playing[0]]
        stop = int(round((barge.detected + REACTION - START) * SR))
        cut[n] = stop
        sh.stop_playback(START + stop / SR)
        unheard = scene.echo_of(u.samples[stop - u.start:])[:mic.size - stop]
        mic[stop:stop + unheard.size] -= unheard
    only = scene.robot_only.copy()
    for n, stop in cut.items():
        only[stop:scene.robot[n].start + scene.robot[n].samples.size] = False  # the robot fell silent
    detections = [int(round((b.detected - START) * SR)) for b in barge_ins]
    false = sum(1 for i in detections if i < mic.size and only[i])
    return Result(
        strategy=config.strategy, barge_ins=barge_ins, false=false, delays=sorted(detected.values()),
        missed=len(scene.trials) - len(detected), robot_minutes=float(only.sum()) / SR / 60.0,
        robot_db=float(10 * np.log10(np.mean(out[only].astype(np.float64) ** 2) / USER_LEVEL ** 2)),
        cpu_ms_per_s=1000.0 * cpu / (mic.size / SR), out=out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--robot-seconds', type=float, default=150.0, help='robot-only speech per room')
    parser.add_argument('--trials', type=int, default=20, help='users talking over the robot per room')
    parser.add_argument('--block', type=float, default=0.02, help='microphone block in seconds')
    parser.add_argument('--vad', default='silero', choices=('silero', 'energy'))
    args = parser.parse_args(argv)
    base = SelfHearingConfig(vad=args.vad)
    rows = (('none, no echo', 'none', False), ('none', 'none', True), ('gate', 'gate', True), ('aec', 'aec', True))
    print(f'{"room":<20} {"strategy":<14} {"false/min":>9} {"detected":>9} {"median ms":>9} {"max ms":>7} '
          f'{"robot dB":>8} {"cpu ms/s":>8}')
    for room in ROOMS:
        scene = make_scene(room, args.robot_seconds, args.trials)
        for label, strategy, loopback in rows:
            r = run(replace(base, strategy=strategy), scene, args.block, loopback)
            median = f'{1000 * float(np.median(r.delays)):.0f}' if r.delays else '-'
            worst = f'{1000 * max(r.delays):.0f}' if r.delays else '-'
            print(f'{room.name:<20} {label:<14} {r.false / r.robot_minutes:>9.1f} '
                  f'{len(r.delays):>4}/{len(scene.trials):<4} {median:>9} {worst:>7} '
                  f'{r.robot_db:>8.1f} {r.cpu_ms_per_s:>8.1f}', flush=True)
    print(f'{r.robot_minutes:.1f} min of robot-only speech per room. false: barge-ins there; detected: users '
          'found after their onset; delay: onset to decision;\nrobot dB: level of the audio for the model '
          "during robot-only speech re the user's speech; no echo: the robot's echo taken out (VAD delay).")


if __name__ == '__main__':
    main()
