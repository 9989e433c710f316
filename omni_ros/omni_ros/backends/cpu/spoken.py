"""What the user's recognised words ask for: a watch, a watch to end, a question, or nothing (talk).

People do not start with the lead-in: a wake phrase or filler comes first ("hey robot, okay so, can you
let me know when ..."), the request is a polite question ("could you tell me if the doorbell rings?"), the
condition comes first ("when the timer goes off, tell me"), or speech recognition garbles the first word
("hell me when ..."). All of these are watch requests. Remarks ("the light is green") and reported speech
("she said to tell me when ...") stay talk: a watch needs a request addressed to the robot.
Cancellation ("stop watching the light", "never mind the doorbell", "forget about floor 16") names the
watch to end by what it watches for.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from omni_ros.backends.cpu import chinese
from omni_ros.backends.cpu.conditions import Condition, ConditionKind
from omni_ros.backends.cpu.instructions import (
    POLITE, QUESTION_START, TELL, WAKE, ParsedInstruction, QuestionKind, normalize, parse_question, split_request,
    understand)
from omni_ros.backends.cpu.phrases import Reading, alt, match_condition
from omni_ros.backends.cpu.refusals import Refusal


class UtteranceKind(enum.Enum):
    TALK = 'talk'  # nothing for the backend to do beyond the transcript
    WATCH = 'watch'
    WATCH_REJECTED = 'watch_rejected'
    QUESTION = 'question'
    CANCEL = 'cancel'


@dataclass(frozen=True)
class CancelTarget:
    """Which watches a spoken cancellation ends: all, the latest, or those whose condition matches."""

    words: str  # what the user called it ("the light")
    every: bool = False
    latest: bool = False
    matches: tuple[tuple[ConditionKind, str | None], ...] = ()  # (kind, value or None for any value)

    def selects(self, condition: Condition) -> bool:
        return self.every or any(kind is condition.kind and (value is None or value == condition.value)
                                 for kind, value in self.matches)


@dataclass(frozen=True)
class UtteranceIntent:
    kind: UtteranceKind
    parsed: ParsedInstruction | None = None
    question: QuestionKind | None = None
    instruction: str = ''
    refusal: Refusal | None = None
    cancel: CancelTarget | None = None
    extra: dict[str, str] = field(default_factory=dict)


_WAKE_PREFIX = re.compile(rf'^(?:{WAKE}\b ?)+')
# Someone else's words passed on: not a request to the robot.
_REPORTED = re.compile(
    r'\b(?:he|she|they|someone|somebody|mom|mum|dad|my \w+|the \w+|his \w+|her \w+|[a-z]+) (?:said|says|told '
    r'(?:me|us|you)|'
    r'asked (?:me|us|you)|asks (?:me|us|you)|wants (?:me|you|us)|wanted (?:me|you|us)|mentioned|would like you|'
    r'needs you|needed you|tells me|told me|was saying|keeps saying)\b'
    r'|\b(?:i was told|i was asked|we were told|i heard that|apparently|supposedly)\b'
    r'|\b(?:did|do|have|had|would|will) you (?:tell|let|alert|notify|remind)\b(?!.*\?$)'
    r'|\byou (?:told|said|promised|were going to|forgot to|did not|never)\b'
    r'|\b(?:i told you|i asked you|i said to|remember when|last time)\b')
_LEAD_WORD = re.compile(r'\b(?:tell|let|alert|notify|warn|ping|remind|inform|watch|listen|keep|look out|say something|'
                        r'give me|when|if|once|whenever|stop|never ?mind|forget|cancel)\b')


def _reported(t: str) -> bool:
    """Someone else's request passed on ("she said to tell me when ..."), or talk about a past one."""
    m = _LEAD_WORD.search(t)
    before = t[:m.start()] if m else t
    return bool(_REPORTED.search(before) or re.search(r'\b(?:to|that|if) $', before) and _REPORTED.search(t))


_GARBLED_LEAD = re.compile(
    r'^(?P<junk>(?:[a-z]+ ){1})(?P<lead>(?:me|us) (?:know )?(?:when|if|once|as soon as|whenever)\b.*)$')
# Skipped noise before a request must not hold what makes the rest someone else's words, a negation or a
# question about the past ("you said to", "did you", "do not"), or a habit ("they always tell me").
_JUNK_FORBIDDEN = frozenset('did do does not never no said says told asked ask asks tell tells wants wanted want '
                            'to that if why how who what when was were would will should you always usually often '
                            'sometimes normally generally'.split())
