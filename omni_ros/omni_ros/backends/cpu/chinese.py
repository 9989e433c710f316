"""Chinese watch instructions for the kinds the CPU backend follows.

For example 电梯到16楼告诉我, 红灯变绿的时候提醒我, 有人敲门就叫我.

As for English, the condition must be accounted for whole: the request words around it (请, 告诉我, 的时候,
如果...就...) are removed, and what is left must be one of the phrases below. Anything else is refused
with the part that is not followed (a negation 不要/别, a change away 不再/灭了, a conjunction 和/或者/而且,
a person's action or identity, a sign text in Chinese characters, which the scene text reader does not read).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from omni_ros.backends.cpu.conditions import Condition, ConditionKind
from omni_ros.backends.cpu.numbers import chinese_to_digits
from omni_ros.backends.cpu.phrases import MAX_NUMBER, Reading, alt
from omni_ros.backends.cpu.refusals import Refusal

_CJK = re.compile(r'[\u4e00-\u9fff]')


def is_chinese(text: str) -> bool:
    return bool(_CJK.search(text))


@dataclass(frozen=True)
class ChineseReading:
    reading: Reading | None
    refusal: Refusal | None
    continuous: bool
    lead_in: bool
    negated: bool


# Words that contain a numeral but are not numbers, replaced before numerals become digits.
_PROTECT = (('一氧化碳', '<CO>'), ('一下', ''), ('一声', ''), ('一旦', '<ONCE>'), ('一点', ''), ('一直', '<ALWAYS>'),
            ('一有', '<ONCE>'), ('万一', '<ONCE>'), ('第一时间', '马上'), ('一个人', '1个人'))
_PUNCT = re.compile(r'[\s，。！？、,.!?；;：:～~…“”"\'「」『』（）()]+')

_POLITE = alt('请你', '请', '麻烦你', '麻烦', '你能不能', '你可不可以', '能不能', '可不可以', '可以', '你可以', '能',
              '你能', '帮我', '帮忙', '你帮我', '劳驾', '拜托', '拜托你', '机器人', '嘿', '喂', '你好', '嗨',
              '小助手', '好的', '那个', '嗯', '呃', '哎', '好', '你')
_TELL = alt('告诉我', '告诉我们', '提醒我', '提醒我们', '通知我', '通知我们', '叫我', '叫我们', '喊我', '跟我说',
            '和我说', '对我说', '跟我讲', '说一声', '跟我说一声', '提醒', '通知', '告诉', '报告', '报警', '叫一声',
            '喊一声', '告知我', '提示我', '让我知道', '说', '叫醒我', '告诉我一声', '提醒我一声', '通知我一声',
            '给我报个信', '知会我')
_WATCH = alt('注意', '留意', '看着', '盯着', '听着', '等着', '等', '帮我看着', '帮我盯着', '帮我听着', '帮我留意',
             '帮我注意', '关注', '监视', '监听')
_WHEN_END = alt('的时候', '时候', '时', '之后', '以后', '后', '的话', '那一刻', '一刻')
_THEN = alt('就', '马上', '立刻', '立即', '赶紧', '请', '便', '那就', '那么就', '然后', '就请', '麻烦')
_IF = alt('如果', '要是', '假如', '当', '等到', '一旦', '<ONCE>', '只要', '若是', '倘若', '在', '等', '每当', '每次',
          '每一次', '无论何时', '任何时候')
_EVERY = re.compile(r'每当|每次|每一次|无论何时|任何时候|<ALWAYS>|都要|都告诉|都提醒|都通知|都叫')
_END = alt('吧', '啊', '呀', '哦', '喔', '哈', '好吗', '好不好', '可以吗', '行吗', '谢谢', '谢谢你', '多谢', '一下')

_COLOR = {'红': 'red', '绿': 'green', '黄': 'yellow', '橙': 'yellow', '琥珀': 'yellow'}
_N = r'(?P<n>\d{1,3})'


def _light(m: re.Match[str]) -> Reading:
    return Reading(Condition(ConditionKind.LIGHT_COLOR, _COLOR[m.group('c')]))


def _number(m: re.Match[str]) -> Reading | Refusal:
    n = int(m.group('n'))
    if n > MAX_NUMBER:
        return Refusal(m.group('n'), f'a display number has at most three digits, up to {MAX_NUMBER}')
    return Reading(Condition(ConditionKind.NUMBER_SHOWN, str(n)), f'any display or sign that shows {n} counts')


def _sound(value: str, note: str = '') -> Callable[[re.Match[str]], Reading | Refusal]:
    return lambda m: Reading(Condition(ConditionKind.SOUND, value, rise=1, fall=1), note)


def _count(m: re.Match[str]) -> Reading | Refusal:
    n = int(m.group('n'))
    rel = m.group('rel') or ''
    more = m.group('more') or ''
    if rel in ('超过', '多于', '大于', '高于') or more in ('多', '以上') and rel == '':
        op, value, note = '>=', n + 1, f'more than {n} means {n + 1} or more'
    elif rel in ('至少', '不少于') or more in ('或以上', '或更多', '及以上', '或者更多'):
        op, value, note = '>=', n, ''
    elif rel in ('少于', '不到', '小于', '低于'):
        if n < 1:
            return Refusal(m.group(0), 'fewer than no one is never true')
        op, value, note = '<=', n - 1, f'fewer than {n} means {n - 1} or fewer'
    elif rel in ('最多', '不超过', '至多'):
        op, value, note = '<=', n, ''
    else:
        op, value, note = '==', n, ''
    if value > 50:
        return Refusal(m.group(0), 'I count up to 50 people')
    if value == 0 and op in ('==', '<='):
        return Reading(Condition(ConditionKind.NOBODY_PRESENT, fall=1, rise=2))
    if op == '>=' and value == 1:
        return Reading(Condition(ConditionKind.PERSON_PRESENT, fall=3))
    return Reading(Condition(ConditionKind.PEOPLE_COUNT, f'{op}{value}'), note)


_LIGHT_NOUN = alt('红绿灯', '交通灯', '信号灯', '灯', '人行灯', '行人灯', '指示灯', '路口的灯', '前面的灯', '路灯')
_C = r'(?P<c>红|绿|黄|橙|琥珀)'
_PERSON = alt('有人', '有个人', '有一个人', '有客人', '有访客', '有人来', '来人', '某人', '谁', '人', '客人', '访客',
              '有谁')
_SOMEONE_COMES = alt('进来', '进门', '来了', '来', '到了', '出现', '出现了', '在门口', '到门口', '走进来', '走进',
                     '进屋', '进房间', '回来', '回来了', '过来', '走过来', '露面', '在', '在这里', '在那里', '经过',
                     '路过')
_PHRASES: list[tuple[str, Callable[[re.Match[str]], Reading | Refusal]]] = [
    # traffic light
    (rf'(?:{_LIGHT_NOUN})?(?:从(?:红|绿|黄)(?:灯|色)?)?(?:变成|变为|变|转为|转成|转|换成|切换到|跳到|'
     rf'成了|是)?{_C}(?:灯|色)'
     rf'(?:了|亮了|亮起来|亮起|亮)?', _light),
    (rf'(?:{_LIGHT_NOUN})(?:从(?:红|绿|黄)(?:灯|色)?)?(?:变成|变为|变|转为|转成|转|换成|切换到|跳到|成了|'
     rf'是){_C}(?:灯|色)?(?:了)?', _light),
    (rf'(?:红灯|绿灯|黄灯)?(?:变成|变为|变|转为|转成|转|换成){_C}(?:灯|色)?(?:了)?', _light),
    (rf'{_C}灯(?:亮|亮了|亮起|亮起来|出现|出现了|开了)', _light),
    # floor display
    (rf'(?:电梯|我们|我)?(?:到|到了|到达|抵达|上到|下到|停在|停到|来到|达到|升到|降到|'
     rf'在)?(?:第)?{_N}(?:楼|层|层楼)(?:了|到了)?', _number),
    (rf'(?:电梯|我们|我)?(?:到|到了|到达|抵达|上到|下到|停在|停到|来到|升到|降到)(?:第)?{_N}(?:楼|'
     rf'层)?(?:了)?', _number),
    (rf'(?:显示屏|屏幕|显示器|电梯显示屏|楼层显示|数字|面板|电梯屏幕|电梯里的屏幕|显示)(?:上)?(?:显示|'
     rf'出现|是|变成|跳到|到了|写着)'
     rf'(?:了)?(?:数字)?{_N}(?:楼|层)?(?:了)?', _number),
    (rf'(?:数字)?{_N}(?:出现|亮起|亮了|显示出来)(?:了)?', _number),
    # people
    (rf'(?:有人|有个人|有1个人|有客人|有访客|有谁|来人|来客人)(?:{_SOMEONE_COMES})?(?:了)?', lambda m: Reading(
        Condition(ConditionKind.PERSON_PRESENT, fall=3),
        'anywhere in view: I cannot tell where the door is' if '门' in m.group(0) else '')),
    (r'(?:看到|看见|发现|见到)(?:有)?(?:人|有人|1个人|客人|人影|人脸|脸)(?:了)?', lambda m: Reading(
        Condition(ConditionKind.PERSON_PRESENT, fall=3))),
    (r'(?:大家|所有人|人|人们|他们|客人|客人们|访客)?(?:都)?(?:走|离开|走光|走完|出去|不在)(?:了)?|(?:没人|没有人|'
     r'一个人都没有|房间空了|屋里没人|房间里没人|屋子空了|人都走了|人走光了|空无一人|没有人了|没人了|看不到人了|'
     r'看不见人了|房间没人了|这里没人了)(?:了)?',
     lambda m: Reading(Condition(ConditionKind.NOBODY_PRESENT, fall=1, rise=2))),
    (rf'(?:有)?(?P<rel>超过|多于|大于|高于|至少|不少于|少于|不到|小于|低于|最多|不超过|'
     rf'至多)?{_N}(?:个)?(?:人|位客人|个客人|位)'
     rf'(?P<more>以上|或以上|或更多|及以上|或者更多|多)?(?:了|在场|在|出现|在房间里|在屋里|进来)?(?:了)?', _count),
    (rf'(?:人数|人)(?:超过|多于|大于)(?P<rel>){_N}(?P<more>)(?:个)?(?:人)?(?:了)?',
     lambda m: _count_more(m)),
    # signs: the reader reads Latin letters and digits only
    (r'(?:牌子|标志|标牌|屏幕|指示牌|告示|招牌|显示屏|屏幕上|牌子上|标志上)(?:上)?(?:写着|显示|写的是|出现|写了|是)'
     r'[“"\']?(?P<t>[A-Za-z0-9][A-Za-z0-9 &!?\'-]{0,30})[”"\']?(?:了)?', lambda m: _text(m.group('t'))),
    (r'(?:看到|看见|出现)[“"\']?(?P<t>[A-Za-z0-9][A-Za-z0-9 &!?\'-]{0,30})[”"\']?(?:这个词|这个字|的字|'
     r'字样|的牌子|的标志)?(?:了)?',
     lambda m: _text(m.group('t'))),
    # lighting
    (r'(?:房间|屋里|屋子|这里|周围|画面|四周|天)?(?:变暗|变黑|黑了|暗了|变暗了|变黑了|黑下来|暗下来|黑下来了|暗下来了)|'
     r'(?:灯|电灯|屋里的灯|房间的灯|所有的灯)(?:被)?(?:关|灭|熄灭|关掉|关上|黑)(?:了)?|'
     r'(?:有人)?关灯(?:了)?|停电(?:了)?',
     lambda m: _lighting(m, 'dark')),
    (r'(?:灯|电灯|屋里的灯|房间的灯|所有的灯)(?:被)?(?:开了|亮了|打开了|亮起来|亮起来了|开起来)|(?:有人)?开灯(?:了)?|'
     r'(?:房间|屋里|屋子|这里)(?:变亮|亮了|变亮了|亮起来了)', lambda m: _lighting(m, 'lit')),
    # sounds
    (r'(?:有人)?敲门(?:了)?|(?:听到|听见|有)(?:了)?敲门(?:声)?|(?:有)?敲门声(?:了)?|(?:门|窗户)被敲(?:了)?|有人在敲门',
     _sound('knock')),
    (r'(?:门铃|电铃)(?:响|响了|响起|响起来|叫了)|(?:有人)?(?:按|按了|摁|摁了)门铃|(?:听到|'
     r'听见)(?:了)?门铃(?:声)?|门铃声',
     _sound('doorbell')),
    (r'(?:电话|手机|座机|固定电话|我的手机|我的电话)(?:铃)?(?:响|响了|响起|响起来|来电)|(?:听到|'
     r'听见)(?:了)?(?:电话|手机)(?:铃)?声|'
     r'有电话(?:来了|打来)?|来电话(?:了)?', _sound('phone', 'a phone ringing: a phone on silent is not heard')),
    (r'(?:水壶|烧水壶|开水壶)(?:响|响了|叫|叫了|鸣笛|鸣叫|吹哨|开始叫)(?:了)?|(?:听到|'
     r'听见)(?:了)?水壶(?:的)?(?:声音|哨声|叫声)',
     _sound('kettle')),
    (r'(?:烟雾报警器|烟感|烟雾探测器|火警报警器|火灾报警器|火警)(?:响|响了|响起|叫|报警|响起来)(?:了)?|'
     r'(?:听到|听见)(?:了)?'
     r'(?:烟雾报警器|火警|火灾报警器)(?:的)?(?:声音|警报)?', _sound('smoke_alarm')),
    (r'<CO>(?:报警器|探测器|警报器)(?:响|响了|响起|叫|报警)(?:了)?|(?:听到|听见)(?:了)?<CO>(?:报警器|'
     r'探测器)(?:的)?(?:声音)?',
     _sound('co_alarm')),
    (r'(?:听到|听见|有)(?:了)?(?:哔|嘀|滴|哔哔|嘀嘀|滴滴)(?:的)?(?:声|一声)?|(?P<src>烤箱|微波炉|定时器|'
     r'计时器|洗衣机|烘干机|洗碗机|'
     r'冰箱|电饭煲|空气炸锅|闹钟)(?:响了|响|哔哔响|嘀嘀响|叫了|好了|结束了|滴滴响)', lambda m: _beep(m)),
    (r'(?:听到|听见|有)(?:了)?(?:叮|叮咚?一?声|铃声)(?:的)?(?:声)?|(?P<src>微波炉|电梯|烤面包机)叮(?:了|的|一下)?',
     lambda m: _ding(m)),
    # speech
    (r'(?:有人|有谁|谁)(?:在)?(?:说话|讲话|开口|出声|聊天)(?:了)?|(?:听到|听见)(?:了)?(?:有人)?(?:说话|'
     r'讲话)(?:的)?(?:声音|声)?|'
     r'(?:听到|听见)(?:了)?人声', lambda m: Reading(Condition(ConditionKind.SPEECH, fall=3),
                                             'any voice: I do not follow what is said')),
]


def _count_more(m: re.Match[str]) -> Reading | Refusal:
    n = int(m.group('n'))
    if n + 1 > 50:
        return Refusal(m.group(0), 'I count up to 50 people')
    return Reading(Condition(ConditionKind.PEOPLE_COUNT, f'>={n + 1}'), f'more than {n} means {n + 1} or more')


def _text(raw: str) -> Reading | Refusal:
    value = ' '.join(re.sub(r"[^A-Z0-9 &'!?-]", ' ', raw.upper()).split())
    if not value:
        return Refusal(raw, 'signs are read in Latin letters and digits only')
    if value.isdigit():
        n = int(value)
        if n > MAX_NUMBER:
            return Refusal(raw, f'a display number has at most three digits, up to {MAX_NUMBER}')
        return Reading(Condition(ConditionKind.NUMBER_SHOWN, str(n)), f'any display or sign that shows {n} counts')
    return Reading(Condition(ConditionKind.TEXT_SHOWN, value, fall=3),
                   f'any sign or screen with the words {value}, whole and in this order')


def _lighting(m: re.Match[str], value: str) -> Reading | Refusal:
    if m.group(0).startswith('天'):
        return Refusal(m.group(0), "the daylight outside is not followed; I tell you when the camera's view goes "
                       'dark or the lights come on')
    if '停电' in m.group(0):
        return Reading(Condition(ConditionKind.LIGHTING, value), 'the room going dark is what I see of a power cut')
    return Reading(Condition(ConditionKind.LIGHTING, value))


def _beep(m: re.Match[str]) -> Reading:
    src = m.groupdict().get('src')
    note = f"any beep: I cannot tell the {_SOURCES.get(src, src)}'s beep from another beep" if src else ''
    return Reading(Condition(ConditionKind.SOUND, 'beep', rise=1, fall=1), note)


def _ding(m: re.Match[str]) -> Reading:
    src = m.groupdict().get('src')
    note = f"any ding: I cannot tell the {_SOURCES.get(src, src)}'s ding from another ding" if src else ''
    return Reading(Condition(ConditionKind.SOUND, 'ding', rise=1, fall=1), note)


_SOURCES = {'烤箱': 'oven', '微波炉': 'microwave', '定时器': 'timer', '计时器': 'timer', '洗衣机': 'washing machine',
            '烘干机': 'dryer', '洗碗机': 'dishwasher', '冰箱': 'fridge', '电饭煲': 'rice cooker',
            '空气炸锅': 'air fryer',
            '闹钟': 'alarm clock', '电梯': 'elevator', '烤面包机': 'toaster'}
PHRASES = [(re.compile(f'(?:{p})(?:了|啦|的)?'), b) for p, b in _PHRASES]

_REFUSALS: tuple[tuple[str, str], ...] = (
    (r'不要|别|不用|不必|不需要|不许|甭',
     'a negation is not followed; I tell you when something happens, not when it does not'),
    (r'不再|不是.*了|灭了|熄了|停了|停止|结束|没有声音|安静',
     'something ending or stopping being true is not followed; I tell you '
     'when something becomes true'),
    (r'和|或者|或是|或|而且|并且|同时|还有|以及|然后|之前|以前|又',
     'one watch follows one condition, not two together or either of '
     'two; set one watch for each'),
    (r'陌生人|小偷|男人|女人|男的|女的|小孩|孩子|老人|快递员|快递|邮递员|警察|我妈|我爸|妈妈|爸爸|老婆|'
     r'老公|儿子|女儿|朋友|同事|老板|邻居|'
     r'[张王李赵刘陈杨黄周吴][一-龥]{1,2}(?:来|到|进)',
     'who someone is is not followed; I see that someone is there, not who it is'),
    (r'摔倒|跌倒|倒下|坐下|站起|躺下|挥手|跑|打架|哭|喊|叫喊|笑|拿|偷|开门|关门|看着我|靠近|睡觉|醒来|吃|'
     r'喝|抽烟|受伤|晕倒',
     "what a person does is not followed; I see whether people are in view"),
    (r'狗|猫|宠物|鸟|车|汽车|公交|卡车|自行车|包裹|快件|动物',
     'only people are detected, and only by how many are in view'),
    (r'很多人|好多人|几个人|一些人|一群人|人很多|挤|人多',
     'a vague number of people is not followed; say a number: 超过3个人'),
    (r'[一-龥]{1,}(?:字|汉字)|写着[一-龥]|显示[一-龥]|出现[一-龥]{2,}',
     'sign text in Chinese characters is not read: the scene text '
     'reader reads Latin letters and digits'),
    (r'蓝|白|紫|粉|闪|闪烁', 'only steady red, yellow and green traffic lights are told apart'),
    (r'大堂|大厅|一楼大厅|地下室|顶楼|楼顶|下一层|下一楼',
     'that is not a number I can read; say the floor number the display shows'),
    (r'狗叫|哭声|音乐|警笛|喇叭|玻璃|爆炸|声音|噪音|响声|动静',
     'that sound is not followed; I hear beeps, dings, the doorbell, knocks, a '
     'phone ringing, a kettle whistling, smoke and carbon-monoxide alarms, and voices'),
    (r'报警器|警报|闹铃',
     "which alarm is not clear: I hear the smoke alarm's and the carbon-monoxide alarm's patterns"),
)


def read(text: str) -> ChineseReading:
    """The reading of a Chinese instruction, or why it is refused."""
    t = _PUNCT.sub('', text)
    for word, replacement in _PROTECT:
        t = t.replace(word, replacement)
    t = chinese_to_digits(t)
    continuous = bool(_EVERY.search(t))
    negated = bool(re.match(rf'^(?:{_POLITE})*(?:不要|别|不用|不必)(?:{_TELL}|{_WATCH})', t))
    body, lead_in = _strip(t)
    if negated:
        return ChineseReading(None, Refusal(t[:6], 'a negation is not followed; I tell you when something happens, '
                                                   'not when it does not'), continuous, lead_in, True)
    for pattern, build in PHRASES:
        m = pattern.fullmatch(body)
        if m is None:
            continue
        result = build(m)
        if isinstance(result, Reading):
            return ChineseReading(result, None, continuous, lead_in, False)
        return ChineseReading(None, result, continuous, lead_in, False)
    for word, reason in _REFUSALS:
        m = re.search(word, body)
        if m:
            return ChineseReading(None, Refusal(m.group(0), reason), continuous, lead_in, False)
    return ChineseReading(None, Refusal(body, 'this is not something I can watch for'), continuous, lead_in, False)


_LEAD = re.compile(rf'^(?:{_POLITE})*(?:{_TELL}|{_WATCH})(?:{_TELL})?(?:一下)?(?:{_IF})?(?P<body>.+?)(?:{_WHEN_END})?'
                   rf'(?:{_END})*$')
_FIRST = re.compile(rf'^(?:{_POLITE})*(?:{_IF})?(?P<body>.+?)(?:{_WHEN_END})?(?:[,，]?(?:{_THEN})*(?:{_POLITE})*)'
                    rf'(?:{_TELL})(?:我)?(?:一下|一声)?(?:{_END})*$')
_BARE = re.compile(rf'^(?:{_POLITE})*(?:{_IF})?(?P<body>.+?)(?:{_WHEN_END})?(?:{_END})*$')


def _strip(t: str) -> tuple[str, bool]:
    t = re.sub(r'每当|每次|每一次|无论何时|任何时候|<ALWAYS>', '', t)
    t = re.sub(r'都(?=告诉|提醒|通知|叫|跟|和|说)', '', t)
    for pattern, lead in ((_FIRST, True), (_LEAD, True), (_BARE, False)):
        m = pattern.match(t)
        if m:
            body = m.group('body')
            body = re.sub(rf'(?:{_WHEN_END})$', '', body)
            body = re.sub(rf'^(?:{_IF})', '', body)
            return body, lead
    return t, False
