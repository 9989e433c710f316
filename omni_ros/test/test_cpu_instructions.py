"""CPU backend: watch instructions, questions and spoken intents map to conditions (pure Python, fast)."""

from __future__ import annotations

import pytest

from omni_ros.backends.cpu.conditions import ConditionKind
from omni_ros.backends.cpu.instructions import QuestionKind, parse_instruction, parse_question
from omni_ros.backends.cpu.spoken import UtteranceKind, classify_utterance
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


# -- meaning preserved or refused (issue 13) --------------------------------------------------------------
NEW_KINDS = [
    ('tell me when more than three people are here', ConditionKind.PEOPLE_COUNT, '>=4'),
    ('let me know if there are at least 2 people in the room', ConditionKind.PEOPLE_COUNT, '>=2'),
    ('tell me when two people are in view', ConditionKind.PEOPLE_COUNT, '==2'),
    ('alert me when fewer than 3 people are in the room', ConditionKind.PEOPLE_COUNT, '<=2'),
    ('tell me when at most one person is here', ConditionKind.PEOPLE_COUNT, '<=1'),
    ('tell me when the room goes dark', ConditionKind.LIGHTING, 'dark'),
    ('let me know when someone turns off the lights', ConditionKind.LIGHTING, 'dark'),
    ('tell me when the lights come back on', ConditionKind.LIGHTING, 'lit'),
    ('tell me when the phone rings', ConditionKind.SOUND, 'phone'),
    ('let me know when the kettle whistles', ConditionKind.SOUND, 'kettle'),
    ('alert me if the smoke alarm goes off', ConditionKind.SOUND, 'smoke_alarm'),
    ('warn me when the fire alarm sounds', ConditionKind.SOUND, 'smoke_alarm'),
    ('tell me if the carbon monoxide detector goes off', ConditionKind.SOUND, 'co_alarm'),
]


@pytest.mark.parametrize('instruction, kind, value', NEW_KINDS)
def test_new_kinds_of_the_contract(instruction: str, kind: ConditionKind, value: str) -> None:
    condition = parse_instruction(instruction).condition
    assert (condition.kind, condition.value) == (kind, value)


@pytest.mark.parametrize('instruction, part', [
    # unknown qualifiers
    ('tell me when the green light on the printer comes on', 'on the printer'),
    ('let me know when the red light on the router goes off', 'router'),
    ('tell me when the oven display shows 180', 'oven'),
    # negations and changes away
    ("don't tell me when the light is red", 'do not tell me'),
    ('tell me when the light is not red', 'not red'),
    ('tell me when the light is no longer red', 'no longer'),
    ('tell me when it stops being green', 'stops being green'),
    ('let me know when the phone stops ringing', 'stops ringing'),
    ('tell me when we leave floor 3', 'leave floor 3'),
    # conjunctions and disjunctions
    ("tell me when it's green and the car has stopped", 'and the car has stopped'),
    ('alert me if the doorbell rings or someone knocks', 'or someone knocks'),
    # people: what they do, who they are, vague counts, names to listen for
    ('let me know if someone falls', 'falls'),
    ('tell me when a stranger shows up', 'stranger'),
    ('tell me when John arrives', 'john'),
    ('let me know when my wife gets home', 'my wife'),
    ('tell me when there are lots of people', 'lots of people'),
    ('tell me when someone says my name', 'my name'),
    # sounds narrower than a detector, or not heard at all
    ('tell me when the alarm goes off', 'alarm'),
    ('tell me when the car alarm goes off', 'car alarm'),
    ('tell me when the microwave beeps three times', '3 times'),
    ('tell me if a dog barks', 'dog'),
    # time limits belong in the goal's timeout
    ('tell me if the doorbell rings in the next 10 minutes', 'in the next 10 minutes'),
])
def test_what_is_not_followed_is_refused_naming_the_part(instruction: str, part: str) -> None:
    with pytest.raises(WatchRejectedError) as err:
        parse_instruction(instruction)
    message = str(err.value)
    assert instruction in message and f"'{part}" in message or part in message.split(' is not followed')[0], message
    assert 'is not followed' in message and 'It understands' in message


