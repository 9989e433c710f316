"""omni_node's parameters in process (one executor-free node at a time): declared with ranges, choices and
read-only flags from the config dataclasses; wrong types, bad values and unknown names given at start-up
make configure fail with one message instead of crashing the node; live ones apply while it runs."""

from __future__ import annotations

import gc
from typing import Any, Iterator

import pytest

from omni_ros import backends
from omni_ros.devices.sound import CaptureConfig, PlaybackConfig
from omni_ros.session.config import NODE_OPTIONS, SECTION_CONFIGS
from omni_ros.settings import Change, OptionSpec, options_of

pytestmark = pytest.mark.node


def declared() -> dict[str, OptionSpec]:
    specs = {s.name: s for s in NODE_OPTIONS}
    for section, config_type in SECTION_CONFIGS.items():
        specs.update({f'{section}.{s.name}': s for s in options_of(config_type)})
    for name, entry in backends.REGISTRY.items():
        specs.update({f'{name}.{s.name}': s for s in entry.options})
    return specs


SPECS = declared()
# A value of another type for each kind (an integer where a number is wanted is fine: see below).
WRONG: dict[type, Any] = {bool: 'yes', int: 2.5, float: 'fast', str: 7, tuple: [1, 2]}


CONTEXT: list[Any] = []  # the rclpy context of this module's nodes, while the ros fixture holds it


@pytest.fixture(scope='module')
def ros() -> Iterator[None]:
    """A context of its own, destroyed at the end: a leftover participant would still announce these
    nodes (all named omni_node) to the cross-process tests that run later in the same process."""
    import rclpy
    from rclpy.context import Context

    context = Context()
    rclpy.init(context=context)
    CONTEXT.append(context)
    try:
        yield
    finally:
        CONTEXT.clear()
        gc.collect()  # the nodes' last references sit in reference cycles
        context.try_shutdown()
        context.destroy()


def omni_node(**overrides: Any) -> Any:
    from rclpy.parameter import Parameter

    from omni_ros.ros.node import OmniNode

    given = {'backend': 'scripted', 'use_camera': False, 'self_hearing.vad': 'energy', **overrides}
    return OmniNode(parameter_overrides=[Parameter(k, value=v) for k, v in given.items()], context=CONTEXT[0])


def configure_error(node: Any) -> str:
    """The one message configure logs when it fails (the node's own loading, as on_configure does it)."""
    from rclpy.lifecycle import TransitionCallbackReturn

    from omni_ros.errors import ConfigError
    from omni_ros.session.session import SessionConfig

    try:
        SessionConfig.load(node.params.values, node.params.problems())
    except ConfigError as error:
        assert node.trigger_configure() == TransitionCallbackReturn.FAILURE
        return str(error)
    raise AssertionError('the parameters loaded')


@pytest.mark.parametrize('name', sorted(SPECS))
def test_a_wrong_type_at_start_up_fails_configure_naming_the_parameter(ros: None, name: str) -> None:
    spec = SPECS[name]
    node = omni_node(**{name: WRONG[spec.kind]})
    try:
        message = configure_error(node)
        assert f"'{name}' must be {spec.allowed()}, got " in message and '(given at start-up)' in message
        assert spec.validate(node.params.value(name)) == spec.default  # declared, at its default
    finally:
        node.destroy_node()


@pytest.mark.parametrize('name', ['use_sim_time', 'start_type_description_service'])
@pytest.mark.parametrize('value', [1, 'yes', 1.0])
def test_rclpys_own_flags_given_a_wrong_type_fail_configure_instead_of_the_process(ros: None, name: str,
                                                                                  value: Any) -> None:
    """Issue 16: ``-p use_sim_time:=1`` raised InvalidParameterTypeException from rclpy's Node.__init__
    (which declares it itself) and the process died before it could say anything."""
    node = omni_node(**{name: value})
    try:
        message = configure_error(node)
        assert f"'{name}' must be true or false, got {value!r} (given at start-up" in message
        assert node.get_parameter(name).value is (name == 'start_type_description_service')  # rclpy's default
    finally:
        node.destroy_node()


