"""The generated scenario suite: what it covers, that its ground truth matches what it renders, and the
CPU backend's alerts on it against the acceptance floors per watch kind (issue #4)."""

from __future__ import annotations

import itertools
import math
import statistics
from collections import Counter

import numpy as np
import pytest

from omni_ros.backends.cpu.conditions import ConditionKind, contains_words
from omni_ros.backends.cpu.instructions import parse_instruction
from omni_ros.backends.cpu.options import CpuConfig
from omni_ros.scenario.model import Scenario, within
from omni_ros.scenario.render import render_audio, render_clean, render_frame
from omni_ros.scenario.suite import (
    ALARM_PATTERNS, DARK_LEVEL, LIGHTING, LIT_LEVEL, NOISE, PHRASINGS, SOUND_KINDS, Floors, Kind, suite_data,
    suite_scenarios)

# What each kind's instructions must mean to the CPU backend.
CONDITION = {
    Kind.LIGHT: ConditionKind.LIGHT_COLOR, Kind.FLOOR: ConditionKind.NUMBER_SHOWN, Kind.TEXT: ConditionKind.TEXT_SHOWN,
    Kind.PERSON: ConditionKind.PERSON_PRESENT, Kind.NOBODY: ConditionKind.NOBODY_PRESENT,
    Kind.DARK: ConditionKind.LIGHTING, Kind.LIGHTS_ON: ConditionKind.LIGHTING,
    Kind.PEOPLE_COUNT: ConditionKind.PEOPLE_COUNT,
    Kind.SPEECH: ConditionKind.SPEECH, **{k: ConditionKind.SOUND for k in SOUND_KINDS if k is not Kind.SPEECH}}
VALUE = {Kind.DARK: 'dark', Kind.LIGHTS_ON: 'lit', **{k: k.value for k in SOUND_KINDS if k is not Kind.SPEECH}}
LIGHT_NAMES = {'yellow': 'amber'}  # the backend says yellow for the scenario's amber


@pytest.fixture(scope='module')
def suite() -> list[Scenario]:
    return suite_scenarios()


def watches(suite: list[Scenario]):
    return [(scn, w) for scn in suite for w in scn.expected.watches]


# -- the generator -------------------------------------------------------------------------------------

def test_same_seed_same_suite_other_seed_other_suite() -> None:
    assert suite_data(5) == suite_data(5)
    other = suite_data(6)
    assert [d['name'] for d in other] == [d['name'] for d in suite_data(5)]
    assert other != suite_data(5)


def test_every_kind_is_covered_in_several_phrasings_with_events_and_non_events(suite) -> None:
    positives: Counter[str] = Counter()
    negatives: Counter[str] = Counter()
    phrasings: dict[str, set[str]] = {}
    for _, w in watches(suite):
        (positives if w.at is not None else negatives)[w.kind] += 1
        phrasings.setdefault(w.kind, set()).add(w.instruction)
    for kind in Kind:
        # Ten events give recall a step of 0.1: one miss is still within the 0.9 floor, two are not.
        assert positives[kind.value] >= 8, (kind, positives[kind.value])
        assert len({p for p in PHRASINGS[kind] if any(_phrased(p, i) for i in phrasings[kind.value])}) >= 3, kind
    for kind in (Kind.LIGHT, Kind.FLOOR, Kind.TEXT, Kind.PERSON, Kind.DARK, Kind.LIGHTS_ON, Kind.PEOPLE_COUNT,
                 *SOUND_KINDS):
        assert negatives[kind.value] >= 4, (kind, negatives[kind.value])


def _phrased(pattern: str, instruction: str) -> bool:
    """Whether ``instruction`` is ``pattern`` with its {fields} filled in."""
    head = pattern.split('{')[0]
    return instruction.startswith(head) and instruction.endswith(pattern.rsplit('}', 1)[-1])


