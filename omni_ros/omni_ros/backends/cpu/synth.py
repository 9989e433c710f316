"""Synthetic inputs for the CPU backend's tests and benchmark: speech (flite), sounds and rendered scenes.

Everything is made here, offline: flite speech, beeps, bell tones, doorbells, knocks and noise at a chosen
SNR; 640x480 RGB scenes with a traffic light, a seven-segment display, a sign, and a drawn person.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from omni_ros.backends.cpu.audio import resample, wav_to_float
from omni_ros.data import Chunk, FloatArray, Frame, ImageArray

SR = 16000
W, H = 640, 480


# -- audio ---------------------------------------------------------------------------------------------
def speech(text: str, voice: str = 'slt', rate: int = SR) -> FloatArray:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / 's.wav'
        subprocess.run(['flite', '-voice', voice, '-t', text, '-o', str(out)], check=True, capture_output=True)
        samples, flite_rate = wav_to_float(out.read_bytes())
    return resample(samples, flite_rate, rate)


def _t(seconds: float, rate: int = SR) -> np.ndarray:
    return np.arange(int(seconds * rate)) / rate


def beep(freq: float = 2500.0, seconds: float = 0.2, count: int = 3, gap: float = 0.15,
         square: bool = False) -> FloatArray:
    t = _t(seconds)
    tone = np.sin(2 * np.pi * freq * t)
    if square:
        tone = np.sign(tone) * 0.7
    ramp = np.minimum(1.0, np.minimum(t, seconds - t) / 0.004)  # 4 ms ramps: an electronic beep, no click
    one = (tone * ramp).astype(np.float32)
    parts = []
    for i in range(count):
        parts.append(one)
        if i < count - 1:
            parts.append(np.zeros(int(gap * SR), np.float32))
    return np.concatenate(parts)


def bell(freq: float = 1250.0, seconds: float = 1.2, decay: float = 0.35) -> FloatArray:
    """A struck bell: fundamental plus inharmonic partials, sharp attack, exponential decay."""
    t = _t(seconds)
    env = np.exp(-t / decay) * np.minimum(1.0, t / 0.002)
    x = sum(a * np.sin(2 * np.pi * freq * r * t) for r, a in ((1.0, 1.0), (2.76, 0.4), (5.4, 0.2)))
    return (x * env / 1.6).astype(np.float32)


def doorbell(high: float = 659.0, low: float = 523.0) -> FloatArray:
    """Ding-dong: two bell tones a major third apart, the second 0.5 s after the first."""
    first, second = bell(high, 1.0, 0.4), bell(low, 1.4, 0.5)
    out = np.zeros(int(1.9 * SR), np.float32)
    out[:len(first)] += first
    out[int(0.5 * SR):int(0.5 * SR) + len(second)] += second
    return out


def knock(count: int = 3, gap: float = 0.22, seed: int | Sequence[int] = 0, rate: int = SR) -> FloatArray:
    """Knuckles on a door: a thump (damped low resonance) plus a short noise burst per knock."""
    rng = np.random.default_rng(seed)
    t = _t(0.08, rate)
    parts = []
    for i in range(count):
        thump = np.sin(2 * np.pi * 170 * t) * np.exp(-t / 0.012)
        click = rng.standard_normal(len(t)) * np.exp(-t / 0.004) * 0.6
        parts.append((thump + click).astype(np.float32) * rng.uniform(0.8, 1.0))
        if i < count - 1:
            parts.append(np.zeros(max(int(gap * rate) - len(t), 0), np.float32))
    return (np.concatenate(parts) / 1.5).astype(np.float32)


# Standard temporal patterns (ISO 8201 / NFPA 72 T3; UL 2034 / NFPA 720 T4): (on, off) seconds per pulse.
ALARM_PATTERNS = {'T3': ((0.5, 0.5), (0.5, 0.5), (0.5, 1.5)),
                  'T4': ((0.1, 0.1), (0.1, 0.1), (0.1, 0.1), (0.1, 5.0))}
# Ring cadences, (on, off) seconds per burst: North American single ring, British double ring.
RING_CADENCES = {'us': ((2.0, 4.0),), 'uk': ((0.4, 0.2), (0.4, 2.0))}


def _piezo(freq: float, seconds: float, rate: int) -> np.ndarray:
    """A piezo sounder's tone: a squarish wave (odd harmonics, softened) with 3 ms ramps."""
    t = np.arange(int(round(seconds * rate))) / rate
    wave = sum(np.sin(2 * np.pi * freq * k * t) / k for k in (1, 3, 5) if freq * k < rate / 2)
    ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.003)
    return wave * ramp


