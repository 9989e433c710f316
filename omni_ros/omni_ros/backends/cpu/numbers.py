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
            if i + 1 < len(tokens) and tokens[i + 1].lower() in UNIT_VALUES and 0 < UNIT_VALUES[tokens[i + 1].lower()] < 10:
                value += UNIT_VALUES[tokens[i + 1].lower()]
                i += 1
            out.append(str(value))
        elif word in UNIT_VALUES:
            out.append(str(UNIT_VALUES[word]))
        else:
            out.append(tokens[i])
        i += 1
    return ' '.join(out)
