"""English condition phrases the CPU backend follows, each matched against the *whole* condition.

A condition (an instruction with its lead-in and trailer removed, see instructions.py) is followed only
when one phrase below matches all of it: a word no phrase accounts for ("the green light *on the
printer*", "someone *falls*") leaves the condition unmatched, and refusals.py then says which part is not
followed. Each match gives a Reading: the condition, and a note when what is followed on purpose differs
from the words (the oven's beep is heard as any beep), which the confirmation shows the user.

Input is normalize()d text: lower case, number words as digits, contractions spelled out, no commas.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from omni_ros.backends.cpu.conditions import Condition, ConditionKind

MAX_NUMBER = 999  # a display number: up to three digits


@dataclass(frozen=True)
class Reading:
    condition: Condition
    note: str = ''  # where the meaning followed is wider than the words: said to the user


@dataclass(frozen=True)
class Unfollowed:
    """A phrase that matched but names something not followed (an unreadable sign text, a bad count)."""

    part: str
    reason: str


def alt(*options: str) -> str:
    """A regex alternation of phrases, longest first so that the longer one wins."""
    return '(?:' + '|'.join(sorted(options, key=len, reverse=True)) + ')'


def opt(pattern: str) -> str:
    return f'(?:{pattern} )?'


# -- vocabulary -----------------------------------------------------------------------------------------
COLORS = {'red': 'red', 'green': 'green', 'yellow': 'yellow', 'amber': 'yellow', 'orange': 'yellow'}
COLOR = alt(*COLORS)
N = r'(?P<n>\d{1,3})'
DET = opt(alt('the', 'a', 'an', 'any', 'my', 'our', 'your', 'that', 'this'))

# Anyone at all: the people detector counts people, it cannot tell who they are.
ANYONE = alt('someone', 'somebody', 'anyone', 'anybody', 'a person', 'any person', 'a human', 'a human being',
             'people', 'any people', 'a visitor', 'visitors', 'any visitors', 'a guest', 'guests', 'company',
             'a customer', 'customers')
ARRIVE = alt(
    'comes in', 'come in', 'comes inside', 'come inside', 'enters', 'enter', 'enters the room', 'enter the room',
    'arrives', 'arrive', 'appears', 'appear', 'shows up', 'show up', 'turns up', 'turn up', 'walks in', 'walk in',
    'steps in', 'step in', 'gets here', 'get here', 'comes by', 'come by', 'drops by', 'stops by', 'comes over',
    'come over', 'comes into view', 'come into view', 'comes into the room', 'come into the room',
    'walks into the room', 'walk into the room', 'comes through the door', 'walks through the door',
    'comes back', 'come back', 'comes home', 'come home', 'gets home', 'is here', 'are here', 'is there',
    'are there', 'is around', 'are around', 'is at the door', 'are at the door', 'is at the front door',
    'is in the room', 'are in the room', 'is in view', 'are in view', 'is visible', 'are visible', 'is present',
    'are present', 'is in front of you', 'is in front of the camera', 'comes to the door', 'comes to the front door',
    'walks by', 'walks past', 'passes by', 'goes by', 'is coming', 'is coming in', 'are coming', 'are coming in',
    'arrives at the door', 'shows up at the door', 'appears at the door', 'appears in the doorway',
    'is standing at the door', 'is waiting at the door', 'is outside the door', 'has arrived', 'have arrived',
    'has come in', 'has entered', 'came in', 'walked in', 'arrived', 'showed up', 'is in the doorway',
    'enters the house', 'comes into the house', 'walks up to the door', 'comes up to the door')
# Where the words place someone; the camera sees what it sees, so each is a note, not a condition.
_AT_DOOR = re.compile(r'\b(?:door|doorway|outside)\b')
SEE = alt('you see', 'you can see', 'you spot', 'you notice', 'you detect', 'i see', 'there is', 'there are',
          'you find', 'you catch sight of', 'you get a glimpse of')
WHERE = alt('here', 'there', 'around', 'at the door', 'at the front door', 'in the room', 'in view', 'outside the door',
            'in front of you', 'in front of the camera', 'nearby', 'in the doorway', 'in the picture', 'in sight',
            'on camera', 'in the house', 'in the hallway', 'in the hall')
SEEN_DOING = alt('coming in', 'walking in', 'entering', 'arriving', 'standing there', 'showing up', 'coming')

EVERYONE = alt('everyone', 'everybody', 'all the people', 'all of them', 'they all', 'the people', 'the last person',
               'all the visitors', 'the visitors', 'the guests', 'all the guests', 'people', 'all people',
               'the last 1', 'the last of them', 'every person', 'all the humans', 'the whole group', 'the crowd')
LEAVE = alt('leaves', 'leave', 'has left', 'have left', 'left', 'is gone', 'are gone', 'goes', 'go', 'goes away',
            'go away', 'walks out', 'walk out', 'gets out', 'get out', 'is out', 'are out', 'exits', 'exit',
            'are all gone', 'all leave', 'have all left', 'clears out', 'clear out', 'is left', 'has gone',
            'have gone', 'goes home', 'go home', 'leaves the room', 'leave the room', 'walks away', 'walk away',
            'is out of the room', 'are out of the room', 'has walked out', 'have walked out',
            'has gone home', 'have gone home', 'departs', 'depart', 'all go', 'all go home', 'have all gone')
NOBODY = alt('nobody', 'no person', 'no people', 'not a soul', 'no human', 'no humans', 'nobody at all')
PLACE = alt('room', 'place', 'house', 'hall', 'hallway', 'area', 'office', 'space', 'scene', 'view', 'picture',
            'corridor', 'lobby', 'shop', 'store', 'kitchen', 'living room', 'flat', 'apartment', 'home')
EMPTY_WHERE = alt('here', 'there', 'around', 'left', 'in view', 'in the room', 'visible', 'in sight', 'present',
                  'in the picture', 'left in the room', 'in here', 'in there', 'on camera', 'in the house',
                  'home', 'at home', 'in the office', 'in the building', 'left here', 'left there')

PEOPLE_NOUN = alt('people', 'persons', 'person', 'humans', 'human beings', 'guests', 'visitors', 'customers',
                  'individuals', 'human')

TRAFFIC_LIGHT = alt('light', 'lights', 'signal', 'signals', 'traffic light', 'traffic lights', 'traffic signal',
                    'pedestrian light', 'pedestrian lights', 'pedestrian signal', 'crossing light', 'crosswalk light',
                    'crosswalk signal', 'street light', 'stop light', 'stoplight', 'stoplights', 'road light',
                    'traffic lamp', 'signal light', 'crossing signal', 'light at the crossing',
                    'light at the corner', 'light ahead', 'light in front of us', 'light up ahead',
                    'traffic light ahead', 'light at the intersection', 'traffic light at the corner',
                    'traffic light at the crossing', 'traffic light at the intersection', 'pedestrian crossing light',
                    'walk signal', 'walk light', 'walking signal', 'pedestrian walk signal')
TURNS = alt('turns', 'turn', 'goes', 'go', 'changes', 'change', 'switches', 'switch', 'flips', 'becomes', 'become',
            'is', 'are', 'gets', 'turns to', 'goes to', 'changes to', 'changes over to', 'switches to',
             'switches over to',
            'shows', 'is showing', 'has turned', 'has gone', 'has changed to', 'turned', 'went', 'will turn',
            'lights up', 'flips to', 'changes back to', 'goes back to', 'turns back to', 'switches back to',
            'is back to', 'goes over to', 'is turning', 'changes into', 'turns into', 'has switched to', 'shines',
            'glows', 'turns over to', 'is lit', 'comes up', 'shows a', 'shows the')

ON_DISPLAY = alt('on the display', 'on the screen', 'on the panel', 'on the indicator', 'on the elevator display',
                 'on the floor display', 'on the lift display', 'on the board', 'on the sign', 'on the counter',
                 'in the elevator', 'in the lift', 'on the elevator screen', 'on the display above the door',
                 'above the door', 'on the floor indicator', 'over the door')
FLOOR_WORD = alt('floor', 'level', 'storey', 'story', 'fl', 'floor number', 'level number')
ARRIVE_AT = alt('reach', 'reaches', 'get to', 'gets to', 'arrive at', 'arrives at', 'arrive on', 'arrives on',
                'are at', 'are on', 'is at', 'is on', 'am on', 'am at', 'stop at', 'stops at', 'hit', 'hits',
                'come to', 'comes to', 'make it to', 'makes it to', 'pass', 'passes', 'go past', 'goes past',
                'got to', 'reached', 'have reached', 'has reached', 'are up on', 'are down on', 'are up at',
                'come up to', 'go up to', 'get up to', 'get down to', 'go down to', 'stop on', 'stops on',
                'land on', 'pull up at', 'pulls up at', 'arrive to', 'get on to', 'end up on', 'end up at',
                'are getting to', 'are arriving at', 'pass by', 'passes by', 'opens on', 'opens at', 'goes to',
                'go to', 'climbs to', 'climb to', 'rises to', 'drops to', 'descends to', 'goes up to', 'goes down to',
                'comes up to', 'gets up to', 'gets down to', 'stops on', 'arrives', 'arrive')
RIDER = alt('we', 'i', 'you', 'the elevator', 'the lift', 'the car', 'the cabin', 'the elevator car', 'it', 'us')
DISPLAY = alt('display', 'screen', 'counter', 'panel', 'indicator', 'readout', 'number', 'elevator', 'lift',
              'floor display', 'floor indicator', 'floor number', 'floor counter', 'elevator display',
              'lift display', 'elevator screen', 'elevator panel', 'elevator indicator', 'lift indicator',
              'digital display', 'led display', 'seven segment display', 'number display', 'display above the door',
              'floor readout', 'elevator readout', 'display in the elevator', 'display in the lift', 'board',
              'sign', 'counter display', 'digits', 'elevator number', 'lift screen', 'elevator floor display')
SHOWS = alt('shows', 'reads', 'says', 'displays', 'is at', 'gets to', 'reaches', 'hits', 'changes to', 'turns to',
            'goes to', 'is', 'shows the number', 'displays the number', 'is showing', 'lights up', 'turns',
            'changes over to', 'flips to', 'counts up to', 'counts down to', 'counts to', 'comes to',
            'will show', 'has', 'switches to', 'goes up to', 'goes down to', 'is on', 'gets up to', 'ticks over to',
            'shows floor', 'says floor', 'reads floor', 'displays floor', 'shows level', 'jumps to', 'rolls over to')
APPEARS = alt('appears', 'shows up', 'comes up', 'is shown', 'is displayed', 'lights up', 'pops up', 'comes on',
              'is lit', 'flashes up', 'gets displayed', 'is showing')

SIGN_OWNER = opt(alt('door', 'exit', 'shop', 'store', 'street', 'road', 'bus stop', 'departure', 'departures',
                     'arrivals', 'gate', 'platform', 'information', 'info', 'message', 'notice', 'neon', 'digital',
                     'led', 'electronic', 'warning', 'office', 'front', 'main', 'big', 'small', 'little', 'station',
                     'train', 'airport', 'parking', 'entrance', 'hallway', 'corridor', 'lobby', 'elevator', 'lift'))
SIGN = alt('sign', 'screen', 'display', 'board', 'text', 'label', 'banner', 'notice', 'door', 'panel', 'monitor',
           'poster', 'placard', 'departure board', 'arrivals board', 'departures board', 'information board',
           'message board', 'digital sign', 'led sign', 'billboard', 'shop sign', 'sign on the door', 'tv screen',
           'screen in front of you', 'sign ahead', 'sign outside', 'notice board', 'street sign', 'road sign',
           'neon sign', 'gate screen', 'gate display', 'platform display', 'platform sign', 'info screen',
           'electronic sign', 'message', 'scoreboard', 'bus stop sign')
SAYS = alt('says', 'reads', 'shows', 'displays', 'has', 'is showing', 'shows the word', 'says the word',
           'displays the word', 'changes to', 'switches to', 'turns to', 'lights up with', 'shows the text',
           'says the text', 'reads the word', 'flashes', 'shows the words', 'says the words', 'reads the words',
           'has the word', 'has the words', 'displays the text', 'is saying', 'says it is', 'reads out',
           'shows the message', 'displays the message', 'says the message', 'flashes the word', 'updates to',
           'lights up', 'spells', 'spells out', 'now says', 'now reads', 'now shows', 'announces')
SEE_TEXT = alt('you see', 'you can see', 'i see', 'you spot', 'you read', 'you notice', 'there is', 'you can read',
               'you find', 'you catch', 'you see that')
TEXT_CARRIER = alt('the word', 'the words', 'the text', 'a sign saying', 'a sign reading', 'a sign that says',
                   'a sign that reads', 'a sign with the word', 'a sign with the words', 'a sign with',
                   'a sign showing', 'a sign that shows', 'the sign saying', 'the sign reading', 'the sign that says',
                   'the sign that reads', 'a screen saying', 'a screen reading', 'a screen that says',
                   'a screen showing', 'a board saying', 'a board that says', 'a board showing', 'a display saying',
                   'a display showing', 'a banner saying', 'a banner that says', 'a notice saying',
                   'a notice that says', 'a poster saying', 'a label saying', 'a label that says', 'a message saying',
                   'the message', 'a message that says', 'a sign with the text', 'signs saying', 'a sign for',
                   'the sign for', 'the letters', 'a screen with the word', 'any sign saying', 'any sign that says')
TEXT_APPEARS = alt('appears', 'shows up', 'is visible', 'comes up', 'is shown', 'is displayed', 'pops up',
                   'lights up', 'comes on', 'comes into view', 'is written', 'turns up', 'flashes up', 'is posted',
                   'goes up', 'is put up', 'gets displayed')
TEXT_WHERE = alt('on a sign', 'on the sign', 'on the screen', 'on a screen', 'on the board', 'on a board',
                 'on the display', 'on a display', 'on the wall', 'on the door', 'anywhere', 'somewhere',
                 'on the monitor', 'on the banner', 'on the departure board', 'on the panel', 'on any sign',
                 'on any screen')
# A sign's text unquoted: up to four words of the sign alphabet, checked in _sign_text.
TEXT = r'''(?:"(?P<q1>[^"]{1,40})"|'(?P<q2>[^']{1,40})'|(?P<t>[a-z0-9&!?-]+(?: [a-z0-9&!?'-]+){0,5}?))'''

# -- sounds ---------------------------------------------------------------------------------------------
BEEPER = alt('oven', 'microwave', 'timer', 'kitchen timer', 'egg timer', 'oven timer', 'washer', 'washing machine',
             'dryer', 'tumble dryer', 'dishwasher', 'fridge', 'refrigerator', 'freezer', 'rice cooker',
             'coffee machine', 'coffee maker', 'air fryer', 'toaster', 'toaster oven', 'thermostat', 'thermometer',
             'printer', '3d printer', 'alarm clock', 'pressure cooker', 'instant pot', 'bread maker', 'slow cooker',
             'induction hob', 'stove', 'cooktop', 'robot vacuum', 'vacuum', 'scanner', 'scale', 'watch',
             'machine', 'appliance', 'device', 'meat thermometer', 'steamer', 'bread machine', 'kettle',
             'blender', 'dehumidifier', 'humidifier', 'heater', 'air conditioner', 'monitor', 'baby monitor',
             'sous vide', 'water heater', 'fridge door', 'freezer door', 'clock', 'stopwatch', 'countdown timer',
             'cooker', 'hob', 'grill', 'range', 'smart oven', 'combi oven', 'laundry machine', 'iron',
             'the oven timer', 'food processor', 'multicooker', 'yogurt maker', 'ice maker', 'thermal cycler',
             'incubator', 'centrifuge', 'lab timer', 'timer on the oven', 'timer on the stove')
BEEPS = alt('beeps', 'beep', 'is beeping', 'starts beeping', 'begins beeping', 'beeps at me', 'gives a beep',
            'makes a beep', 'sounds a beep', 'bleeps', 'goes beep', 'beeped', 'has beeped', 'beeps once',
            'lets out a beep', 'gives off a beep', 'is bleeping', 'starts to beep', 'makes a beeping sound',
            'makes a beeping noise', 'emits a beep', 'beeps loudly', 'goes beep beep')
DONE = alt('goes off', 'is done', 'finishes', 'is finished', 'has finished', 'ends', 'runs out', 'is up',
           'has gone off', 'completes', 'is complete', 'has completed', 'ran out', 'has run out', 'went off',
           'sounds', 'gets done', 'is through')
DONE_SOURCE = alt('timer', 'kitchen timer', 'egg timer', 'oven timer', 'alarm clock', 'washer', 'washing machine',
                  'dryer', 'tumble dryer', 'dishwasher', 'microwave', 'oven', 'rice cooker', 'laundry', 'wash',
                  'washing', 'cycle', 'wash cycle', 'countdown', 'countdown timer', 'bread maker', 'slow cooker',
                  'pressure cooker', 'coffee maker', 'coffee machine', 'air fryer', 'timer on the oven',
                  'timer on the stove', 'cooking timer', 'pasta timer', 'stopwatch', 'laundry machine',
                  'load of laundry')
HEAR = alt('you hear', 'you can hear', 'there is', 'i hear', 'you detect', 'you pick up', 'there are',
           'there comes', 'you notice', 'you catch')
BEEP_NOUN = alt('beep', 'beeps', 'beeping', 'bleep', 'bleeps', 'bleeping', 'beeping sound', 'beep sound',
                'beeping noise', 'beep noise', 'beeping tone', 'beep tone', 'electronic beep', 'beep beep')
DINGER = alt('microwave', 'elevator', 'lift', 'air fryer', 'toaster', 'oven', 'timer', 'clock', 'phone', 'bell',
             'kitchen timer', 'egg timer', 'toaster oven', 'cash register', 'till', 'counter bell', 'desk bell',
             'service bell', 'reception bell', 'hotel bell', 'shop bell', 'bike bell', 'bicycle bell',
             'notification', 'tablet', 'laptop', 'computer', 'seatbelt sign', 'elevator bell', 'lift bell',
             'microwave oven', 'clock tower', 'wind chime', 'wind chimes', 'grandfather clock', 'mantel clock')
DINGS = alt('dings', 'ding', 'chimes', 'chime', 'is dinging', 'goes ding', 'makes a ding', 'gives a ding', 'dinged',
            'has dinged', 'is chiming', 'rings a ding', 'makes a ding sound', 'lets out a ding', 'chimed')
DING_NOUN = alt('ding', 'dings', 'chime', 'chimes', 'ding sound', 'dinging', 'chiming', 'ding noise', 'bell ding',
                'single ding', 'ping', 'single chime', 'chime sound', 'bell sound', 'ring of a bell')
DOORBELL = alt('doorbell', 'door bell', 'front doorbell', 'front door bell', 'bell at the door',
               'bell at the front door', 'door chime', 'doorbell chime', 'back doorbell', 'bell on the door',
               'house bell', 'entrance bell', 'the doorbell', 'our doorbell', 'my doorbell', 'video doorbell',
               'ring doorbell')
RINGS = alt('rings', 'ring', 'is ringing', 'goes', 'goes off', 'sounds', 'chimes', 'rang', 'dings', 'goes ding dong',
            'has rung', 'starts ringing', 'chimes', 'is rung', 'is pressed', 'gets rung', 'gets pressed',
            'is going off', 'goes ding', 'buzzes', 'plays', 'makes a sound', 'makes a noise', 'rings out')
RINGER = alt('someone', 'somebody', 'anyone', 'anybody', 'a visitor', 'a person', 'people', 'a guest', 'visitors',
             'guests', 'a customer', 'you')
RING_BELL = alt('rings', 'ring', 'is ringing', 'presses', 'press', 'pushes', 'push', 'hits', 'uses', 'buzzes',
                'rang', 'has rung', 'rings on', 'tries', 'presses on', 'pushes on')
KNOCKER = RINGER
KNOCKS = alt('knocks', 'knock', 'is knocking', 'are knocking', 'knocked', 'starts knocking', 'has knocked',
             'raps', 'is rapping', 'knocks loudly', 'knocks twice')
ON_DOOR = alt('on the door', 'at the door', 'on the front door', 'at the front door', 'on the back door',
              'at the back door', 'on my door', 'on our door', 'at my door', 'at our door', 'on the window',
              'on the wall', 'at the window', 'on the office door', 'on the bedroom door', 'on the kitchen door',
              'on the gate', 'at the gate', 'on the glass', 'on the table')
KNOCK_NOUN = alt('knock', 'knocks', 'knocking', 'knocking sound', 'knock sound', 'rapping', 'knocking noise',
                 'knock knock', 'a knock knock')
PHONE = alt('phone', 'telephone', 'landline', 'cell phone', 'cellphone', 'mobile', 'mobile phone', 'house phone',
            'office phone', 'desk phone', 'home phone', 'smartphone', 'iphone', 'work phone', 'kitchen phone',
            'old phone', 'cordless phone', 'handset', 'phone on the desk', 'phone on the table')
PHONE_RINGS = alt('rings', 'ring', 'is ringing', 'starts ringing', 'goes off', 'rang', 'has rung', 'begins ringing',
                  'starts to ring', 'rings out', 'keeps ringing')
KETTLE = alt('kettle', 'tea kettle', 'teakettle', 'whistling kettle', 'stovetop kettle', 'kettle on the stove',
             'water kettle', 'kettle on the hob')
WHISTLES = alt('whistles', 'whistle', 'is whistling', 'starts whistling', 'begins whistling', 'starts to whistle',
               'sings', 'is singing', 'starts singing', 'screams', 'is screaming', 'shrieks', 'goes off',
               'whistled', 'has whistled')
BOILS = alt('boils', 'is boiling', 'has boiled', 'comes to the boil', 'comes to a boil', 'starts boiling',
            'is boiled', 'has come to the boil', 'begins to boil', 'starts to boil')
SMOKE_ALARM = alt('smoke alarm', 'smoke detector', 'fire alarm', 'smoke alarms', 'fire alarms', 'smoke detectors',
                  'smoke sensor', 'fire detector', 'smoke and fire alarm', 'home fire alarm', 'kitchen smoke alarm',
                  'smoke alarm in the kitchen', 'fire alarm in the hall', 'smoke alarm in the hall',
                  'fire alarm in the building', 'building fire alarm', 'smoke alarm upstairs', 'fire safety alarm')
CO_ALARM = alt('co alarm', 'co detector', 'co sensor', 'co monitor', 'carbon monoxide alarm',
               'carbon monoxide detector', 'carbon monoxide sensor', 'carbon monoxide monitor',
               'carbon monoxide alarms', 'co alarms', 'carbon monoxide detectors')
ALARM_SOUNDS = alt('goes off', 'go off', 'sounds', 'sound', 'rings', 'beeps', 'is beeping', 'is going off', 'goes',
                   'activates', 'is triggered', 'triggers', 'starts beeping', 'starts going off', 'is sounding',
                   'alarms', 'rang', 'went off', 'is ringing', 'starts', 'starts sounding', 'is activated',
                   'gets triggered', 'has gone off', 'trips', 'blares', 'is blaring', 'starts blaring', 'wails',
                   'starts ringing', 'begins to sound', 'starts to sound', 'begins beeping', 'goes crazy')
ALARM_HEARD = alt('going off', 'sounding', 'beeping', 'ringing', 'blaring', 'alarm')

# -- speech ---------------------------------------------------------------------------------------------
TALKER = alt('someone', 'somebody', 'anyone', 'anybody', 'a person', 'people', 'a visitor', 'a guest', 'visitors',
             'guests', 'a human', 'any person')
TALKS = alt('talks', 'speaks', 'says something', 'starts talking', 'starts speaking', 'begins talking',
            'begins speaking', 'is talking', 'is speaking', 'are talking', 'are speaking', 'talk', 'speak',
            'say something', 'says anything', 'starts to talk', 'starts to speak', 'is heard talking',
            'can be heard', 'opens their mouth', 'has something to say', 'says a word', 'says a few words',
            'makes a sound with their voice', 'uses their voice', 'talks out loud', 'speaks up', 'says anything at all',
            'starts a conversation', 'strikes up a conversation', 'are having a conversation',
            'is having a conversation',
            'start talking', 'start speaking', 'are chatting', 'is chatting', 'chat', 'chats', 'starts chatting')
VOICE = alt('a voice', 'voices', 'someone talking', 'somebody talking', 'anyone talking', 'anybody talking',
            'someone speaking', 'somebody speaking', 'anybody speaking', 'anyone speaking', 'people talking',
            'people speaking', 'a person talking', 'a person speaking', 'speech', 'talking', 'speaking',
            'human voices', 'a human voice', 'any voices', 'any speech', 'any talking', 'chatter', 'conversation',
            'a conversation', 'any voice', 'someone say something', 'somebody say something', 'anyone say anything',
            'someone chatting', 'people chatting', 'chatting', 'human speech', 'spoken words', 'someone\'s voice',
            'voices talking', 'a voice speaking', 'someone talk', 'somebody talk', 'someone speak', 'anyone speak',
            'people chat', 'people talk', 'talk', 'words being spoken', 'voices in the room', 'a voice in the room')

# -- lighting -------------------------------------------------------------------------------------------
ROOM = alt('it', 'the room', 'the place', 'the house', 'the hall', 'the hallway', 'the area', 'the office',
           'the space', 'the picture', 'the view', 'the image', 'the camera view', 'everything', 'the whole room',
           'the corridor', 'the scene', 'the camera picture', 'the camera image', 'the apartment', 'the flat')
DARK = alt('dark', 'black', 'pitch dark', 'pitch black', 'completely dark', 'totally dark', 'very dark',
           'too dark to see', 'dark in here', 'dark in the room', 'all dark')
GETS = alt('goes', 'gets', 'turns', 'becomes', 'is', 'grows', 'went', 'has gone', 'has become', 'has turned',
           'has got', 'has gotten', 'gets really', 'goes completely', 'goes all', 'falls', 'is plunged into',
           'is now', 'will go', 'suddenly goes', 'suddenly gets')
BRIGHT = alt('light', 'bright', 'lit', 'lit up', 'bright again', 'light again', 'brighter', 'illuminated',
             'well lit', 'bright in here', 'light in here')
LAMPS = alt('light', 'lights', 'the light', 'the lights', 'all the lights', 'room lights', 'the room lights',
            'ceiling lights', 'the ceiling light', 'the ceiling lights', 'overhead lights', 'the overhead lights',
            'the light in the room', 'the lights in the room', 'the lights in here', 'the room light',
            'the main light', 'the main lights', 'lighting', 'the lighting', 'house lights', 'the house lights',
            'the hall light', 'the hallway light', 'the hall lights', 'the office lights', 'the lamps',
            'the light in here', 'every light', 'the big light', 'the lights here')
SWITCH = alt('go', 'goes', 'turn', 'turns', 'are turned', 'is turned', 'get turned', 'gets turned', 'switch',
             'switches', 'are switched', 'is switched', 'get switched', 'gets switched', 'went', 'have gone',
             'has gone', 'are', 'is', 'have been turned', 'has been turned', 'have been switched',
             'has been switched', 'flick', 'flicks', 'get flicked', 'gets flicked', 'are flicked', 'is flicked',
             'are shut', 'is shut', 'get shut', 'gets shut', 'went', 'suddenly go', 'suddenly goes', 'all go',
             'come', 'comes', 'have come', 'has come', 'come back', 'comes back', 'go back', 'goes back',
             'pop', 'pops', 'blink', 'blinks', 'flip', 'flips', 'are put', 'is put', 'get put', 'gets put')
PERSON_SWITCH = alt('someone', 'somebody', 'anyone', 'anybody', 'you', 'they', 'a person', 'people', 'we', 'i')
SWITCHES = alt('turns', 'turn', 'switches', 'switch', 'flicks', 'flick', 'shuts', 'shut', 'puts', 'put', 'flips',
               'flip', 'turned', 'switched', 'has turned', 'has switched')

CONTINUOUS = re.compile(r'\b(?:whenever|every time|each time|any time|anytime|every single time|always|each and '
                        r'every time|all the time|as often as|every 1 time|repeatedly)\b')


# -- builders ---------------------------------------------------------------------------------------------
def _sound(value: str, note: str = '') -> Callable[[re.Match[str]], Reading | Unfollowed]:
    # A sound is momentary: true only in the chunk where it is heard.
    return lambda m: Reading(Condition(ConditionKind.SOUND, value, rise=1, fall=1), note or _source_note(m, value))


_SOUND_NAMES = {'beep': 'beep', 'ding': 'ding or chime', 'doorbell': 'doorbell', 'knock': 'knock',
                'phone': 'phone ringing', 'kettle': 'kettle whistling'}


def _source_note(m: re.Match[str], value: str) -> str:
    src = m.groupdict().get('src')
    if not src:
        return ''
    src = src.strip()
    if value in ('beep', 'ding'):
        return f"any {_SOUND_NAMES[value]}: I cannot tell the {src}'s {value} from another {value}"
    if value == 'knock' and src:
        return f'any knock: I cannot tell where a knock comes from ({src})'
    return ''


def _finished(m: re.Match[str]) -> Reading:
    src = m.group('src').strip()
    verb = m.group('done')
    if src in ('timer', 'kitchen timer', 'egg timer', 'oven timer', 'alarm clock', 'countdown timer', 'cooking timer',
               'pasta timer', 'timer on the oven', 'timer on the stove') and verb in ('goes off', 'went off',
                                                                                     'has gone off', 'sounds'):
        note = f"any beep: I cannot tell the {src}'s beep from another beep"
    else:
        note = f'any beep: I listen for the {src} beeping, I cannot see it finish'
    return Reading(Condition(ConditionKind.SOUND, 'beep', rise=1, fall=1), note)


def _light(m: re.Match[str]) -> Reading:
    colors = re.findall(COLOR, m.group(0))
    word = colors[-1]  # "changes from red to green": the colour it turns to
    value = COLORS[word]
    note = 'amber and orange are what I call yellow' if word in ('amber', 'orange') else ''
    return Reading(Condition(ConditionKind.LIGHT_COLOR, value), note)


def _number(m: re.Match[str]) -> Reading | Unfollowed:
    value = int(m.group('n'))
    if value > MAX_NUMBER:
        return Unfollowed(m.group('n'), f'a display number has at most three digits, up to {MAX_NUMBER}')
    return Reading(Condition(ConditionKind.NUMBER_SHOWN, str(value)),
                   f'any display or sign that shows {value} counts')


def _person(m: re.Match[str]) -> Reading:
    text = m.group(0)
    notes = []
    if re.search(r'\b(?:visitors?|guests?|customers?|company)\b', text):
        notes.append('anyone: I cannot tell a visitor from anyone else')
    if _AT_DOOR.search(text):
        notes.append('anywhere in view: I cannot tell where the door is')
    return Reading(Condition(ConditionKind.PERSON_PRESENT, fall=3), '; '.join(notes))


def _nobody(m: re.Match[str]) -> Reading:
    # Two empty chunks in a row: one missed detection does not empty the room, and a third would make
    # the alert about two seconds late.
    return Reading(Condition(ConditionKind.NOBODY_PRESENT, fall=1, rise=2))


def _speech(m: re.Match[str]) -> Reading:
    return Reading(Condition(ConditionKind.SPEECH, fall=3), 'any voice: I do not follow what is said')


def _lighting(value: str) -> Callable[[re.Match[str]], Reading]:
    return lambda m: Reading(Condition(ConditionKind.LIGHTING, value))


def _at_least(m: re.Match[str]) -> Reading | Unfollowed:
    n = int(m.group('q'))
    if n > 50:
        return Unfollowed(m.group('q'), 'I count up to 50 people')
    if n <= 1:
        return Reading(Condition(ConditionKind.PERSON_PRESENT, fall=3))
    return Reading(Condition(ConditionKind.PEOPLE_COUNT, f'>={n}'), f'reaching {n} means {n} or more')


def _sign_text(m: re.Match[str]) -> Reading | Unfollowed:
    quoted = m.group('q1') or m.group('q2')
    raw = quoted or m.group('t')
    words = raw.split()
    if not quoted:
        bad = _text_trouble(words)
        if bad:
            return Unfollowed(raw, bad)
    value = re.sub(r"[^A-Z0-9 &'!?-]", ' ', raw.upper())
    value = ' '.join(value.split())
    if not value:
        return Unfollowed(raw, 'signs are read in Latin letters and digits only')
    if value.isdigit():
        return _number_value(value)
    return Reading(Condition(ConditionKind.TEXT_SHOWN, value, fall=3),
                   f'any sign or screen with the words {value}, whole and in this order')


def _number_value(value: str) -> Reading | Unfollowed:
    if int(value) > MAX_NUMBER:
        return Unfollowed(value, f'a display number has at most three digits, up to {MAX_NUMBER}')
    return Reading(Condition(ConditionKind.NUMBER_SHOWN, str(int(value))),
                   f'any display or sign that shows {int(value)} counts')


_NOT_SIGN_WORDS = frozenset(
    'a an the my your our his her their its some something anything it this that these those and or but if when '
    'then again anymore any more letters words word text number name time something else different changes '
    'colour color something new so'.split())
_COLOR_WORDS = frozenset('red green yellow amber orange blue white black purple pink'.split())


def _text_trouble(words: list[str]) -> str:
    """Why unquoted words cannot be a sign's text ('' when they can)."""
    if len(words) > 4:
        return 'a sign text of more than four words must be quoted'
    if any(w in _NOT_SIGN_WORDS for w in words):
        return 'that is not the text itself; say the words the sign shows, or quote them'
    if words[0] in ('on', 'in', 'at', 'near', 'by', 'above', 'below', 'under', 'with', 'for', 'to', 'from'):
        return 'that is not the text itself; quote the words the sign shows'
    if len(words) > 1 and words[-2] in ('on', 'in', 'at', 'near', 'by', 'above', 'below', 'under', 'with', 'for'):
        return 'where or how the text appears is not followed; quote the words if they are the text'
    if all(w in _COLOR_WORDS for w in words):
        return "a screen's colour is not followed; for a word, quote it"
    return ''


