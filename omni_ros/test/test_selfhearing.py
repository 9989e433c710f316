"""Barge-in and self-hearing (omni_ros.speech.selfhearing) on robot speech looped back through a simulated room.

The scene is the benchmark's (flite voices, delay, reverberation, saturation, noise), shorter: about
30 s of robot-only speech, then users talking over the robot.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from omni_ros.speech.echopath import BLOCK, EnergyVad
from omni_ros.errors import BackendSetupError, ConfigError, ConversionError
from omni_ros.settings import options_of
from omni_ros.speech.selfhearing import SelfHearing, SelfHearingConfig
from omni_ros.tools import bench_bargein as bench

SR = bench.SR
ROOM = bench.ROOMS[0]


@pytest.fixture(scope='module')
def scene() -> bench.Scene:
    return bench.make_scene(ROOM, robot_seconds=30.0, trials=4)


@pytest.fixture(scope='module')
def default_run(scene: bench.Scene) -> bench.Result:
    return bench.run(SelfHearingConfig(), scene)


def robot_speech(seconds: float, seed: int = 3) -> np.ndarray:
    """A few robot lines back to back, at the benchmark's playing level."""
    tts = bench.FliteTts('slt', SR)
    tts.setup()
    x = np.concatenate([tts.synthesize(line) for line in bench.ROBOT_LINES[seed:seed + 4]])[:int(seconds * SR)]
    return (bench.ROBOT_LEVEL * x / bench._speech_level(x)).astype(np.float32)


def test_config_defaults_match_options_and_bad_values_say_what_to_change() -> None:
    config = SelfHearingConfig()
    assert {spec.name: spec.default for spec in options_of(SelfHearingConfig)} == {
        name: getattr(config, name) for name in config.__dataclass_fields__}
    with pytest.raises(ConfigError, match="'strategy' must be one of 'aec', 'gate', 'none'"):
        SelfHearingConfig(strategy='echo')
    with pytest.raises(ConfigError, match="'speaking_threshold' must be a number from 0.05 to 0.99"):
        SelfHearingConfig(speaking_threshold=1.5)
    with pytest.raises(ConfigError, match="'min_speech' must be a number from 0.032 to 2, got '0.1' \\(a string\\)"):
        SelfHearingConfig.from_values({'min_speech': '0.1'})
    with pytest.raises(ConfigError, match="'treshold' is not a setting of this node; did you mean 'threshold'"):
        SelfHearingConfig.from_values({'treshold': 0.5})
    assert SelfHearingConfig.from_values({'min_speech': 1}).min_speech == 1.0
    assert SelfHearingConfig(min_speech=0.064).min_frames == 2
    assert SelfHearingConfig(echo_length=0.1).taps == 1664  # rounded up to whole 128-sample blocks


def test_missing_onnxruntime_is_a_setup_error_naming_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, 'onnxruntime', None)  # import fails as if not installed
    with pytest.raises(BackendSetupError, match="'onnxruntime'"):
        SelfHearing(SelfHearingConfig(vad='silero')).setup()
    SelfHearing(SelfHearingConfig(vad='energy')).setup()  # the numpy fallback needs nothing


def test_process_before_setup_or_with_stereo_is_an_error() -> None:
    sh = SelfHearing(SelfHearingConfig(vad='energy'))
    with pytest.raises(RuntimeError, match='setup'):
        sh.process(0.0, np.zeros(320, np.float32))
    sh.setup()
    with pytest.raises(ConversionError, match='mono'):
        sh.process(0.0, np.zeros((320, 2), np.float32))


def test_robot_alone_never_barges_in_but_plain_vad_does(scene: bench.Scene, default_run: bench.Result) -> None:
    plain = bench.run(SelfHearingConfig(strategy='none'), scene)
    assert default_run.robot_minutes > 0.4
    assert default_run.false == 0, [b.onset for b in default_run.barge_ins]
    # The same signal fools the VAD on the raw microphone many times a minute.
    assert plain.false / plain.robot_minutes > 5.0


def test_users_over_the_robot_are_found_soon_after_their_voice_starts(scene: bench.Scene,
                                                                       default_run: bench.Result) -> None:
    assert default_run.missed == 0
    for trial in scene.trials:
        onset = bench.START + trial.onset / SR
        found = [b for b in default_run.barge_ins if onset <= b.detected <= onset + 1.0]
        assert len(found) == 1, f'trial at {onset:.2f} s: {found}'
        barge = found[0]
        assert barge.detected - onset <= 0.3
        # The reported onset is the first voiced frame: at the user's voice, before the decision.
        assert onset - 0.05 <= barge.onset < barge.detected


def test_echo_path_is_learned(scene: bench.Scene) -> None:
    sh = SelfHearing()
    sh.setup()
    mic = scene.mic[:scene.robot[2].start]
    speech = np.zeros_like(mic)
    for u in scene.robot[:2]:
        speech[u.start:u.start + u.samples.size] = u.samples
    sh.played(bench.START, speech, SR)
    for pos in range(0, mic.size, 320):
        sh.process(bench.START + pos / SR, mic[pos:pos + 320])
    assert sh.echo_delay == pytest.approx(ROOM.delay, abs=0.001)
    assert sh.ready