_STATIVE = re.compile(r'^(?:the |a |an |any |my )?\w+(?: \w+){0,2} (?:is|are)\b|^(?:there is|there are|it is|anyone is|'
                      r'someone is|somebody is|anybody is)\b')
_POLITE_QUESTION = re.compile(rf'^(?:{POLITE} )*(?:can|could|would|will) you (?:please )?(?:tell|let) (?:me|us)'
                              rf'(?: know)? (?P<conn>if|whether)\b (?P<body>.+)$')
_STOP_DOING = alt('watching', 'looking', 'listening', 'waiting', 'keeping an eye', 'keeping watch', 'checking',
                 'monitoring', 'paying attention', 'telling me', 'telling us', 'alerting me', 'notifying me',
                 'reminding me', 'watching out', 'looking out', 'listening out', 'keeping an eye out',
                 'keeping an ear out')
_ABOUT = alt('for', 'on', 'at', 'about', 'to', 'when', 'if', 'whether', 'out for')
_CANCEL = re.compile(
    r'^(?:(?:please|you can|can you|could you|would you|go ahead and|just|okay|so|now|actually|i think you can|'
    r'i think we can|we can|you may) )*(?:'
    rf'(?:stop|quit|cease|end|finish|no more|give up|you can stop|you can quit) {_STOP_DOING}(?: {_ABOUT})?'
    r'|' + alt('never mind', 'nevermind', 'forget', 'forget about', 'cancel', 'drop', 'remove', 'delete', 'scrap',
               'skip', 'clear', 'disregard', 'ignore', 'call off', 'turn off', 'switch off', 'stop', 'kill',
               'never mind about', 'cancel the watch for', 'cancel the watch on', 'cancel the alert for',
               'remove the watch for', 'delete the watch for', 'stop the watch for', 'stop the alert for',
               'forget the watch for', 'drop the watch for', 'cancel my watch for', 'cancel the reminder for',
               'cancel the reminder about', 'forget what i said about', 'forget what i asked about') +
    rf'|(?:i do not|i no longer|we do not|we no longer) (?:need|want|care) (?:to know|to hear|you to (?:watch|tell me|'
    rf'listen|look|wait|keep watching)|a heads up|an alert|about|the alert)(?: {_ABOUT})?'
    rf'|(?:there is )?no need to (?:watch|listen|wait|look out|tell me|keep watching|keep an eye|alert me)(?: '
    rf'{_ABOUT})?'
    rf'|(?:you do not|you no longer) (?:need|have) to (?:watch|listen|wait|look out|tell me|keep watching|keep an eye|'
    rf'alert me)(?: {_ABOUT})?'
    rf'|(?:do not|never) (?:tell me|alert me|let me know|watch|listen|bother)(?: {_ABOUT})? (?=.* any ?more$)'
    r')\b ?(?P<target>.*)$')
_LATEST = re.compile(r'^(?:that|it|this|that one|this one|the last one|the last watch|the last 1|that 1|the latest one|'
                     r'what i just said|what i just asked|the last thing|that last one|my last request|that request|'
                     r'that watch|this watch|the watch|that alert|the alert|that reminder|the reminder|that '
                     r'last watch)$')
_ALL = re.compile(r'^(?:everything|all|all of them|all of it|all watches|all the watches|all my watches|every watch|'
                  r'all alerts|all the alerts|all of that|all reminders|all the reminders|anything|all your watches|'
                  r'all of those|everything you are watching|everything you were watching|all that|'
                  r'whatever you are watching|everything else)$')
_TARGET_TRAILER = re.compile(r'(?: (?:any ?more|please|now|then|for me|for now|after all|thanks|thank you|okay|'
                             r'watch|alert|reminder|one|again|either|too|at all|today|altogether|completely|'
                             r'it is fine|that is fine|i got it|i have got it|i heard it))+$')

