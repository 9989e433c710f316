"""CPU perceptions on rendered scenario scenes: the distractors, lighting and quiet sounds that the
generated suite showed them getting wrong."""

from __future__ import annotations

import numpy as np
import pytest

from omni_ros.backends.cpu.imaging import ChangeGate
from omni_ros.backends.cpu.lights import LightDetector
from omni_ros.backends.cpu.people import PeopleDetector
from omni_ros.backends.cpu.sevenseg import SevenSegmentReader
from omni_ros.backends.cpu.sound_events import SoundEventDetector
from omni_ros.scenario import parse_scenario, render_audio, render_frame

LIGHT = {'box': [100, 60, 80, 216], 'states': [{'at': 0.0, 'show': 'green'}]}
BEACON = {'center': [450, 90], 'radius': 20, 'color': [255, 150, 0], 'lit': [[0.0, 5.0]]}


def scene(duration: float = 5.0, noise: float = 0.006, **elements):
    return parse_scenario({
        'name': 'scene', 'duration': duration, 'seed': 3,
        'camera': {'width': 640, 'height': 480, 'fps': 10},
        'audio': {'sample_rate': 16000, 'block': 0.05, 'noise': noise},
        'scene': elements}, 'scene.yaml')


@pytest.mark.parametrize('lighting', [0.08, 0.4, 1.0, 1.35])
def test_a_beacon_on_the_wall_is_not_a_traffic_light_in_any_light(lights: LightDetector, lighting: float) -> None:
    """In a dim room the wall is as dark as a housing around a lone lamp; the stacked lenses still tell."""
    frame = render_frame(scene(traffic_lights=[LIGHT], lamps=[BEACON], lighting=lighting), 1.0)
    assert set(lights.states(frame)) == {'green'}


def test_a_traffic_light_on_its_pole_is_not_a_person(people: PeopleDetector) -> None:
    light = {'box': [260, 40, 90, 243], 'states': [{'at': 0.0, 'show': 'red'}]}
    assert people.detect(render_frame(scene(traffic_lights=[light]), 1.0)).people == 0
    person = {'feet': [520, 455], 'height': 320, 'visible': [[0.0, 5.0]]}
    assert people.detect(render_frame(scene(traffic_lights=[light], people=[person]), 1.0)).people == 1


@pytest.mark.parametrize('height', [200, 300, 400])
def test_people_near_and_far(people: PeopleDetector, height: int) -> None:
    """Someone close to the camera fills the frame from head to feet; someone further off is small."""
    person = {'feet': [300, min(height + 60, 475)], 'height': height, 'visible': [[0.0, 5.0]]}
    assert people.detect(render_frame(scene(people=[person]), 1.0)).people == 1


def test_a_changed_picture_gets_a_second_look() -> None:
    import cv2

    gate = ChangeGate(cv2, max_age=5)
    empty = render_frame(scene(), 1.0)
    someone = render_frame(scene(people=[{'feet': [300, 460], 'height': 300, 'visible': [[0.0, 5.0]]}]), 1.0)
    runs = []
    for _ in range(4):
        runs.append(gate.should_run(empty))
        if runs[-1]:
            gate.ran(empty)
    assert runs == [True, True, False, False]  # the first picture, then one second look
    assert gate.should_run(someone)  # changed
    gate.ran(someone)
    assert gate.should_run(someone)  # unchanged, but a detector may have missed who just came in
    gate.ran(someone)
    assert not gate.should_run(someone)


def test_two_displays_of_different_sizes_are_both_read() -> None:
    reader = SevenSegmentReader()
    reader.setup()
    frame = render_frame(scene(lighting=0.4, displays=[
        {'box': [461, 88, 155, 78], 'color': [255, 60, 20], 'values': [{'at': 0.0, 'show': '16'}]},
        {'box': [250, 133, 164, 83], 'color': [255, 170, 20], 'values': [{'at': 0.0, 'show': '54'}]}]), 1.0)
    assert sorted(r.text for r in reader.read(frame)) == ['16', '54']


def sound_events(scn) -> list[tuple[str, float]]:
    audio = render_audio(scn)
    detector = SoundEventDetector()
    found = []
    for k in range(int(scn.duration)):
        chunk = audio[k * 16000:(k + 1) * 16000]
        found += [(e.kind, round(e.onset, 1)) for e in detector.process(chunk, np.zeros(len(chunk), bool), float(k))]
    return found


@pytest.mark.parametrize('frequency', [587.0, 659.0, 784.0])
def test_a_doorbell_is_one_doorbell_not_also_a_beep(frequency: float) -> None:
    """The "dong"'s upper partials fade first and come and go in the noise: they are not beeps."""
    bell = {'kind': 'doorbell', 'at': 1.3, 'level': 0.3, 'frequency': frequency, 'duration': 1.3, 'gap': 0.5}
    assert sound_events(scene(duration=5.0, sounds=[bell])) == [('doorbell', 1.3)]


def test_a_ringing_ding_in_loud_noise_is_one_ding() -> None:
    ding = {'kind': 'ding', 'at': 1.3, 'level': 0.25, 'frequency': 1760.0, 'duration': 1.0}
    assert sound_events(scene(duration=5.0, noise=0.02, sounds=[ding])) == [('ding', 1.3)]


@pytest.mark.parametrize('noise', [0.002, 0.006, 0.02])
def test_a_knock_about_22_db_above_the_noise_is_heard(noise: float) -> None:
    knock = {'kind': 'knock', 'at': 1.7, 'level': round(noise * 12.6, 4), 'count': 2, 'gap': 0.16}
    assert sound_events(scene(duration=5.0, noise=noise, sounds=[knock])) == [('knock', 1.7)]
    assert sound_events(scene(duration=5.0, noise=noise)) == []