def test_a_wrong_type_from_the_command_line_fails_configure_and_the_node_stays_up(ros: None) -> None:
    """The same through ``--ros-args -p`` as a user types it (an integer for use_sim_time, a string for a
    number, a misspelled backend setting)."""
    from omni_ros.ros.node import OmniNode

    node = OmniNode(cli_args=['--ros-args', '-p', 'backend:=scripted', '-p', 'use_camera:=false',
                              '-p', 'use_sim_time:=1', '-p', 'chunk_period:=fast', '-p', 'scripted.chunk_secondz:=1.0'],
                    context=CONTEXT[0])
    try:
        message = configure_error(node)
        assert "'use_sim_time' must be true or false, got 1" in message
        assert "'chunk_period' must be a number from 0.2 to 5, got 'fast' (a string) (given at start-up)" in message
        assert "'scripted.chunk_secondz' is not a setting of this node; did you mean 'scripted.chunk_seconds'" \
            in message
    finally:
        node.destroy_node()


def test_integers_for_numbers_are_taken_and_the_node_configures(ros: None) -> None:
    from rclpy.lifecycle import TransitionCallbackReturn

    node = omni_node(chunk_period=2, **{'speech.lead': 0, 'self_hearing.hangover': 1})
    try:
        assert node.get_parameter('chunk_period').value == 2.0
        assert node.trigger_configure() == TransitionCallbackReturn.SUCCESS
        assert node.session.config.node.chunk_period == 2.0
    finally:
        node.close()
        node.destroy_node()


def test_bad_values_and_unknown_names_give_one_message_then_a_fix_configures(ros: None, capfd) -> None:
    from rclpy.lifecycle import TransitionCallbackReturn
    from rclpy.parameter import Parameter

    node = omni_node(max_backlog=0, **{'self_hearing.strategy': 'echo', 'scripted.chunk_secondz': 1.0})
    try:
        assert node.trigger_configure() == TransitionCallbackReturn.FAILURE
        log = capfd.readouterr().err
        (line,) = [entry for entry in log.splitlines() if 'configure failed' in entry]
        assert "'max_backlog' must be an integer from 1 to 100, got 0" in line
        assert "'self_hearing.strategy' must be one of 'aec', 'gate', 'none', got 'echo'" in line
        assert "'scripted.chunk_secondz' is not a setting of this node; did you mean 'scripted.chunk_seconds'" in line
        assert 'unexpectedly' not in log and 'Traceback' not in log
        # A valid value replaces a refused one; the unknown name still has to go.
        results = node.set_parameters([Parameter('max_backlog', value=5),
                                       Parameter('self_hearing.strategy', value='gate')])
        assert all(r.successful for r in results)
        assert "'scripted.chunk_secondz'" in configure_error(node)
    finally:
        node.destroy_node()
    node = omni_node(max_backlog=5)
    try:
        assert node.trigger_configure() == TransitionCallbackReturn.SUCCESS
    finally:
        node.close()
        node.destroy_node()


def test_descriptors_carry_ranges_choices_and_read_only(ros: None) -> None:
    node = omni_node()
    try:
        period = node.describe_parameter('chunk_period')
        assert (period.floating_point_range[0].from_value, period.floating_point_range[0].to_value) == (0.2, 5.0)
        assert period.additional_constraints == 'a number from 0.2 to 5' and not period.read_only
        backlog = node.describe_parameter('max_backlog')
        assert (backlog.integer_range[0].from_value, backlog.integer_range[0].to_value) == (1, 100)
        strategy = node.describe_parameter('self_hearing.strategy')
        assert strategy.additional_constraints == "one of 'aec', 'gate', 'none'"
        assert node.describe_parameter('autostart').read_only
        for name, spec in SPECS.items():
            descriptor = node.describe_parameter(name)
            assert descriptor.description.startswith(spec.description), name
            assert descriptor.read_only == (spec.change is Change.START), name
        from rclpy.parameter import Parameter

        (refused,) = node.set_parameters([Parameter('autostart', value=False)])
        assert not refused.successful and 'read-only' in refused.reason
        (refused,) = node.set_parameters([Parameter('chunk_period', value=9.0)])
        assert not refused.successful  # out of range
        (refused,) = node.set_parameters([Parameter('image_transport', value='theora')])
        assert not refused.successful and "'image_transport' must be one of 'raw', 'compressed'" in refused.reason
    finally:
        node.destroy_node()


