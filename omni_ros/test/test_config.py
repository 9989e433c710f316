"""Typed settings: one dataclass per config, validation with messages naming the setting and what is allowed."""

from __future__ import annotations

import dataclasses

import pytest

from omni_ros import backends
from omni_ros.errors import ConfigError
from omni_ros.session.config import NODE_OPTIONS, SECTION_CONFIGS, NodeConfig
from omni_ros.settings import Change, load, options_of, setting
from omni_ros.speech.selfhearing import SelfHearingConfig


def test_defaults_are_valid_and_described() -> None:
    config = NodeConfig.from_values({})
    assert config.chunk_period == 1.0 and config.backend == 'auto' and config.standing_watches == ()
    assert all(spec.description for spec in NODE_OPTIONS)
    assert len({spec.name for spec in NODE_OPTIONS}) == len(NODE_OPTIONS)
    # The declaration is the dataclass: its fields, in order, are the settings.
    assert [s.name for s in NODE_OPTIONS] == [f.name for f in dataclasses.fields(NodeConfig)]
    assert NodeConfig() == config


@pytest.mark.parametrize('values, message', [
    ({'chunk_period': 0.0}, r"^'chunk_period' must be a number from 0.2 to 5, got 0.0 \(a number\)$"),
    ({'chunk_period': float('nan')}, "'chunk_period' must be a number from 0.2 to 5, got nan"),
    ({'image_transport': 'theora'}, "'image_transport' must be one of 'raw', 'compressed', got 'theora'"),
    ({'max_backlog': 2.5}, r"'max_backlog' must be an integer from 1 to 100, got 2.5 \(a number\)"),
    ({'autostart': 1}, r"'autostart' must be true or false, got 1 \(an integer\)"),
    ({'use_camera': False, 'use_microphone': False}, 'enable at least one input'),
    ({'standing_watches': [3]}, "'standing_watches' must be a list of strings"),
    ({'chunk_perod': 1.0}, r"'chunk_perod' is not a setting of this node; did you mean 'chunk_period'\?"),
    ({'jump_threshold': 1.0, 'max_latency': 2.0}, "'jump_threshold' .* must be greater than 'max_latency'"),
])
def test_bad_values_fail_with_a_message_naming_the_setting(values: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        NodeConfig.from_values(values)


def test_every_bad_setting_is_named_in_one_message() -> None:
    with pytest.raises(ConfigError) as caught:
        load(NodeConfig, {'chunk_period': 'fast', 'max_backlog': 0, 'speech_encoding': 'mp3'})
    text = str(caught.value)
    assert "'chunk_period' must be a number" in text and "'max_backlog' must be an integer from 1" in text
    assert "'speech_encoding' must be one of 'S16LE', 'F32LE'" in text


def test_a_prefix_names_the_parameter_in_field_and_cross_field_messages() -> None:
    with pytest.raises(ConfigError, match=r"^'self_hearing.strategy' must be one of 'aec', 'gate', 'none'"):
        load(SelfHearingConfig, {'strategy': 'echo'}, prefix='self_hearing.')
    with pytest.raises(ConfigError, match=r"^'speech.sample_rate' 4000 Hz is too low for speech"):
        load(SECTION_CONFIGS['speech'], {'sample_rate': 4000}, prefix='speech.')
    with pytest.raises(ConfigError, match=r"'scripted.chunk_secondz' is not a setting .* 'scripted.chunk_seconds'"):
        backends.registered('scripted').load({'chunk_secondz': 1.0})


def test_integers_are_accepted_for_floats_and_blank_standing_watches_dropped() -> None:
    config = NodeConfig.from_values({'chunk_period': 2, 'standing_watches': ['', 'alert if someone falls']})
    assert config.chunk_period == 2.0 and isinstance(config.chunk_period, float)
    assert config.standing_watches == ('alert if someone falls',)
    assert isinstance(NodeConfig(chunk_period=2).chunk_period, float)  # constructing directly converts too


def test_direct_construction_is_validated() -> None:
    with pytest.raises(ConfigError, match="'max_latency' must be a number from 0 to 10"):
        NodeConfig(max_latency=-1.0)


def test_live_settings_are_declared_as_such() -> None:
    live = {s.name for s in NODE_OPTIONS if s.change is Change.LIVE}
    assert live == {'default_cooldown', 'ask_timeout', 'max_goals', 'standing_watches', 'error_log_period'}
    assert {s.name for s in NODE_OPTIONS if s.change is Change.START} == {'autostart'}


def test_a_setting_field_must_be_declared_with_setting() -> None:
    @dataclasses.dataclass(frozen=True)
    class Broken:
        good: int = setting(1, 'a described setting')
        bad: int = 2

    with pytest.raises(TypeError, match='Broken.bad is not declared with settings.setting'):
        options_of(Broken)