QUANTITY = (r'(?:(?P<more>more than|over|above|upwards of|greater than|in excess of) (?P<k>\d+)'
            r'|(?P<least>at least|a minimum of|no fewer than|no less than|not less than|not fewer than) (?P<k2>\d+)'
            r'|(?P<k3>\d+) (?P<ormore>or more|plus|or over|or above|and up|and above)'
            r'|(?P<fewer>fewer than|less than|under|below) (?P<k4>\d+)'
            r'|(?P<most>at most|no more than|not more than|a maximum of|up to) (?P<k5>\d+)'
            r'|(?P<k6>\d+) (?P<orfewer>or fewer|or less|or under|at most)'
            r'|(?:exactly|only|just|precisely) (?P<k7>\d+)'
            r'|(?P<k8>\d+))')
# One group name per number: re wants unique names; _count reads them through this wrapper.
QUANTITY_ONE = re.compile(QUANTITY)


def _k(m: re.Match[str]) -> int:
    return int(next(v for k, v in m.groupdict().items() if k.startswith('k') and v is not None))


def _count_builder(m: re.Match[str]) -> Reading | Unfollowed:
    q = m.group('q')
    qm = QUANTITY_ONE.fullmatch(q)
    assert qm is not None
    n = _k(qm)
    if qm.group('more'):
        op, value = '>=', n + 1
    elif qm.group('least') or qm.group('ormore'):
        op, value = '>=', n
    elif qm.group('fewer'):
        if n < 1:
            return Unfollowed(q, 'fewer than no one is never true')
        op, value = '<=', n - 1
    elif qm.group('most') or qm.group('orfewer'):
        op, value = '<=', n
    else:
        op, value = '==', n
    if value > 50:
        return Unfollowed(q, 'I count up to 50 people')
    if value == 0 and op in ('==', '<='):
        return Reading(Condition(ConditionKind.NOBODY_PRESENT, fall=1, rise=2))
    if op == '>=' and value == 1:
        return Reading(Condition(ConditionKind.PERSON_PRESENT, fall=3))
    note = f'more than {n} means {value} or more' if qm.group('more') else (
        f'fewer than {n} means {value} or fewer' if qm.group('fewer') else '')
    return Reading(Condition(ConditionKind.PEOPLE_COUNT, f'{op}{value}'), note)


