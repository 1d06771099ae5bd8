"""How many SMS segments a text costs: GSM-7 and UCS-2, escape pairs and surrogate pairs."""

from __future__ import annotations

import pytest

from templates_sms.preview import message_text
from templates_sms.segments import count_segments, replace_culprits

EMOJI = "\U0001f600"  # 😀, outside the BMP: a surrogate pair in UTF-16
ZHE = "ж"  # Cyrillic: forces UCS-2, one UTF-16 unit

# (text, encoding, units, segments)
SEGMENT_TABLE = [
    pytest.param("", "GSM-7", 0, 0, id="empty"),
    pytest.param("a", "GSM-7", 1, 1, id="gsm-1"),
    pytest.param("a" * 160, "GSM-7", 160, 1, id="gsm-160"),
    pytest.param("a" * 161, "GSM-7", 161, 2, id="gsm-161"),
    pytest.param("a" * 306, "GSM-7", 306, 2, id="gsm-306"),
    pytest.param("a" * 307, "GSM-7", 307, 3, id="gsm-307"),
    pytest.param(ZHE * 70, "UCS-2", 70, 1, id="ucs2-70"),
    pytest.param(ZHE * 71, "UCS-2", 71, 2, id="ucs2-71"),
    pytest.param(ZHE * 134, "UCS-2", 134, 2, id="ucs2-134"),
    pytest.param(ZHE * 135, "UCS-2", 135, 3, id="ucs2-135"),
    pytest.param(EMOJI, "UCS-2", 2, 1, id="one-emoji"),
    pytest.param(EMOJI * 35, "UCS-2", 70, 1, id="emoji-35"),
    pytest.param(EMOJI * 36, "UCS-2", 72, 2, id="emoji-36"),
    # 66 + 2 = 68 units still fit one segment of 70.
    pytest.param(ZHE * 66 + EMOJI, "UCS-2", 68, 1, id="emoji-after-66-single"),
    # 71 units: split; segment 1 holds the 66 "ж" (the emoji would make 68 > 67), segment 2
    # holds the emoji and the 3 "ж".
    pytest.param(ZHE * 66 + EMOJI + ZHE * 3, "UCS-2", 71, 2, id="emoji-at-boundary-small"),
    # 134 units would fit 2 segments of 67, but the emoji cannot straddle units 67-68:
    # segment 1 = 66 "ж", segment 2 = emoji + 65 "ж" (67), segment 3 = the last "ж".
    pytest.param(ZHE * 66 + EMOJI + ZHE * 66, "UCS-2", 134, 3, id="emoji-never-split"),
    # ... while an emoji that ends exactly on the boundary needs no extra segment.
    pytest.param(ZHE * 65 + EMOJI + ZHE * 67, "UCS-2", 134, 2, id="emoji-ends-on-boundary"),
    pytest.param("€" * 80, "GSM-7", 160, 1, id="euro-80"),
    pytest.param("€" * 81, "GSM-7", 162, 2, id="euro-81"),
    pytest.param("[" * 80, "GSM-7", 160, 1, id="bracket-80"),
    pytest.param("[" * 81, "GSM-7", 162, 2, id="bracket-81"),
    pytest.param("a" * 159 + "€", "GSM-7", 161, 2, id="euro-pushes-over-160"),
    # 164 septets: segment 1 = 152 "a" (the € would make 154 > 153), segment 2 = € + 10 "a".
    pytest.param("a" * 152 + "€" + "a" * 10, "GSM-7", 164, 2, id="escape-pair-at-boundary"),
    # 306 septets would fit 2 segments of 153, but the € moves to segment 2 whole:
    # segment 1 = 152, segment 2 = € + 151 "a" (153), segment 3 = the last "a".
    pytest.param("a" * 152 + "€" + "a" * 152, "GSM-7", 306, 3, id="escape-pair-never-split"),
    pytest.param("a" * 151 + "€" + "a" * 153, "GSM-7", 306, 2, id="escape-pair-ends-on-boundary"),
    pytest.param("a" * 1600, "GSM-7", 1600, 11, id="gsm-1600"),
    pytest.param("a" * 1530, "GSM-7", 1530, 10, id="gsm-1530"),
    pytest.param("a" * 1531, "GSM-7", 1531, 11, id="gsm-1531"),
]


