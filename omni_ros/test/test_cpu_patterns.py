"""The CPU backend's issue-13 perceptions on made inputs: smoke and CO alarms by their temporal patterns,
phone rings, kettle whistles (each against the sounds it must not be taken for), the room going dark or
lit, and counts of people; and that the sound patterns are decided the same whatever the chunk length."""

from __future__ import annotations

import numpy as np
import pytest

from omni_ros.backends.cpu import synth
from omni_ros.backends.cpu.conditions import Condition, ConditionKind, Perceptions
from omni_ros.backends.cpu.people import PeopleCounter
from omni_ros.backends.cpu.room_light import RoomLightMeter
from omni_ros.backends.cpu.sound_events import SoundEventDetector
from omni_ros.backends.cpu.tonal import ToneStream
from omni_ros.backends.cpu.vad import SileroVad

SR = synth.SR


@pytest.fixture(scope='module')
def vad() -> SileroVad:
    v = SileroVad()
    v.setup()
    yield v
    v.close()


def events(vad: SileroVad, audio: np.ndarray, chunk: float = 1.0) -> list[tuple[float, str, float]]:
    """(chunk start, kind, onset) of the events found in ``audio`` streamed in ``chunk``-second pieces."""
    vad.reset()
    detector = SoundEventDetector()
    step = int(round(chunk * SR))
    n = int(np.ceil(len(audio) / step))
    audio = np.concatenate([audio, np.zeros(n * step - len(audio), np.float32)])
    found = []
    for i in range(n):
        piece = audio[i * step:(i + 1) * step]
        speech = np.repeat(vad.process(piece).speech, 512)
        mask = np.concatenate([speech, np.zeros(max(0, len(piece) - len(speech)), bool)])[:len(piece)]
        found += [(i * chunk, e.kind, e.onset) for e in detector.process(piece, mask, i * chunk)]
    return found


def background(seconds: float, seed: int = 1, level: float = 0.004) -> np.ndarray:
    return synth.noise(seconds, level, 'pink', seed)


def kinds(found) -> list[str]:
    return [k for _, k, _ in found]


# -- alarms ------------------------------------------------------------------------------------------
@pytest.mark.parametrize('pattern, kind', [('T3', 'smoke_alarm'), ('T4', 'co_alarm')])
@pytest.mark.parametrize('freq, tempo, snr', [(3200.0, 1.0, 25), (3400.0, 0.9, 15), (2900.0, 1.1, 12),
                                              (520.0, 1.0, 20)])
def test_an_alarm_is_named_once_when_its_pattern_has_sounded_twice(vad, pattern, kind, freq, tempo, snr) -> None:
    at = 1.3
    sound = synth.alarm(pattern, freq, cycles=3, tempo=tempo)
    steps = synth.ALARM_PATTERNS[pattern]
    complete = at + tempo * (2 * sum(on + off for on, off in steps) - steps[-1][1])
    found = events(vad, synth.mix(background(at + len(sound) / SR + 2), sound, at, snr))
    named = [(chunk, onset) for chunk, k, onset in found if k == kind]
    assert len(named) == 1, found  # the third cycle is the same alarm
    chunk, onset = named[0]
    assert abs(onset - at) < 0.05  # its onset is the first beep's
    assert complete - 1.0 <= chunk <= complete  # named in the chunk that completes the second group
    # Never the other alarm; the beeps are beeps (one beeping), except a low tone below the beep band.
    assert set(kinds(found)) <= {kind, 'beep'} and kinds(found).count('beep') <= 1, found
    assert ('beep' in kinds(found)) == (freq >= 700)


@pytest.mark.parametrize('name, sound', [
    ('one T3 group (a microwave: three 0.5 s beeps)', lambda: synth.beep(3200, 0.5, 3, 0.5)),
    ('one T4 group (a keypad: four 0.1 s beeps)', lambda: synth.beep(3100, 0.1, 4, 0.1)),
    ('a single T3 cycle', lambda: synth.alarm('T3', 3200, 1)),
    ('a single T4 cycle', lambda: synth.alarm('T4', 3000, 1)),
    ('beeping on and on, 0.5 s on, 0.5 s off', lambda: synth.beep(3200, 0.5, 9, 0.5)),
    ('four beeps a second for five seconds', lambda: synth.beep(3000, 0.12, 20, 0.13)),
    ('two T3-like groups with too short a pause', lambda: np.concatenate([
        synth.beep(3200, 0.5, 3, 0.5), np.zeros(int(0.6 * SR), np.float32), synth.beep(3200, 0.5, 3, 0.5)])),
])
def test_beeps_that_are_not_an_alarm_pattern_are_only_beeps(vad, name, sound) -> None:
    found = events(vad, synth.mix(background(12), sound(), 1.0, 25))
    assert kinds(found) == ['beep'], (name, found)


