"""Deterministic rendering of a scenario's camera frames and microphone audio.

Frames are drawn with numpy (Pillow only rasterizes text and people) from a layer of everything lit by
the scene's light (computed once per set of visible signs and people, then scaled by ``lighting``) plus
the light sources that change over time, then get seeded sensor noise, so the same scenario always gives
the same bytes on a given numpy/Pillow. Lamps are real anti-aliased discs and the display uses real
seven-segment digits, so detectors see shapes rather than coloured boxes.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import cast

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from omni_ros.scenario.model import Box, Lamp, Person, Rgb, Scenario, SegmentDisplay, Sign, Sound, TrafficLight
from omni_ros.data import FloatArray, ImageArray

# Lamp colours of a traffic light, top to bottom, lit and unlit (a dark lens still shows its tint).
_LIGHT_ORDER = ('red', 'amber', 'green')
Color = tuple[float, float, float]  # RGB 0..255, as drawn (possibly shaded)
_LIT = {'red': (240, 40, 30), 'amber': (255, 170, 0), 'green': (40, 225, 110)}
_UNLIT = {'red': (70, 22, 20), 'amber': (70, 50, 12), 'green': (18, 60, 32)}
_UNLIT_SEGMENT = 0.12  # brightness of an unlit LED segment relative to a lit one

# Segments (a..g) lit for each character: a top, b top right, c bottom right, d bottom,
# e bottom left, f top left, g middle.
SEGMENTS = {
    '0': 'abcdef', '1': 'bc', '2': 'abdeg', '3': 'abcdg', '4': 'bcfg', '5': 'acdfg', '6': 'acdefg',
    '7': 'abc', '8': 'abcdefg', '9': 'abcdfg', '-': 'g', ' ': '',
}

# Separate noise streams for frames and audio, so changing one never changes the other.
_AUDIO_STREAM = 1_000_003
_DONG = 0.8  # a doorbell's second note: a major third below the first


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)  # Pillow's bundled scalable font (needs FreeType)
    except (TypeError, OSError, ImportError):  # older Pillow or no FreeType: small bitmap font
        return ImageFont.load_default()


def _blend(img: np.ndarray, y0: int, x0: int, alpha: np.ndarray, color: np.ndarray) -> None:
    """img[y0:, x0:] = mix(img, color, alpha) over alpha's extent; color is (3,) or (h, w, 3)."""
    h, w = alpha.shape
    region = img[y0:y0 + h, x0:x0 + w]
    a = alpha[..., None]
    region *= 1.0 - a
    region += a * color


