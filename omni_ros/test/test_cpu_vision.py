"""CPU backend vision perceptions on rendered scenes: lamp colours, seven-segment digits, people, signs."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from omni_ros.backends.cpu import synth
from omni_ros.backends.cpu.lights import LightDetector
from omni_ros.backends.cpu.ocr import SceneText
from omni_ros.backends.cpu.people import PeopleDetector
from omni_ros.backends.cpu.sevenseg import SevenSegmentReader


@pytest.fixture(scope='module')
def digits() -> SevenSegmentReader:
    d = SevenSegmentReader()
    d.setup()
    return d


@pytest.fixture(scope='module')
def ocr() -> SceneText:
    d = SceneText()
    d.setup()
    yield d
    d.close()


def with_light(lit: str | None, brightness: float, size: float = 1.0, x: int = 480) -> np.ndarray:
    img = Image.fromarray(synth.finish(synth.background(), brightness))
    synth.traffic_light(img, lit, x=x, size=size)
    return np.asarray(img)


@pytest.mark.parametrize('color', ['red', 'yellow', 'green'])
@pytest.mark.parametrize('brightness', [0.15, 0.5, 1.0, 1.7])
def test_lit_lamp_colour_under_any_lighting(lights: LightDetector, color: str, brightness: float) -> None:
    states = lights.states(with_light(color, brightness))
    assert set(states) == {color}
    assert states[color] > 0.5


@pytest.mark.parametrize('size', [0.4, 0.7, 1.6])
def test_lamp_sizes(lights: LightDetector, size: float) -> None:
    assert set(lights.states(with_light('green', 1.0, size=size, x=300))) == {'green'}


def test_no_lamp_lit_or_no_light(lights: LightDetector) -> None:
    assert lights.states(with_light(None, 1.0)) == {}
    assert lights.states(synth.scene()) == {}
    assert lights.states(np.zeros((480, 640, 3), np.uint8)) == {}


def test_coloured_distractors_are_not_lamps(lights: LightDetector) -> None:
    # A red STOP sign (square), a green EXIT sign, a person with skin tones, a painted red disc on a wall.
    img = Image.fromarray(synth.scene(sign_text='EXIT', with_person=True))
    synth.sign(img, 'STOP', x=420, y=60, bg=(210, 30, 30))
    ImageDraw.Draw(img).ellipse([40, 40, 90, 90], fill=(190, 60, 50))
    assert lights.states(np.asarray(img)) == {}


@pytest.mark.parametrize('text', ['0', '1', '7', '16', '23', '45', '89', '108', '2024'])
@pytest.mark.parametrize('color, height, brightness', [
    ((255, 50, 30), 70, 1.0), ((40, 255, 90), 40, 0.4), ((255, 180, 20), 110, 1.5), ((255, 60, 40), 30, 0.2)])
def test_seven_segment_digits(digits: SevenSegmentReader, text: str, color: tuple[int, int, int], height: int,
                              brightness: float) -> None:
    img = Image.fromarray(synth.finish(synth.background(), brightness))
    synth.seven_segment(img, text, height=height, color=color)
    readings = digits.read(np.asarray(img))
    assert readings and readings[0].text == text


def test_seven_segment_without_ghost_segments(digits: SevenSegmentReader) -> None:
    img = Image.fromarray(synth.finish(synth.background(), 1.0))
    synth.seven_segment(img, '16', color=(255, 255, 255), ghost=False)
    assert [r.text for r in digits.read(np.asarray(img))] == ['16']


@pytest.mark.parametrize('kwargs', [
    {}, {'sign_text': 'EXIT 12'}, {'light': 'green', 'with_person': True}, {'brightness': 0.1},
    {'sign_text': '42', 'light': 'red'}])
def test_no_digits_where_there_is_no_display(digits: SevenSegmentReader, kwargs: dict) -> None:
    assert digits.read(synth.scene(**kwargs)) == []


@pytest.mark.parametrize('brightness', [0.5, 1.0, 1.5])
def test_person_detected(people: PeopleDetector, brightness: float) -> None:
    assert people.detect(synth.scene(with_person=True, brightness=brightness)).people >= 1


@pytest.mark.parametrize('kwargs', [{}, {'light': 'red', 'digits': '12', 'sign_text': 'EXIT'}, {'brightness': 0.05}])
def test_nobody_in_empty_scenes(people: PeopleDetector, kwargs: dict) -> None:
    result = people.detect(synth.scene(**kwargs))
    assert (result.people, result.faces) == (0, 0)


@pytest.mark.parametrize('text', ['EXIT', 'OPEN', 'PUSH', 'GATE 12'])
@pytest.mark.parametrize('brightness', [0.5, 1.0])
def test_sign_text(ocr: SceneText, text: str, brightness: float) -> None:
    lines = [line.text for line in ocr.read(synth.scene(sign_text=text, brightness=brightness))]
    assert text in lines


def test_no_text_in_a_plain_scene(ocr: SceneText) -> None:
    assert ocr.read(synth.scene(light='green', with_person=True)) == []
