"""CPU backend: watch instructions, questions and spoken intents map to conditions (pure Python, fast)."""

from __future__ import annotations

import pytest

from omni_ros.backends.cpu.conditions import ConditionKind
from omni_ros.backends.cpu.instructions import (
    QuestionKind, UtteranceKind, classify_utterance, parse_instruction, parse_question)
from omni_ros.backends.cpu.numbers import words_to_digits
from omni_ros.errors import WatchRejectedError

MAPPED = [
    # traffic light
    ('tell me when the light turns green', ConditionKind.LIGHT_COLOR, 'green'),
    ('Let me know when the traffic light changes from red to green.', ConditionKind.LIGHT_COLOR, 'green'),
    ('alert me if the signal goes red', ConditionKind.LIGHT_COLOR, 'red'),
    ('notify me once the light is amber', ConditionKind.LIGHT_COLOR, 'yellow'),
    ("when it's green, tell me", ConditionKind.LIGHT_COLOR, 'green'),
    # floor / display number
    ('let me know when we reach floor 16', ConditionKind.NUMBER_SHOWN, '16'),
    ('tell me when we get to the sixteenth floor', ConditionKind.NUMBER_SHOWN, '16'),
    ('ping me once we are on floor three', ConditionKind.NUMBER_SHOWN, '3'),
    ('tell me when the display shows 7', ConditionKind.NUMBER_SHOWN, '7'),
    ('alert me when the elevator reaches twenty one', ConditionKind.NUMBER_SHOWN, '21'),
    ('tell me when we arrive at level 2', ConditionKind.NUMBER_SHOWN, '2'),
    ('tell me when the display shows floor 16', ConditionKind.NUMBER_SHOWN, '16'),
    # people
    ('say something if someone comes in', ConditionKind.PERSON_PRESENT, ''),
    ('warn me if somebody enters the room', ConditionKind.PERSON_PRESENT, ''),
    ('let me know when a person shows up', ConditionKind.PERSON_PRESENT, ''),
    ('tell me if anyone is at the door', ConditionKind.PERSON_PRESENT, ''),
    ('tell me when everyone leaves', ConditionKind.NOBODY_PRESENT, ''),
    ('let me know when the room is empty', ConditionKind.NOBODY_PRESENT, ''),
    # signs
    ('tell me when the sign says EXIT', ConditionKind.TEXT_SHOWN, 'EXIT'),
    ('let me know if the screen reads "Gate 12"', ConditionKind.TEXT_SHOWN, 'GATE 12'),
    ('alert me when you see the word open', ConditionKind.TEXT_SHOWN, 'OPEN'),
    ('tell me when the board says 42', ConditionKind.NUMBER_SHOWN, '42'),
    # sounds
    ('alert me when the oven beeps', ConditionKind.SOUND, 'beep'),
    ('tell me when the timer goes off', ConditionKind.SOUND, 'beep'),
    ('let me know if the microwave dings', ConditionKind.SOUND, 'ding'),
    ('tell me when you hear a chime', ConditionKind.SOUND, 'ding'),
    ('tell me when the doorbell rings', ConditionKind.SOUND, 'doorbell'),
    ('let me know if someone rings the bell', ConditionKind.SOUND, 'doorbell'),
    ('when you hear a knock', ConditionKind.SOUND, 'knock'),
    ('alert me if someone knocks', ConditionKind.SOUND, 'knock'),
    ('listen for knocking', ConditionKind.SOUND, 'knock'),
    # speech
    ('tell me when someone talks', ConditionKind.SPEECH, ''),
    ('let me know if you hear a voice', ConditionKind.SPEECH, ''),
]


@pytest.mark.parametrize('instruction, kind, value', MAPPED)
def test_instruction_maps_to_condition(instruction: str, kind: ConditionKind, value: str) -> None:
    parsed = parse_instruction(instruction)
    assert parsed.condition.kind is kind
    assert parsed.condition.value == value


@pytest.mark.parametrize('instruction', [
    'tell me a joke', 'order a pizza when you can', 'let me know when the stock market crashes',
    'notify me when it rains', 'what is the weather'])
def test_unmappable_instruction_is_rejected_with_what_is_understood(instruction: str) -> None:
    with pytest.raises(WatchRejectedError) as err:
        parse_instruction(instruction)
    message = str(err.value)
    assert instruction in message
    for hint in ('traffic light', 'floor', 'sign', 'beep', 'knock', 'someone'):
        assert hint in message


@pytest.mark.parametrize('instruction', ['', '   ', 'x' * 400])
def test_empty_or_long_instruction_is_rejected(instruction: str) -> None:
    with pytest.raises(WatchRejectedError):
        parse_instruction(instruction)


def test_whenever_means_continuous() -> None:
    assert parse_instruction('let me know whenever someone knocks').continuous
    assert parse_instruction('tell me every time the light turns red').continuous
    assert not parse_instruction('tell me when the light turns red').continuous


def test_sound_conditions_are_momentary_and_vision_conditions_debounced() -> None:
    sound = parse_instruction('alert me when the oven beeps').condition
    light = parse_instruction('tell me when the light turns green').condition
    assert (sound.rise, sound.fall) == (1, 1)
    assert light.fall >= 2


@pytest.mark.parametrize('text, expected', [
    ('floor sixteen', 'floor 16'), ('the twenty-first floor', 'the 21 floor'), ('16th', '16'),
    ('forty two people', '42 people'), ('one way', '1 way')])
def test_number_words(text: str, expected: str) -> None:
    assert words_to_digits(text) == expected


@pytest.mark.parametrize('question, kind', [
    ('what floor are we on', QuestionKind.FLOOR), ('Which level is this?', QuestionKind.FLOOR),
    ('what does the sign say', QuestionKind.SIGN), ('read the sign for me', QuestionKind.SIGN),
    ('what colour is the light', QuestionKind.LIGHT), ('is the traffic light green?', QuestionKind.LIGHT),
    ('is anyone there', QuestionKind.PEOPLE), ('how many people do you see', QuestionKind.PEOPLE),
    ('what did you hear', QuestionKind.SOUND)])
def test_questions(question: str, kind: QuestionKind) -> None:
    assert parse_question(question) is kind


def test_unknown_question() -> None:
    assert parse_question('what is the meaning of life') is None


@pytest.mark.parametrize('text, kind', [
    ('tell me when the light turns green', UtteranceKind.WATCH),
    ('Could you let me know when we reach floor sixteen?', UtteranceKind.WATCH),
    ('tell me when pigs fly', UtteranceKind.WATCH_REJECTED),
    ('what floor are we on?', UtteranceKind.QUESTION),
    # Remarks are not commands: no lead-in, no watch.
    ('the light is green', UtteranceKind.TALK),
    ('I heard a knock earlier', UtteranceKind.TALK),
    ('nice weather today', UtteranceKind.TALK)])
def test_spoken_intents(text: str, kind: UtteranceKind) -> None:
    assert classify_utterance(text).kind is kind