def _clip_box(img: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
    h, w = img.shape[:2]
    return (max(int(np.floor(x0)), 0), max(int(np.floor(y0)), 0),
            min(int(np.ceil(x1)), w), min(int(np.ceil(y1)), h))


def _disc(img: np.ndarray, cx: float, cy: float, r: float, color: Color, *, lit: bool) -> None:
    """An anti-aliased disc; lit discs get a bright centre and a soft glow around them."""
    glow = r * 0.8 if lit else 0.0
    x0, y0, x1, y1 = _clip_box(img, cx - r - glow - 1, cy - r - glow - 1, cx + r + glow + 2, cy + r + glow + 2)
    if x1 <= x0 or y1 <= y0:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    d = np.hypot(xx - cx, yy - cy)
    base = np.asarray(color, np.float32)
    if lit:
        halo = np.clip(1.0 - (d - r) / glow, 0.0, 1.0) ** 2 * 0.45 * (d > r)
        _blend(img, y0, x0, halo.astype(np.float32), base)
        # Hot centre: towards white, like a real lamp seen by a camera.
        centre = np.clip(1.0 - d / r, 0.0, 1.0)[..., None] ** 2 * 0.5
        colour = base + (255.0 - base) * centre
    else:
        colour = base
    _blend(img, y0, x0, np.clip(r + 0.5 - d, 0.0, 1.0).astype(np.float32), colour)


def _rect(img: np.ndarray, x0: float, y0: float, x1: float, y1: float, color: Rgb | np.ndarray) -> None:
    ix0, iy0, ix1, iy1 = _clip_box(img, x0, y0, x1, y1)
    img[iy0:iy1, ix0:ix1] = color


def _rounded_rect(img: np.ndarray, box: Box, radius: float, color: Rgb) -> None:
    x, y, w, h = box
    yy, xx = np.mgrid[y:y + h, x:x + w].astype(np.float32)
    # Distance outside the rectangle shrunk by radius; <= radius is inside the rounded shape.
    dx = np.maximum(np.abs(xx + 0.5 - (x + w / 2)) - (w / 2 - radius), 0.0)
    dy = np.maximum(np.abs(yy + 0.5 - (y + h / 2)) - (h / 2 - radius), 0.0)
    alpha = np.clip(radius + 0.5 - np.hypot(dx, dy), 0.0, 1.0).astype(np.float32)
    _blend(img, y, x, alpha, np.asarray(color, np.float32))


def _text(img: np.ndarray, box: Box, text: str, color: Rgb, *, fill: float = 0.8) -> None:
    """Draw ``text`` centred in ``box``, as large as fits, onto whatever is already there."""
    x, y, w, h = box
    lines = max(text.count('\n') + 1, 1)
    size = max(int(h * fill / lines / 1.15), 8)
    while True:
        font = _font(size)
        probe = ImageDraw.Draw(Image.new('L', (1, 1)))
        left, top, right, bottom = probe.multiline_textbbox((0, 0), text, font=font, align='center')
        if (right - left <= w * 0.9 and bottom - top <= h * fill) or size <= 8:
            break
        size -= 1
    mask = Image.new('L', (w, h), 0)
    ImageDraw.Draw(mask).multiline_text(
        ((w - (right - left)) / 2 - left, (h - (bottom - top)) / 2 - top), text, fill=255, font=font,
        align='center')
    alpha = np.asarray(mask, np.float32) / 255.0
    _blend(img, y, x, alpha, np.asarray(color, np.float32))


def _background(width: int, height: int) -> np.ndarray:
    """A wall above a road with a zebra crossing: plain, but not a flat colour."""
    img = np.empty((height, width, 3), np.float32)
    horizon = int(height * 0.62)
    ramp = np.linspace(0.0, 1.0, horizon, dtype=np.float32)[:, None]
    img[:horizon] = (np.array([178, 176, 166], np.float32) * (1 - ramp)
                     + np.array([150, 148, 140], np.float32) * ramp)[:, None, :]
    road = np.linspace(0.0, 1.0, height - horizon, dtype=np.float32)[:, None]
    img[horizon:] = (np.array([96, 96, 102], np.float32) * (1 - road)
                     + np.array([70, 70, 76], np.float32) * road)[:, None, :]
    img[horizon:horizon + 4] = (120, 118, 112)  # kerb
    stripe_w = max(width // 16, 4)
    top = horizon + (height - horizon) // 3
    for x in range(stripe_w // 2, width, stripe_w * 2):
        _rect(img, x, top, x + stripe_w, height - (height - horizon) // 8, (215, 215, 210))
    return img


def _static_traffic_light(img: np.ndarray, light: TrafficLight) -> None:
    x, y, w, h = light.box
    pole_w = max(w // 7, 3)
    _rect(img, x + (w - pole_w) / 2, y + h, x + (w + pole_w) / 2, img.shape[0], (60, 62, 66))
    _rounded_rect(img, light.box, min(w, h) * 0.18, (34, 36, 38))


def _lamp_geometry(light: TrafficLight) -> list[tuple[float, float, float]]:
    x, y, w, h = light.box
    pitch = h / 3
    r = min(w * 0.36, pitch * 0.40)
    return [(x + w / 2, y + pitch * (i + 0.5), r) for i in range(3)]


def _static_display(img: np.ndarray, display: SegmentDisplay) -> None:
    x, y, w, h = display.box
    _rounded_rect(img, display.box, min(w, h) * 0.08, (70, 70, 74))  # bezel
    _rect(img, x + 5, y + 5, x + w - 5, y + h - 5, (14, 12, 12))
    if display.label:
        label_h = min(max(y - 4, 0), max(h // 4, 12))
        if label_h >= 8:
            _text(img, (x, y - label_h - 2, w, label_h), display.label, (40, 40, 44), fill=0.95)


def _segment_rects(x: float, y: float, w: float, h: float) -> dict[str, tuple[float, float, float, float]]:
    """Rectangles (x0, y0, x1, y1) of the seven segments of one digit cell."""
    t = w * 0.2  # stroke
    g = t * 0.35  # gap where segments meet
    mid = y + h / 2
    return {
        'a': (x + t / 2 + g, y, x + w - t / 2 - g, y + t),
        'g': (x + t / 2 + g, mid - t / 2, x + w - t / 2 - g, mid + t / 2),
        'd': (x + t / 2 + g, y + h - t, x + w - t / 2 - g, y + h),
        'f': (x, y + t / 2 + g, x + t, mid - g),
        'b': (x + w - t, y + t / 2 + g, x + w, mid - g),
        'e': (x, mid + g, x + t, y + h - t / 2 - g),
        'c': (x + w - t, mid + g, x + w, y + h - t / 2 - g),
    }


def display_segments(display: SegmentDisplay) -> list[dict[str, tuple[float, float, float, float]]]:
    """Where each digit's segments are drawn: per digit (left to right) segment name -> (x0, y0, x1, y1).

    Public so tests and evaluation tools can read the display back from rendered pixels.
    """
    x, y, w, h = display.box
    n = display.digits
    pad = h * 0.16
    digit_h = h - 2 * pad
    digit_w = digit_h * 0.55
    space = digit_w * 0.35
    total = n * digit_w + (n - 1) * space
    scale = min(1.0, (w - 2 * pad) / total)  # narrow boxes: shrink the digits to fit
    digit_w, space, total = digit_w * scale, space * scale, total * scale
    left = x + (w - total) / 2
    return [_segment_rects(left + i * (digit_w + space), y + pad, digit_w, digit_h) for i in range(n)]


def _draw_display(img: np.ndarray, display: SegmentDisplay, value: str, lighting: float) -> None:
    lit = np.asarray(display.color, np.float32)
    dark = lit * (_UNLIT_SEGMENT * lighting)  # an unlit segment is only seen by the room's light
    for char, segments in zip(value.rjust(display.digits), display_segments(display)):
        on = SEGMENTS[char]
        for name, (sx0, sy0, sx1, sy1) in segments.items():
            _rect(img, sx0, sy0, sx1, sy1, lit if name in on else dark)


def _static_sign(img: np.ndarray, sign: Sign) -> None:
    x, y, w, h = sign.box
    post_w = max(w // 20, 3)
    _rect(img, x + w / 2 - post_w / 2, y + h, x + w / 2 + post_w / 2, img.shape[0], (90, 92, 96))
    _rect(img, x, y, x + w, y + h, (40, 40, 40))  # border
    _rect(img, x + 4, y + 4, x + w - 4, y + h - 4, sign.background)
    if sign.text:
        _text(img, (x + 8, y + 8, w - 16, h - 16), sign.text, sign.color)


def _person(img: np.ndarray, person: Person) -> None:
    from omni_ros.backends.cpu.synth import person as draw_person  # the figure the people tests use

    height, width = img.shape[:2]
    layer = Image.new('RGBA', (width, height), (0, 0, 0, 0))
    x, feet = person.feet
    draw_person(layer, x, feet - person.height, person.height, person.clothes)
    rgba = np.asarray(layer, np.float32)
    _blend(img, 0, 0, rgba[..., 3] / 255.0, rgba[..., :3])


def _static_lamp(img: np.ndarray, lamp: Lamp) -> None:
    cx, cy = lamp.center
    r = lamp.radius
    _rect(img, cx - r * 0.7, cy + r * 0.7, cx + r * 0.7, cy + r * 1.3, (50, 50, 54))  # base


def _shade(color: Rgb, lighting: float) -> Color:
    """A surface's colour under the scene's light."""
    return (color[0] * lighting, color[1] * lighting, color[2] * lighting)


@functools.lru_cache(maxsize=8)
def _lit_layer(scn: Scenario, signs: tuple[bool, ...], people: tuple[bool, ...], lighting: float) -> np.ndarray:
    """Everything seen by the room's light, with the signs and people flagged as visible."""
    img = _background(scn.camera.width, scn.camera.height)
    for light in scn.scene.traffic_lights:
        _static_traffic_light(img, light)
    for display in scn.scene.displays:
        _static_display(img, display)
    for sign, shown in zip(scn.scene.signs, signs):
        if shown:
            _static_sign(img, sign)
    for lamp in scn.scene.lamps:
        _static_lamp(img, lamp)
    for person, shown in zip(scn.scene.people, people):
        if shown:
            _person(img, person)
    if lighting != 1.0:
        img *= lighting
    img.setflags(write=False)
    return img


def render_clean(scn: Scenario, t: float) -> np.ndarray:
    """The scene at ``t`` seconds as float32 RGB (0..255), before sensor noise."""
    scene = scn.scene
    lighting = scene.lighting_at(t)
    img = _lit_layer(scn, tuple(s.visible_at(t) for s in scene.signs),
                     tuple(p.visible_at(t) for p in scene.people), lighting).copy()
    # Light sources shine at full brightness in any room; their unlit parts only reflect the room's light.
    for light in scene.traffic_lights:
        state = light.state_at(t)
        for colour, (cx, cy, r) in zip(_LIGHT_ORDER, _lamp_geometry(light)):
            on = state == colour
            _disc(img, cx, cy, r, _LIT[colour] if on else _shade(_UNLIT[colour], lighting), lit=on)
    for display in scene.displays:
        _draw_display(img, display, display.value_at(t), lighting)
    for lamp in scene.lamps:
        on = lamp.lit_at(t)
        dim = (int(lamp.color[0] * 0.3), int(lamp.color[1] * 0.3), int(lamp.color[2] * 0.3))
        shown: Color = lamp.color if on else _shade(dim, lighting)
        _disc(img, lamp.center[0], lamp.center[1], lamp.radius, shown, lit=on)
    return img


def render_frame(scn: Scenario, t: float) -> ImageArray:
    """The camera image at ``t`` seconds from the start: HxWx3 uint8 RGB, with sensor noise.

    The noise is seeded by the scenario seed and ``t`` (to the microsecond), so a frame is the same
    whenever it is rendered.
    """
    img = render_clean(scn, t)
    amplitude = int(round(scn.camera.noise))
    if amplitude > 0:
        rng = np.random.default_rng([scn.seed, int(round(t * 1e6))])
        img += rng.integers(-amplitude, amplitude + 1, size=img.shape, dtype=np.int8)
    frame: ImageArray = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    return frame


def _pink_noise(n: int, rate: int, rms: float, rng: np.random.Generator) -> np.ndarray:
    """Noise with a 1/f spectrum above 40 Hz (room tone rather than hiss); exactly ``rms``."""
    if n == 0 or rms == 0:
        return np.zeros(n)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1.0 / rate)
    shape = np.where(freqs >= 40.0, 1.0 / np.sqrt(np.maximum(freqs, 40.0)), 0.0)
    noise: np.ndarray = np.fft.irfft(spectrum * shape, n)
    scaled: np.ndarray = noise * (rms / np.sqrt(np.mean(noise ** 2)))
    return scaled


def ding(sound: Sound, rate: int) -> np.ndarray:
    """A struck-bell tone: fundamental plus harmonics (and one inharmonic partial), higher ones dying faster."""
    t = np.arange(int(round(sound.duration * rate))) / rate
    partials = ((1.0, 1.0, 0.33), (2.0, 0.5, 0.20), (3.0, 0.25, 0.13), (4.2, 0.12, 0.08))
    out = np.zeros_like(t)
    for ratio, amp, decay in partials:
        if sound.frequency * ratio < rate / 2:
            out += amp * np.exp(-t / (sound.duration * decay)) * np.sin(2 * np.pi * sound.frequency * ratio * t)
    out *= 1.0 - np.exp(-t / 0.002)  # 2 ms attack: a strike, not a click
    shaped: np.ndarray = out * (sound.level / np.max(np.abs(out)))
    return shaped


def beep(sound: Sound, rate: int) -> np.ndarray:
    """``count`` steady sine beeps with 5 ms ramps (an electronic beep: no decay, no harmonics)."""
    n_on = int(round(sound.duration * rate))
    n_gap = int(round(sound.gap * rate))
    t = np.arange(n_on) / rate
    ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.005)
    tone = sound.level * ramp * np.sin(2 * np.pi * sound.frequency * t)
    parts = []
    for i in range(sound.count):
        parts.append(tone)
        if i + 1 < sound.count:
            parts.append(np.zeros(n_gap))
    return np.concatenate(parts)


def doorbell(sound: Sound, rate: int) -> np.ndarray:
    """Ding-dong: a bell tone, then ``gap`` seconds later another a major third lower."""
    first = ding(sound, rate)
    second = ding(dataclasses.replace(sound, frequency=sound.frequency * _DONG), rate)
    offset = int(round(sound.gap * rate))
    out = np.zeros(max(len(first), offset + len(second)))
    out[:len(first)] += first
    out[offset:offset + len(second)] += second
    return out


def _peak(wave: np.ndarray, level: float) -> np.ndarray:
    return wave * (level / max(float(np.max(np.abs(wave))), 1e-9))


def sound_wave(scn: Scenario, index: int) -> np.ndarray:
    """The samples of ``scn.scene.sounds[index]`` at the scenario's rate (knocks are seeded per sound)."""
    from omni_ros.backends.cpu import synth  # the knocks and flite speech the CPU backend's tests use

    sound, rate = scn.scene.sounds[index], scn.audio.sample_rate
    if sound.kind == 'ding':
        return ding(sound, rate)
    if sound.kind == 'beep':
        return beep(sound, rate)
    if sound.kind == 'doorbell':
        return doorbell(sound, rate)
    if sound.kind == 'knock':
        return _peak(synth.knock(sound.count, sound.gap, [scn.seed, _AUDIO_STREAM, index], rate), sound.level)
    if sound.kind in ('smoke_alarm', 'co_alarm'):
        pattern = 'T3' if sound.kind == 'smoke_alarm' else 'T4'
        return _peak(synth.alarm(pattern, sound.frequency, sound.count, sound.tempo, rate), sound.level)
    if sound.kind == 'phone':
        return _peak(synth.phone_ring(sound.pattern, sound.style, sound.frequency, sound.trill, sound.count, rate),
                     sound.level)
    if sound.kind == 'kettle':
        return _peak(synth.kettle(sound.frequency, sound.duration, [scn.seed, _AUDIO_STREAM, index],
                                  sound.style == 'double', rate), sound.level)
    return _peak(synth.speech(sound.text, sound.voice, rate), sound.level)


def render_audio(scn: Scenario) -> FloatArray:
    """The whole microphone signal: float32 mono in [-1, 1] at the scenario's sample rate."""
    rate = scn.audio.sample_rate
    n = int(round(scn.duration * rate))
    rng = np.random.default_rng([scn.seed, _AUDIO_STREAM])
    out = _pink_noise(n, rate, scn.audio.noise, rng)
    for index, sound in enumerate(scn.scene.sounds):
        wave = sound_wave(scn, index)
        start = int(round(sound.at * rate))
        end = min(start + len(wave), n)
        if end > start:
            out[start:end] += wave[:end - start]
    audio: FloatArray = np.clip(out, -1.0, 1.0).astype(np.float32)
    return audio


def to_s16le(audio: FloatArray) -> bytes:
    return cast(bytes, np.rint(np.clip(audio, -1.0, 1.0) * 32767.0).astype('<i2').tobytes())