def alarm(pattern: str = 'T3', freq: float = 3200.0, cycles: int = 2, tempo: float = 1.0,
          rate: int = SR) -> FloatArray:
    """A smoke (T3) or CO (T4) alarm sounding ``cycles`` cycles; ``tempo`` scales every duration (real
    alarms keep the pattern within about 10 %). Ends with the last pulse (its long pause is not included)."""
    parts = []
    for cycle in range(cycles):
        steps = ALARM_PATTERNS[pattern]
        for i, (on, off) in enumerate(steps):
            parts.append(_piezo(freq, on * tempo, rate))
            if not (cycle == cycles - 1 and i == len(steps) - 1):
                parts.append(np.zeros(int(round(off * tempo * rate))))
    out = np.concatenate(parts)
    return np.asarray(out / np.max(np.abs(out)), np.float32)


def phone_ring(cadence: str = 'us', style: str = 'warble', freq: float = 1000.0, trill: float = 20.0,
               rings: int = 2, rate: int = SR) -> FloatArray:
    """A telephone ringing ``rings`` ring cycles in ``cadence``; ends with the last burst.

    warble: an electronic ringer switching between two tones (``freq`` and 1.25 x ``freq``) ``trill``
    times a second each way; bell: a hammer striking two gongs alternately, ``trill`` strikes a second.
    """
    bursts = [on for _ in range(rings) for on, _ in RING_CADENCES[cadence]]
    offs = [off for _ in range(rings) for _, off in RING_CADENCES[cadence]]
    parts = []
    for i, on in enumerate(bursts):
        t = np.arange(int(round(on * rate))) / rate
        if style == 'warble':
            high = (np.floor(t * trill * 2) % 2).astype(bool)  # alternate every 1 / (2 trill) s
            f = np.where(high, freq * 1.25, freq)
            phase = 2 * np.pi * np.cumsum(f) / rate  # phase-continuous switching
            wave = np.sin(phase) + 0.25 * np.sin(3 * phase)
        else:
            wave = np.zeros_like(t)
            for k, start in enumerate(np.arange(0.0, on, 0.5 / trill)):  # each gong struck trill times a second
                gong = freq if k % 2 == 0 else freq * 1.19
                tt = t[t >= start] - start
                strike = sum(a * np.sin(2 * np.pi * gong * r * tt) for r, a in ((1.0, 1.0), (2.4, 0.35), (4.1, 0.15)))
                wave[t >= start] += strike * np.exp(-tt / 0.06)
        ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.005)
        parts.append(wave * ramp)
        if i + 1 < len(bursts):
            parts.append(np.zeros(int(round(offs[i] * rate))))
    out = np.concatenate(parts)
    return np.asarray(out / np.max(np.abs(out)), np.float32)


def kettle(freq: float = 1800.0, seconds: float = 4.0, seed: int | Sequence[int] = 0, two_tone: bool = False,
           rate: int = SR) -> FloatArray:
    """A whistling kettle: a breathy whistle that swells over about half a second as the steam builds,
    its pitch creeping up a few per cent and wavering, and stopping when taken off the heat."""
    rng = np.random.default_rng(seed)
    n = int(round(seconds * rate))
    t = np.arange(n) / rate

    def slow_noise(cutoff: float) -> np.ndarray:
        spectrum = np.fft.rfft(rng.standard_normal(n))
        spectrum[np.fft.rfftfreq(n, 1.0 / rate) > cutoff] = 0
        x = np.fft.irfft(spectrum, n)
        return x / (np.std(x) + 1e-12)

    rise = rng.uniform(0.3, 0.8)
    glide = rng.uniform(0.02, 0.06)
    pitch = freq * (1 + glide * (1 - np.exp(-t / rng.uniform(0.8, 2.0)))) * (1 + 0.002 * slow_noise(6.0))
    swell = (1 - np.exp(-t / rise)) ** 2 * (1 + 0.12 * slow_noise(8.0))
    swell *= np.minimum(1.0, (t[::-1] + 1e-3) / 0.15)  # taken off the heat
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    out = np.sin(phase)
    if two_tone:
        out += 0.6 * np.sin(phase * 1.17)
    # Breath: noise in a band around the whistle.
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / rate)
    spectrum *= np.exp(-((f - freq * (1 + glide / 2)) / 120.0) ** 2)
    breath = np.fft.irfft(spectrum, n)
    out = out + 0.15 * breath / (np.std(breath) + 1e-12)
    out *= swell
    return np.asarray(out / np.max(np.abs(out)), np.float32)