def test_lighting_noise_and_robustness_cases_vary(suite) -> None:
    assert {s.scene.lighting for s in suite} >= set(LIGHTING.values())
    assert {s.audio.noise for s in suite} >= set(NOISE.values()) | {0.0}  # 0: digital silence
    assert any(s.camera.gaps and s.camera.gaps[-1][1] >= s.duration for s in suite)  # a camera that stops
    assert any(s.camera.gaps and s.camera.gaps[-1][1] < s.duration for s in suite)  # ... and one that resumes
    levels = [sound.level / s.audio.noise for s in suite for sound in s.scene.sounds if s.audio.noise]
    assert min(levels) < 15 and max(levels) > 60  # sounds from near the noise (< 24 dB) to well above it
    # Distractors: a blinking beacon beside every traffic light watched; boards with nobody in them.
    assert all(s.scene.lamps for s in suite if s.name.startswith('light-'))
    assert all(any(not sign.text for sign in s.scene.signs) for s in suite if s.name.startswith('person-'))
    # ... a room dimmed before it goes dark, a lamp switched on in the dark before the lights come on;
    relit = [s for s in suite if s.name.startswith('roomlight-')]
    assert any(any(DARK_LEVEL < level < 0.5 for _, level in s.scene.relit) for s in relit)
    assert any(s.scene.lighting <= DARK_LEVEL and any(lamp.lit[0][0] > 0 for lamp in s.scene.lamps) for s in relit)
    # ... someone walking past (in view under a second) while people are counted;
    assert any(any(p.visible[0][1] - p.visible[0][0] < 1.0 for p in s.scene.people)
               for s in suite if s.name.startswith('people-'))
    # ... an alarm-like group of beeps before the alarms, and the television talking before a phone rings.
    sounds = [[sound.kind for sound in s.scene.sounds] for s in suite]
    assert all(kinds[0] == 'beep' for kinds, s in zip(sounds, suite) if s.name.startswith('alarm-'))
    assert any(any(a == 'speech' and b == 'phone' for a, b in itertools.pairwise(kinds)) for kinds in sounds)
    beeps = {(snd.count, snd.duration) for s in suite for snd in s.scene.sounds if snd.kind == 'beep'}
    assert beeps >= {(3, 0.5), (4, 0.1)}


def test_every_instruction_means_its_kind_to_the_cpu_backend(suite) -> None:
    for _, w in watches(suite):
        condition = parse_instruction(w.instruction).condition
        assert condition.kind is CONDITION[Kind(w.kind)], w
        assert condition.value == VALUE.get(Kind(w.kind), condition.value), w


def _count_holds(scn: Scenario, value: str, t: float) -> bool:
    """A people count as the CPU backend means it: true at t and for the next second (someone in view for
    less, walking past, does not change the count)."""
    op, n = value[:2], int(value[2:])
    for u in np.arange(t, t + 1.0, 0.05):
        count = sum(p.visible_at(u) for p in scn.scene.people) if scn.scene.lighting_at(u) > DARK_LEVEL else -1
        if count < 0 or not {'>=': count >= n, '<=': count <= n, '==': count == n}[op]:
            return False
    return True


def _recognisable(sound) -> float:
    """When an alarm's pattern has sounded twice (the end of the second group's last beep)."""
    steps = ALARM_PATTERNS[Kind(sound.kind)]
    return sound.at + sound.tempo * (2 * sum(on + off for on, off in steps) - steps[-1][1])


def _shown(scn: Scenario, kind: ConditionKind, value: str, t: float) -> bool:
    """Whether the scene shows or plays what a condition with ``value`` waits for, at ``t``."""
    scene = scn.scene
    if kind not in (ConditionKind.SOUND, ConditionKind.SPEECH) and within(scn.camera.gaps, t):
        return False  # the camera delivers no frame: nothing is seen
    if kind is ConditionKind.LIGHT_COLOR:
        return any(light.state_at(t) == LIGHT_NAMES.get(value, value) for light in scene.traffic_lights)
    if kind is ConditionKind.NUMBER_SHOWN:
        return any(d.value_at(t).strip() == value for d in scene.displays)
    if kind is ConditionKind.TEXT_SHOWN:
        # Matched as the backend matches a sign's line: the words, whole and in order.
        return any(sign.visible_at(t) and any(contains_words(line, value) for line in sign.text.split('\n'))
                   for sign in scene.signs)
    if kind in (ConditionKind.PERSON_PRESENT, ConditionKind.NOBODY_PRESENT):
        present = scene.lighting_at(t) > 0.05 and any(p.visible_at(t) for p in scene.people)
        return present == (kind is ConditionKind.PERSON_PRESENT)
    if kind is ConditionKind.LIGHTING:
        level = scene.lighting_at(t)
        assert not DARK_LEVEL < level < LIT_LEVEL, (scn.name, level)  # the suite never sets one in between
        return (level <= DARK_LEVEL) == (value == 'dark')
    if kind is ConditionKind.PEOPLE_COUNT:
        return _count_holds(scn, value, t)
    if kind is ConditionKind.SOUND and value in ('smoke_alarm', 'co_alarm'):
        return any(s.kind == value and _recognisable(s) <= t < _recognisable(s) + 0.5 for s in scene.sounds)
    wanted = 'speech' if kind is ConditionKind.SPEECH else value
    return any(sound.kind == wanted and sound.at <= t < sound.at + 0.5 for sound in scene.sounds)