def test_robot_voice_is_attenuated_in_the_audio_for_the_model(scene: bench.Scene,
                                                             default_run: bench.Result) -> None:
    only = scene.robot_only.copy()
    only[:scene.robot[1].start] = False  # while the first words teach it the echo path it mutes
    mic_db = 10 * np.log10(np.mean(scene.mic[only].astype(np.float64) ** 2))
    out_db = 10 * np.log10(np.mean(default_run.out[only].astype(np.float64) ** 2))
    assert mic_db - out_db > 20.0


def test_audio_is_untouched_while_nothing_plays(scene: bench.Scene) -> None:
    user = (scene.mic - scene.echo)[:int(8 * SR)]
    for strategy in ('aec', 'gate', 'none'):
        sh = SelfHearing(SelfHearingConfig(strategy=strategy))
        sh.setup()
        for pos in range(0, user.size, 800):
            out, barge = sh.process(5.0 + pos / SR, user[pos:pos + 800])
            np.testing.assert_array_equal(out, user[pos:pos + 800])
            assert barge is None  # a user talking to a silent robot is a turn, not a barge-in


def _stream(sh: SelfHearing, start: float, mic: np.ndarray, block: int = 320) -> tuple[np.ndarray, list]:
    out = np.zeros_like(mic)
    barges = []
    for pos in range(0, mic.size, block):
        out[pos:pos + block], barge = sh.process(start + pos / SR, mic[pos:pos + block])
        if barge is not None:
            barges.append(barge)
    return out, barges


def _learned(scene: bench.Scene) -> tuple[SelfHearing, int]:
    """Self-hearing that learned the echo path on the scene's first two utterances; and where they end."""
    sh = SelfHearing()
    sh.setup()
    first = scene.robot[2].start
    speech = np.zeros(first, np.float32)
    for u in scene.robot[:2]:
        speech[u.start:u.start + u.samples.size] = u.samples
    sh.played(bench.START, speech, SR)
    _stream(sh, bench.START, scene.mic[:first])
    return sh, first


def test_stop_playback_ends_the_speaking_state(scene: bench.Scene) -> None:
    sh, first = _learned(scene)
    # Then 4 s of speech are queued but cut after 1 s; a user speaks from 2 s on, to a silent robot.
    t0 = bench.START + first / SR
    said = robot_speech(4.0)
    sh.played(t0, said, SR)
    sh.stop_playback(t0 + 1.0)
    heard = np.zeros(int(4 * SR), np.float32)
    heard[:SR] = said[:SR]
    user = scene.mic - scene.echo
    trial = scene.trials[0]
    voice = user[trial.onset - SR // 10:trial.end]
    mic = scene.echo_of(heard)[:heard.size] + user[:heard.size]
    mic[2 * SR:2 * SR + voice.size] += voice[:mic.size - 2 * SR]
    out, barges = _stream(sh, t0, mic)
    assert barges == []
    tail = int((sh.echo_delay + sh.config.echo_length + sh.config.hangover) * SR) + BLOCK
    assert not np.array_equal(out[:SR], mic[:SR])  # the robot's voice was taken out while it played
    np.testing.assert_array_equal(out[SR + tail:], mic[SR + tail:])


def test_reset_forgets_the_stream_but_keeps_the_echo_path(scene: bench.Scene) -> None:
    sh, _ = _learned(scene)
    delay = sh.echo_delay
    sh.reset()  # the clock jumped back to the start: what was played there is no longer playing
    assert sh.echo_delay == delay and sh.ready
    mic = scene.mic[:int(3 * SR)]
    out, _ = _stream(sh, bench.START, mic)
    np.testing.assert_array_equal(out, mic)


def test_a_clock_jump_without_reset_drops_the_played_reference(scene: bench.Scene) -> None:
    sh = SelfHearing()
    sh.setup()
    mic = scene.mic[:int(3 * SR)]
    sh.played(bench.START + 5.0, robot_speech(2.0), SR)  # to be played after a 5 s stretch ...
    _stream(sh, bench.START, mic[:SR])
    out, _ = _stream(sh, bench.START - 100.0, mic)  # ... but the clock went back first
    np.testing.assert_array_equal(out, mic)


def test_block_size_does_not_change_decisions(scene: bench.Scene, default_run: bench.Result) -> None:
    big = bench.run(SelfHearingConfig(), scene, block=0.1)
    assert len(big.barge_ins) == len(default_run.barge_ins) > 0
    for a, b in zip(big.barge_ins, default_run.barge_ins):
        assert abs(a.detected - b.detected) <= 0.032 and abs(a.onset - b.onset) <= 0.032
    np.testing.assert_allclose(big.out, default_run.out, atol=1e-6)


def test_gate_strategy_learns_and_finds_users(scene: bench.Scene) -> None:
    gate = bench.run(SelfHearingConfig(strategy='gate'), scene)
    assert gate.missed == 0
    assert gate.false == 0


def test_energy_vad_hears_speech_and_not_steady_noise() -> None:
    vad = EnergyVad()
    vad.setup()
    rng = np.random.default_rng(0)
    noise = (0.003 * rng.standard_normal(2 * SR)).astype(np.float32)
    quiet = vad.process(noise)
    said = robot_speech(2.0) * 0.3 + noise
    loud = vad.process(said)
    assert quiet.max() < 0.5
    assert np.mean(loud > 0.5) > 0.4