def test_a_smoke_and_a_co_alarm_one_after_the_other_are_both_named(vad) -> None:
    audio = synth.mix(background(22), synth.alarm('T3', 3300, 2), 1.0, 20)
    audio = synth.mix(audio, synth.alarm('T4', 2800, 2), 9.5, 20)
    assert [k for k in kinds(events(vad, audio)) if k != 'beep'] == ['smoke_alarm', 'co_alarm']


# -- phones ------------------------------------------------------------------------------------------
@pytest.mark.parametrize('cadence, style, freq, trill', [
    ('us', 'warble', 1000.0, 20.0), ('uk', 'warble', 1400.0, 17.0), ('us', 'bell', 900.0, 20.0),
    ('uk', 'bell', 1200.0, 25.0), ('us', 'warble', 800.0, 16.0)])
@pytest.mark.parametrize('snr', [25, 12])
def test_a_phone_ringing_is_named_once_within_its_first_ring(vad, cadence, style, freq, trill, snr) -> None:
    at = 2.2
    ring = synth.phone_ring(cadence, style, freq, trill, rings=3)
    found = events(vad, synth.mix(background(at + len(ring) / SR + 1), ring, at, snr))
    assert kinds(found) == ['phone'], found  # one ringing: no beeps, bells or kettles in it
    chunk, _, onset = found[0]
    assert abs(onset - at) < 0.2 and chunk - at <= 1.0


def test_a_phone_ringing_while_the_television_talks_is_named(vad) -> None:
    talk = synth.speech('good evening, here is the news. the weather will stay dry all week.', 'kal')
    audio = synth.mix(background(10), talk, 0.5, 20)
    audio = synth.mix(audio, synth.phone_ring('uk', 'warble', 1100.0, 20.0, 2), 2.5, 20)
    assert 'phone' in kinds(events(vad, audio))


# -- kettles -----------------------------------------------------------------------------------------
@pytest.mark.parametrize('freq, two_tone, seed, snr', [(1800.0, False, 3, 25), (2400.0, True, 4, 22),
                                                       (1200.0, True, 5, 18), (3000.0, False, 6, 14)])
def test_a_kettle_whistling_is_named_once(vad, freq, two_tone, seed, snr) -> None:
    at = 1.6
    found = events(vad, synth.mix(background(9), synth.kettle(freq, 5.0, seed, two_tone), at, snr))
    assert kinds(found) == ['kettle'], found
    chunk, _, onset = found[0]
    assert abs(onset - at) < 0.6 and chunk - at <= 2.0


@pytest.mark.parametrize('name, sound, named', [
    ('a long electronic tone', lambda: synth.beep(1500, 2.5, 1), ['beep']),
    ('a long square tone', lambda: synth.beep(2600, 3.0, 1, square=True), ['beep']),
    ('a doorbell', lambda: synth.doorbell(), ['doorbell']),
    ('a phone', lambda: synth.phone_ring('us', 'warble', 1600.0, 20.0, 1), ['phone']),
    ('speech', lambda: synth.speech('the kettle is on and the tea will be ready in a minute', 'awb'), []),
])
def test_other_long_sounds_are_not_a_kettle(vad, name, sound, named) -> None:
    assert kinds(events(vad, synth.mix(background(8), sound(), 1.0, 25))) == named, name


@pytest.mark.parametrize('freq, seconds, count', [(1000.0, 0.5, 3), (2000.0, 0.3, 4), (3100.0, 0.22, 1)])
@pytest.mark.parametrize('at', [1.0, 1.03, 1.07, 1.12, 1.2])
@pytest.mark.parametrize('snr', [22, 35])
def test_a_beep_in_quarter_second_hops_is_named_within_half_a_second(vad, freq, seconds, count, at, snr) -> None:
    """Issue 14, beeps p95 0.63 s: a beep was named when it ended, or a hop later when its cut-off fell on
    a hop (its last frames read as a steep decay: not flat), and a beep still sounding was claimed as a
    kettle that might be swelling (its track began on the noise just before the beep: a 30 dB "swell")."""
    audio = synth.mix(background(4), synth.beep(freq, seconds, count, 0.12), at, snr)
    found = [(chunk, onset) for chunk, kind, onset in events(vad, audio, 0.25) if kind == 'beep']
    assert len(found) == 1, found
    (chunk, onset), = found
    assert abs(onset - at) < 0.05 and chunk + 0.25 - at <= 0.45, (chunk, onset)