def test_ground_truth_matches_the_scene(suite) -> None:
    """An expected time is when the scene starts showing (or playing) what the instruction asks for, as
    the CPU backend reads the instruction; a watch that never fires asks for something never there."""
    for scn, w in watches(suite):
        condition = parse_instruction(w.instruction).condition
        times = np.arange(0.0, scn.duration, 0.05)
        if w.at is None:
            assert not any(_shown(scn, condition.kind, condition.value, t) for t in times), (scn.name, w)
            continue
        first = next(t for t in times if _shown(scn, condition.kind, condition.value, t))
        assert first == pytest.approx(w.at, abs=0.1), (scn.name, w, first)


def test_changes_are_in_the_pixels_and_the_samples(suite) -> None:
    """Each expected vision event changes the rendered picture then, and each sound is heard then."""
    audio: dict[str, np.ndarray] = {}
    for scn, w in watches(suite):
        if w.at is None:
            continue
        if w.modality.value == 'vision':
            before, after = render_clean(scn, w.at - 0.05), render_clean(scn, w.at + 0.05)
            if not scn.camera.gaps:
                assert np.abs(after - before).max() > 30, (scn.name, w)
        else:
            if scn.name not in audio:
                audio[scn.name] = render_audio(scn)
            rate = scn.audio.sample_rate
            samples = audio[scn.name]
            if w.kind in ('smoke_alarm', 'co_alarm'):  # expected at the end of its last beep: then it stops
                loud = samples[int((w.at - 0.05) * rate):int(w.at * rate)]
                quiet = samples[int((w.at + 0.05) * rate):int((w.at + 0.35) * rate)]
            else:
                heard = 1.0 if w.kind == 'kettle' else 0.5  # a kettle's whistle swells for up to a second
                quiet = samples[max(0, int((w.at - 0.3) * rate)):int(w.at * rate)]
                loud = samples[int(w.at * rate):int((w.at + heard) * rate)]
            assert np.abs(loud).max() > 2 * max(np.abs(quiet).max(), 1e-4), (scn.name, w)


def test_the_dark_scene_is_dark_and_the_night_scenes_only_show_lights(suite) -> None:
    dark = next(s for s in suite if s.scene.lighting == LIGHTING['dark'])
    assert render_frame(dark, 6.0).mean() < 8
    night = next(s for s in suite if s.scene.lighting == LIGHTING['night'] and s.scene.traffic_lights)
    frame = render_frame(night, 1.0).astype(float)
    assert np.percentile(frame, 50) < 20 and frame.max() > 230  # dark room, bright lamp


# -- the CPU backend on the suite ---------------------------------------------------------------------

@pytest.fixture(scope='module')
def cpu_run(suite):
    """The whole suite through one CPU backend, rendered in-process (about a minute on two cores)."""
    from omni_ros.backends import create_backend
    from omni_ros.tools.evaluate import group_results, run_suite

    backend = create_backend('cpu', {'speak': False})  # speech output does not change what is perceived
    backend.setup()
    try:
        run = run_suite(backend, suite)
    finally:
        backend.shutdown()
    return run, group_results(run.results)


def _failures(run, kind: str) -> list[str]:
    return [f'{r.scenario}/{r.id}: at {r.at}, alerts {r.alerts}' for r in run.results
            if r.kind == kind and (r.false_positives or r.misses)]


