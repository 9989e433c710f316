from __future__ import annotations

import pytest

from omni_ros.session.config import NODE_OPTIONS, NodeConfig
from omni_ros.errors import ConfigError
from omni_ros.settings import OptionSpec, resolve


def test_defaults_are_valid_and_described() -> None:
    config = NodeConfig.from_values({})
    assert config.chunk_period == 1.0 and config.backend == 'auto' and config.standing_watches == ()
    assert all(spec.description for spec in NODE_OPTIONS)
    assert len({spec.name for spec in NODE_OPTIONS}) == len(NODE_OPTIONS)


@pytest.mark.parametrize('values, message', [
    ({'chunk_period': 0.0}, "'chunk_period' must be at least"),
    ({'chunk_period': float('nan')}, 'finite'),
    ({'image_transport': 'theora'}, "must be one of 'raw', 'compressed'"),
    ({'max_backlog': 2.5}, "'max_backlog' must be a int"),
    ({'autostart': 1}, "'autostart' must be a bool"),
    ({'use_camera': False, 'use_microphone': False}, 'enable at least one input'),
    ({'standing_watches': [3]}, 'list of strings'),
    ({'chunk_perod': 1.0}, 'unknown setting'),
    ({'jump_threshold': 1.0, 'max_latency': 2.0}, "'jump_threshold' .* must be greater than 'max_latency'"),
])
def test_bad_values_fail_with_a_message_naming_the_setting(values: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        NodeConfig.from_values(values)


def test_integers_are_accepted_for_floats_and_blank_standing_watches_dropped() -> None:
    config = NodeConfig.from_values({'chunk_period': 2, 'standing_watches': ['', 'alert if someone falls']})
    assert config.chunk_period == 2.0 and isinstance(config.chunk_period, float)
    assert config.standing_watches == ('alert if someone falls',)


def test_resolve_uses_defaults_and_validates() -> None:
    specs = (OptionSpec('rate', 16000, 'r', minimum=8000), OptionSpec('mode', 'a', 'm', choices=('a', 'b')))
    assert resolve(specs, {'mode': 'b'}) == {'rate': 16000, 'mode': 'b'}
    with pytest.raises(ConfigError, match="'rate' must be at least 8000"):
        resolve(specs, {'rate': 100})