# A watched thing named by a noun: (pattern, (kind, value)...) with {n}/{c}/{t} filled in from the words.
_NOUN_TARGETS: tuple[tuple[str, tuple[tuple[ConditionKind, str | None], ...]], ...] = (
    (r'(?:the )?(?:traffic |pedestrian |crossing )?(?:light|lights|signal)s?', ((ConditionKind.LIGHT_COLOR, None),)),
    (r'(?:the )?(?P<c>red|green|yellow|amber|orange)(?: light)?', ((ConditionKind.LIGHT_COLOR, '{c}'),)),
    (r'(?:the )?(?:room|dark|darkness|lights going out|lights coming on|lighting|room lights)',
     ((ConditionKind.LIGHTING, None),)),
    (r'(?:the )?(?:floor|level|elevator|lift|display|floor display|numbers?|elevator display|floors)',
     ((ConditionKind.NUMBER_SHOWN, None),)),
    (r'(?:the )?(?:floor|level|number) (?P<n>\d+)|(?:the )?(?P<n2>\d+) (?:floor|level)|(?P<n3>\d+)',
     ((ConditionKind.NUMBER_SHOWN, '{n}'),)),
    (r'(?:the )?(?:sign|signs|text|word|words|screen)', ((ConditionKind.TEXT_SHOWN, None),)),
    (r'(?:the )?(?P<t>[a-z0-9]+) sign|(?:the )?(?:sign|word) (?P<t2>[a-z0-9]+)', ((ConditionKind.TEXT_SHOWN, '{t}'),)),
    (r'(?:the )?(?:people|person|visitors?|guests?|someone|somebody|anyone|anybody|everyone|everybody|people count|'
     r'crowd|room being empty|empty room|nobody)',
     ((ConditionKind.PERSON_PRESENT, None), (ConditionKind.NOBODY_PRESENT, None), (ConditionKind.PEOPLE_COUNT, None))),
    (r'(?:the )?(?:doorbell|door bell|bell)', ((ConditionKind.SOUND, 'doorbell'),)),
    (r'(?:the )?(?:knock|knocks|knocking)', ((ConditionKind.SOUND, 'knock'),)),
    (r'(?:the )?(?:front |back )?door', ((ConditionKind.SOUND, 'doorbell'), (ConditionKind.SOUND, 'knock'))),
    (r'(?:the )?(?:beep|beeps|beeping|oven|timer|washer|washing machine|dryer|dishwasher|rice cooker|alarm clock)',
     ((ConditionKind.SOUND, 'beep'),)),
    (r'(?:the )?microwave', ((ConditionKind.SOUND, 'beep'), (ConditionKind.SOUND, 'ding'))),
    (r'(?:the )?(?:ding|dings|chime|chimes|air fryer)', ((ConditionKind.SOUND, 'ding'),)),
    (r'(?:the )?(?:phone|telephone|phone call|calls|landline|mobile)', ((ConditionKind.SOUND, 'phone'),)),
    (r'(?:the )?(?:kettle|tea kettle|whistle)', ((ConditionKind.SOUND, 'kettle'),)),
    (r'(?:the )?(?:smoke alarm|fire alarm|smoke detector)', ((ConditionKind.SOUND, 'smoke_alarm'),)),
    (r'(?:the )?(?:co alarm|carbon monoxide alarm|co detector|carbon monoxide detector|carbon monoxide)',
     ((ConditionKind.SOUND, 'co_alarm'),)),
    (r'(?:the )?alarms?', ((ConditionKind.SOUND, 'smoke_alarm'), (ConditionKind.SOUND, 'co_alarm'))),
    (r'(?:the )?(?:talking|voices?|speech|people talking|someone talking|conversation)',
     ((ConditionKind.SPEECH, None),)),
)


def _noun_target(words: str) -> tuple[tuple[ConditionKind, str | None], ...] | None:
    w = re.sub(r'^(?:the |my |that |this |your |our |a |any )', '', words)
    w = re.sub(r' (?:watch|alert|reminder|thing|one|business|stuff)$', '', w)
    w = re.sub(r'^(?:(?:for|about|on|at|when|if|watching|looking at|listening to|listening for|watching for) )+', '', w)
    for pattern, matches in _NOUN_TARGETS:
        m = re.fullmatch(pattern, w) or re.fullmatch(pattern, 'the ' + w)
        if m is None:
            continue
        groups = {k: v for k, v in m.groupdict().items() if v}
        filled = []
        for kind, value in matches:
            if value is not None and value.startswith('{'):
                key = value.strip('{}')
                got = groups.get(key) or groups.get(key + '2') or groups.get(key + '3')
                if kind is ConditionKind.LIGHT_COLOR and got:
                    got = {'amber': 'yellow', 'orange': 'yellow'}.get(got, got)
                if kind is ConditionKind.NUMBER_SHOWN and got:
                    got = str(int(got))
                if kind is ConditionKind.TEXT_SHOWN and got:
                    got = got.upper()
                filled.append((kind, got))
            else:
                filled.append((kind, value))
        return tuple(filled)
    return None