@pytest.mark.parametrize('kind', [k.value for k in Kind])
def test_cpu_backend_meets_the_floors(cpu_run, kind: str) -> None:
    run, report = cpu_run
    group = next(g for g in report['kinds'] if g.name == kind)
    assert group.recall >= 0.9, _failures(run, kind)
    assert group.precision >= 0.9, _failures(run, kind)
    # The CPU backend's own bar on this suite: not one miss or false alert.
    assert group.recall == 1.0 and group.precision == 1.0, _failures(run, kind)
    floors = Floors()
    shown = [(r.scenario, r.latency) for r in run.results if r.kind == kind]
    assert group.latency_median <= floors.median_latency and group.latency_max <= floors.max_latency, shown
    # The figures are those of the matched watches: recomputed from them here.
    latencies = [r.latency for r in run.results if r.kind == kind and r.latency is not None]
    assert group.latency_median == pytest.approx(statistics.median(latencies))
    # Latency is when the alert would be published: never before the unit it refers to has ended.
    matched = [r for r in run.results if r.kind == kind and r.latency is not None]
    assert all(r.latency > r.unit_start for r in matched), [(r.scenario, r.latency, r.unit_start) for r in matched]


# Visual state changes and the sounds that need no second look are decided on the backend's hop, on
# input that ends soon after the onset (stream time, so independent of this machine's speed; the
# published latency adds the processing time): not at the end of a 1 s unit.
@pytest.mark.parametrize('kind, within', [('light', 0.5), ('floor', 0.5), ('dark', 0.5), ('lights_on', 0.5),
                                          ('smoke_alarm', 0.5), ('co_alarm', 0.5), ('knock', 0.9)])
def test_alerts_are_decided_on_the_hop_after_the_onset(cpu_run, kind: str, within: float) -> None:
    run, _ = cpu_run
    hop = CpuConfig().hop
    matched = [r for r in run.results if r.kind == kind and r.unit_start is not None]
    assert matched and all(r.unit_start + hop <= within for r in matched), \
        [(r.scenario, r.unit_start) for r in matched]


# The sounds that wait for what tells them apart, decided (stream time: the end of the hop the alert was
# decided on) no later than that wait needs, at p95: a beep that switched on once it has sounded 0.2 s (or
# has ended), two knocks at the second, a doorbell 0.25 s after its second note (which comes 0.4-0.65 s
# after the first), a ding 0.75 s after its onset (sooner, a doorbell's first note would be one).
# Before issue 14: 0.77, 0.72, 1.78 s, 0.98 s; beeps 0.58 s with the 0.35 s wait.
@pytest.mark.parametrize('kind, p95', [('beep', 0.45), ('knock', 0.6), ('doorbell', 1.1), ('ding', 1.0)])
def test_sounds_are_decided_as_soon_as_they_can_be_told_apart(cpu_run, kind: str, p95: float) -> None:
    from omni_ros.tools.evaluate import percentile

    run, _ = cpu_run
    decided = [r.unit_start + CpuConfig().hop for r in run.results if r.kind == kind and r.unit_start is not None]
    assert decided and (percentile(decided, 95) or 0.0) <= p95, sorted(decided)


def test_every_chunk_of_every_scenario_was_fed(cpu_run, suite) -> None:
    run, _ = cpu_run
    assert run.scenarios == len(suite)
    hop = CpuConfig().hop  # the backend decides on chunks of its hop
    assert run.chunks == sum(math.ceil(s.duration / hop) for s in suite)


@pytest.mark.parametrize('case', ['robustness-00', 'robustness-01', 'robustness-02', 'robustness-03'])
def test_silence_darkness_noise_and_a_stopped_camera_raise_no_false_alert(cpu_run, suite, case: str) -> None:
    run, _ = cpu_run
    results = [r for r in run.results if r.scenario == case]
    assert results and all(r.false_positives == 0 for r in results), [(r.id, r.alerts) for r in results]
    # What is still heard while the camera is stopped is still reported.
    assert all(r.misses == 0 for r in results), [(r.id, r.at) for r in results if r.misses]
