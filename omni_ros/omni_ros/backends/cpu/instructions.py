"""Natural-language watch instructions and questions -> conditions and question kinds.

An instruction is a request ("tell me when", "could you let me know if", "keep an eye out for", or the
condition first: "when the timer goes off, tell me") around one condition. The condition is followed only
when a phrase of phrases.py accounts for every word of it; otherwise the instruction is refused with a
message that names the part not followed and what would be (refusals.py), never accepted with another
meaning. Where the meaning followed is wider than the words on purpose (the oven's beep is any beep),
the meaning returned says so; the node shows it to the user (SetWatch feedback and result, ListWatches,
the spoken confirmation). Chinese instructions are read by chinese.py.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from omni_ros.backends.cpu import chinese
from omni_ros.backends.cpu.conditions import Condition, ConditionKind, Need
from omni_ros.backends.cpu.numbers import words_to_digits
from omni_ros.backends.cpu.phrases import CONTINUOUS, Reading, Unfollowed, alt, match_condition
from omni_ros.backends.cpu.refusals import Refusal, diagnose
from omni_ros.errors import WatchRejectedError

MAX_INSTRUCTION_CHARS = 300

UNDERSTOOD = (
    "a traffic light turning red, yellow or green ('tell me when the light turns green'); "
    "a floor or number on a display ('let me know when we reach floor 16'); "
    "someone coming in, everyone leaving, or how many people are in view ('say something if someone comes in', "
    "'tell me when more than 3 people are here'); "
    "text on a sign ('tell me when the sign says EXIT'); "
    "the room going dark or the lights coming on; "
    "a beep, ding, doorbell, knock, phone ringing, kettle whistling, smoke alarm or carbon-monoxide alarm "
    "('alert me when the oven beeps', 'when you hear a knock'); "
    "someone speaking ('tell me when someone talks'); in English or Chinese ('红灯变绿的时候告诉我')")

# -- normalization --------------------------------------------------------------------------------------
_CONTRACTIONS = (
    (r"\bit's\b", 'it is'), (r"\bwhat's\b", 'what is'), (r"\bthere's\b", 'there is'), (r"\bwe're\b", 'we are'),
    (r"\bthey're\b", 'they are'), (r"\byou're\b", 'you are'), (r"\bi'm\b", 'i am'), (r"\bi'd\b", 'i would'),
    (r"\bi'll\b", 'i will'), (r"\byou'll\b", 'you will'), (r"\bwe'll\b", 'we will'), (r"\bthat's\b", 'that is'),
    (r"\b(someone|somebody|anyone|anybody|nobody|everyone|everybody|he|she)'s\b", r'\1 is'),
    # "the light's green": 's before a state is "is"; before a noun it stays a possessive ("the oven's timer")
    (r"(?<=\w)'s (?=(?:red|green|yellow|amber|orange|on|off|out|here|there|gone|empty|dark|bright|ringing|beeping|"
     r"done|ready|open|closed|back|home|at|in|not|going|coming|knocking|talking|showing|turning|changing|finished|"
     r"over|up|down|whistling|boiling|lit|visible)\b)", ' is '),
    (r"\bdon't\b", 'do not'), (r"\bdoesn't\b", 'does not'), (r"\bisn't\b", 'is not'), (r"\baren't\b", 'are not'),
    (r"\bwon't\b", 'will not'), (r"\bcan't\b", 'cannot'), (r"\bwasn't\b", 'was not'), (r"\bhasn't\b", 'has not'),
    (r"\bhaven't\b", 'have not'), (r"\bdidn't\b", 'did not'), (r"\bshouldn't\b", 'should not'),
    (r"\bwouldn't\b", 'would not'), (r"\bcouldn't\b", 'could not'), (r"\blet's\b", 'let us'),
    (r"\blemme\b", 'let me'), (r"\bgimme\b", 'give me'), (r"\bwanna\b", 'want to'), (r"\bgonna\b", 'going to'),
    (r"\bdont\b", 'do not'), (r"\bim\b", 'i am'), (r"\bpls\b|\bplz\b", 'please'),
    (r'\bno[ -]one\b', 'nobody'), (r'\bevery one\b', 'everyone'), (r'\bany one\b', 'anyone'),
    (r'\bsome one\b', 'someone'), (r'\bcolour\b', 'color'), (r'\bneighbour', 'neighbor'), (r'\bfavour\b', 'favor'),
    (r'\bcarbon[ -]monoxide\b', 'carbon monoxide'), (r'\bdoor-bell\b', 'doorbell'), (r'\bok\b', 'okay'),
    (r'\bt\.v\.', 'tv'), (r'\bc\.o\.', 'co'), (r'\bheads-up\b', 'heads up'), (r'\bwalk-in\b', 'walk in'),
    (r'\bthe 1st time\b', 'the first time'), (r'\btraffic-light\b', 'traffic light'))


def normalize(text: str) -> str:
    """Lower case, contractions spelled out, number words as digits, single spaces, no commas or final
    punctuation; quotes around sign text are kept."""
    text = text.strip().lower()
    text = re.sub(r"[\u2018\u2019`´]", "'", text)
    text = re.sub(r"[\u201c\u201d\u00ab\u00bb]", '"', text)
    for pattern, replacement in _CONTRACTIONS:
        text = re.sub(pattern, replacement, text)
    text = re.sub(r"[?!,;:()\u2026]|\.(?=\s|$)|\s-\s|--+", ' ', text)  # so "sixteen?" is a number word
    text = re.sub(r'\bthe first time\b', 'the firsttime', text)  # an ordinal that is not a number
    text = words_to_digits(text).replace('the firsttime', 'the first time')
    text = re.sub(r'\s+', ' ', text)
    return text.strip(' .!?,;:')


# -- requests around a condition ------------------------------------------------------------------------
WAKE = alt('hey', 'hi', 'hello', 'okay', 'so', 'um+', 'uh+', 'er+', 'erm', 'hmm+', 'well', 'alright', 'all right',
           'now', 'robot', 'robbie', 'robert', 'bot', 'buddy', 'excuse me', 'and', 'oh', 'yeah', 'yes', 'yep',
           'please', 'sorry', 'yo', 'dear', 'computer', 'assistant', 'hey there', 'omni', 'mate', 'actually', 'also',
           'one more thing', 'another thing', 'and also', 'quick question', 'real quick', 'just', 'kindly',
           'hey robot', 'okay robot', 'listen robot', 'look robot', 'right so', 'okay so', 'so yeah', 'ah', 'uhm',
           'umm', 'mm', 'hmm okay', 'alright so', 'all right so', 'listen up', 'by the way', 'oh and')
_WAKE_PREFIX = re.compile(rf'^(?:{WAKE}\b ?)+')
POLITE = alt(
    r'(?:can|could|would|will) you(?: please| kindly| maybe| possibly| just| also| be so kind as to)*',
    'would you mind', 'would you mind to', 'would you be able to', 'are you able to', 'i want you to',
    'i would like you to', 'i need you to', 'i would love it if you would', 'i would appreciate it if you would',
    'i would appreciate it if you could', 'do me a favor and', 'be sure to', 'make sure to', 'make sure you',
    'do not forget to', 'remember to', 'go ahead and', 'try to', 'you should', 'you need to', 'you must',
    'you have to', 'you can', 'you could', 'is it possible to', 'if you could', 'please', 'kindly', 'just',
    'i want to ask you to', 'i am asking you to', 'i would like to ask you to', 'can i ask you to', 'may i ask you to',
    'help me and', 'help me by', 'you will', 'i would like it if you would', 'it would be great if you could',
    'it would help if you would', 'could i ask you to', 'i would be grateful if you would', 'would you please')
_TELL_PRONOUN = (r'(?:tell|let|alert|notify|warn|ping|wake|remind|inform|call|signal|buzz|page|text|message|holler at|'
                 r'shout at|shout to|get|update|nudge|poke|flag|give) (?:me|us)(?: ' + alt(
                     'know', 'up', 'about it', 'a shout', 'a heads up', 'a call', 'a ping', 'a nudge', 'a yell',
                     'a signal', 'a sign', 'a warning', 'a notice', 'an alert', 'a buzz', 'a notification', 'a holler',
                     'a shout out', 'the word', 'heads up', 'know right away', 'a quick shout', 'a quick heads up',
                     'a quick call', 'a quick ping') + ')?')
TELL_END = alt(_TELL_PRONOUN, 'say something', 'say so', 'say a word', 'speak up', 'give a shout',
               'keep me posted', 'keep us posted', 'keep me informed', 'keep me updated', 'sound an alert',
               'raise an alert', 'raise the alarm')
TELL = alt(_TELL_PRONOUN, 'say something', 'say so', 'say it', 'say a word', 'say hi', 'say hello', 'speak up',
           'shout', 'holler', 'sound an alert', 'raise an alert', 'raise the alarm', 'keep me posted',
           'keep us posted', 'keep me informed', 'keep me updated', 'alert', 'notify', 'warn', 'give a shout',
           r'(?:i|we) (?:want|would like|need|wish|would love|have|would want) to (?:know|hear|be told|be notified|'
           r'be alerted|be warned|find out|learn)',
           r'(?:i|we) (?:want|would like|need|would appreciate) (?:a heads up|a warning|an alert|a notification|'
           r'a shout|to be told)',
           'i should know', 'i need a heads up', 'make a sound', 'beep', 'say', 'speak', 'announce it',
           'make an announcement')
WATCH_FOR = alt('watch for', 'watch out for', 'look out for', 'listen for', 'listen out for', 'keep an eye out for',
                'keep an ear out for', 'keep your eyes open for', 'keep your ears open for',
                'keep your eyes peeled for',
                'keep your ears peeled for', 'keep an eye open for', 'keep an ear open for', 'keep watch for',
                'be on the lookout for', 'be on the look out for', 'stay alert for', 'wait for', 'await', 'notice',
                'watch for when', 'monitor for', 'check for', 'detect', 'keep listening for', 'keep looking for',
                'keep watching for', 'look for', 'be ready for', 'pay attention to', 'stay tuned for', 'scan for',
                'keep a lookout for', 'keep a look out for', 'wait until', 'wait till', 'keep an eye open for when',
                'keep eyes open for', 'keep ears open for', 'keep your eyes on', 'listen out for when', 'be alert for',
                'be on alert for', 'be on guard for', 'watch and listen for', 'look and listen for', 'watch',
                'stand by for', 'keep checking for', 'keep monitoring for', 'monitor', 'check')
CONNECTOR = alt('whenever', 'when ever', 'when', 'if', 'once', 'as soon as', 'the moment', 'the instant', 'in case',
                'every time', 'each time', 'any time', 'anytime', 'the minute', 'right when', 'just when',
                'at the moment', 'if and when', 'when and if', 'whether', 'the next time', 'next time',
                'the first time', 'should', 'in the event that', 'the very moment', 'the exact moment',
                'immediately when', 'immediately if', 'straight away when', 'right as', 'just as', 'about', 'of',
                'to', 'for', 'at', 'after', 'the second that', 'the moment that', 'the instant that',
                'when you see that',
                'when you notice that', 'if you notice that', 'if you see that', 'in case that', 'whenever that',
                'if ever', 'if at any point', 'as soon as ever', 'the minute that', 'that')
_QUICK = alt('right away', 'immediately', 'straight away', 'please', 'at once', 'quickly', 'directly', 'as well',
             'too', 'also', 'promptly', 'straight off', 'right then', 'instantly')
_REQUEST = re.compile(
    rf'^(?:{POLITE} )*{TELL}(?: {_QUICK})? (?P<conn>{CONNECTOR})\b ?(?P<body>.*)$')
_WATCH_REQUEST = re.compile(rf'^(?:{POLITE} )*(?:{WATCH_FOR}) (?P<body>.+)$')
_THE_THING_AND = re.compile(
    rf'^(?:{POLITE} )*(?:keep an eye on|keep your eye on|keep an ear on|watch|look at|keep watching|monitor|'
    r'listen to|keep listening to|keep looking at|keep an eye out on|check on|observe|stare at|focus on|mind) '
    rf'(?P<obj>.+?) (?:and|then|and then) (?:{POLITE} )*{TELL}(?: {_QUICK})? '
    rf'(?P<conn>{CONNECTOR})\b ?(?P<body>.*)$')
_CONDITION_FIRST = re.compile(
    rf'^(?P<conn>whenever|when|if|once|as soon as|the moment|the instant|every time|each time|any time|the minute|'
    rf'in case|the next time|next time|should|in the event that|right when) (?P<body>.+?)'
    rf'(?: (?:then|please|just|so|okay|you should|go ahead and|make sure to|make sure you|be sure to|'
    rf'(?:can|could|would|will) you(?: please)?))* (?:{TELL_END})(?: {_QUICK})?$')
_BARE_CONDITION_FIRST = re.compile(
    r'^(?P<conn>whenever|when|if|once|as soon as|the moment|every time|each time|the next time|next time|the minute|'
    r'in case) (?P<body>.+)$')
_NEGATED_REQUEST = re.compile(
    rf'^(?:{POLITE} )*(?:do not|never|no need to|you do not (?:need|have) to|there is no need to|you need not|'
    rf'stop|quit|you can stop|i do not (?:want|need) you to|i do not want to know|i do not need to know|'
    rf'i would rather you did not|please do not) (?:{TELL}|{WATCH_FOR}|telling (?:me|us)|alerting (?:me|us)|'
    rf'watching|listening|bother(?:ing)?(?: to)?(?: {TELL})?)\b')
_TRAILER = re.compile(
    r'(?: (?:please|thanks|thank you|thank you very much|thanks a lot|cheers|okay|okay\?|alright|all right|for me|'
    r'right away|immediately|straight away|asap|at once|quickly|will you|would you|can you|could you|if you can|'
    r'if you could|if you do not mind|if you would|if possible|if that is okay|yeah|robot|buddy|mate|then|now|too|'
    r'as well|also|won\'t you|as soon as possible|as soon as it happens|when it happens|if it happens|'
    r'when that happens|'
    r'the moment it happens|the moment that happens|loudly|out loud|by voice|so i know|so we know|for us|'
    r'so (?:that )?(?:i|we) (?:can|could|will|do not) \w+(?: \w+){0,4}|i (?:am|will be) (?:waiting|busy|cooking|'
    r'upstairs|downstairs|in the \w+|outside|working|away)|(?:and|then|and then|so) (?:tell|let|alert|notify|ping|warn)'
    r' (?:me|us)(?: know)?(?: about it| right away| please)?|(?:tell|let|alert|notify|ping|warn) (?:me|us)(?: know)?'
    r'(?: about it)?|ok robot|okay robot|got it|understood|would you please|just once|only once|once only|'
    r'at all|when you (?:hear|see) it|(?:if|when) you (?:hear|see|notice) (?:it|that|one)|with a beep|by beeping|'
    r'with a shout|and say something|and speak up|and beep|straight away please|in a loud voice|for the next one|'
    r'it is important|this is important|it is urgent|because i am \w+(?: \w+){0,3}|because i cannot \w+(?: \w+){0,3}|'
    r'because i can not \w+(?: \w+){0,3}))+$')
_CONTINUOUS_TRAILER = re.compile(
    r'(?: (?:every time|each time|every time it happens|each time it happens|whenever it happens|every single time|'
    r'again and again|all day|all the time|each and every time|each time that happens|every time that happens|'
    r'not just once|not only once|over and over|repeatedly|every time you (?:hear|see) it|from now on|'
    r'each time you (?:hear|see) it|all day long|all night|all evening|continuously|always|until i say stop|'
    r'until i tell you to stop|until further notice))+$')


@dataclass(frozen=True)
class Request:
    """An instruction split into its condition and what the request around it said."""

    body: str  # the condition, normalized
    continuous: bool
    lead_in: bool  # a request form was found (spoken watches need one)
    negated: str = ''  # the words of a negated request ("do not tell me"), '' when there are none


def split_request(text: str) -> Request:
    """The condition inside a normalized instruction and whether every occurrence is wanted."""
    t = _WAKE_PREFIX.sub('', text).strip()
    continuous = False
    m = _CONTINUOUS_TRAILER.search(t)
    if m and m.start() > 0:
        continuous, t = True, t[:m.start()].strip()
    m = _NEGATED_REQUEST.match(t)
    negated = m.group(0) if m else ''
    lead_in = True
    m = _THE_THING_AND.match(t)
    if m:
        body = _replace_it(m.group('body'), m.group('obj'))
        conn = m.group('conn')
    else:
        m = _REQUEST.match(t) or _CONDITION_FIRST.match(t)
        if m:
            body, conn = m.group('body'), m.group('conn')
        else:
            m = _WATCH_REQUEST.match(t)
            if m:
                body, conn = m.group('body'), ''
                body = re.sub(r'^(?:when|whenever|if|once|as soon as|every time|each time|until|till) ', '', body)
            else:
                lead_in = False
                m = _BARE_CONDITION_FIRST.match(t)
                body, conn = (m.group('body'), m.group('conn')) if m else (t, '')
    body = body.strip()
    m = _CONTINUOUS_TRAILER.search(' ' + body)
    if m and m.start() > 0:
        continuous, body = True, (' ' + body)[:m.start()].strip()
    body = _TRAILER.sub('', ' ' + body).strip()
    if conn.replace(' ', '') in ('whenever', 'everytime', 'eachtime', 'anytime') or CONTINUOUS.search(conn):
        continuous = True
    body = re.sub(r'^(?:ever |it is the case that |it so happens that |by any chance |you find that |you see that '
                  r'|you notice that |it turns out that |it looks like |it seems like |it happens that )', '', body)
    return Request(body, continuous, lead_in, negated)


def _replace_it(body: str, obj: str) -> str:
    """"keep an eye on the light and tell me when it turns green" -> "the light turns green"."""
    def subject(m: re.Match[str]) -> str:
        return obj + {'it is': ' is', 'they are': ' are'}.get(m.group(0), '')
    return re.sub(r'^(?:it is|they are|it|they|that|this)\b', subject, body, count=1)


# -- readings and meanings ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ParsedInstruction:
    condition: Condition
    continuous: bool  # "whenever", "every time": the speaker wants every occurrence
    meaning: str  # the meaning followed, in a sentence for the user: "I will tell you when ..."


_SOUND_EVENTS = {
    'beep': 'I hear a beep', 'ding': 'I hear a ding', 'doorbell': 'I hear the doorbell', 'knock': 'I hear a knock',
    'phone': 'I hear a phone ringing', 'kettle': 'I hear a kettle whistling',
    'smoke_alarm': 'I hear a smoke alarm going off (three beeps and a pause, repeating)',
    'co_alarm': 'I hear a carbon-monoxide alarm going off (four beeps and a pause, repeating)'}


def event_words(condition: Condition) -> str:
    """What the condition waits for, as the end of "I will tell you when ..."."""
    kind, value = condition.kind, condition.value
    if kind is ConditionKind.LIGHT_COLOR:
        return f'the traffic light turns {value}'
    if kind is ConditionKind.NUMBER_SHOWN:
        return f'a display shows {value}'
    if kind is ConditionKind.TEXT_SHOWN:
        return f'a sign says {value}'
    if kind is ConditionKind.PERSON_PRESENT:
        return 'someone comes into view'
    if kind is ConditionKind.NOBODY_PRESENT:
        return 'nobody is in view any more'
    if kind is ConditionKind.PEOPLE_COUNT:
        op, n = value[:2], int(value[2:])
        people = 'person is' if n == 1 else 'people are'
        return {'>=': f'at least {n} {people} in view', '<=': f'at most {n} {people} in view',
                '==': f'exactly {n} {people} in view'}[op]
    if kind is ConditionKind.LIGHTING:
        return 'the room goes dark' if value == 'dark' else 'the lights come on'
    if kind is ConditionKind.SOUND:
        return _SOUND_EVENTS.get(value, f'I hear a {value}')
    if kind is ConditionKind.SPEECH:
        return 'someone speaks'
    raise ValueError(f'no words for {condition}')


def meaning(reading: Reading, continuous: bool) -> str:
    text = f"I will tell you {'every time' if continuous else 'when'} {event_words(reading.condition)}"
    return f'{text} ({reading.note}).' if reading.note else f'{text}.'


def _describe(reading: Reading) -> str:
    return event_words(reading.condition)


@dataclass(frozen=True)
class Understanding:
    """An instruction read: either followed (``parsed``) or refused (``refusal``)."""

    parsed: ParsedInstruction | None
    refusal: Refusal | None
    request: Request


def understand(instruction: str) -> Understanding:
    """Read an instruction without raising: what it means, or why it is refused."""
    if chinese.is_chinese(instruction):
        read = chinese.read(instruction)
        request = Request(instruction.strip(), read.continuous, read.lead_in,
                          read.refusal.part if read.negated and read.refusal else '')
        if read.reading is not None:
            return Understanding(ParsedInstruction(read.reading.condition, read.continuous,
                                                   meaning(read.reading, read.continuous)), None, request)
        return Understanding(None, read.refusal, request)
    request = split_request(normalize(instruction))
    if request.negated:
        return Understanding(None, Refusal(request.negated, 'a negation is not followed; I tell you when something '
                                           'happens, not when it does not', ''), request)
    if not request.body:
        return Understanding(None, Refusal('', 'the instruction names nothing to watch for', ''), request)
    result = _read_body(request.body, instruction)
    if isinstance(result, Reading):
        return Understanding(ParsedInstruction(result.condition, request.continuous,
                                               meaning(result, request.continuous)), None, request)
    return Understanding(None, result, request)


def _read_body(body: str, original: str) -> Reading | Refusal:
    result = match_condition(body)
    if isinstance(result, Reading):
        if result.condition.kind is ConditionKind.TEXT_SHOWN:
            result = _with_typed_text(result, original)
        return result
    if isinstance(result, Unfollowed):
        return Refusal(result.part, result.reason, '')
    return diagnose(body, _describe)


def _with_typed_text(reading: Reading, original: str) -> Reading:
    """Sign text as typed where it can be found (number words stay words on a sign: "ONE WAY")."""
    value = reading.condition.value
    m = re.search(r'"([^"]+)"|\'([^\']+)\'', original)
    if m:
        typed = re.sub(r"[^A-Z0-9 &'!?-]", ' ', (m.group(1) or m.group(2)).upper())
        typed = ' '.join(typed.split())
        if typed and words_to_digits(typed.lower()).upper() == value:
            value = typed
    else:
        words = original.upper().split()
        n = len(value.split())
        for i in range(len(words) - n + 1):
            candidate = ' '.join(re.sub(r"[^A-Z0-9&'!?-]", '', w) for w in words[i:i + n])
            if candidate != value and words_to_digits(candidate.lower()).upper() == value:
                value = candidate
                break
    if value == reading.condition.value:
        return reading
    condition = reading.condition
    return Reading(Condition(condition.kind, value, condition.rise, condition.fall),
                   f'any sign or screen with the words {value}, whole and in this order')


def refusal_message(instruction: str, refusal: Refusal) -> str:
    return f'the CPU backend cannot follow {instruction.strip()!r}: {refusal.message()}. It understands: {UNDERSTOOD}'


def parse_instruction(instruction: str) -> ParsedInstruction:
    """Map a watch instruction to a condition or raise WatchRejectedError saying what is not followed."""
    if not instruction or not instruction.strip():
        raise WatchRejectedError(f'the watch instruction is empty; give one of: {UNDERSTOOD}')
    if len(instruction) > MAX_INSTRUCTION_CHARS:
        raise WatchRejectedError(
            f'the watch instruction is {len(instruction)} characters; keep it under {MAX_INSTRUCTION_CHARS}')
    result = understand(instruction)
    if result.parsed is None:
        assert result.refusal is not None
        raise WatchRejectedError(refusal_message(instruction, result.refusal))
    return result.parsed


# -- questions ------------------------------------------------------------------------------------------
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
QUESTION_START = re.compile(
    rf'^(?:{WAKE}\b ?)*(?:what|which|is|are|do|does|can|could|who|how many|tell me what|tell me which|read|'
    r'tell me if|tell me whether|any|have you|did you)\b')


def parse_question(text: str) -> QuestionKind | None:
    t = normalize(text)
    if re.search(r'\b(?:floor|level|storey|display|elevator|lift)\b', t):
        return QuestionKind.FLOOR
    if re.search(r'\b(?:sign|written|writing|text|say|says|read|label|banner|word)\b', t):
        return QuestionKind.SIGN
    if re.search(r'\b(?:light|signal|traffic|color)\b', t):
        return QuestionKind.LIGHT
    if re.search(r'\b(?:anyone|anybody|someone|somebody|people|person|who|nobody|alone)\b', t):
        return QuestionKind.PEOPLE
    if re.search(r'\b(?:hear|heard|sound|sounds|noise)\b', t):
        return QuestionKind.SOUND
    return None
