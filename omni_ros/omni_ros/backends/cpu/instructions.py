"""Natural-language watch instructions and questions -> conditions and question kinds.

The grammar is deliberately small and explicit: a lead-in ("tell me when", "let me know if", "alert me
when", "say something if", "when you hear", ...) followed by one of a handful of condition phrases. An
instruction whose condition phrase is not recognised is rejected with the list of what is understood,
never accepted and silently ignored.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from omni_ros.backends.cpu.conditions import Condition, ConditionKind, Need
from omni_ros.backends.cpu.numbers import words_to_digits
from omni_ros.errors import WatchRejectedError

MAX_INSTRUCTION_CHARS = 300

UNDERSTOOD = (
    "a traffic light turning red, yellow or green ('tell me when the light turns green'); "
    "a floor or number on a display ('let me know when we reach floor 16'); "
    "someone coming in or everyone leaving ('say something if someone comes in'); "
    "text on a sign ('tell me when the sign says EXIT'); "
    "a beep, ding, doorbell or knock ('alert me when the oven beeps', 'when you hear a knock'); "
    "someone speaking ('tell me when someone talks')")

_LEAD_IN = re.compile(
    r"^(?:(?:please|hey|ok|okay|robot)[, ]+)*"
    r"(?:(?:can|could|would|will) you (?:please )?)?"
    r"(?:(?:tell|let|alert|notify|warn|ping|wake|remind|inform|call|signal) (?:me|us)(?: know)?"
    r"|say (?:something|so|it)|speak up|shout|give (?:me|us) a (?:shout|heads up)|sound an alert"
    r"|watch (?:out )?for|look out for|listen (?:out )?for|keep an eye out for|wait for|wait until|notice)"
    r"(?: right away| immediately| please)?"
    r"(?: (?:when|if|once|as soon as|whenever|the moment|the instant|in case|that|until))?\b")
_BARE_LEAD_IN = re.compile(r"^(?:when|if|once|as soon as|whenever|the moment)\b")
_TRAILER = re.compile(
    r"(?:[,.]? *(?:please|thanks|thank you|ok|okay|tell me|let me know|alert me|say something|for me))+$")
_CONTINUOUS = re.compile(r"\b(?:whenever|every time|each time|any time|anytime)\b")

_COLORS = {'red': 'red', 'green': 'green', 'yellow': 'yellow', 'amber': 'yellow', 'orange': 'yellow'}
_SOUND_WORDS = (
    ('doorbell', r"door ?bell|ring(?:s|ing)? (?:at )?the (?:door|bell)|(?:door|bell) rings|bell goes"),
    ('knock', r"knock(?:s|ing|ed)?"),
    ('beep', r"beep(?:s|ing|ed)?|bleep(?:s|ing)?|(?:timer|alarm|oven|microwave|washer|dryer|dishwasher)"
             r" (?:goes off|is done|finishes|sounds)"),
    ('ding', r"ding(?:s|ing|ed)?|chime(?:s|d)?|bell(?: rings| sounds| goes off)?"),
)
_PERSON = (r"(?:someone|somebody|anyone|anybody|a person|people|a man|a woman|a visitor|a guest|a human"
           r"|a face|a kid|a child|the person|someone new|a stranger)")
_LEAVE = re.compile(
    r"\b(?:everyone|everybody|they|the person|people|he|she) (?:leaves|left|has left|have left|goes|is gone|are gone)"
    r"|\b(?:nobody|no one|noone) is (?:there|here|around|left|in view|in the room|visible)"
    r"|\b(?:room|area|scene|hall|hallway) is (?:empty|clear)")
_SPEECH = re.compile(
    rf"\b{_PERSON} (?:speaks|talks|says something|starts talking|starts speaking|is talking|is speaking)"
    r"|\b(?:hear|you hear) (?:a voice|someone talking|someone speaking|speech|talking|voices)")
_TEXT = re.compile(
    r"\b(?:sign|screen|display|board|text|label|banner|notice|door|panel|it|there)"
    r" (?:says|reads|shows|displays|has|is showing|shows the word|says the word)\s+[\"']?(?P<text>[\w !?&'-]+?)[\"']?$"
    r"|\b(?:the word|text|a sign (?:saying|reading|that says))\s+[\"']?(?P<text2>[\w !?&'-]+?)[\"']?"
    r"(?: appears| shows up| is visible| comes up)?$"
    r"|\bsee (?:a sign (?:saying|reading|that says) |the word |the text )[\"']?(?P<text3>[\w !?&'-]+?)[\"']?$")
_FLOOR = re.compile(
    r"\b(?:floor|level|storey|story|stop)(?: number)? (?P<n1>\d{1,3})\b"
    r"|\b(?P<n2>\d{1,3}) (?:floor|level|storey|story)\b"
    r"|\b(?:reach|get to|arrive at|arrive on|are at|are on|stop at) (?P<n3>\d{1,3})\b"
    r"|\b(?:number|counter|display|elevator|lift)(?: shows| reads| says| displays| gets to| reaches| hits| is at)?"
    r" (?P<n4>\d{1,3})\b")


@dataclass(frozen=True)
class ParsedInstruction:
    condition: Condition
    continuous: bool  # "whenever", "every time": the speaker wants every occurrence


def normalize(text: str) -> str:
    """Lower case, number words as digits, single spaces, no trailing punctuation."""
    text = text.strip().lower()
    text = re.sub(r"[\u2018\u2019]", "'", text)
    text = re.sub(r"[\u201c\u201d]", '"', text)
    text = re.sub(r"\bit's\b", 'it is', text)
    text = re.sub(r"\bwhat's\b", 'what is', text)
    text = re.sub(r"\bcolour\b", 'color', text)
    text = re.sub(r"[?!,;:]|\.(?=\s|$)", ' ', text)  # so "sixteen?" is a number word
    text = words_to_digits(text)
    text = re.sub(r"\s+", ' ', text)
    return text.strip(' .!?,;:')


def _strip_lead_in(text: str) -> tuple[str, bool]:
    m = _LEAD_IN.match(text)
    if m and m.end() > 0:
        return text[m.end():].strip(' ,'), True
    m = _BARE_LEAD_IN.match(text)
    if m:
        return text[m.end():].strip(' ,'), True
    return text, False


def parse_condition(body: str, original: str) -> Condition | None:
    """The condition of an instruction body (lead-in removed), or None if none is recognised."""
    body = _TRAILER.sub('', body).strip(' ,')
    # ---- issue13b: minimal patterns for the suite; the full grammar comes with issue13a ----------------
    # LIGHTING
    if re.search(r"\b(?:room|it|place) (?:goes|gets|turns|becomes) dark\b|\bgets dark\b"
                 r"|\blights? (?:go|goes|turn|turns|are switched|is switched) (?:out|off)\b", body):
        return Condition(ConditionKind.LIGHTING, 'dark')
    if re.search(r"\blights? (?:come|comes|turn|turns|are switched|is switched) on\b|\broom lights up\b"
                 r"|\bgets light\b", body):
        return Condition(ConditionKind.LIGHTING, 'lit')
    # PEOPLE_COUNT
    m = re.search(r"\b(?P<op>at least|more than|exactly|fewer than|at most|no more than) (?P<n>\d{1,2})"
                  r" (?:people|person)\b|\b(?P<n2>\d{1,2}) or more people\b", body)
    if m:
        op, n = (m.group('op'), int(m.group('n'))) if m.group('op') else ('at least', int(m.group('n2')))
        value = {'at least': f'>={n}', 'more than': f'>={n + 1}', 'exactly': f'=={n}',
                 'fewer than': f'<={n - 1}', 'at most': f'<={n}', 'no more than': f'<={n}'}[op]
        if value != '<=-1':
            return Condition(ConditionKind.PEOPLE_COUNT, value)
    # SOUND phone | kettle | smoke_alarm | co_alarm (before the beep words: "the alarm goes off")
    for value, pattern in (('smoke_alarm', r"smoke (?:alarm|detector)"),
                           ('co_alarm', r"(?:carbon monoxide|co) (?:alarm|detector)"),
                           ('phone', r"(?:tele)?phone"), ('kettle', r"kettle")):
        if re.search(rf"\b{pattern}\b", body):
            return Condition(ConditionKind.SOUND, value, rise=1, fall=1)
    # ---- end of issue13b's minimal patterns ---------------------------------------------------------------
    # Floors first ("the display shows floor 16" is a number), then text ("the sign says GREEN" is
    # about text, not the light).
    m = _FLOOR.search(body)
    if m:
        number = next(g for g in (m.group('n1'), m.group('n2'), m.group('n3'), m.group('n4')) if g)
        return Condition(ConditionKind.NUMBER_SHOWN, str(int(number)))
    m = _TEXT.search(body)
    if m:
        raw = next(g for g in (m.group('text'), m.group('text2'), m.group('text3')) if g)
        value = _original_case_words(original, raw).upper()
        value = re.sub(r"[^A-Z0-9 &'!?-]", '', value).strip()
        if value.isdigit():
            return Condition(ConditionKind.NUMBER_SHOWN, str(int(value)))
        if value:
            return Condition(ConditionKind.TEXT_SHOWN, value, fall=3)
    for kind, pattern in _SOUND_WORDS:
        if re.search(rf"\b(?:{pattern})\b", body):
            # A sound is momentary: true only in the chunk where it was heard.
            return Condition(ConditionKind.SOUND, kind, rise=1, fall=1)
    if _SPEECH.search(body):
        return Condition(ConditionKind.SPEECH, fall=3)
    color = _light_color(body)
    if color:
        return Condition(ConditionKind.LIGHT_COLOR, color)
    if _LEAVE.search(body):
        # Two empty chunks in a row: one missed detection does not empty the room, and a third would
        # make the alert about two seconds late.
        return Condition(ConditionKind.NOBODY_PRESENT, fall=1, rise=2)
    if re.search(rf"\b{_PERSON}\b", body) or re.search(r"\b(?:person|people|face|visitor|intruder)\b", body):
        return Condition(ConditionKind.PERSON_PRESENT, fall=3)
    return None


def _light_color(body: str) -> str | None:
    words = re.findall(r"[a-z]+", body)
    colors = [_COLORS[w] for w in words if w in _COLORS]
    if not colors:
        return None
    lighty = re.search(r"\b(?:light|lights|signal|lamp|traffic|pedestrian|walk|it|turns|goes|changes|switches|is)\b",
                       body)
    if not lighty:
        return None
    # "changes from red to green": the target is the last colour named.
    return colors[-1]


def _original_case_words(original: str, lowered: str) -> str:
    """The words of ``lowered`` as the user typed them (sign text keeps its spelling)."""
    idx = original.lower().find(lowered)
    return original[idx:idx + len(lowered)] if idx >= 0 else lowered


def parse_instruction(instruction: str) -> ParsedInstruction:
    """Map a watch instruction to a condition or raise WatchRejectedError saying what is understood."""
    if not instruction or not instruction.strip():
        raise WatchRejectedError(f'the watch instruction is empty; give one of: {UNDERSTOOD}')
    if len(instruction) > MAX_INSTRUCTION_CHARS:
        raise WatchRejectedError(
            f'the watch instruction is {len(instruction)} characters; keep it under {MAX_INSTRUCTION_CHARS}')
    text = normalize(instruction)
    body, _ = _strip_lead_in(text)
    condition = parse_condition(body, instruction)
    if condition is None:
        raise WatchRejectedError(
            f"the CPU backend cannot follow {instruction.strip()!r}; it understands: {UNDERSTOOD}")
    return ParsedInstruction(condition, bool(_CONTINUOUS.search(text)))


class QuestionKind(enum.Enum):
    FLOOR = 'floor'
    SIGN = 'sign'
    LIGHT = 'light'
    PEOPLE = 'people'
    SOUND = 'sound'


QUESTION_NEEDS: dict[QuestionKind, frozenset[Need]] = {
    QuestionKind.FLOOR: frozenset({Need.DIGITS}),
    QuestionKind.SIGN: frozenset({Need.TEXT}),
    QuestionKind.LIGHT: frozenset({Need.LIGHTS}),
    QuestionKind.PEOPLE: frozenset({Need.PEOPLE}),
    QuestionKind.SOUND: frozenset({Need.SOUNDS}),
}

QUESTIONS_UNDERSTOOD = ("'what floor are we on', 'what does the sign say', 'what color is the light', "
                        "'is anyone there', 'what did you hear'")
_QUESTION_START = re.compile(
    r"^(?:(?:hey|ok|okay|robot|please)[, ]+)*(?:what|which|is|are|do|does|can|could|who|how many|tell me what|read)\b")


def parse_question(text: str) -> QuestionKind | None:
    t = normalize(text)
    if re.search(r"\b(?:floor|level|storey|display|elevator|lift)\b", t):
        return QuestionKind.FLOOR
    if re.search(r"\b(?:sign|written|writing|text|say|says|read|label|banner|word)\b", t):
        return QuestionKind.SIGN
    if re.search(r"\b(?:light|signal|traffic|color)\b", t):
        return QuestionKind.LIGHT
    if re.search(r"\b(?:anyone|anybody|someone|somebody|people|person|who|nobody|alone)\b", t):
        return QuestionKind.PEOPLE
    if re.search(r"\b(?:hear|heard|sound|sounds|noise)\b", t):
        return QuestionKind.SOUND
    return None


class UtteranceKind(enum.Enum):
    TALK = 'talk'  # nothing for the backend to do beyond the transcript
    WATCH = 'watch'
    WATCH_REJECTED = 'watch_rejected'
    QUESTION = 'question'


@dataclass(frozen=True)
class UtteranceIntent:
    kind: UtteranceKind
    parsed: ParsedInstruction | None = None
    question: QuestionKind | None = None
    instruction: str = ''


_SPOKEN_LEAD_IN = re.compile(
    r"^(?:(?:please|hey|ok|okay|robot)[, ]+)*(?:(?:can|could|would|will) you (?:please )?)?"
    r"(?:tell|let|alert|notify|warn|ping|wake|remind) (?:me|us)(?: know)? (?:when|if|once|as soon as|whenever)\b"
    r"|^(?:(?:please|hey|ok|okay|robot)[, ]+)*(?:say something|speak up) (?:when|if|once)\b"
    r"|^(?:(?:please|hey|ok|okay|robot)[, ]+)*(?:watch|listen|look) (?:out )?for\b")


def classify_utterance(text: str) -> UtteranceIntent:
    """What the user's words ask for. A spoken watch needs an explicit lead-in ("tell me when ..."),
    so remarks such as "the light is green" stay plain talk."""
    t = normalize(text)
    if _SPOKEN_LEAD_IN.match(t):
        try:
            parsed = parse_instruction(text)
        except WatchRejectedError:
            return UtteranceIntent(UtteranceKind.WATCH_REJECTED, instruction=text.strip())
        return UtteranceIntent(UtteranceKind.WATCH, parsed=parsed, instruction=text.strip())
    if _QUESTION_START.match(t) or text.strip().endswith('?'):
        kind = parse_question(text)
        if kind is not None:
            return UtteranceIntent(UtteranceKind.QUESTION, question=kind)
    return UtteranceIntent(UtteranceKind.TALK)
