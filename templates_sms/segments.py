"""How many SMS segments a text costs, and why.

GSM-7 carries 160 characters in one segment, or 153 per segment when split; the extension
characters (``^ { } \\ [ ~ ] | €`` and form feed) take two, as an escape pair. Any character
outside GSM-7 switches the whole message to UCS-2: 70 UTF-16 units in one segment, 67 when
split, where an emoji (a surrogate pair) takes two. Neither an escape pair nor a surrogate
pair is ever split across segments, so a split text can need more segments than a plain
division says.

``static/templates_sms/segments.js`` implements the same rule for the editor; a test runs both
on the same strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The longest text Twilio takes in one message (its error 21617 above it); a template, a
# message typed in a form or the API, and a rendered text are all held to it.
MAX_TEXT = 1600

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "^{}\\[~]|€\f"
_BASIC = frozenset(GSM7_BASIC) - {"\x1b"}
_EXTENSION = frozenset(GSM7_EXTENSION)

# The usual culprits that force UCS-2, and what to write instead. Replacing a non-breaking
# space matters most: it looks like a space and doubles the cost of a message.
REPLACEMENTS = {
    "\u2018": "'",  # left and right single quotes, low and reversed ones
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u201c": '"',  # double quotes: left, right, low
    "\u201d": '"',
    "\u201e": '"',
    "\u2013": "-",  # en dash, em dash, minus sign
    "\u2014": "-",
    "\u2212": "-",
    "\u00a0": " ",  # non-breaking space
    "\u2009": " ",  # thin space
    "\u2026": "...",  # ellipsis
}

SINGLE = {"GSM-7": 160, "UCS-2": 70}
MULTI = {"GSM-7": 153, "UCS-2": 67}


@dataclass(frozen=True)
class SegmentInfo:
    encoding: str  # "GSM-7" or "UCS-2"
    characters: int  # Unicode code points
    units: int  # septets (GSM-7) or UTF-16 units (UCS-2)
    segments: int
    ucs2_characters: list[str] = field(default_factory=list)


def _cost(char: str, encoding: str) -> int:
    if encoding == "GSM-7":
        return 2 if char in _EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def count_segments(text: str) -> SegmentInfo:
    culprits = list(dict.fromkeys(ch for ch in text if ch not in _BASIC and ch not in _EXTENSION))
    encoding = "UCS-2" if culprits else "GSM-7"
    costs = [_cost(ch, encoding) for ch in text]
    units = sum(costs)
    if units == 0:
        segments = 0
    elif units <= SINGLE[encoding]:
        segments = 1
    else:
        limit, segments, used = MULTI[encoding], 1, 0
        for cost in costs:
            if used + cost > limit:  # a pair never straddles two segments
                segments, used = segments + 1, 0
            used += cost
    return SegmentInfo(
        encoding=encoding,
        characters=len(text),
        units=units,
        segments=segments,
        ucs2_characters=culprits,
    )


def replace_culprits(text: str) -> str:
    return "".join(REPLACEMENTS.get(ch, ch) for ch in text)