def cancel_target(words: str) -> CancelTarget | None:
    """The watches a cancellation's words name, or None when they name nothing watched for."""
    w = _TARGET_TRAILER.sub('', ' ' + words).strip()
    if not w or _LATEST.match(w):
        return CancelTarget(w or 'that', latest=True)
    if _ALL.match(w):
        return CancelTarget(w, every=True)
    matches = _noun_target(w)
    if matches is not None:
        return CancelTarget(w, matches=matches)
    body = re.sub(r'^(?:for|about|on|when|if|whether|watching for|to see if|to hear if) ', '', w)
    reading = match_condition(body)
    if isinstance(reading, Reading):
        c = reading.condition
        return CancelTarget(w, matches=((c.kind, c.value or None),))
    return None


def classify_utterance(text: str) -> UtteranceIntent:
    """What the user's words ask for. A spoken watch needs a request addressed to the robot, so remarks
    such as "the light is green" stay plain talk."""
    raw = text.strip()
    t = normalize(raw)
    if not t:
        return UtteranceIntent(UtteranceKind.TALK)
    t = _WAKE_PREFIX.sub('', t).strip()
    if _reported(t):
        return UtteranceIntent(UtteranceKind.TALK)
    if chinese.is_chinese(raw):
        result = understand(raw)
        if result.request.lead_in and result.parsed is not None:
            return UtteranceIntent(UtteranceKind.WATCH, parsed=result.parsed, instruction=raw)
        if result.request.lead_in:
            return UtteranceIntent(UtteranceKind.WATCH_REJECTED, instruction=raw, refusal=result.refusal)
        return UtteranceIntent(UtteranceKind.TALK)
    m = _CANCEL.match(t)
    if m:
        target = cancel_target(m.group('target'))
        if target is not None:
            return UtteranceIntent(UtteranceKind.CANCEL, instruction=raw, cancel=target)
        if m.group('target'):
            return UtteranceIntent(UtteranceKind.WATCH_REJECTED, instruction=raw, refusal=Refusal(
                m.group('target'), 'I am not watching for anything called that', ''))
    m = _POLITE_QUESTION.match(t)
    if m and _STATIVE.match(m.group('body')) and not re.search(r'\b(?:ever|again|any time|from now on)\b', t):
        # "could you tell me if the light is green?" asks about now, not about later
        kind = parse_question(m.group('body'))
        if kind is not None:
            return UtteranceIntent(UtteranceKind.QUESTION, question=kind)
    candidate = _request_start(t)
    request = split_request(candidate)
    if request.negated:
        result = understand(candidate)
        return UtteranceIntent(UtteranceKind.WATCH_REJECTED, instruction=raw, refusal=result.refusal)
    if request.lead_in and not _looks_like_question_only(candidate):
        result = understand(candidate)
        if result.parsed is not None:
            return UtteranceIntent(UtteranceKind.WATCH, parsed=result.parsed, instruction=raw)
        return UtteranceIntent(UtteranceKind.WATCH_REJECTED, instruction=raw, refusal=result.refusal)
    if QUESTION_START.match(t) or raw.endswith('?'):
        kind = parse_question(raw)
        if kind is not None:
            return UtteranceIntent(UtteranceKind.QUESTION, question=kind)
    return UtteranceIntent(UtteranceKind.TALK)


_NOISE_WORDS = 4  # misrecognised words before a request that are skipped ("hey rodeot okay so can you ...")


def _request_start(t: str) -> str:
    """The words from where a request starts: a misrecognised wake phrase or first word is skipped when the
    skipped words hold nothing that makes the rest someone else's words or a question about the past."""
    words = t.split()
    for i in range(min(_NOISE_WORDS, len(words) - 1) + 1):
        if set(words[:i]) & _JUNK_FORBIDDEN:
            break
        rest = ' '.join(words[i:])
        request = split_request(rest)
        if request.lead_in or request.negated:
            return rest
        m = _GARBLED_LEAD.match(rest)
        if m and not set(m.group('junk').split()) & _JUNK_FORBIDDEN and len(m.group('junk').split()) == 1:
            return 'tell ' + m.group('lead')  # "hell me when ...", "del me know if ..."
    return t


_QUESTION_ONLY = re.compile(rf'^(?:{POLITE} )*(?:{TELL}) (?:what|which|who|how|where|whether)\b')


def _looks_like_question_only(text: str) -> bool:
    return bool(_QUESTION_ONLY.match(text))