def test_a_refusal_says_what_would_be_followed() -> None:
    with pytest.raises(WatchRejectedError) as err:
        parse_instruction('tell me when the green light on the printer comes on')
    assert 'what I can follow is: the traffic light turns green' in str(err.value)
    with pytest.raises(WatchRejectedError) as err:
        parse_instruction('let me know if someone falls')
    assert 'someone comes into view' in str(err.value)


@pytest.mark.parametrize('instruction, says', [
    ('alert me when the oven beeps', "any beep: I cannot tell the oven's beep from another beep"),
    ('let me know when the washing machine is done', 'I cannot see it finish'),
    ('tell me if anyone is at the door', 'I cannot tell where the door is'),
    ('tell me if someone knocks on the window', 'I cannot tell where a knock comes from'),
    ('let me know when the kettle boils', 'a kettle that does not whistle is not heard'),
    ('tell me when more than three people are here', 'more than 3 means 4 or more'),
    ('notify me once the light is amber', 'amber and orange are what I call yellow'),
    ('tell me when the sign says EXIT', 'whole and in this order'),
])
def test_a_wider_meaning_followed_on_purpose_is_said(instruction: str, says: str) -> None:
    meaning = parse_instruction(instruction).meaning
    assert meaning.startswith('I will tell you when ') and says in meaning, meaning


def test_the_meaning_is_a_sentence_and_says_every_time() -> None:
    assert parse_instruction('tell me when the light turns green').meaning == \
        'I will tell you when the traffic light turns green.'
    assert parse_instruction('let me know whenever someone knocks').meaning == \
        'I will tell you every time I hear a knock.'


@pytest.mark.parametrize('instruction, kind, value, continuous', [
    ('电梯到16楼告诉我', ConditionKind.NUMBER_SHOWN, '16', False),
    ('到十二楼的时候提醒我', ConditionKind.NUMBER_SHOWN, '12', False),
    ('红灯变绿的时候告诉我', ConditionKind.LIGHT_COLOR, 'green', False),
    ('有人敲门就告诉我', ConditionKind.SOUND, 'knock', False),
    ('每次门铃响了都叫我', ConditionKind.SOUND, 'doorbell', True),
    ('有人进来的时候通知我', ConditionKind.PERSON_PRESENT, '', False),
    ('大家都走了以后告诉我', ConditionKind.NOBODY_PRESENT, '', False),
    ('超过三个人的时候告诉我', ConditionKind.PEOPLE_COUNT, '>=4', False),
    ('一氧化碳报警器响了告诉我', ConditionKind.SOUND, 'co_alarm', False),
    ('牌子上写着EXIT的时候告诉我', ConditionKind.TEXT_SHOWN, 'EXIT', False),
])
def test_chinese_instructions(instruction: str, kind: ConditionKind, value: str, continuous: bool) -> None:
    parsed = parse_instruction(instruction)
    assert (parsed.condition.kind, parsed.condition.value, parsed.continuous) == (kind, value, continuous)


@pytest.mark.parametrize('instruction, part', [
    ('不要在红灯的时候告诉我', '不要'), ('红灯不再亮的时候告诉我', '不再'), ('门铃响或者有人敲门告诉我', '或者'),
    ('有人摔倒了告诉我', '摔倒'), ('陌生人进来告诉我', '陌生人'), ('牌子上写着出口的时候告诉我', '写着出'),
])
def test_chinese_refusals_name_the_part(instruction: str, part: str) -> None:
    with pytest.raises(WatchRejectedError, match=part):
        parse_instruction(instruction)


def test_chinese_numerals() -> None:
    from omni_ros.backends.cpu.numbers import chinese_to_digits

    assert chinese_to_digits('十六楼 二十一层 一百零五 两个人 三') == '16楼 21层 105 2个人 3'


