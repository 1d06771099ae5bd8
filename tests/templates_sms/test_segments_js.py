"""The editor's segment counter (segments.js) agrees with the server's (segments.py)."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from templates_sms.segments import GSM7_BASIC, GSM7_EXTENSION, count_segments, replace_culprits
from tests.conftest import require_service

SEGMENTS_JS = Path(settings.BASE_DIR) / "templates_sms" / "static" / "templates_sms" / "segments.js"

EMOJI = "\U0001f600"
ZHE = "ж"

STRINGS = [
    # The segment table.
    "",
    "a" * 160,
    "a" * 161,
    "a" * 306,
    "a" * 307,
    ZHE * 70,
    ZHE * 71,
    ZHE * 134,
    ZHE * 135,
    EMOJI,
    EMOJI * 35,
    EMOJI * 36,
    ZHE * 66 + EMOJI,
    ZHE * 66 + EMOJI + ZHE * 3,
    ZHE * 66 + EMOJI + ZHE * 66,
    ZHE * 65 + EMOJI + ZHE * 67,
    "€" * 80,
    "€" * 81,
    "[" * 80,
    "[" * 81,
    "a" * 152 + "€" + "a" * 10,
    "a" * 152 + "€" + "a" * 152,
    "a" * 151 + "€" + "a" * 153,
    "a" * 1600,
    "a" * 1600 + "\nReply STOP to opt out",
    # Mixed and odd cases.
    "Hi Alex, your order #123 is ready! Reply STOP to opt out",
    "Hi Alex,\nline two\r\nline three\n",
    "page\fbreak",
    "tab\tseparated",
    "thumbs \U0001f44d\U0001f3fd up",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467 family",
    "\U0001f1eb\U0001f1f7 flag",
    "cafe\u0301 combining",
    "café crème",
    "ΔΦΓΛΩΠΨΣΘΞ",
    "αβγδ lower-case greek",
    "\u0391\u0392\u0395\u0396 Greek capitals that look Latin",
    "\u2018quoted\u2019 \u201cdouble\u201d en\u2013dash em\u2014dash wait\u2026 nb\u00a0sp",
    "\u201alow\u201b \u201elow double minus\u2212thin\u2009space",
    "^{}\\[~]|€",
    "£5 ¥100 $3 ¤ @home §2 ¿que? ¡si!",
    "ÄÖÑÜäöñüà èéùìòÇØøÅåÆæßÉ",
    "Привет, {{ first_name }}",
    "中文短信测试",
    "escape\x1bchar",
    "ç lower-case c cedilla",
    ZHE + "a" * 68 + EMOJI,
    "€" * 76 + "a" + "€" * 5,
    "a" * 153 + EMOJI,
    EMOJI * 33 + ZHE + EMOJI * 34,
    GSM7_BASIC.replace("\x1b", "") + GSM7_EXTENSION,
    "    ",
    "\n",
]

SCRIPT = """
const fs = require("fs");
const segments = require(process.argv[1]);
const strings = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const results = strings.map((text) => ({
  count: segments.countSegments(text),
  replaced: segments.replaceCulprits(text),
}));
process.stdout.write(JSON.stringify(results));
"""


@pytest.fixture
def node() -> str:
    path = shutil.which("node")
    require_service("Node.js", path is not None)
    assert path is not None
    return path


def run_js(node: str, strings: list[str], tmp_path: Path) -> list[dict]:
    source = tmp_path / "strings.json"
    source.write_text(json.dumps(strings), encoding="utf-8")
    result = subprocess.run(
        [node, "-e", SCRIPT, str(SEGMENTS_JS), str(source)],
        capture_output=True,
        check=True,
        timeout=60,
    )
    results: list[dict] = json.loads(result.stdout.decode("utf-8"))
    return results


def test_it_counts_segments_in_javascript_exactly_as_on_the_server(node, tmp_path):
    assert len(set(STRINGS)) >= 30
    results = run_js(node, STRINGS, tmp_path)

    assert len(results) == len(STRINGS)
    mismatches = [
        (text[:40], result["count"], dataclasses.asdict(count_segments(text)))
        for text, result in zip(STRINGS, results, strict=True)
        if result["count"] != dataclasses.asdict(count_segments(text))
    ]
    assert mismatches == []


def test_it_replaces_culprits_in_javascript_exactly_as_on_the_server(node, tmp_path):
    results = run_js(node, STRINGS, tmp_path)

    mismatches = [
        (text[:40], result["replaced"], replace_culprits(text))
        for text, result in zip(STRINGS, results, strict=True)
        if result["replaced"] != replace_culprits(text)
    ]
    assert mismatches == []
    # The list exercises the replacements, so agreement is not agreement on the identity.
    assert sum(result["replaced"] != text for text, result in zip(STRINGS, results, strict=True))


def test_it_agrees_with_the_server_on_a_case_the_javascript_counts_by_hand(node, tmp_path):
    # Both must see the surrogate pair as one character of two units, never split.
    [result] = run_js(node, [ZHE * 66 + EMOJI + ZHE * 66], tmp_path)

    assert result["count"] == {
        "encoding": "UCS-2",
        "characters": 133,
        "units": 134,
        "segments": 3,
        "ucs2_characters": [ZHE, EMOJI],
    }