def test_a_beep_is_named_while_it_sounds_and_a_whistle_picked_up_mid_swell_is_not_a_beep(vad) -> None:
    """Issue 14: a tone still sounding is named a beep after 0.2 s when it switched on out of the noise
    floor (0.35 s before). A kettle's whistle whose track breaks on its pitch glide is picked up again at
    full level, with no switch-on: named at 0.2 s, the suite's household-01 kettle was a beep."""
    from omni_ros.scenario.render import render_audio
    from omni_ros.scenario.suite import suite_scenarios

    scn = next(s for s in suite_scenarios() if s.name == 'household-01')  # oven beeps, a phone, a kettle
    found = events(vad, render_audio(scn), 0.25)
    beeps = [(chunk, onset) for chunk, kind, onset in found if kind == 'beep']
    assert 'kettle' in kinds(found) and len(beeps) == 1, found
    (chunk, onset), = beeps
    beep = next(snd for snd in scn.scene.sounds if snd.kind == 'beep')
    assert abs(onset - beep.at) < 0.05
    assert chunk + 0.25 - onset < beep.duration  # named while it sounds, not at its end


def test_pattern_sounds_are_not_found_in_noise_speech_or_music(vad) -> None:
    from test_cpu_audio import melody, speech_clip

    for audio in (speech_clip(), synth.mix(synth.noise(9, 0.003), melody(), 0, 20), synth.noise(8, 0.05)):
        assert not {'phone', 'kettle', 'smoke_alarm', 'co_alarm'} & set(kinds(events(vad, audio)))


# -- decisions that do not depend on the chunk length (issue 14 will decide on shorter hops) -----------
def test_the_tonal_analysis_is_the_same_in_any_chunking() -> None:
    audio = synth.mix(background(6), synth.alarm('T4', 3000, 1), 1.0, 20)
    results = []
    for step in (16000, 4000, 1234):
        stream = ToneStream()
        closed = []
        for i in range(0, len(audio), step):
            piece = audio[i:i + step]
            closed += stream.push(piece, np.zeros(len(piece), bool), i / SR)
        results.append(([(round(t.onset, 4), round(t.end, 4), round(t.freq, 1)) for t in closed], stream.frames))
    assert results[0] == results[1] == results[2]


@pytest.mark.parametrize('make, kind', [
    (lambda: synth.alarm('T3', 3200, 2), 'smoke_alarm'), (lambda: synth.alarm('T4', 2900, 2), 'co_alarm'),
    (lambda: synth.phone_ring('uk', 'bell', 1000.0, 20.0, 2), 'phone'),
    (lambda: synth.kettle(2000.0, 4.0, 7), 'kettle')])
def test_pattern_sounds_are_decided_alike_in_quarter_second_chunks(vad, make, kind) -> None:
    audio = synth.mix(background(12), make(), 1.1, 22)
    whole, quarter = events(vad, audio, 1.0), events(vad, audio, 0.25)
    assert [k for k in kinds(whole) if k != 'beep'] == [k for k in kinds(quarter) if k != 'beep'] == [kind]
    onset = {c: o for c, k, o in whole if k == kind}, {c: o for c, k, o in quarter if k == kind}
    (c1, o1), = onset[0].items()
    (c2, o2), = onset[1].items()
    assert abs(o1 - o2) < 0.05 and c2 <= c1 + 0.75  # no later, and up to 0.75 s sooner with shorter chunks


# -- room light --------------------------------------------------------------------------------------
def _room(level: float, *, lamp: bool = False) -> np.ndarray:
    """A street-side room with a traffic light; ``lamp``: a bright lamp lit on the wall."""
    from test_cpu_scenes import LIGHT, scene

    from omni_ros.scenario import render_frame

    lamps = [{'center': [450, 110], 'radius': 40, 'color': [255, 230, 180], 'lit': [[0.0, 5.0]]}] if lamp else []
    return render_frame(scene(traffic_lights=[LIGHT], lamps=lamps, lighting=level), 1.0)


def test_room_light_is_dark_or_lit_and_a_dimmed_room_or_a_lamp_in_the_dark_changes_nothing() -> None:
    meter = RoomLightMeter()
    states = [meter.update(_room(level, lamp=lamp)).state
              for level, lamp in ((1.0, False), (0.3, False), (0.05, False), (0.05, True), (0.02, True), (0.4, False))]
    assert states == ['lit', 'lit', 'dark', 'dark', 'dark', 'lit']
    meter.reset()
    assert meter.update(_room(0.18)).state is None  # in between, before anything was decided: unknown