def noise(seconds: float, level: float = 0.01, color: str = 'white', seed: int = 0) -> FloatArray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(int(seconds * SR))
    if color == 'pink':
        spectrum = np.fft.rfft(x)
        spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
        x = np.fft.irfft(spectrum, len(x))
    x = x / (np.sqrt(np.mean(x ** 2)) + 1e-12) * level
    return np.asarray(x, np.float32)


def mix(background: FloatArray, event: FloatArray, at: float, snr_db: float | None = None) -> FloatArray:
    """``event`` added into ``background`` at ``at`` seconds, scaled to ``snr_db`` over the background's RMS."""
    out = background.copy()
    start = int(at * SR)
    event = event[:max(0, len(out) - start)]
    if snr_db is not None:
        bg_rms = float(np.sqrt(np.mean(background ** 2))) + 1e-9
        ev_rms = float(np.sqrt(np.mean(event[np.abs(event) > 1e-4] ** 2))) + 1e-9
        event = event * (bg_rms * 10 ** (snr_db / 20) / ev_rms)
    out[start:start + len(event)] += event
    return np.clip(out, -1, 1).astype(np.float32)


# -- images --------------------------------------------------------------------------------------------
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in ('/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
                 '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'):
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def background(brightness: float = 1.0, seed: int = 0) -> Image.Image:
    """A wall-and-floor scene with a gradient and mild sensor noise; ``brightness`` scales the lighting."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0, 1, H)[:, None, None]
    wall = np.array([150, 145, 135]) * (1 - 0.3 * y) + rng.normal(0, 4, (H, W, 3))
    wall[int(H * 0.7):] = np.array([90, 80, 70]) + rng.normal(0, 4, (H - int(H * 0.7), W, 3))
    return Image.fromarray(np.clip(wall, 0, 255).astype(np.uint8))


def finish(img: Image.Image, brightness: float = 1.0, seed: int = 0) -> ImageArray:
    """Apply scene lighting (emissive things are drawn after, see ``glow``) and noise."""
    arr = np.asarray(img).astype(np.float32) * brightness
    arr += np.random.default_rng(seed).normal(0, 2, arr.shape)
    return np.asarray(np.clip(arr, 0, 255), np.uint8)


def traffic_light(img: Image.Image, lit: str | None, x: int = 480, y: int = 60, size: float = 1.0) -> None:
    d = ImageDraw.Draw(img)
    r = int(22 * size)
    d.rounded_rectangle([x, y, x + int(64 * size), y + int(180 * size)], radius=int(8 * size), fill=(25, 25, 28))
    colors = {'red': (255, 40, 30), 'yellow': (255, 190, 20), 'green': (40, 255, 120)}
    dim = {'red': (70, 20, 20), 'yellow': (70, 55, 15), 'green': (15, 60, 35)}
    for i, name in enumerate(('red', 'yellow', 'green')):
        cx, cy = x + int(32 * size), y + int((30 + 60 * i) * size)
        fill = colors[name] if name == lit else dim[name]
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
        if name == lit:  # a hot centre, as lamps photograph
            d.ellipse([cx - r // 3, cy - r // 3, cx + r // 3, cy + r // 3],
                      fill=tuple(min(255, c + 60) for c in fill))


_SEGMENTS = {'0': 'abcdef', '1': 'bc', '2': 'abdeg', '3': 'abcdg', '4': 'bcfg', '5': 'acdfg', '6': 'acdefg',
             '7': 'abc', '8': 'abcdefg', '9': 'abcdfg', ' ': ''}


def seven_segment(img: Image.Image, text: str, x: int = 80, y: int = 60, height: int = 70,
                  color: tuple[int, int, int] = (255, 50, 30), ghost: bool = True) -> None:
    """An LED display: dark panel, lit segments in ``color``, unlit segments faintly visible."""
    d = ImageDraw.Draw(img)
    w = int(height * 0.55)
    t = max(3, int(height * 0.12))
    pitch = int(w * 1.45)
    d.rectangle([x - 14, y - 14, x + pitch * len(text) + 4, y + height + 14], fill=(12, 12, 12))
    unlit = tuple(int(c * 0.12) + 10 for c in color)
    half = height // 2
    for i, ch in enumerate(text):
        ox = x + i * pitch
        segs = {
            'a': [ox + t, y, ox + w - t, y + t], 'd': [ox + t, y + height - t, ox + w - t, y + height],
            'g': [ox + t, y + half - t // 2, ox + w - t, y + half + t // 2 + 1],
            'f': [ox, y + t, ox + t, y + half - t // 2 - 1], 'b': [ox + w - t, y + t, ox + w, y + half - t // 2 - 1],
            'e': [ox, y + half + t // 2 + 2, ox + t, y + height - t], 'c': [ox + w - t, y + half + t // 2 + 2, ox + w,
                                                                            y + height - t],
        }
        for name, box in segs.items():
            if name in _SEGMENTS[ch]:
                d.rectangle(box, fill=color)
            elif ghost:
                d.rectangle(box, fill=unlit)


def sign(img: Image.Image, text: str, x: int = 60, y: int = 300, size: int = 48,
         fg: tuple[int, int, int] = (255, 255, 255), bg: tuple[int, int, int] = (20, 120, 40)) -> None:
    d = ImageDraw.Draw(img)
    font = _font(size)
    box = d.textbbox((0, 0), text, font=font)
    d.rectangle([x, y, x + box[2] - box[0] + 30, y + box[3] - box[1] + 30], fill=bg)
    d.text((x + 15 - box[0], y + 15 - box[1]), text, font=font, fill=fg)


def person(img: Image.Image, x: int = 260, y: int = 110, height: int = 330,
           cloth: tuple[int, int, int] = (40, 45, 70)) -> None:
    """A standing figure (dark-clothed by default) with skin-toned head and hands, top of the head at
    (x, y): a silhouette HOG responds to."""
    d = ImageDraw.Draw(img)
    s = height / 330
    skin, legs = (205, 160, 130), (30, 30, 40)

    def P(px: float, py: float) -> tuple[int, int]:
        return int(x + px * s), int(y + py * s)
    d.ellipse([*P(-22, 0), *P(22, 50)], fill=skin)  # head
    d.rectangle([*P(-8, 46), *P(8, 60)], fill=skin)  # neck
    d.polygon([P(-45, 60), P(45, 60), P(40, 175), P(-40, 175)], fill=cloth)  # torso
    d.polygon([P(-45, 62), P(-62, 165), P(-50, 168), P(-36, 90)], fill=cloth)  # left arm
    d.polygon([P(45, 62), P(62, 165), P(50, 168), P(36, 90)], fill=cloth)  # right arm
    d.ellipse([*P(-64, 160), *P(-46, 180)], fill=skin)
    d.ellipse([*P(46, 160), *P(64, 180)], fill=skin)
    d.polygon([P(-40, 172), P(-4, 172), P(-8, 325), P(-34, 325)], fill=legs)  # legs
    d.polygon([P(4, 172), P(40, 172), P(34, 325), P(8, 325)], fill=legs)
    d.ellipse([*P(-40, 318), *P(-4, 332)], fill=(20, 20, 20))
    d.ellipse([*P(4, 318), *P(40, 332)], fill=(20, 20, 20))


def scene(light: str | None = None, digits: str | None = None, sign_text: str | None = None,
          with_person: bool = False, brightness: float = 1.0, seed: int = 0) -> ImageArray:
    """A 640x480 RGB frame. Light sources (lamp, LEDs) keep their brightness when the room is dim."""
    base = background(seed=seed)
    if sign_text:
        sign(base, sign_text)
    if with_person:
        person(base)
    lit = finish(base, brightness, seed)
    if light is not None or digits is not None:
        img = Image.fromarray(lit)
        if light is not None:
            traffic_light(img, None if light == 'off' else light)
        if digits is not None:
            seven_segment(img, digits)
        lit = np.asarray(img)
    return lit


def chunks(audio: FloatArray, frames: list[ImageArray | None], start: float = 0.0) -> list[Chunk]:
    """1 s chunks of ``audio`` with frame i (or no frame when None) in chunk i."""
    n = max(len(frames), int(np.ceil(len(audio) / SR)))
    audio = np.concatenate([audio, np.zeros(n * SR - len(audio), np.float32)])
    out = []
    for i in range(n):
        image = frames[i] if i < len(frames) else None
        fr = (Frame(start + i + 0.5, image),) if image is not None else ()
        out.append(Chunk(index=i, start=start + i, duration=1.0, sample_rate=SR,
                         audio=audio[i * SR:(i + 1) * SR].astype(np.float32), frames=fr, new_stream=i == 0))
    return out