@pytest.mark.parametrize(("text", "encoding", "units", "segments"), SEGMENT_TABLE)
def test_it_counts_units_and_segments_as_the_table_says(text, encoding, units, segments):
    info = count_segments(text)

    assert (info.encoding, info.units, info.segments) == (encoding, units, segments)


def test_it_counts_an_emoji_as_one_character_but_two_units():
    info = count_segments(EMOJI)

    assert info.characters == 1
    assert info.units == 2
    assert info.ucs2_characters == [EMOJI]


def test_it_counts_characters_as_code_points_not_utf16_units_or_graphemes():
    thumbs_up_medium_skin = "\U0001f44d\U0001f3fd"
    e_with_combining_acute = "e\u0301"

    assert count_segments(thumbs_up_medium_skin).characters == 2
    assert count_segments(thumbs_up_medium_skin).units == 4
    assert count_segments(e_with_combining_acute).characters == 2
    assert count_segments(e_with_combining_acute).units == 2
    assert count_segments("€" * 3).characters == 3
    assert count_segments("€" * 3).units == 6


def test_it_counts_the_escape_characters_as_two_septets():
    for char in "^{}\\[~]|€\f":
        info = count_segments(char)
        assert (info.encoding, info.characters, info.units) == ("GSM-7", 1, 2), repr(char)


def test_it_lists_the_distinct_ucs2_culprits_in_order_of_appearance():
    info = count_segments("Hi жa\u2019b ж\u2019 😀 é\tж😀")

    assert info.encoding == "UCS-2"
    assert info.ucs2_characters == ["ж", "\u2019", "😀", "\t"]


def test_it_lists_no_culprits_for_a_gsm7_text():
    assert count_segments("Hello {first} [x] €5 ~ ^").ucs2_characters == []


@pytest.mark.parametrize("char", ["é", "ü", "£", "¥", "Ä", "ñ", "à", "§", "¿", "Δ", "Ω"])
def test_it_keeps_accented_letters_and_symbols_of_the_gsm_alphabet_in_gsm7(char):
    info = count_segments(f"Caf{char} " * 40)

    assert info.encoding == "GSM-7"
    assert info.ucs2_characters == []
    assert info.units == 200


@pytest.mark.parametrize("char", ["\t", "\u03b1", "ç", "ê", "\u00a0", "\u2019", "\x1b"])
def test_it_switches_to_ucs2_for_a_character_outside_gsm7(char):
    info = count_segments("a" * 69 + char)

    assert info.encoding == "UCS-2"
    assert info.ucs2_characters == [char]
    assert info.segments == 1
    assert count_segments("a" * 70 + char).segments == 2


def test_it_replaces_smart_punctuation_and_odd_spaces_by_ascii():
    text = "\u2018a\u2019 \u201cb\u201d c\u2013d\u2014e\u2026 f\u00a0g"

    replaced = replace_culprits(text)

    assert replaced == "'a' \"b\" c-d-e... f g"
    assert count_segments(text).encoding == "UCS-2"
    info = count_segments(replaced)
    assert info.encoding == "GSM-7"
    assert info.ucs2_characters == []


def test_it_replaces_low_quotes_minus_sign_and_thin_space_too():
    assert replace_culprits("\u201aa\u201b \u201eb \u2212 1\u20092") == "'a' \"b - 1 2"


def test_it_leaves_other_characters_alone_when_replacing_culprits():
    text = "Привет 😀 é € [x]\n"

    assert replace_culprits(text) == text


def test_it_saves_segments_by_replacing_a_non_breaking_space():
    text = "a" * 80 + "\u00a0" + "a" * 79

    assert count_segments(text).segments == 3  # 160 UTF-16 units in UCS-2
    assert count_segments(replace_culprits(text)).segments == 1


def test_it_counts_a_1600_character_body_with_the_opt_out_footer(personas):
    assert personas.org.opt_out_footer == "Reply STOP to opt out"

    text = message_text(body="a" * 1600, append_footer=True, organization=personas.org, values={})

    assert text == "a" * 1600 + "\nReply STOP to opt out"
    info = count_segments(text)
    assert (info.encoding, info.characters, info.units, info.segments) == (
        "GSM-7",
        1622,
        1622,
        11,
    )
