"""Why a condition phrase is not followed: which part, why, and what would be followed instead.

Called only for a condition that no phrase in phrases.py matches whole. The checks run from the most
telling to the least (a negation is named before the leftover words are), and the last one says which
words are left over around a part that is followed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from omni_ros.backends.cpu.phrases import Reading, match_condition, search_condition


@dataclass(frozen=True)
class Refusal:
    part: str  # the words not followed, as normalized
    reason: str
    followed: str = ''  # what would be followed instead, if anything, as an event ("the light turns green")

    def message(self) -> str:
        text = f"'{self.part}' is not followed: {self.reason}" if self.part else self.reason
        if self.followed:
            text += f'; what I can follow is: {self.followed}'
        return text

    def spoken(self) -> str:
        return f'Sorry, I cannot follow that: {self.reason}.'


_PERSON = (r'(?:someone|somebody|anyone|anybody|a person|the person|people|a visitor|the visitor|a guest|'
           r'the guest|nobody|everyone|everybody|he|she|they|a human|any person|the people|one of them|a customer)')
_COUNT_HINT = 'say a number: more than 3 people, at least 2 people, exactly 2 people'
_PEOPLE_FOLLOWED = 'someone comes into view, nobody is in view any more, or how many people are in view'
_SOUNDS_FOLLOWED = ('a beep, a ding, the doorbell, a knock, a phone ringing, a kettle whistling, a smoke alarm, a '
                    'carbon-monoxide alarm, or someone speaking')
_LIGHT_FOLLOWED = 'the traffic light turns red, yellow or green (say the colour it turns to)'
_NUMBER_FOLLOWED = "a display shows a number ('the display shows 16', 'floor 16')"


def _find(pattern: str, body: str) -> str | None:
    m = re.search(pattern, body)
    return m.group(0) if m else None


def _tail(body: str, start_pattern: str, words: int = 6) -> str | None:
    m = re.search(start_pattern, body)
    if m is None:
        return None
    return ' '.join(body[m.start():].split()[:words])


def _followed_parts(parts: list[str], describe: Callable[[Reading], str]) -> str:
    found = []
    for part in parts:
        reading = match_condition(part.strip())
        if isinstance(reading, Reading):
            found.append(describe(reading))
    return ' and, separately, '.join(found)


# -- the checks, in order --------------------------------------------------------------------------------
def _passed_on(body: str, describe: Callable[[Reading], str]) -> Refusal | None:
    part = _find(r'^(?:\w+ ){0,3}(?:said|says|told (?:me|us|you)|asked (?:me|us|you)|wants (?:me|you|us)|wanted '
                 r'(?:me|you|us)) (?:to|that)\b', body)
    if part:
        return Refusal(part, "a request passed on from someone else is not followed; ask for the watch yourself "
                       "('tell me when ...')", '')
    return None


def _time_limit(body: str, describe: Callable[[Reading], str]) -> Refusal | None:
    part = _find(r'\b(?:in|within|for|during|over) the next (?:\d+ |few |couple of )?(?:minutes?|hours?|seconds?|mins?|'
                 r'days?|while)\b|\b(?:today|tonight|this (?:morning|afternoon|evening|week)|tomorrow|later today)\b|'
                 r'\b(?:before|after|by|until|till|at) (?:\d+ ?(?:am|pm|o\'clock|oclock)?|noon|midnight|lunch|dinner|'
                 r'breakfast)\b|\b(?:in|within) (?:\d+|a few|an|a) (?:minutes?|hours?|seconds?)\b', body)
    if part:
        return Refusal(part, 'a time of day or a time limit is not part of what I watch for; set the SetWatch '
                       "goal's timeout, or ask again later", _rest_followed(body, part, describe))
    part = _find(r'\b(?:stays?|remains?|keeps? (?:being|on)|'
                 r'for (?:more than |over |at least |longer than )?(?:\d+|a few|a|an|several) '
                 r'(?:minutes?|hours?|seconds?|mins?)|for (?:a while|long|too long|a long time)|'
                 r'longer than|too long)\b', body)
    if part:
        return Refusal(part, 'how long something lasts is not followed; I tell you the moment it happens',
                       _rest_followed(body, part, describe))
    return None


def _change_away(body: str, describe: Callable[[Reading], str]) -> Refusal | None:
    part = (_find(r'\b(?:no longer|not (?:\w+ ){0,2}any ?more|any ?more)\b', body)
            or _find(r'\b(?:stops?|stopped|stopping|ceases?|quits?|finishes|is done) (?:being|beeping|ringing|talking|'
                     r'speaking|knocking|showing|flashing|whistling|blinking|moving|making noise|barking|crying|'
                     r'going off|sounding|chiming|playing)\b(?: \w+)?', body)
            or _find(r'\b(?:changes?|turns?|goes|switch(?:es)?|moves?) (?:away )?from (?:the )?(?:red|green|'
                     r'yellow|amber|orange)\b(?!.* to )', body)
            or _find(r'\b(?:red|green|yellow|amber|orange) (?:light )?(?:goes|turns|switches|is|has gone|went) '
                     r'(?:out|off|dark)\b', body)
            or _find(r'\b(?:leaves?|leaving|departs?|moves? off|goes? past) (?:the )?(?:floor |level )?\d+\b', body)
            or _find(r'\b(?:sign|word|text|number|display|screen|message|\d+) (?:\w+ )?(?:disappears?|vanishes|'
                     r'goes away|is gone|is removed|is taken down|comes down|is covered|goes blank|turns off|'
                     r'switches off|'
                     r'goes off)\b', body)
            or _find(r'\b(?:is over|has ended|quiets? down|goes quiet|gets quiet|falls silent|is quiet|goes silent|'
                     r'is silent|silence|stops|stopped)\b', body))
    if part:
        return Refusal(part, 'something ending or stopping being true is not followed; I tell you when something '
                       'becomes true', _away_followed(body, describe))
    return None


def _away_followed(body: str, describe: Callable[[Reading], str]) -> str:
    if re.search(r'\b(?:light|signal|red|green|yellow|amber)\b', body):
        return _LIGHT_FOLLOWED
    if re.search(r'\b(?:floor|level|display|\d+)\b', body):
        return 'the display shows the next number (say which one)'
    if re.search(rf'\b{_PERSON}\b', body):
        return 'nobody is in view any more, or someone comes into view'
    if re.search(r'\b(?:talk\w*|speak\w*|voices?|quiet|silen\w*)\b', body):
        return 'someone speaks'
    return ''


def _negation(body: str, describe: Callable[[Reading], str]) -> Refusal | None:
    part = _tail(body, r'\b(?:not|never|neither|nor|without|except|cannot|can not|no|none)\b', 5)
    if part:
        return Refusal(part, 'a negation is not followed; I tell you when something happens, not when it does not',
                       '')
    part = _tail(body, r'\bunless\b', 5)
    if part:
        return Refusal(part, "an exception ('unless') is not followed; set the watch without it",
                       _followed_parts(re.split(r'\bunless\b', body)[:1], describe))
    return None


_JOIN = (r'\b(?:and then|and also|as well as|along with|together with|followed by|at the same time as|at the same time|'
         r'as long as|provided that|only if|in which case|and|or|but|while|whilst|either|both|then|after|before|'
         r'plus|nor|also)\b')


def _joined(body: str, describe: Callable[[Reading], str]) -> Refusal | None:
    m = re.search(_JOIN, body)
    if m is None:
        return None
    word = m.group(0)
    parts = [p for p in re.split(_JOIN, body) if p and p.strip()]
    followed = _followed_parts(parts, describe)
    if word in ('or', 'either', 'nor'):
        reason = (f"one watch follows one condition, not either of two ('{word}'); set one watch for each, and "
                  'each alerts on its own')
    elif word in ('after', 'before', 'then', 'and then', 'followed by', 'while', 'whilst', 'at the same time',
                  'at the same time as', 'as long as'):
        reason = f"an order or overlap of two events ('{word}') is not followed; set one watch for each"
    else:
        reason = (f"one watch follows one condition, not two together ('{word}'); set one watch for each, and "
                  'each alerts on its own')
    return Refusal(' '.join(body[m.start():].split()[:7]), reason, followed)


def _count(body: str, describe: Callable[[Reading], str]) -> Refusal | None:
    part = _find(r'\b(?:several|many|a few|a couple(?: of)?|couple of|lots of|a lot of|a group(?: of)?|a bunch of|'
                 r'a crowd(?: of)?|multiple|some|too many|most|half|a handful of|a number of|loads of|plenty of|'
                 r'dozens of|hundreds of|more|fewer|less)\b(?: \w+)? (?:people|persons|person|guests|visitors|humans|'
                 r'men|women|kids|children|of them|of us|customers)\b|\b(?:crowd|crowded|busy|packed|full of people|'
                 r'gets full|a queue|a line)\b', body)
    if part:
        return Refusal(part, f'a vague number of people is not followed; {_COUNT_HINT}', '')
    part = _find(r'\b(?:a 2|the 2|another|1 more|one more|someone else|somebody else|anyone else|anybody else|'
                 r'a new|an extra|the 3|the 4|the 5|a 3|a 4) ?(?:person|visitor|guest|people|man|woman)?\b', body)
    if part:
        return Refusal(part, f'a change in who or how many are in view is not followed; {_COUNT_HINT}', '')
    part = _find(r'\b(?:the number of people|people count|head count|headcount) (?:\w+ ){0,3}', body)
    if part:
        return Refusal(part.strip(), f'that change in the number of people is not followed; {_COUNT_HINT}', '')
    part = _find(r'\b(?:more than|over|above|at least|fewer than|less than|under|below|at most|exactly|only)? ?\d+ '
                 r'(?:\w+ )?(?:men|women|kids|children|adults|boys|girls|strangers|cars|dogs|cats)\b', body)
    if part:
        return Refusal(part.strip(), 'I count people, not who they are or other things', '')
    return None


_IDENTITY = (r'\b(?:a |an |the |some )?(?:strangers?|intruders?|burglars?|thie(?:f|ves)|robbers?|man|men|woman|women|'
             r'boys?|girls?|child|children|kids?|bab(?:y|ies)|toddlers?|adults?|teenagers?|teens?|elderly (?:\w+)|'
             r'old (?:man|woman|lady|person)|mailman|postman|postwoman|mail carrier|mail man|courier|delivery (?:man|'
             r'person|driver|guy|woman)|plumber|electrician|police(?: officer)?|cops?|officers?|nurses?|doctors?|'
             r'guards?|security guard|cleaners?|nanny|neighbou?rs?|landlord|gardener|technician|repairman|'
             r'engineer|waiter|waitress|staff|employees?|workers?|students?|teachers?|patients?|residents?|'
             r'tenants?|family|family members?|friends?|people i know|a familiar face)\b'
             r'|\bmy (?:\w+ )?(?:wife|husband|son|daughter|mom|mum|mother|dad|father|kids?|child|children|boss|'
             r'friends?|partner|brother|sister|grandma|grandpa|grandmother|grandfather|roommate|flatmate|colleague|coworker|'
             r'family|uncle|aunt|cousin|boyfriend|girlfriend|parents|guests?|visitors?|nephew|niece|baby|fianc\w*)\b'
             r'|\b(?:someone|somebody|anyone|anybody|a person|people|a man|a woman|a guy) (?:new|else|i know|'
             r'i do not know|i don\'t know|unknown|familiar|suspicious|tall|short|wearing \w+(?: \w+)?|in (?:a |an )?'
             r'(?:red|black|blue|white|green|yellow|uniform|mask|hat|hood|hoodie|coat|jacket|suit)|with (?:a |an )?\w+|'
             r'carrying (?:a |an )?\w+|holding (?:a |an )?\w+|from \w+|who \w+(?: \w+)?|that \w+(?: \w+)?|i have not '
             r'seen|we do not know|unfamiliar|strange|weird)\b'
             r'|\b(?:a |an |the )?(?:tall|short|young|old|suspicious|masked|strange|unknown|new|familiar|unfamiliar|'
             r'unexpected|uninvited|specific|particular|certain) (?:person|man|woman|guy|visitor|guest|people|face)\b'
             r'|\b(?:his|her|their|a known|my|your|the same) face\b|\bfaces? (?:i|you|we) (?:know|recognise|'
             r'recognize)\b|\brecogni[sz]e\b')
_CREATURE = (r'\b(?:a |an |the |my |our |any )?(?:dogs?|cats?|pets?|pupp(?:y|ies)|kittens?|birds?|animals?|mouse|'
             r'mice|rats?|squirrels?|foxes|fox|deer|insects?|spiders?|flies|fly|bees?|wasps?|cars?|bus(?:es)?|trucks?|'
             r'lorr(?:y|ies)|bikes?|bicycles?|taxis?|cabs?|uber|vans?|trains?|trams?|packages?|parcels?|boxe?s?|'
             r'deliver(?:y|ies)|mail|post|letters?|robots?|drones?|vehicles?|motorbikes?|motorcycles?|scooters?|'
             r'ambulances?|fire trucks?|fire engines?|planes?|boats?|ships?|toys?|balls?|shadows?|ghosts?|'
             r'the sun|sunlight|moon|rain|snow|smoke|fire|flames?|water|leaks?|puddles?|spills?|movement|motion)\b')


def _people(body: str, describe: Callable[[Reading], str]) -> Refusal | None:
    part = _find(_IDENTITY, body)
    if part:
        return Refusal(part.strip(), 'who someone is is not followed; I see that someone is there, not who it is',
                       'someone comes into view')
    part = _find(r'\b(?:someone|somebody|a person|the person|he|she|one person|one of them|a visitor|a guest|the '
                 r'visitor|the guest|they) (?:leaves|left|goes|exits|walks out|has left|is gone|goes away|walks away|'
                 r'gets up and leaves|goes out)\b', body)
    if part:
        return Refusal(part, 'one person leaving is not followed, since I cannot tell people apart',
                       'nobody is in view any more')
    m = re.search(rf'\b{_PERSON} (?P<act>(?:is |are |starts |begins |gets |has |have |keeps |tries to |starts to |'
                  rf'begins to )?(?!comes?\b|enters?\b|arrives?\b|appears?\b|leaves?\b|talks?\b|'
                  rf'speaks?\b)\w+(?: \w+)?)',
                  body)
    if m:
        return Refusal(m.group(0), f"what a person does ('{m.group('act')}') is not followed; I see whether people are "
                       'in view, not what they do', _PEOPLE_FOLLOWED)
    m = re.search(r'\b(?P<where>(?:in|into|to|at|on|near|by|from|inside|outside|through|out of) (?:the |a |my |our )?'
                  r'(?!door\b|room\b|view\b|house\b|doorway\b)\w+(?: \w+)?)$', body)
    if m and re.search(rf'\b{_PERSON}\b', body):
        return Refusal(m.group('where'), 'where in the picture someone is is not followed; I see whether someone '
                       'is in view', 'someone comes into view')
    m = re.search(r'^(?P<who>[a-z]+(?: [a-z]+)?) (?:comes?|gets?|arrives?|enters?|leaves?|shows? up|walks? in|is here|'
                  r'is home|returns?|is back|comes? back|comes? home|gets? home|wakes? up)\b', body)
    if m and m.group('who') not in ('it', 'we', 'i', 'you', 'the elevator', 'the lift', 'the light'):
        return Refusal(m.group('who'), 'who someone is is not followed; I see that someone is there, not who it is',
                       'someone comes into view')
    return None


def _creature(body: str, describe: Callable[[Reading], str]) -> Refusal | None:
    part = _find(_CREATURE, body)
    if part:
        return Refusal(part.strip(), 'only people are detected, and only by how many are in view',
                       _PEOPLE_FOLLOWED)
    return None


def _words_said(body: str, describe: Callable[[Reading], str]) -> Refusal | None:
    part = (_find(r'\b(?:my|your|his|her|their|the robot\'s|a|the|someone\'s) name\b', body)
            or _find(r'\b(?:says?|said|saying|calls?|calling|called|shouts?|shouting|yells?|yelling|mentions?|'
                     r'mentioning|asks?|asking|whispers?|speaks?|talks?|speaking|talking) (?!something\b|anything\b)'
                     r'(?:the word |out |for |about |to |in |on |with )?\w+(?: \w+)?', body)
            or _find(r'\b(?:the word|a word|the words|hello|goodbye|help|the phrase|a password|a code word|'
                     r'wake word)\b', body))
    if part:
        reason = 'what is said or whom it is said to is not followed; I hear that someone speaks, not the words'
        if re.search(r'\b(?:shouts?|shouting|yells?|yelling|whispers?)\b', part):
            reason = 'how someone speaks (shouting, whispering) is not told apart; I hear that someone speaks'
        if re.search(r'\b(?:english|chinese|spanish|french|german|language|japanese|korean|italian|russian)\b', body):
            reason = 'which language someone speaks is not followed; I hear that someone speaks'
        return Refusal(part, reason, 'someone speaks')
    return None


_SOUND_WORDS = (r'\b(?:bark\w*|dogs?|meow\w*|baby|babies|cr(?:y|ies|ying)|scream\w*|shriek\w*|glass|break\w*|'
                r'shatter\w*|smash\w*|crash\w*|bang\w*|boom\w*|sirens?|horns?|honk\w*|music|songs?|singing|tv|'
                r'television|radio|clap\w*|applause|whistl\w*|footsteps|steps|taps?|dripp?\w*|running water|'
                r'flush\w*|cough\w*|sneez\w*|snor\w*|laugh\w*|thunder|rain|wind|engines?|motors?|buzz\w*|'
                r'vibrat\w*|clicks?|clicking|gunshots?|shots?|explosions?|noises?|sounds?|loud|hum\w*|squeak\w*|'
                r'creak\w*|rattl\w*|church bells|bells|chirp\w*|tones?|tunes?|melod\w*|jingl\w*|notifications?|'
                r'pings?|messages?|texts?|emails?|alarms?|rings?|ringing|buzzers?|intercom|beeper|pager|bleeps? '
                r'pattern|ticking|tick\w*|toot\w*|chimes? \d+|gong|drum\w*|guitar|piano|voice mail|voicemail|'
                r'whirr\w*|grind\w*|drill\w*|hammer\w*|saw\w*|mower|vacuum\w*|hoover\w*|hiss\w*|pop\w*|sizzl\w*|'
                r'gurgl\w*|slam\w*|thud\w*|thump\w*|crackl\w*)\b')


def _sound(body: str, describe: Callable[[Reading], str]) -> Refusal | None:
    part = _find(r'\b(?:car|burglar|security|house|home|intruder|building|motion|door|window|panic|medical|'
                 r'personal|baby|flood|water|leak|freezer|fridge) alarms?\b|\bsirens?\b', body)
    if part:
        return Refusal(part, 'a siren or security alarm is not followed; I hear the smoke alarm and the '
                       "carbon-monoxide alarm patterns, and beeps", '')
    part = _find(r'\b(?:smoke|fire|co|carbon monoxide) (?:alarm|detector)s? (?:chirps?|chirping|battery|low battery|'
                 r'light|flashes|blinks|is flashing|is blinking|needs|is low|is dead)\b', body)
    if part:
        return Refusal(part, "a smoke or CO alarm's chirp or light is not followed; I hear its alarm pattern",
                       'I hear the smoke alarm (or the carbon-monoxide alarm) going off')
    part = _find(r'\b(?:an? |the |any )?alarm(?: clock)?\b', body)
    if part and 'clock' not in part:
        return Refusal(part, "which alarm is not clear: I hear the smoke alarm's pattern and the carbon-monoxide "
                       "alarm's pattern; for an alarm clock or a timer, say that it beeps", '')
    part = _find(r'\b(?:smoke|fire|flames?|burning|gas leak|gas|carbon monoxide|co2)\b', body)
    if part:
        return Refusal(part, 'smoke, fire and gas are not seen or smelled; I hear a smoke alarm or a carbon-monoxide '
                       'alarm going off', '')
    part = _find(r'\b(?:\d+|2|3) (?:times|beeps|dings|knocks|rings)\b|\b(?:long|short|loud|quiet|soft|high|low|'
                 r'double|triple|continuous|repeated|repeating|3rd|2nd|final|last|first|1) (?:beeps?|dings?|knocks?|'
                 r'rings?|tones?|chimes?)\b', body)
    if part:
        return Refusal(part, 'how many times or how a sound sounds is not followed; I tell you when I hear it',
                       _rest_followed(body, part, describe))
    part = _find(_SOUND_WORDS, body)
    if part:
        return Refusal(part, f'that sound is not followed; I hear {_SOUNDS_FOLLOWED}', '')
    return None


def _light(body: str, describe: Callable[[Reading], str]) -> Refusal | None:
    light = r'\b(?:lights?|leds?|lamps?|signal|bulbs?|indicator)\b'
    part = _find(r'\b(?:blue|white|purple|pink|violet|black|magenta|cyan|teal|brown|grey|gray)\b', body)
    if part and re.search(light + r'|\b(?:turns|goes|changes|is)\b', body):
        return Refusal(part, 'only red, yellow and green traffic lights are told apart', _LIGHT_FOLLOWED)
    part = _find(r'\b(?:blink\w*|flash\w*|flicker\w*|strob\w*|pulsing|pulses)\b', body)
    if part:
        return Refusal(part, 'a blinking or flickering light is not followed; I tell steady red, yellow and green '
                       'traffic lights, and the room going dark or lit', _LIGHT_FOLLOWED)
    part = _find(r'\b(?:arrow|arrows|green man|walking man|red man|walk sign|walk signal|don\'t walk|do not walk|'
                 r'countdown|pedestrian figure|little man)\b', body)
    if part:
        return Refusal(part, "the pedestrian figure or an arrow is not followed; I watch the light's colour",
                       'the pedestrian light turns green')
    part = _find(r'\b(?:safe|cross|crossing the street|cross the street|cross the road|go|walk|drive|move|'
                 r'clear)\b', body)
    if part and re.search(r'\b(?:safe|can|ok|okay|time to|allowed)\b', body):
        return Refusal(part, 'whether it is safe to cross is not followed: I see the light, not the traffic',
                       'the pedestrian light turns green')
    part = _find(r'\b(?:on|of|from|in|at) (?:the |a |my |our )?(?!crossing\b|corner\b|intersection\b|room\b)'
                 r'(?:\w+ ){0,2}(?:printer|router|modem|tv|television|computer|laptop|charger|phone|camera|oven|'
                 r'microwave|washer|washing machine|dryer|dishwasher|fridge|car|dashboard|smoke detector|alarm|'
                 r'machine|device|box|panel|wall|ceiling|porch|kitchen|bedroom|bathroom|hall|hallway|garage|'
                 r'garden|office|desk|table|door|front door|console|speaker|remote|keyboard|monitor|screen|'
                 r'battery|toy|bike|elevator button|button|switch|sensor|meter|stove|kettle|coffee machine|'
                 r'\w+)\b', body)
    if part and re.search(light, body):
        return Refusal(part, "I watch traffic lights and the room's lighting, not a light on something else",
                       _rest_followed(body, part, describe))
    part = _find(r'\b(?:printer|router|modem|charging|power|status|battery|check engine|night|porch|kitchen|bedroom|'
                 r'bathroom|desk|reading|oven|fridge|car|head|tail|brake|indicator|warning|dashboard|christmas|'
                 r'fairy|led|neon|standby|recording|notification|elevator|hall|hallway|garage|garden|street|'
                 r'security|flash|torch|flashlight) (?:lights?|leds?|lamps?|bulbs?|indicator)\b|\b(?:the |a )?(?:led|'
                 r'lamp|bulb)s?\b', body)
    if part:
        return Refusal(part, "I watch traffic lights and the room's lighting, not the light of a device or lamp",
                       _rest_followed(body, part, describe))
    part = _find(r'\b(?:dims?|dimming|dimmer|brighter|darker|fades?|fading|gets lighter|flickers?|sunset|sunrise|'
                 r'dusk|dawn|night falls|nightfall|sun (?:sets|rises|goes down|comes up)|outside)\b', body)
    if part and re.search(r'\b(?:dark|light|lights|bright|dim\w*|sun\w*|dusk|dawn|night\w*)\b', body):
        return Refusal(part, "a gradual change or the daylight outside is not followed; I tell you when the camera's "
                       'view goes dark or the lights come on', 'the room goes dark, or the lights come on')
    if re.search(r'\b(?:light|lights|signal|traffic light)\b', body) and re.search(
            r'\b(?:changes?|turns?|switch(?:es)?|goes|is|becomes)\b', body):
        return Refusal(body, 'which colour is not said; I tell you when a traffic light turns a colour',
                       _LIGHT_FOLLOWED)
    return None


def _number(body: str, describe: Callable[[Reading], str]) -> Refusal | None:
    part = _find(r'\b(?:above|below|over|under|higher than|lower than|past|beyond|greater than|less than|more than|'
                 r'at least|at most|between|any|every|an? (?:even|odd)|even|odd|multiple of|up to) (?:the )?(?:floor |'
                 r'level |number )?\d+\b|\b(?:floor|level|number) (?:above|below|over|under|higher than|lower than|'
                 r'past|beyond|greater than|less than|more than) \d+', body)
    if part:
        return Refusal(part, "a range of numbers is not followed; say one number ('floor 16')", _NUMBER_FOLLOWED)
    part = _find(r'\b(?:the |our |my |your |a |any )?(?:lobby|ground floor|ground level|basement|top floor|'
                 r'roof|rooftop|'
                 r'penthouse|mezzanine|garage|parking(?: level| garage)?|floor [a-z]\d*|level [a-z]\d*|next floor|'
                 r'our floor|my floor|right floor|correct floor|last floor|first floor|bottom floor|final floor|'
                 r'the floor|a floor|your floor|destination|floor \d+ [a-z]|[a-z]\d+ floor)\b', body)
    if part:
        return Refusal(part, "that is not a number I can read; I read the digits on a display, so say the number it "
                       'shows', _NUMBER_FOLLOWED)
    part = _find(r'\b(?:the )?(?:elevator|lift)(?: doors?)? (?:arrives?|comes?|opens?|is here|gets here|stops|is '
                 r'coming|doors? open|moves?|starts|leaves|goes|dings?)\b|\b(?:doors? opens?|doors open)\b|'
                 r'\b(?:we|i) (?:get there|arrive|stop|get off|are there|are here|get out)\b', body)
    if part:
        return Refusal(part, 'an elevator arriving or stopping is not followed; I read the floor display',
                       "the display shows the floor number (say 'floor 16')")
    part = _find(r'\b(?:temperature|degrees?|weight|kilos?|kg|pounds?|lbs?|price|cost|dollars?|euros?|percent|%|'
                 r'battery|speed|mph|km ?h|score|points?|clock|time|o\'clock|minutes?|seconds?|countdown|timer '
                 r'display|counter reaches|thermometer|scale|meter|gauge|volume|level meter|stock|ticket number|'
                 r'queue number|bus|tram|train|platform|gate|flight|room number|seat)\b', body)
    if part and re.search(r'\d', body):
        return Refusal(part, f"what the number measures ('{part}') is not followed; I read numbers on displays",
                       "a display shows the number (say 'the display shows 16')")
    part = _find(r'\b\d+\.\d+\b|\b\d{4,}\b', body)
    if part:
        return Refusal(part, 'I read whole numbers of up to three digits on a display', _NUMBER_FOLLOWED)
    return None


def _sign(body: str, describe: Callable[[Reading], str]) -> Refusal | None:
    part = _find(r'\b(?:sign|screen|display|board|text|notice|banner|word|words)\b (?:\w+ )?(?:changes|updates|is '
                 r'updated|says something|shows something|says anything|has something|something new|anything new|new '
                 r'text|different|any text|any word|any words|a message|flashes|lights up|turns on)\b|\b(?:any|some|'
                 r'new) (?:text|words?|writing|message|sign)\b', body)
    if part:
        return Refusal(part, "which words is not said; tell me the words the sign shows ('the sign says EXIT')",
                       "a sign says the words you give")
    return None


def _rest_followed(body: str, part: str, describe: Callable[[Reading], str]) -> str:
    rest = ' '.join(body.replace(part, ' ').split())
    reading = match_condition(rest) if rest else None
    if isinstance(reading, Reading):
        return describe(reading)
    found = search_condition(body)
    return describe(found[0]) if found else ''


def _leftover(body: str, describe: Callable[[Reading], str]) -> Refusal | None:
    found = search_condition(body)
    if found is None:
        return None
    reading, rest = found
    return Refusal(rest, "I do not know what these words add, so I cannot be sure I would watch for what you mean",
                   describe(reading))


CHECKS: tuple[Callable[[str, Callable[[Reading], str]], Refusal | None], ...] = (
    _passed_on, _joined, _time_limit, _change_away, _negation, _count, _words_said, _people, _sound, _creature, _light,
    _number, _sign, _leftover)


def diagnose(body: str, describe: Callable[[Reading], str]) -> Refusal:
    """Why ``body`` (a normalized condition no phrase matched) is not followed. ``describe`` words a reading
    for the 'what is followed' part."""
    for check in CHECKS:
        refusal = check(body, describe)
        if refusal is not None:
            return refusal
    return Refusal('', 'this is not something I can watch for', '')
