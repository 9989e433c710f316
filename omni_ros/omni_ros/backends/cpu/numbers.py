"""Number words to digits, so "floor sixteen", "the sixteenth floor" and "floor 16" read alike."""

from __future__ import annotations

import re

_UNITS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven',
          'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen']
_TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety']
_ORDINAL_UNITS = ['zeroth', 'first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth', 'ninth',
                  'tenth', 'eleventh', 'twelfth', 'thirteenth', 'fourteenth', 'fifteenth', 'sixteenth',
                  'seventeenth', 'eighteenth', 'nineteenth']
_ORDINAL_TENS = ['', '', 'twentieth', 'thirtieth', 'fortieth', 'fiftieth', 'sixtieth', 'seventieth', 'eightieth',
                 'ninetieth']

UNIT_VALUES = {w: i for i, w in enumerate(_UNITS)} | {w: i for i, w in enumerate(_ORDINAL_UNITS)}
TENS_VALUES = {w: i * 10 for i, w in enumerate(_TENS) if w} | {w: i * 10 for i, w in enumerate(_ORDINAL_TENS) if w}
NUMBER_WORDS = tuple(_UNITS) + tuple(w for w in _TENS if w)  # for the speech grammar


def words_to_digits(text: str) -> str:
    """Replace spelled numbers below 100 (cardinal or ordinal) and "16th" by digits; other words stay."""
    text = re.sub(r'\b(\d+)(st|nd|rd|th)\b', r'\1', text)
    words = re.split(r'(\s+|-)', text)
    out: list[str] = []
    i = 0
    tokens = [w for w in words if w and not w.isspace() and w != '-']
    while i < len(tokens):
        word = tokens[i].lower()
        if word in TENS_VALUES:
            value = TENS_VALUES[word]
            following = tokens[i + 1].lower() if i + 1 < len(tokens) else ''
            if following in UNIT_VALUES and 0 < UNIT_VALUES[following] < 10:
                value += UNIT_VALUES[following]
                i += 1
            out.append(str(value))
        elif word in UNIT_VALUES:
            out.append(str(UNIT_VALUES[word]))
        else:
            out.append(tokens[i])
        i += 1
    return ' '.join(out)


_CN_DIGITS = {'零': 0, '〇': 0, '一': 1, '二': 2, '两': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8,
              '九': 9}
_CN_NUMBER = re.compile(r'[零〇一二两三四五六七八九十百]+')


def _chinese_number(word: str) -> int | None:
    """A Chinese numeral below 1000 ("十六", "二十一", "一百零五", "一六" digit by digit), or None."""
    if all(ch in _CN_DIGITS for ch in word):
        return int(''.join(str(_CN_DIGITS[ch]) for ch in word))  # read digit by digit: 一六 = 16
    value, current = 0, None
    for ch in word:
        if ch in '零〇' and value and current is None:
            continue  # the 零 of 一百零五 only says the tens are empty
        if ch in _CN_DIGITS:
            if current is not None:
                return None  # two digits in a row inside a spelled number: not a numeral
            current = _CN_DIGITS[ch]
        elif ch == '十':
            value += (1 if current is None else current) * 10
            current = None
        elif ch == '百':
            if current is None or value:
                return None
            value += current * 100
            current = None
    if current is not None:
        value += current
    return value


def chinese_to_digits(text: str) -> str:
    """Chinese numerals as digits: "十六楼" -> "16楼", "两个人" -> "2个人". Words that merely contain a numeral
    (一氧化碳, 一下) must be replaced before this is called."""
    def repl(m: re.Match[str]) -> str:
        value = _chinese_number(m.group(0))
        return m.group(0) if value is None else str(value)
    return _CN_NUMBER.sub(repl, text)