# -- spoken instructions as people say them ---------------------------------------------------------------
@pytest.mark.parametrize('text, kind, value', [
    ('hey robot, tell me when the light turns green', ConditionKind.LIGHT_COLOR, 'green'),
    ('Hey robot, okay so, can you let me know when the light turns green?', ConditionKind.LIGHT_COLOR, 'green'),
    ('um, could you tell me if the doorbell rings?', ConditionKind.SOUND, 'doorbell'),
    ('When the timer goes off, tell me.', ConditionKind.SOUND, 'beep'),
    ('If someone knocks, let me know.', ConditionKind.SOUND, 'knock'),
    ('Hell me when the light turns green.', ConditionKind.LIGHT_COLOR, 'green'),  # ASR noise in the first word
    ('Del me know when the phone rings.', ConditionKind.SOUND, 'phone'),
    ("So, uh, let me know when the light's green.", ConditionKind.LIGHT_COLOR, 'green'),
    ('Keep an eye on the traffic light and tell me when it turns red.', ConditionKind.LIGHT_COLOR, 'red'),
])
def test_spoken_watches_as_people_say_them(text: str, kind: ConditionKind, value: str) -> None:
    intent = classify_utterance(text)
    assert intent.kind is UtteranceKind.WATCH and intent.parsed is not None, intent
    assert (intent.parsed.condition.kind, intent.parsed.condition.value) == (kind, value)


@pytest.mark.parametrize('text, kind', [
    ('She said to tell me when the light turns green.', UtteranceKind.TALK),  # reported speech
    ('My mom told me to let you know when the doorbell rings.', UtteranceKind.TALK),
    ('You told me when the light turned green, thanks.', UtteranceKind.TALK),
    ('When I was a kid we had a red door.', UtteranceKind.TALK),
    ('Could you tell me if the light is green?', UtteranceKind.QUESTION),  # about now, not a watch
    ("Hey robot, don't tell me when the light is red.", UtteranceKind.WATCH_REJECTED),
    ('Can you tell me when someone falls?', UtteranceKind.WATCH_REJECTED),
])
def test_spoken_talk_questions_and_refusals(text: str, kind: UtteranceKind) -> None:
    assert classify_utterance(text).kind is kind


@pytest.mark.parametrize('text, selected, kept', [
    ('Stop watching the light.', ['light_green'], ['bell', 'floor']),
    ('Never mind the doorbell.', ['bell'], ['light_green', 'floor']),
    ('Forget about floor 16.', ['floor'], ['light_green', 'bell']),
    ("Don't tell me about the doorbell anymore.", ['bell'], ['light_green', 'floor']),
    ('Stop watching everything.', ['light_green', 'bell', 'floor'], []),
])
def test_voice_cancellation_names_the_watch(text: str, selected: list[str], kept: list[str]) -> None:
    from omni_ros.backends.cpu.conditions import Condition

    watches = {'light_green': Condition(ConditionKind.LIGHT_COLOR, 'green'),
               'bell': Condition(ConditionKind.SOUND, 'doorbell'),
               'floor': Condition(ConditionKind.NUMBER_SHOWN, '16')}
    intent = classify_utterance(text)
    assert intent.kind is UtteranceKind.CANCEL and intent.cancel is not None
    assert sorted(w for w, c in watches.items() if intent.cancel.selects(c)) == sorted(selected)
    assert sorted(w for w, c in watches.items() if not intent.cancel.selects(c)) == sorted(kept)


def test_cancel_that_means_the_latest_watch() -> None:
    intent = classify_utterance('Never mind that.')
    assert intent.kind is UtteranceKind.CANCEL and intent.cancel is not None and intent.cancel.latest


def test_every_spoken_watch_reads_again_as_an_instruction() -> None:
    """The node hands a spoken watch back to the backend by its words; they must mean the same again."""
    for text in ('hey robot, okay so, can you let me know when the light turns green',
                 'when the timer goes off, tell me', 'could you tell me if the doorbell rings?'):
        spoken = classify_utterance(text).parsed
        assert spoken is not None and parse_instruction(text).condition == spoken.condition