def test_lighting_conditions_follow_the_meter() -> None:
    dark, lit = Condition(ConditionKind.LIGHTING, 'dark'), Condition(ConditionKind.LIGHTING, 'lit')
    assert dark.evaluate(Perceptions(0.0, room_light='dark')).state is True
    assert lit.evaluate(Perceptions(0.0, room_light='dark')).state is False
    assert dark.evaluate(Perceptions(0.0)).state is None  # no frame, or not measured
    assert (dark.describe(), lit.alert_text()) == ('the room goes dark', 'The lights are on.')
    with pytest.raises(ValueError, match='dark or lit'):
        Condition(ConditionKind.LIGHTING, 'dim')


# -- people counts -----------------------------------------------------------------------------------
def test_a_count_holds_only_when_every_look_agrees() -> None:
    counter = PeopleCounter()
    looks = [(0.5, 1), (1.5, 1), (2.5, 2), (3.5, 1), (4.5, 2), (5.5, 2), (6.5, 3), (7.5, 3)]
    assert [counter.update(t, n) for t, n in looks] == [None, (1, 1), (1, 2), (1, 2), (1, 2), (2, 2), (2, 3), (3, 3)]
    counter.update(0.5, 4)  # time went back: a new stream
    assert counter.update(1.5, 4) == (4, 4)


@pytest.mark.parametrize('value, ranges, states', [
    ('>=3', [(2, 2), (2, 3), (3, 3), (2, 3), (2, 2)], [False, None, True, None, False]),
    ('<=1', [(3, 3), (1, 2), (1, 1), (0, 1), (2, 2)], [False, None, True, True, False]),
    ('==2', [(1, 1), (1, 2), (2, 2), (2, 3), (3, 3), (0, 1)], [False, None, True, None, False, False]),
])
def test_people_count_conditions(value, ranges, states) -> None:
    condition = Condition(ConditionKind.PEOPLE_COUNT, value)
    got = [condition.evaluate(Perceptions(0.0, people=r[1], people_range=r)).state for r in ranges]
    assert got == states
    assert condition.evaluate(Perceptions(0.0)).state is None


def test_people_count_words_and_bad_values() -> None:
    assert Condition(ConditionKind.PEOPLE_COUNT, '>=4').describe() == 'at least 4 people are in view'
    assert Condition(ConditionKind.PEOPLE_COUNT, '<=1').describe() == 'at most 1 person is in view'
    assert Condition(ConditionKind.PEOPLE_COUNT, '==2').alert_text() == 'I see exactly 2 people.'
    for bad in ('4', '>4', '>=', '>=x', '=>2'):
        with pytest.raises(ValueError, match='PEOPLE_COUNT'):
            Condition(ConditionKind.PEOPLE_COUNT, bad)


def test_people_standing_side_by_side_are_counted(people) -> None:
    from test_cpu_scenes import scene

    from omni_ros.scenario import render_frame

    crowd = [{'feet': [x, 460], 'height': h, 'visible': [[0.0, 5.0]]} for x, h in ((110, 330), (320, 300), (530, 350))]
    for n in (1, 2, 3):
        for lighting in (0.4, 1.0):
            assert people.detect(render_frame(scene(people=crowd[:n], lighting=lighting), 1.0)).people == n


# -- through the backend -----------------------------------------------------------------------------
def test_the_backend_alerts_on_the_room_going_dark_and_on_a_count_and_measures_only_while_watched() -> None:
    from omni_ros.backends import create_backend
    from omni_ros.data import Chunk, Frame, Watch
    from omni_ros.scenario import render_frame
    from test_cpu_scenes import scene

    backend = create_backend('cpu', {'speak': False, 'asr': 'off', 'scene_text': False})
    backend.setup()
    try:
        crowd = [{'feet': [x, 460], 'height': 320, 'visible': [[0.0, 5.0]]} for x in (110, 320, 530)]
        frames = [render_frame(scene(people=crowd[:n], lighting=level), 1.0)
                  for n, level in ((1, 1.0), (1, 1.0), (3, 1.0), (3, 1.0), (3, 1.0), (0, 0.03), (0, 0.03))]

        def feed(i: int):
            return backend.feed(Chunk(index=i, start=float(i), duration=1.0, sample_rate=SR,
                                      audio=background(1.0, seed=i), frames=(Frame(i + 0.5, frames[i]),),
                                      new_stream=i == 0))

        backend.start_session()
        feed(0)
        assert backend.runs['room_light'] == 0  # nothing watches the room light yet
        backend.set_watches([Watch('dark', 'tell me when the room goes dark'),
                             Watch('crowd', 'tell me when there are at least three people')])
        alerts = {i: [(e.watch_id, e.text) for e in feed(i).events] for i in range(1, len(frames))}
        assert alerts == {1: [], 2: [], 3: [('crowd', 'I see at least 3 people.')], 4: [],
                          5: [('dark', 'The room has gone dark.')], 6: []}
        assert backend.runs['room_light'] == len(frames) - 1
    finally:
        backend.shutdown()