Q = r'(?P<q>(?:more than|over|above|upwards of|greater than|in excess of|at least|a minimum of|no fewer than|' \
    r'no less than|not less than|not fewer than|fewer than|less than|under|below|at most|no more than|' \
    r'not more than|a maximum of|up to|exactly|only|just|precisely) \d+|\d+ (?:or more|plus|or over|or above|' \
    r'and up|and above|or fewer|or less|or under|at most)|\d+)'

# -- the phrases ----------------------------------------------------------------------------------------
Builder = Callable[[re.Match[str]], 'Reading | Unfollowed']
_PHRASES: list[tuple[str, Builder]] = [
    # traffic light
    (rf'{DET}(?:{TRAFFIC_LIGHT}|it) (?:(?:finally|eventually|then|now) )?{TURNS} (?:(?:from|off) {COLOR} )?'
     rf'(?:to |into |over to |back to )?(?:a |the )?{COLOR}(?: light)?(?: for (?:pedestrians|us|me|walking|people))?'
     rf'(?: now)?', _light),
    (rf'{DET}(?:{TRAFFIC_LIGHT}) (?:{TURNS} )?(?:from {COLOR} )?to {COLOR}', _light),
    (rf'{DET}{COLOR} (?:{TRAFFIC_LIGHT} )?(?:comes on|goes on|lights up|is on|shows|appears|turns on|is lit|shows up|'
     rf'is showing|comes up|is shining|shines|switches on|lights|is lit up|flashes on)', _light),
    (rf'(?:{SEE} )?(?:a |the |any )?{COLOR}(?: {TRAFFIC_LIGHT})?(?: light)?(?: on the {TRAFFIC_LIGHT})?', _light),
    (rf'(?:it is|it turns|it goes|it becomes|it changes to|it switches to|the colour is|the color is) {COLOR}', _light),
    (rf'(?:the )?(?:{TRAFFIC_LIGHT}) (?:colour|color) (?:is|turns|becomes|changes to) {COLOR}', _light),
    (rf'(?:we|i|you) (?:get|have|see) (?:a |the )?{COLOR}(?: light| signal)?', _light),
    # room lighting
    (rf'{ROOM} {GETS} {DARK}', _lighting('dark')),
    (rf'(?:{LAMPS}) (?:{SWITCH} )?(?:out|off)(?: in the room| in here)?', _lighting('dark')),
    (rf'{PERSON_SWITCH} {SWITCHES} (?:off|out) (?:{LAMPS})', _lighting('dark')),
    (rf'{PERSON_SWITCH} {SWITCHES} (?:{LAMPS}) (?:off|out)', _lighting('dark')),
    (rf'(?:{LAMPS}) (?:going|turning|being turned|being switched|switching|go|goes) (?:out|off)|darkness|'
     r'lights out|(?:the )?room going dark|a dark room|(?:the )?power cut|the lights go dark|(?:a )?blackout',
     _lighting('dark')),
    (rf'(?:{LAMPS}) (?:{SWITCH} )?(?:back )?on(?: again)?(?: in the room| in here)?', _lighting('lit')),
    (rf'{PERSON_SWITCH} {SWITCHES} on (?:{LAMPS})', _lighting('lit')),
    (rf'{PERSON_SWITCH} {SWITCHES} (?:{LAMPS}) on', _lighting('lit')),
    (rf'{ROOM} {GETS} {BRIGHT}|(?:the )?room lights up|(?:{LAMPS}) (?:coming|going|turning|being turned|'
     rf'being switched|switching) on|(?:the )?lights? (?:are|is) back', _lighting('lit')),
    # floor display
    (rf'(?:{RIDER} )?(?:{ARRIVE_AT} )?(?:the )?(?:{FLOOR_WORD}) {N}(?: {ON_DISPLAY})?', _number),
    (rf'(?:{RIDER} )?(?:{ARRIVE_AT} )?(?:the )?{N} (?:{FLOOR_WORD})(?: {ON_DISPLAY})?', _number),
    (rf'{RIDER} {ARRIVE_AT} {N}(?: {ON_DISPLAY})?', _number),
    (rf'{DET}(?:{DISPLAY})(?: {ON_DISPLAY})? {SHOWS} (?:the )?(?:number |floor |level )?{N}(?: {ON_DISPLAY})?',
     _number),
    (rf'(?:the )?(?:number |floor |level )?{N} (?:{APPEARS})(?: {ON_DISPLAY})?', _number),
    (rf'(?:you|i) (?:see|read|spot|notice) (?:the )?(?:number |floor |level )?{N}(?: {ON_DISPLAY})?', _number),
    (rf'(?:the )?number {N}(?: {ON_DISPLAY})?', _number),
    (rf'(?:it is|it says|it shows|it reads) (?:floor |level )?{N}', _number),
    # people coming in
    (rf'{ANYONE} (?:(?:finally|eventually) )?{ARRIVE}', _person),
    (rf'{SEE} {ANYONE}(?: {WHERE})?(?: {SEEN_DOING})?|{SEE} (?:a face|any face|faces|any faces)(?: {WHERE})?', _person),
    (r'(?:a face|faces|any face) (?:appears|appear|shows up|comes into view|is visible|are visible)', _person),
    (rf'(?:a |any )?(?:visitor|visitors|guest|guests|person|people|human|humans|somebody|someone|anyone|anybody|'
     rf'company|a customer|customers|a face|faces)(?: {WHERE}| {SEEN_DOING}| (?:arriving|coming in|entering|'
     rf'walking in|showing up|at the door|in the room|in view))?', _person),
    (r'(?:someone|somebody|anyone|anybody) (?:is|comes|walks|steps) (?:in|inside|here|there|near|nearby|by)', _person),
    (r'(?:someone|somebody|anyone|anybody|a person|people|visitors) (?:in|at) (?:the room|the door|the doorway|view|'
     r'the front door|the house)', _person),
    (r'(?:there is|there are|we have|i have|you have) (?:company|visitors|a visitor|guests|a guest)', _person),
    # everyone gone
    (rf'{EVERYONE} (?:(?:finally|eventually|all) )?{LEAVE}(?: the room| the house| the office)?', _nobody),
    (rf'{NOBODY} (?:is|are) {EMPTY_WHERE}(?: any ?more)?', _nobody),
    (rf'(?:there is|there are) (?:nobody|no 1|no people|no more people|no humans) ?(?:{EMPTY_WHERE})?(?: any ?more)?',
     _nobody),
    (rf'(?:you|i) (?:do not|cannot|can not|no longer) see (?:anyone|anybody|any people|a person|any person|any humans)'
     rf'(?: {EMPTY_WHERE})?(?: any ?more)?', _nobody),
    (rf'(?:you|i) see (?:nobody|no people|no 1|no person)(?: {EMPTY_WHERE})?(?: any ?more)?', _nobody),
    (rf'(?:the )?(?:{PLACE}) (?:is|becomes|gets|goes|has become|is now|turns|falls) (?:empty|clear|deserted|vacant|'
     rf'quiet and empty|cleared|emptied out|totally empty|completely empty)(?: again)?', _nobody),
    (rf'(?:the )?(?:{PLACE}) (?:empties|clears|empties out|clears out)', _nobody),
    (rf'(?:an |the )?empty (?:{PLACE})|everyone leaving|everybody leaving|(?:the )?room emptying|'
     r'nobody (?:here|there|left|around)',
     _nobody),
    (r'(?:it is|it gets) (?:empty|deserted)(?: in here| in the room)?|'
     r'(?:everyone|everybody) is (?:gone|out|away|out of the room)',
     _nobody),
    # counts of people
    (rf'(?:{SEE}|we have|we get|it gets to|you count|i count) {Q} (?:{PEOPLE_NOUN})(?: {WHERE}| {SEEN_DOING})?',
     _count_builder),
    (rf'{Q} (?:{PEOPLE_NOUN}) (?:are |is )?(?:{WHERE}|{ARRIVE}|gather|gathered|in the room|in view|visible|present)',
     _count_builder),
    (r'(?:the )?(?:number of (?:people|persons|guests|visitors)|(?:people|head) count) '
     rf'(?:is|becomes|is at|is exactly) '
     rf'{Q}(?: people)?', _count_builder),
    (r'(?:the )?(?:number of (?:people|persons|guests|visitors)|(?:people|head) count) (?:reaches|gets to|hits|goes to|'
     r'gets up to|climbs to|rises to) (?P<q>\d+)(?: people)?', _at_least),
    (rf'(?:the )?(?:{PLACE}) has {Q} (?:{PEOPLE_NOUN})(?: in it)?', _count_builder),
    (rf'{Q} (?:{PEOPLE_NOUN})', _count_builder),
    # signs
    (rf'{DET}{SIGN_OWNER}(?:{SIGN}) (?:{SAYS}) (?:the word |the words |the text )?{TEXT}', _sign_text),
    (rf'{SEE_TEXT} (?:{TEXT_CARRIER}) {TEXT}(?: {TEXT_WHERE})?', _sign_text),
    (rf'(?:the |a )?(?:word|words|text|sign|message|letters) {TEXT} (?:{TEXT_APPEARS})(?: {TEXT_WHERE})?', _sign_text),
    (rf'(?:a |the |any )?(?:sign|screen|board|notice|banner|display) (?:saying|reading|that says|that reads|'
     rf'with the word|with the words|with|showing|that shows) {TEXT} (?:{TEXT_APPEARS})', _sign_text),
    (rf'{TEXT} (?:{TEXT_APPEARS}) (?:{TEXT_WHERE})', _sign_text),
    (rf'(?:{TEXT_CARRIER}) {TEXT}(?: {TEXT_WHERE})?', _sign_text),
    (rf'(?:you|i) (?:see|read|spot|notice) {TEXT} (?:{TEXT_WHERE})', _sign_text),
    # smoke and carbon-monoxide alarms (before beeps: "the smoke alarm beeps" is the alarm's pattern)
    (rf'{DET}(?:{SMOKE_ALARM})(?: (?:{ALARM_SOUNDS}))?', _sound('smoke_alarm')),
    (rf'{HEAR} {DET}(?:{SMOKE_ALARM})(?: (?:{ALARM_HEARD}))?', _sound('smoke_alarm')),
    (rf'{DET}(?:{CO_ALARM})(?: (?:{ALARM_SOUNDS}))?', _sound('co_alarm')),
    (rf'{HEAR} {DET}(?:{CO_ALARM})(?: (?:{ALARM_HEARD}))?', _sound('co_alarm')),
    # phone, kettle
    (rf'{DET}(?:{PHONE}) (?:{PHONE_RINGS})', _sound('phone')),
    (rf'(?:{HEAR} )?{DET}(?:{PHONE}) ring(?:ing)?|(?:{HEAR} )?(?:a |the )?ringing (?:phone|telephone)|'
     rf'(?:{HEAR} )?(?:a |the )?(?:phone|telephone) (?:call|ringtone|ring tone)|(?:{HEAR} )?(?:a |the )?ringtone',
     _sound('phone', 'a phone ringing: a phone on silent is not heard')),
    (r'(?:i get|i have|there is|we get|we have|i receive|you hear) (?:a |an )?(?:incoming )?(?:phone )?call'
     r'(?: coming in)?|'
     r'(?:a )?(?:phone )?call comes in|(?:someone|somebody|anyone|anybody) calls(?: me| us)? on the phone',
     _sound('phone', 'a phone ringing: I hear the ring, a phone on silent is not heard')),
    (rf'{DET}(?:{KETTLE}) (?:{WHISTLES})', _sound('kettle')),
    (rf'(?:{HEAR} )?{DET}(?:{KETTLE})(?: whistle| whistling| singing)?|(?:{HEAR} )?(?:a |the )?whistling kettle|'
     rf'(?:{HEAR} )?(?:a |the )?whistle from the kettle', _sound('kettle')),
    (rf'{DET}(?:{KETTLE}) (?:{BOILS})|(?:the )?water in the kettle (?:boils|is boiling)',
     _sound('kettle', 'I hear a kettle whistle: a kettle that does not whistle is not heard')),
    # beeps
    (rf'{DET}(?:(?P<src>{BEEPER}) )?(?:{BEEPS})', _sound('beep')),
    (rf'(?:{HEAR} )?{DET}(?:{BEEP_NOUN})(?: (?:from|coming from|of) {DET}(?P<src>{BEEPER}))?', _sound('beep')),
    (rf'{DET}(?P<src>{BEEPER}) (?:beeping|beep|beeps|timer going off)', _sound('beep')),
    (rf'{DET}(?P<src>{DONE_SOURCE}) (?P<done>{DONE})', _finished),
    # dings
    (rf'{DET}(?:(?P<src>{DINGER}) )?(?:{DINGS})', _sound('ding')),
    (rf'(?:{HEAR} )?{DET}(?:{DING_NOUN})(?: (?:from|coming from|of) {DET}(?P<src>{DINGER}))?', _sound('ding')),
    # doorbell
    (rf'{DET}(?:{DOORBELL})(?: (?:{RINGS}))?', _sound('doorbell')),
    (rf'(?:the )?bell (?:{RINGS})(?: at the (?:front )?door)?',
     _sound('doorbell', 'the doorbell: a single ding is a different sound')),
    (rf'{RINGER} (?:{RING_BELL}) (?:the |our |my |a )?(?:{DOORBELL}|bell)(?: at the (?:front )?door)?',
     _sound('doorbell')),
    (rf'{RINGER} (?:rings|is ringing|rang) (?:at )?the (?:front )?door|{RINGER} (?:rings|is ringing)',
     _sound('doorbell')),
    (rf'(?:{HEAR} )?{DET}(?:{DOORBELL}|ding dong|doorbell ringing|ringing at the door|ring at the door)',
     _sound('doorbell')),
    # knocks
    (rf'{KNOCKER} (?:{KNOCKS})(?: (?P<src>{ON_DOOR}))?', _sound('knock')),
    (rf'(?:{HEAR} )?{DET}(?:some )?(?:{KNOCK_NOUN})(?: (?P<src>{ON_DOOR}))?', _sound('knock')),
    (r'(?:the |my |our )?(?:front |back )?door (?:gets knocked on|is knocked on|is knocked|is knocking)',
     _sound('knock')),
    (r'(?:someone|somebody|anyone|anybody) (?:is )?at the door knocking', _sound('knock')),
    # speech
    (rf'{TALKER} (?:{TALKS})(?: in the room| nearby| out loud| here)?', _speech),
    (rf'(?:{HEAR} )?(?:{VOICE})(?: in the room| nearby| here)?', _speech),
    (r'(?:a voice|voices) (?:is heard|are heard|can be heard|speaks|starts talking)', _speech),
    (r'(?:there is|there are) (?:talking|speaking|voices|speech|a conversation|chatter)(?: in the room| nearby)?',
     _speech),
]
PHRASES: list[tuple[re.Pattern[str], Builder]] = [(re.compile(p), b) for p, b in _PHRASES]


def match_condition(body: str) -> Reading | Unfollowed | None:
    """The reading of a whole condition phrase, an Unfollowed for a matched phrase with a bad part, or None."""
    first_unfollowed: Unfollowed | None = None
    for pattern, build in PHRASES:
        m = pattern.fullmatch(body)
        if m is None:
            continue
        result = build(m)
        if isinstance(result, Reading):
            return result
        first_unfollowed = first_unfollowed or result
    return first_unfollowed


def search_condition(body: str) -> tuple[Reading, str] | None:
    """The longest run of whole words in ``body`` that is a followed condition, and the words left over:
    for saying what is and what is not followed."""
    words = body.split()
    for length in range(len(words) - 1, 0, -1):
        for start in range(0, len(words) - length + 1):
            result = match_condition(' '.join(words[start:start + length]))
            if isinstance(result, Reading):
                rest = ' '.join(words[:start] + words[start + length:])
                return result, rest
    return None