def test_live_parameters_apply_while_active_and_the_others_wait_for_configure(ros: None) -> None:
    from rclpy.lifecycle import TransitionCallbackReturn
    from rclpy.parameter import Parameter

    node = omni_node(standing_watches=['tell me when the light turns green'])
    try:
        assert node.trigger_configure() == TransitionCallbackReturn.SUCCESS
        assert node.trigger_activate() == TransitionCallbackReturn.SUCCESS
        session = node.session

        def set_one(name: str, value: Any) -> Any:
            (outcome,) = node.set_parameters([Parameter(name, value=value)])
            return outcome

        watches = ['tell me when the light turns green', 'say when you hear a ding']
        assert set_one('standing_watches', watches).successful
        assert sorted(w.instruction for w in session.watches.watches()) == [
            'say when you hear a ding', 'tell me when the light turns green']
        assert set_one('default_cooldown', 1.5).successful and session.watches.default_cooldown == 1.5
        assert set_one('ask_timeout', 4.0).successful and session.question_timeout(0.0) == 4.0
        assert set_one('scripted.speech_rate', 4.0).successful
        assert session.config.backend.speech_rate == 4.0
        # minicpmo's persona is live (a new prepare: test_minicpmo_backend.py); llama.cpp-omni's server reads no
        # prompt, so its persona stays a configure-time setting (and a custom one fails its setup).
        assert set_one('minicpmo.persona', 'You are a lighthouse keeper.').successful
        refused = set_one('llamacpp_omni.persona', 'You are a lighthouse keeper.')
        assert not refused.successful and 'applies at configure' in refused.reason
        refused = set_one('standing_watches', ['x' * 600])
        assert not refused.successful and 'keep it under 500' in refused.reason
        refused = set_one('chunk_period', 2.0)
        assert not refused.successful and 'applies at configure' in refused.reason
        assert session.config.node.chunk_period == 1.0
        assert node.trigger_deactivate() == TransitionCallbackReturn.SUCCESS
        assert node.trigger_cleanup() == TransitionCallbackReturn.SUCCESS
        assert set_one('chunk_period', 2.0).successful  # unconfigured: taken at the next configure
        assert node.trigger_configure() == TransitionCallbackReturn.SUCCESS
        assert session.config.node.chunk_period == 2.0
        assert len(session.watches) == 2  # the standing watches set while running came back
    finally:
        node.close()
        node.destroy_node()



AUDIO_NODES = {'omni_mic': ('omni_ros.ros.mic_node', 'MicNode', CaptureConfig),
               'omni_speaker': ('omni_ros.ros.speaker_node', 'SpeakerNode', PlaybackConfig)}


@pytest.mark.parametrize('node_name, name', [(node, s.name) for node, (_, _, config) in AUDIO_NODES.items()
                                             for s in options_of(config)])
def test_the_audio_nodes_fail_configure_on_a_wrong_type_too(ros: None, capfd, node_name: str, name: str) -> None:
    import importlib

    from rclpy.lifecycle import TransitionCallbackReturn
    from rclpy.parameter import Parameter

    module, cls, config = AUDIO_NODES[node_name]
    spec = {s.name: s for s in options_of(config)}[name]
    node = getattr(importlib.import_module(module), cls)(
        parameter_overrides=[Parameter(name, value=WRONG[spec.kind])], context=CONTEXT[0])
    try:
        assert node.trigger_configure() == TransitionCallbackReturn.FAILURE
        (line,) = [entry for entry in capfd.readouterr().err.splitlines() if 'configure failed' in entry]
        assert f"'{name}' must be {spec.allowed()}, got " in line
    finally:
        node.close()
        node.destroy_node()


@pytest.mark.parametrize('node_name', sorted(AUDIO_NODES))
def test_the_audio_nodes_survive_a_wrong_typed_use_sim_time(ros: None, capfd, node_name: str) -> None:
    import importlib

    from rclpy.lifecycle import TransitionCallbackReturn
    from rclpy.parameter import Parameter

    module, cls, _ = AUDIO_NODES[node_name]
    node = getattr(importlib.import_module(module), cls)(
        parameter_overrides=[Parameter('use_sim_time', value='true')], context=CONTEXT[0])
    try:
        assert node.trigger_configure() == TransitionCallbackReturn.FAILURE
        (line,) = [entry for entry in capfd.readouterr().err.splitlines() if 'configure failed' in entry]
        assert "'use_sim_time' must be true or false, got 'true'" in line
    finally:
        node.close()
        node.destroy_node()
